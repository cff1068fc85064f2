"""Where this node's Cassandra jars and JDK 17 are.

In production the Mesos fetcher extracts a Cassandra tarball (a CommandInfo URI) into the
sandbox, e.g. ``$MESOS_SANDBOX/apache-cassandra-5.0.8/lib``; locally the jars of ``make jars``
are used (``jvm.cassandra_lib()``).
"""

from __future__ import annotations

import re
from pathlib import Path

import jvm
from model.errors import InvalidInput
from model.node_config import NodeConfig


class RuntimeNotFound(InvalidInput):
    """No Cassandra jars or no JDK where the NodeConfig says (or anywhere, by default)."""


# cassandra-all-5.0.8.jar (Maven) or apache-cassandra-5.0.8.jar (the release tarball's lib/).
SERVER_JAR_RE = re.compile(r"^(?:cassandra-all|apache-cassandra)-(\d+\.\d+\.\d+)\.jar$")


def is_cassandra_lib(lib: Path) -> bool:
    """A lib dir with the server jar: cassandra-all-*.jar (Maven) or apache-cassandra-*.jar (tarball)."""
    return lib.is_dir() and any(
        p.name.startswith(("cassandra-all-", "apache-cassandra-")) for p in lib.glob("*.jar")
    )


def jar_release(lib: Path) -> str | None:
    """The Cassandra release of a lib dir, from its server jar's name, or None if it has none."""
    for jar in lib.glob("*.jar"):
        m = SERVER_JAR_RE.match(jar.name)
        if m:
            return m.group(1)
    return None


def _check_release(node: NodeConfig, lib: Path, where: str) -> Path:
    found = jar_release(lib)
    wanted = node.cassandra_version
    if found is not None and not wanted.endswith(".x") and found != wanted:
        raise RuntimeNotFound(
            f"{where} ({lib}) holds Cassandra {found}, but this node must run {wanted}: "
            "name the release with {version} in the scheduler's node.uris / node.cassandra_lib"
        )
    return lib


def resolve_cassandra_lib(node: NodeConfig, sandbox: Path) -> Path:
    """The node's Cassandra jars: ``cassandra_lib``, else a tarball extracted into the sandbox,
    else the local cache's jars of the node's release. Refused when they hold another release
    than ``cassandra_version`` (a version change must really change what runs)."""
    if node.cassandra_lib is not None:
        lib = Path(node.cassandra_lib)
        lib = lib if lib.is_absolute() else sandbox / lib
        if not is_cassandra_lib(lib):
            raise RuntimeNotFound(
                f"cassandra_lib {node.cassandra_lib!r} ({lib}) holds no cassandra-all-*.jar or "
                "apache-cassandra-*.jar: check the fetched URI and where it is extracted"
            )
        return _check_release(node, lib, f"cassandra_lib {node.cassandra_lib!r}")
    # A fetched tarball extracts into one top-level directory of the sandbox.
    for candidate in sorted(sandbox.glob("*/lib")):
        if is_cassandra_lib(candidate):
            return _check_release(node, candidate, "the Cassandra fetched into the sandbox")
    version = node.cassandra_version if not node.cassandra_version.endswith(".x") else None
    try:
        return jvm.cassandra_lib(version)
    except jvm.JarsNotFound as e:
        raise RuntimeNotFound(
            f"no Cassandra in the sandbox ({sandbox}/*/lib) and no local jars: {e}; "
            "set cassandra_lib or add the Cassandra tarball to the task's URIs"
        ) from None


# Cassandra 5.0 runs on 11 and 17; 18+ refuse its SecurityManager (24+ cannot run it at all).
SUPPORTED_JAVA = (11, 17)


def resolve_java(node: NodeConfig, sandbox: Path) -> Path:
    """java_home may be relative to the sandbox (a JDK tarball fetched as a URI)."""
    if node.java_home is not None:
        home = Path(node.java_home)
        java = (home if home.is_absolute() else sandbox / home) / "bin" / "java"
        if not java.exists():
            raise RuntimeNotFound(f"java_home {node.java_home!r} has no bin/java")
        major = jvm.java_major(java)
        if major not in SUPPORTED_JAVA:
            raise RuntimeNotFound(
                f"java_home {node.java_home!r} is Java {major}: Cassandra 5.0 needs Java 17 (or 11)"
            )
        return java
    try:
        return jvm.find_java17()
    except jvm.JavaNotFound as e:
        raise RuntimeNotFound(str(e)) from None
