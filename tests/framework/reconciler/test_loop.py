"""The reconciler's cycle on an in-memory store and a recording driver: what it does, in which order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from framework.mesos import resources as rs
from framework.reconciler.launch import NodeCommand
from framework.reconciler.loop import Reconciler, ReconcilerSettings
from framework.store.memory import MemoryStore
from model.errors import StoreUnavailable
from model.node_config import ENV_VAR, NodeConfig
from model.records import TaskRecord
from tests.framework.offers.offer_factory import PRINCIPAL, ROLE, node_reservations, offer
from tests.framework.reconciler.fakes import FakeMesos

SPEC = {"nodes": 1, "cpus": 0.5, "mem_mb": 1024, "heap_mb": 512, "disk_mb": 100}
SETTINGS = ReconcilerSettings(role=ROLE, principal=PRINCIPAL, refuse_seconds=120.0)
COMMAND = NodeCommand(command="python3 -m sidecar", scheduler_url="http://sched:8080")


def ids() -> Any:
    counter = iter(range(1000))
    return lambda: f"id{next(counter)}"


async def subscribed(store: MemoryStore) -> tuple[Reconciler, FakeMesos]:
    rec = Reconciler(store, SETTINGS, COMMAND, clock=lambda: 1000.0, new_id=ids())
    mesos = FakeMesos()
    rec.bind(mesos)
    await rec.on_event({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "fw"}}})
    return rec, mesos


def running_node_0(ports: dict[str, int], genesis_nodes: int) -> TaskRecord:
    """node-0 of c1, placed on agent-1 with ``ports`` and running (task c1__node-0__a)."""
    rec = TaskRecord(
        "c1",
        "node-0",
        {"task_id": {"value": "c1__node-0__a"}, "agent_id": {"value": "agent-1"}},
        extra={
            "genesis_nodes": genesis_nodes,
            "bootstrap": False,
            "ports": ports,
            "hostname": "agent-1.example",
        },
    )
    return rec.with_status({"state": "TASK_RUNNING"})


def update(task_id: str, state: str, agent: str = "agent-1", **extra: Any) -> dict[str, Any]:
    status = {"task_id": {"value": task_id}, "state": state, "agent_id": {"value": agent}, **extra}
    return {"type": "UPDATE", "update": {"status": status}}


async def test_the_record_is_stored_before_the_accept_that_launches_it() -> None:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    rec, mesos = await subscribed(store)
    seen_at_accept: list[TaskRecord | None] = []

    def check(_offers: Sequence[str], operations: Sequence[Mapping[str, Any]]) -> None:
        got = store.get_task("c1", "node-0")
        seen_at_accept.append(got[0] if got else None)

    mesos.on_accept = check
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer(rack="r1")]}})
    await rec.cycle()

    (accept,) = mesos.named("accept")
    offer_ids, ops, _ = accept
    assert offer_ids == ["offer-1"]
    assert [op["type"] for op in ops] == ["RESERVE", "CREATE", "LAUNCH"]
    (stored,) = seen_at_accept
    assert stored is not None
    task = ops[2]["launch"]["task_infos"][0]
    assert stored.task_id == task["task_id"]["value"] and stored.status is None
    # What a relaunch in place and the seeds endpoint need later is in the record.
    assert stored.hostname == "agent-1.example" and stored.extra["rack"] == "r1"
    # The agent's facts, for the placement rules of later nodes.
    assert stored.agent_facts == {"hostname": "agent-1.example", "rack": "r1"}
    assert set(stored.ports) == {"storage", "ssl_storage", "native_transport", "jmx", "sidecar"}
    assert stored.extra["resource_id"] and stored.extra["persistence_id"]
    env = {v["name"]: v["value"] for v in task["command"]["environment"]["variables"]}
    config = NodeConfig.from_json(env[ENV_VAR])
    assert (config.cluster, config.node, config.listen_address) == ("c1", "node-0", "agent-1.example")
    assert config.ports.sidecar == stored.ports["sidecar"] and config.rack == "r1"
    # The spec's Cassandra release travels with the node (a version change rolls like any update);
    # "5.0.x" is the release this framework ships.
    assert config.cassandra_version == "5.0.8"
    # Reservations carry the labels that tie them to the node.
    labels = rs.labels_of(ops[0]["reserve"]["resources"][0]["reservations"][-1])
    assert labels == {"cluster": "c1", "node": "node-0", "resource_id": stored.extra["resource_id"]}


async def test_nothing_is_launched_or_killed_before_every_known_task_answered_reconciliation() -> None:
    store = MemoryStore()
    store.put_config("c1", {**SPEC, "nodes": 2}, None)
    first = TaskRecord(
        "c1",
        "node-0",
        {"task_id": {"value": "c1__node-0__a"}, "agent_id": {"value": "agent-1"}},
        extra={"genesis_nodes": 2, "bootstrap": False},
    )
    store.put_task(first.with_status({"state": "TASK_RUNNING"}), None)
    rec, mesos = await subscribed(store)
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer(agent="agent-2", offer_id="o2")]}})
    await rec.cycle()
    assert mesos.named("reconcile") == [[("c1__node-0__a", "agent-1")]]
    assert not mesos.named("accept") and not mesos.named("decline")
    assert not rec.reconciled

    await rec.on_event(update("c1__node-0__a", "TASK_RUNNING", reason="REASON_RECONCILIATION"))
    assert rec.reconciled
    await rec.cycle()
    # Held offer now used for node-1.
    (accept,) = mesos.named("accept")
    assert accept[0] == ["o2"]


async def test_unusable_offers_are_declined_with_the_long_filter_and_idle_suppresses() -> None:
    store = MemoryStore()
    rec, mesos = await subscribed(store)
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer()]}})
    await rec.cycle()
    assert mesos.named("decline") == [(["offer-1"], 120.0)]
    assert mesos.named("suppress") == [[ROLE]]
    await rec.cycle()
    assert len(mesos.named("suppress")) == 1  # once, not every cycle

    store.put_config("c1", SPEC, None)
    await rec.cycle()
    assert mesos.named("revive") == [[ROLE]]


async def test_orphaned_reservations_are_destroyed_and_referenced_ones_never() -> None:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    kept = TaskRecord(
        "c1",
        "node-0",
        {"task_id": {"value": "c1__node-0__a"}, "agent_id": {"value": "agent-1"}},
        {"state": "TASK_RUNNING"},
        extra={"resource_id": "r-kept", "persistence_id": "p-kept"},
    )
    store.put_task(kept, None)
    rec, mesos = await subscribed(store)
    await rec.cycle()
    await rec.on_event(update("c1__node-0__a", "TASK_RUNNING", reason="REASON_RECONCILIATION"))
    reserved = node_reservations("c1", "node-0", "r-kept", "p-kept") + node_reservations(
        "old", "node-3", "r-gone", "p-gone"
    )
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer(agent="agent-2", reserved=reserved)]}})
    await rec.cycle()
    (accept,) = mesos.named("accept")
    ops = accept[1]
    assert [op["type"] for op in ops] == ["DESTROY", "UNRESERVE"]
    touched = [
        r for op in ops for r in op[op["type"].lower()]["volumes" if op["type"] == "DESTROY" else "resources"]
    ]
    keys = {rs.reservation_labels(r)["resource_id"] for r in touched}
    assert keys == {"r-gone"}


async def test_an_update_is_stored_before_the_handler_returns_and_stale_running_tasks_are_killed() -> None:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    current = TaskRecord(
        "c1", "node-0", {"task_id": {"value": "c1__node-0__new"}, "agent_id": {"value": "agent-1"}}
    )
    store.put_task(current, None)
    rec, mesos = await subscribed(store)
    await rec.on_event(update("c1__node-0__new", "TASK_RUNNING", uuid="dXVpZA=="))
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].state == "TASK_RUNNING"

    await rec.on_event(update("c1__node-0__old", "TASK_RUNNING"))
    assert mesos.named("kill") == [("c1__node-0__old", "agent-1")]
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].task_id == "c1__node-0__new"


async def test_an_update_that_cannot_be_stored_raises_so_the_driver_does_not_acknowledge_it() -> None:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    store.put_task(
        TaskRecord("c1", "node-0", {"task_id": {"value": "c1__node-0__a"}, "agent_id": {"value": "a"}}), None
    )
    rec, _ = await subscribed(store)
    store.set_available(False)
    with pytest.raises(StoreUnavailable):
        await rec.on_event(update("c1__node-0__a", "TASK_RUNNING", uuid="dXVpZA=="))


async def test_a_resent_copy_of_a_stored_update_is_acknowledged_without_writing_again() -> None:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    task = {"task_id": {"value": "c1__node-0__a"}, "agent_id": {"value": "a"}}
    store.put_task(TaskRecord("c1", "node-0", task), None)
    rec, _ = await subscribed(store)
    await rec.on_event(update("c1__node-0__a", "TASK_STARTING", uuid="dXVpZA==", timestamp=1.0))
    store.set_available(False)
    # The agent resends until acknowledged; the copy needs no store (it would raise if it tried).
    await rec.on_event(update("c1__node-0__a", "TASK_STARTING", uuid="dXVpZA==", timestamp=1.0))
    with pytest.raises(StoreUnavailable):
        await rec.on_event(update("c1__node-0__a", "TASK_RUNNING", uuid="dXVpZB==", timestamp=2.0))


async def test_the_rack_comes_from_the_configured_agent_attribute() -> None:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    rec = Reconciler(
        store, replace(SETTINGS, rack_attribute="row"), COMMAND, clock=lambda: 1000.0, new_id=ids()
    )
    mesos = FakeMesos()
    rec.bind(mesos)
    await rec.on_event({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "fw"}}})
    o = offer()
    o["attributes"] = [{"name": "row", "type": "TEXT", "text": {"value": "row-7"}}]
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [o]}})
    await rec.cycle()
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].extra["rack"] == "row-7"


async def test_a_node_placed_later_shares_the_storage_ports_of_the_nodes_already_placed() -> None:
    store = MemoryStore()
    store.put_config("c1", {**SPEC, "nodes": 2}, None)
    placed = {
        "storage": 31500,
        "ssl_storage": 31501,
        "native_transport": 31502,
        "jmx": 31503,
        "sidecar": 31504,
    }
    store.put_task(running_node_0(placed, genesis_nodes=2), None)
    rec, _ = await subscribed(store)
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer(agent="agent-2", offer_id="o2")]}})
    await rec.cycle()
    await rec.on_event(update("c1__node-0__a", "TASK_RUNNING", reason="REASON_RECONCILIATION"))
    await rec.cycle()
    got = store.get_task("c1", "node-1")
    assert got is not None
    ports = got[0].ports
    # Cassandra needs one storage port across the cluster (replace parses peers with its own).
    assert (ports["storage"], ports["ssl_storage"]) == (31500, 31501)
    assert ports["native_transport"] == 31000


async def test_a_node_runs_the_release_its_spec_names_fetched_through_version_templates() -> None:
    store = MemoryStore()
    store.put_config("c1", {**SPEC, "cassandra_version": "5.0.7"}, None)
    command = NodeCommand(
        command="python3 -m sidecar",
        scheduler_url="http://sched:8080",
        uris=("https://mirror/cassandra/{version}/apache-cassandra-{version}-bin.tar.gz",),
        cassandra_lib="apache-cassandra-{version}/lib",
    )
    rec = Reconciler(store, SETTINGS, command, clock=lambda: 1000.0, new_id=ids())
    mesos = FakeMesos()
    rec.bind(mesos)
    await rec.on_event({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "fw"}}})
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer()]}})
    await rec.cycle()
    (accept,) = mesos.named("accept")
    task = accept[1][2]["launch"]["task_infos"][0]
    assert [u["value"] for u in task["command"]["uris"]] == [
        "https://mirror/cassandra/5.0.7/apache-cassandra-5.0.7-bin.tar.gz"
    ]
    env = {v["name"]: v["value"] for v in task["command"]["environment"]["variables"]}
    config = NodeConfig.from_json(env[ENV_VAR])
    assert (config.cassandra_version, config.cassandra_lib) == ("5.0.7", "apache-cassandra-5.0.7/lib")


async def test_storage_ports_named_in_the_spec_are_the_ones_every_node_gets() -> None:
    store = MemoryStore()
    store.put_config("c1", {**SPEC, "storage_port": 31500}, None)
    rec, mesos = await subscribed(store)
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer(ports=[(31000, 31100)])]}})
    await rec.cycle()
    # The offer lacks 31500-31501: nothing launches, the offer is declined.
    assert store.get_task("c1", "node-0") is None and mesos.named("decline")
    await rec.on_event(
        {"type": "OFFERS", "offers": {"offers": [offer(offer_id="o2", ports=[(31000, 31600)])]}}
    )
    await rec.cycle()
    got = store.get_task("c1", "node-0")
    assert got is not None
    assert (got[0].ports["storage"], got[0].ports["ssl_storage"], got[0].ports["native_transport"]) == (
        31500,
        31501,
        31000,
    )


async def test_a_new_cluster_takes_storage_ports_no_other_cluster_shares() -> None:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    store.put_config("c2", {**SPEC, "storage_port": 31097}, None)  # named, nothing placed yet
    store.put_config("c3", SPEC, None)
    held = {"storage": 31099, "ssl_storage": 31100, "native_transport": 31000, "jmx": 31001, "sidecar": 31002}
    store.put_task(running_node_0(held, genesis_nodes=1), None)
    rec, _ = await subscribed(store)
    await rec.on_event(
        {
            "type": "OFFERS",
            "offers": {
                "offers": [
                    offer(agent=f"agent-{i}", offer_id=f"o{i}", ports=[(31000, 31100)]) for i in (2, 3)
                ]
            },
        }
    )
    await rec.cycle()
    await rec.on_event(update("c1__node-0__a", "TASK_RUNNING", reason="REASON_RECONCILIATION"))
    await rec.cycle()
    got = store.get_task("c3", "node-0")
    assert got is not None
    # c1 shares 31099/31100 and c2 named 31097/31098: c3 must be able to sit beside both anywhere.
    assert (got[0].ports["storage"], got[0].ports["ssl_storage"]) == (31095, 31096)


async def test_an_idle_framework_revives_now_and_then_to_clean_orphaned_reservations() -> None:
    store = MemoryStore()
    now = [1000.0]
    settings = replace(SETTINGS, orphan_sweep_s=900.0)
    rec = Reconciler(store, settings, COMMAND, clock=lambda: now[0], new_id=ids())
    mesos = FakeMesos()
    rec.bind(mesos)
    await rec.on_event({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "fw"}}})
    await rec.cycle()
    assert mesos.named("suppress") == [[ROLE]] and mesos.named("revive") == []
    now[0] += 899
    await rec.cycle()
    assert mesos.named("revive") == []
    now[0] += 1
    await rec.cycle()
    assert mesos.named("revive") == [[ROLE]]  # the sweep
    orphan = node_reservations("gone", "node-0", "r-gone", "p-gone")
    await rec.on_event({"type": "OFFERS", "offers": {"offers": [offer(agent="agent-2", reserved=orphan)]}})
    await rec.cycle()
    (accept,) = mesos.named("accept")
    assert [op["type"] for op in accept[1]] == ["DESTROY", "UNRESERVE"]
    assert len(mesos.named("suppress")) == 1  # offers held while the sweep lasts
    now[0] += 16
    await rec.cycle()
    assert len(mesos.named("suppress")) == 2
