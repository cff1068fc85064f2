"""Master URLs and 307 Locations as Mesos writes them (protocol-relative) and as operators type them."""

from __future__ import annotations

import pytest

from framework.mesos.driver import normalize_master, resolve_redirect
from framework.mesos.errors import MasterUnavailable
from model.errors import InvalidInput


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("master1:5050", "http://master1:5050"),
        ("http://master1:5050/", "http://master1:5050"),
        ("https://m.example:5050/api/v1/scheduler", "https://m.example:5050"),
        ("//10.0.0.2:5050", "http://10.0.0.2:5050"),
    ],
)
def test_normalize_master(given: str, base: str) -> None:
    assert normalize_master(given) == base


@pytest.mark.parametrize("bad", ["", "ftp://x:1", "   "])
def test_bad_master_urls_are_named(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_master(bad)


def test_protocol_relative_location_keeps_the_scheme_of_the_master_asked() -> None:
    assert resolve_redirect("http://m1:5050", "//m2:5050/api/v1/scheduler") == "http://m2:5050"
    assert resolve_redirect("https://m1:5050", "//m2:5050/api/v1/scheduler") == "https://m2:5050"
    # The documented (but not produced) form without scheme or slashes is tolerated too.
    assert resolve_redirect("http://m1:5050", "m2:5050") == "http://m2:5050"


def test_redirect_without_location_is_master_unavailable() -> None:
    with pytest.raises(MasterUnavailable):
        resolve_redirect("http://m1:5050", "")
