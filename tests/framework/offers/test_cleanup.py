"""Orphan cleanup: unreferenced reservations and volumes go, referenced ones are never touched."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from framework.mesos import resources as rs
from framework.offers.cleanup import (
    cluster_release_operations,
    orphan_operations,
    orphaned_keys,
    referenced_keys,
)
from framework.offers.requirements import ReservationKey
from model.records import TaskRecord
from tests.framework.offers.offer_factory import ROLE, node_reservations, offer


def test_orphaned_volume_is_destroyed_then_its_disk_unreserved() -> None:
    o = offer(reserved=node_reservations("c", "node-0", "r0", "c-node-0-data", ports=[31000, 31001]))
    ops = orphan_operations(o, ROLE, referenced=set())
    assert [op["type"] for op in ops] == ["DESTROY", "UNRESERVE"]
    (vol,) = ops[0]["destroy"]["volumes"]
    assert rs.persistence_id(vol) == "c-node-0-data"
    unreserved = ops[1]["unreserve"]["resources"]
    assert sorted(r["name"] for r in unreserved) == ["cpus", "disk", "mem", "ports"]
    assert all(rs.persistence_id(r) is None for r in unreserved)


def test_referenced_reservations_are_left_alone() -> None:
    o = offer(reserved=node_reservations("c", "node-0", "r0", "c-node-0-data"))
    assert orphan_operations(o, ROLE, {ReservationKey("c", "node-0", "r0")}) == []


def test_uninstall_releases_every_reservation_of_its_cluster_even_referenced_ones_and_only_those() -> None:
    mine = node_reservations("c", "node-0", "r0", "c-node-0-data")
    stale = node_reservations("c", "node-1", "old", None)
    other = node_reservations("d", "node-0", "r9", "d-node-0-data")
    ops = cluster_release_operations(offer(reserved=[*mine, *stale, *other]), ROLE, "c")
    assert [op["type"] for op in ops] == ["DESTROY", "UNRESERVE"]
    assert [rs.persistence_id(v) for v in ops[0]["destroy"]["volumes"]] == ["c-node-0-data"]
    labels = [rs.reservation_labels(r) for r in ops[1]["unreserve"]["resources"]]
    assert {lb["cluster"] for lb in labels} == {"c"}
    assert {lb["node"] for lb in labels} == {"node-0", "node-1"}
    assert cluster_release_operations(offer(reserved=other), ROLE, "c") == []


def test_foreign_roles_and_unlabelled_reservations_are_left_alone() -> None:
    foreign = rs.scalar("cpus", 1, ROLE, [rs.dynamic_reservation(ROLE, "p", {"owner": "someone"})])
    other_role = node_reservations("c", "node-0", "r0", "v", role="other")
    o = offer(reserved=[foreign, *other_role])
    assert orphan_operations(o, ROLE, set()) == []


keys = st.builds(
    ReservationKey,
    st.sampled_from(["c1", "c2"]),
    st.sampled_from(["node-0", "node-1", "node-2"]),
    st.sampled_from(["r0", "r1"]),
)


@given(present=st.sets(keys, max_size=8), referenced=st.sets(keys, max_size=8))
def test_never_an_operation_on_a_referenced_key(
    present: set[ReservationKey], referenced: set[ReservationKey]
) -> None:
    reserved = [
        r
        for i, k in enumerate(sorted(present))
        for r in node_reservations(k.cluster, k.node, k.resource_id, f"v{i}", ports=[31000 + i])
    ]
    o = offer(reserved=reserved)
    touched = {
        ReservationKey.from_labels(rs.reservation_labels(r))
        for op in orphan_operations(o, ROLE, referenced)
        for r in op.get("destroy", {}).get("volumes", []) + op.get("unreserve", {}).get("resources", [])
    }
    assert touched == present - referenced
    assert orphaned_keys(o, ROLE, referenced) == present - referenced


def test_referenced_keys_come_from_the_recorded_task_resources() -> None:
    held = node_reservations("c", "node-0", "r0", "c-node-0-data")
    rec = TaskRecord(
        "c", "node-0", {"task_id": {"value": "t"}, "agent_id": {"value": "a1"}, "resources": held}
    )
    bare = TaskRecord(
        "c", "node-1", {"task_id": {"value": "t1"}, "agent_id": {"value": "a2"}, "resources": []}
    )
    assert referenced_keys([rec, bare]) == {ReservationKey("c", "node-0", "r0")}
    assert orphan_operations(offer(reserved=held), ROLE, referenced_keys([rec])) == []
