"""Resource builders and matchers in the post-refinement format (reference §3)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.mesos import resources as rs
from model.errors import InvalidInput

RESV = rs.dynamic_reservation("cass", "p", {"cluster": "c", "node": "node-0", "resource_id": "r1"})


def test_reserved_scalar_shape() -> None:
    res = rs.scalar("cpus", 1.23456, "cass", [RESV])
    assert res == {
        "name": "cpus",
        "type": "SCALAR",
        "scalar": {"value": 1.235},
        "allocation_info": {"role": "cass"},
        "reservations": [
            {
                "type": "DYNAMIC",
                "role": "cass",
                "principal": "p",
                "labels": {
                    "labels": [
                        {"key": "cluster", "value": "c"},
                        {"key": "node", "value": "node-0"},
                        {"key": "resource_id", "value": "r1"},
                    ]
                },
            }
        ],
    }
    assert rs.is_dynamically_reserved_for(res, "cass")
    assert not rs.is_dynamically_reserved_for(res, "other")
    assert rs.reservation_labels(res)["node"] == "node-0"


def test_cannot_reserve_for_star() -> None:
    with pytest.raises(InvalidInput, match="role"):
        rs.dynamic_reservation("*", None)


def test_volume_roundtrip_and_container_path_rules() -> None:
    disk = rs.scalar("disk", 1024, "cass", [RESV])
    vol = rs.with_volume(disk, "c-node-0-data", "p", "data")
    assert vol["disk"] == {
        "persistence": {"id": "c-node-0-data", "principal": "p"},
        "volume": {"mode": "RW", "container_path": "data"},
    }
    assert rs.persistence_id(vol) == "c-node-0-data"
    assert rs.without_volume(vol) == disk
    for bad in ("/data", "a/b", ""):
        with pytest.raises(InvalidInput, match="container_path"):
            rs.with_volume(disk, "x", None, bad)
    with pytest.raises(InvalidInput, match="reserved"):
        rs.with_volume(rs.scalar("disk", 1, "cass"), "x", None, "data")


def test_identity_ignores_label_order_volume_and_persistence_principal() -> None:
    a = rs.scalar("disk", 10, "cass", [RESV])
    b = rs.scalar(
        "disk", 20, "cass", [{**RESV, "labels": {"labels": list(reversed(RESV["labels"]["labels"]))}}]
    )
    assert rs.same_resource(a, b)
    va = rs.with_volume(a, "v", "p", "data")
    vb = rs.with_volume(a, "v", None, "other")
    assert rs.same_resource(va, vb)
    assert not rs.same_resource(va, rs.with_volume(a, "w", "p", "data"))
    assert not rs.same_resource(a, rs.scalar("disk", 10, "cass"))
    other_labels = rs.dynamic_reservation(
        "cass", "p", {"cluster": "c", "node": "node-1", "resource_id": "r1"}
    )
    assert not rs.same_resource(a, rs.scalar("disk", 10, "cass", [other_labels]))


def test_take_ports_lowest_first_across_ranges() -> None:
    assert rs.take_ports([(31005, 31006), (31000, 31001)], 3) == [31000, 31001, 31005]
    assert rs.take_ports([(31000, 31001)], 3) is None
    assert rs.take_ports([], 0) == []


@given(st.sets(st.integers(min_value=1, max_value=200), max_size=50))
def test_ports_to_ranges_is_compact_and_lossless(ports: set[int]) -> None:
    spans = rs.ports_to_ranges(ports)
    assert rs.ports_in(spans) == sorted(ports)
    for (_, e1), (b2, _) in itertools.pairwise(spans):
        assert b2 > e1 + 1
