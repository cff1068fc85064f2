"""The pinned Cassandra release is named in four places that must agree: the Makefile (what is
fetched), the pom's default, jvm (where the jars are looked up) and the model ("5.0.x")."""

from __future__ import annotations

import re
from pathlib import Path

import jvm
from model.cluster import SHIPPED_CASSANDRA_VERSION, release_of, with_release

ROOT = Path(__file__).resolve().parents[1]


def test_every_place_pins_the_same_cassandra_release() -> None:
    makefile = (ROOT / "Makefile").read_text()
    pom = (ROOT / "tools" / "jars" / "cassandra" / "pom.xml").read_text()
    made = re.search(r"^CASSANDRA_VERSION := (\S+)$", makefile, re.M)
    pom_default = re.search(r"<cassandra.version>([^<]+)</cassandra.version>", pom)
    assert made and pom_default
    assert made.group(1) == pom_default.group(1) == jvm.CASSANDRA_VERSION == SHIPPED_CASSANDRA_VERSION
    previous = re.search(r"^CASSANDRA_PREVIOUS_VERSION := (\S+)$", makefile, re.M)
    assert previous

    def release(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split("."))

    assert release(previous.group(1)) < release(made.group(1))


def test_a_spec_version_names_a_release_and_fills_templates() -> None:
    assert release_of("5.0.x") == SHIPPED_CASSANDRA_VERSION and release_of("5.0.7") == "5.0.7"
    url = "https://archive.apache.org/dist/cassandra/{version}/apache-cassandra-{version}-bin.tar.gz"
    assert with_release(url, "5.0.7").endswith("/5.0.7/apache-cassandra-5.0.7-bin.tar.gz")
    assert with_release("/opt/cassandra/lib", "5.0.7") == "/opt/cassandra/lib"
