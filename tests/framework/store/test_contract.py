"""The store contract: every test runs on MemoryStore and on ZooKeeperStore against a real ZooKeeper."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from framework.store import ANY_VERSION, SCHEMA_VERSION
from framework.store.base import update_intent
from framework.store.documents import DocumentStore
from model.errors import Conflict, CorruptRecord, InvalidInput, NotFound, UnsupportedSchema
from model.records import TaskRecord
from tests.framework.store.conftest import Backend

SPEC = {"nodes": 3, "cpus": 1.0, "mem_mb": 2048, "data_center": "dc1"}


def task(cluster: str, node: str, launch: int = 1, **extra: Any) -> TaskRecord:
    return TaskRecord(
        cluster=cluster,
        node=node,
        task_info={
            "name": f"{cluster}__{node}",
            "task_id": {"value": f"{cluster}__{node}__{launch:04d}"},
            "agent_id": {"value": "agent-1"},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}],
        },
        launch_count=launch,
        extra=extra,
    )


def status(record: TaskRecord, state: str) -> dict[str, Any]:
    return {"task_id": {"value": record.task_id}, "state": state, "agent_id": {"value": "agent-1"}}


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


# -- root, schema, framework id -------------------------------------------------------------------


def test_fresh_store_is_empty_with_current_schema(store: DocumentStore) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert store.get_framework_id() is None
    assert store.list_clusters() == []
    snap = store.snapshot()
    assert (snap.framework_id, dict(snap.clusters), snap.schema_version) == (None, {}, SCHEMA_VERSION)


def test_framework_id_survives_reopening(backend: Backend) -> None:
    backend.store().set_framework_id("fw-1")
    backend.store().set_framework_id("fw-2")
    assert backend.store().get_framework_id() == "fw-2"
    with pytest.raises(InvalidInput):
        backend.store().set_framework_id("")


def test_newer_schema_is_refused(backend: Backend) -> None:
    backend.store()
    backend.write_raw(f"{backend.root}/schema", b'{"version": 2}')
    with pytest.raises(UnsupportedSchema, match=r"schema version 2.*up to 1"):
        backend.store()


def test_corrupt_schema_names_the_path(backend: Backend) -> None:
    backend.store()
    backend.write_raw(f"{backend.root}/schema", b"\x00garbage")
    with pytest.raises(CorruptRecord, match=f"{backend.root}/schema"):
        backend.store()


# -- configs and target ---------------------------------------------------------------------------


def test_config_versions_and_target_move_together(backend: Backend) -> None:
    store = backend.store()
    backend.clock.now = 100.0
    first = store.put_config("demo", SPEC, None)
    target = store.get_target_versioned("demo")
    assert target is not None
    assert (target.config_id, dict(target.spec), target.version) == (first, SPEC, 0)
    assert store.get_target("demo") == (first, SPEC)

    backend.clock.now = 200.0
    second = store.put_config("demo", {**SPEC, "nodes": 5}, target.version)
    assert store.get_target("demo") == (second, {**SPEC, "nodes": 5})
    assert store.list_configs("demo") == [first, second]  # oldest first
    old = store.get_config("demo", first)
    assert (dict(old.spec), old.created_at) == (SPEC, 100.0)
    assert store.get_config("demo", second).created_at == 200.0
    assert store.list_clusters() == ["demo"]


def test_stale_target_version_is_a_conflict_and_changes_nothing(backend: Backend) -> None:
    store = backend.store()
    first = store.put_config("demo", SPEC, None)
    second = store.put_config("demo", {**SPEC, "nodes": 4}, 0)
    with pytest.raises(Conflict, match="moved since version 0"):
        store.put_config("demo", {**SPEC, "nodes": 9}, 0)
    assert store.list_configs("demo") == [first, second]
    assert store.get_target("demo") == (second, {**SPEC, "nodes": 4})


def test_creating_an_existing_cluster_is_a_conflict(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    with pytest.raises(Conflict, match="already exists"):
        store.put_config("demo", SPEC, None)
    assert len(store.list_configs("demo")) == 1


def test_updating_an_unknown_cluster_is_not_found(store: DocumentStore) -> None:
    with pytest.raises(NotFound):
        store.put_config("ghost", SPEC, 0)
    assert store.list_clusters() == []
    assert store.get_target("ghost") is None
    with pytest.raises(NotFound):
        store.get_config("ghost", "00000001-abcdef12")


def test_any_version_creates_then_updates(store: DocumentStore) -> None:
    a = store.put_config("demo", SPEC, ANY_VERSION)
    b = store.put_config("demo", {**SPEC, "nodes": 1}, ANY_VERSION)
    assert store.list_configs("demo") == [a, b]
    target = store.get_target_versioned("demo")
    assert target is not None and target.version == 1


def test_only_one_of_concurrent_writers_wins_the_target(backend: Backend) -> None:
    stores = [backend.store() for _ in range(4)]
    stores[0].put_config("demo", SPEC, None)
    results: list[str] = []
    barrier = threading.Barrier(len(stores))

    def write(i: int, s: DocumentStore) -> None:
        barrier.wait()
        try:
            s.put_config("demo", {**SPEC, "nodes": 10 + i}, 0)
            results.append("won")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=write, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["conflict", "conflict", "conflict", "won"]
    assert len(stores[0].list_configs("demo")) == 2


def test_recreated_cluster_gets_new_config_ids(store: DocumentStore) -> None:
    old = store.put_config("demo", SPEC, None)
    assert store.delete_cluster("demo") is True
    new = store.put_config("demo", SPEC, None)
    assert new != old
    assert store.list_configs("demo") == [new]


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a/b", "..", ".hidden", "x" * 200, "sp ace", "ünï"])
def test_names_that_cannot_be_znodes_are_refused(store: DocumentStore, name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid cluster name"):
        store.put_config(name, SPEC, None)
    store.put_config("demo", SPEC, None)
    with pytest.raises(InvalidInput, match="invalid node name"):
        store.put_task(TaskRecord("demo", name, task("demo", "n").task_info), None)
    with pytest.raises(InvalidInput, match="invalid plan name"):
        store.put_intent("demo", name, {})
    assert store.list_clusters() == ["demo"]


@pytest.mark.parametrize(
    "spec",
    [[1, 2], "nodes=3", {"nodes": float("nan")}, {"nodes": object()}, {"blob": "x" * 600_000}],
    ids=["list", "string", "nan", "object", "too-big"],
)
def test_specs_that_are_not_json_objects_are_refused(store: DocumentStore, spec: Any) -> None:
    with pytest.raises(InvalidInput, match="cluster spec"):
        store.put_config("demo", spec, None)
    assert store.list_clusters() == []


def test_task_records_that_could_not_be_read_back_are_refused(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    bad = TaskRecord("demo", "node-0", {"name": "no task id"})
    with pytest.raises(InvalidInput, match="task_id"):
        store.put_task(bad, None)
    assert store.get_tasks("demo") == {}


# -- tasks -----------------------------------------------------------------------------------------


def test_task_records_are_created_once_then_compare_and_set(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    first = task("demo", "node-0", 1, rack="r1")
    assert store.put_task(first, None) == 0
    with pytest.raises(Conflict, match="already exists"):
        store.put_task(task("demo", "node-0", 2), None)  # a second launch must not race the first
    found = store.get_task("demo", "node-0")
    assert found == (first, 0)

    relaunch = task("demo", "node-0", 2)
    assert store.put_task(relaunch, 0) == 1
    with pytest.raises(Conflict):
        store.put_task(task("demo", "node-0", 3), 0)
    assert store.get_tasks("demo") == {"node-0": relaunch}


def test_tasks_of_an_unknown_cluster_are_not_found(store: DocumentStore) -> None:
    with pytest.raises(NotFound):
        store.put_task(task("ghost", "node-0"), None)
    assert store.get_tasks("ghost") == {}
    assert store.get_task("ghost", "node-0") is None


def test_status_updates_apply_only_to_the_records_task(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    old, new = task("demo", "node-0", 1), task("demo", "node-0", 2)
    store.put_task(new, None)
    assert store.update_status("demo", "node-0", status(new, "TASK_RUNNING")) is True
    assert store.update_status("demo", "node-0", status(old, "TASK_FAILED")) is False  # older launch
    assert store.update_status("demo", "node-1", status(new, "TASK_RUNNING")) is False  # no record
    record = store.get_tasks("demo")["node-0"]
    assert record.state == "TASK_RUNNING"
    assert record.launch_count == 2
    with pytest.raises(InvalidInput, match="task_id"):
        store.update_status("demo", "node-0", {"state": "TASK_RUNNING"})


def test_concurrent_status_updates_are_not_lost(backend: Backend) -> None:
    a, b = backend.store(), backend.store()
    a.put_config("demo", SPEC, None)
    records = [task("demo", f"node-{i}") for i in range(3)]
    for r in records:
        a.put_task(r, None)

    def updates(s: DocumentStore) -> None:
        for r in records:
            for state in ("TASK_STARTING", "TASK_RUNNING"):
                assert s.update_status("demo", r.node, status(r, state))

    threads = [threading.Thread(target=updates, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Every update applied exactly once: two writers x three nodes x two states.
    assert sum(v for v in a.snapshot().clusters["demo"].task_versions.values()) == 12
    assert {r.state for r in a.get_tasks("demo").values()} == {"TASK_RUNNING"}


def test_delete_task(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    store.put_task(task("demo", "node-0"), None)
    with pytest.raises(Conflict):
        store.delete_task("demo", "node-0", expected_version=7)
    assert store.delete_task("demo", "node-0") is True
    assert store.delete_task("demo", "node-0") is False
    assert store.get_tasks("demo") == {}


# -- intents and peers -----------------------------------------------------------------------------


def test_intents_are_opaque_documents_per_plan(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    assert store.put_intent("demo", "deploy", {"interrupted": True}) == 0
    assert store.put_intent("demo", "repair", {"nodes": ["*"], "params": {"k": [1, 2]}}) == 0
    assert store.put_intent("demo", "deploy", {"interrupted": False}) == 1
    with pytest.raises(Conflict):
        store.put_intent("demo", "deploy", {"interrupted": True}, expected_version=0)
    assert store.get_intents("demo") == {
        "deploy": {"interrupted": False},
        "repair": {"nodes": ["*"], "params": {"k": [1, 2]}},
    }
    assert store.get_intent("demo", "deploy") == ({"interrupted": False}, 1)
    assert store.get_intent("demo", "nope") is None
    # Compare-and-set on a read version: a writer in between makes the second write a Conflict.
    doc, version = store.get_intent("demo", "repair") or ({}, -1)
    store.put_intent("demo", "repair", {**doc, "results": {"node-0": "done"}}, expected_version=version)
    with pytest.raises(Conflict):
        store.put_intent("demo", "repair", {**doc, "interrupted": True}, expected_version=version)
    with pytest.raises(Conflict):
        store.put_intent("demo", "deploy", {}, expected_version=None)  # None: create only
    assert store.delete_intent("demo", "repair") is True
    assert list(store.get_intents("demo")) == ["deploy"]
    with pytest.raises(InvalidInput, match="JSON object"):
        store.put_intent("demo", "deploy", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.put_intent("ghost", "deploy", {})


def test_peers_per_datacenter(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    store.put_peer("demo", "dc2", {"url": "http://dc2:9000", "seeds": ["10.0.0.1"]})
    store.put_peer("demo", "dc2", {"url": "http://dc2:9000", "seeds": ["10.0.0.2"]})
    store.put_peer("demo", "dc3", {"url": "http://dc3:9000", "seeds": []})
    assert store.get_peers("demo") == {
        "dc2": {"url": "http://dc2:9000", "seeds": ["10.0.0.2"]},
        "dc3": {"url": "http://dc3:9000", "seeds": []},
    }
    assert store.delete_peer("demo", "dc3") is True
    assert list(store.get_peers("demo")) == ["dc2"]


def test_delete_cluster_removes_everything_of_it_only(store: DocumentStore) -> None:
    for c in ("demo", "other"):
        store.put_config(c, SPEC, None)
        store.put_config(c, SPEC, 0)
        store.put_task(task(c, "node-0"), None)
        store.put_intent(c, "deploy", {"interrupted": True})
        store.put_peer(c, "dc2", {"url": "u"})
    assert store.delete_cluster("demo") is True
    assert store.delete_cluster("demo") is False
    assert store.list_clusters() == ["other"]
    assert (store.get_target("demo"), store.get_tasks("demo"), store.get_intents("demo")) == (None, {}, {})
    assert store.list_configs("demo") == []
    assert list(store.snapshot().clusters) == ["other"]
    assert store.get_tasks("other")["node-0"] == task("other", "node-0")


# -- snapshot and watch ----------------------------------------------------------------------------


def test_snapshot_holds_everything_the_reconciler_needs(backend: Backend) -> None:
    store = backend.store()
    store.set_framework_id("fw-1")
    config_id = store.put_config("demo", SPEC, None)
    r = task("demo", "node-0")
    store.put_task(r, None)
    store.update_status("demo", "node-0", status(r, "TASK_RUNNING"))
    store.put_intent("demo", "deploy", {"interrupted": True})
    store.put_peer("demo", "dc2", {"url": "u"})
    before = store.snapshot()

    snap = backend.store().snapshot()  # another instance reads the same
    assert snap.framework_id == "fw-1"
    demo = snap.clusters["demo"]
    assert demo.target is not None and (demo.target.config_id, dict(demo.target.spec)) == (config_id, SPEC)
    assert demo.tasks["node-0"].state == "TASK_RUNNING"
    assert dict(demo.task_versions) == {"node-0": 1}
    assert (dict(demo.intents), dict(demo.peers)) == (
        {"deploy": {"interrupted": True}},
        {"dc2": {"url": "u"}},
    )
    assert snap == before
    assert snap.exact
    store.put_intent("demo", "deploy", {"interrupted": False})
    assert store.snapshot().generation > snap.generation


def test_snapshot_is_consistent_under_concurrent_writes(backend: Backend) -> None:
    """A writer moves target and config together; no snapshot, exact or not, shows them apart."""
    writer, reader = backend.store(), backend.store()
    writer.put_config("demo", {"n": 0}, None)
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            target = writer.get_target_versioned("demo")
            assert target is not None
            writer.put_config("demo", {"n": n}, target.version)  # config document + pointer, atomically

    t = threading.Thread(target=write)
    t.start()
    try:
        for _ in range(30):
            snap = reader.snapshot()
            target = snap.clusters["demo"].target
            assert target is not None
            assert int(target.config_id.split("-")[0]) == target.spec["n"] + 1
    finally:
        stop.set()
        t.join(30)


def test_watch_wakes_on_changes_until_unsubscribed(backend: Backend) -> None:
    store, other = backend.store(), backend.store()
    calls: list[int] = []
    unsubscribe = store.watch(lambda: calls.append(1))
    wait_until(lambda: True)
    seen = len(calls)
    other.put_config("demo", SPEC, None)  # a change by another instance
    assert wait_until(lambda: len(calls) > seen), "no wake-up after a change"
    unsubscribe()
    other.put_config("demo", SPEC, 0)  # first change after unsubscribing may still be in flight
    seen = len(calls)
    other.put_config("demo", SPEC, 1)
    other.put_config("demo", SPEC, 2)
    time.sleep(0.3)  # proving absence needs a bounded wait
    assert len(calls) <= seen + 1


# -- corrupt documents -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "data"),
    [
        ("clusters/demo/tasks/node-0", b"{not json"),
        ("clusters/demo/tasks/node-0", b'{"cluster": "demo", "node": "node-0"}'),  # no task_info
        ("clusters/demo/tasks/node-0", b"[1, 2]"),
        ("clusters/demo/tasks/node-1", None),  # a well-formed record of another node, stored as node-1
        ("clusters/demo/intents/deploy", b'"just a string"'),
        ("clusters/demo/peers/dc2", b"\xff\xfe"),
        ("clusters/demo/target", b'{"config_id": 42}'),
        ("framework_id", b'{"id": "fw"}'),
    ],
)
def test_corrupt_documents_raise_naming_the_path_and_stay(
    backend: Backend, relative: str, data: bytes | None
) -> None:
    store = backend.store()
    store.put_config("demo", SPEC, None)
    store.put_task(task("demo", "node-0"), None)
    if data is None:
        data = json.dumps(task("demo", "node-0").to_json()).encode()
    path = f"{backend.root}/{relative}"
    backend.write_raw(path, data)
    with pytest.raises(CorruptRecord, match=path):
        store.snapshot()
    reads = {
        "tasks": lambda: store.get_tasks("demo"),
        "intents": lambda: store.get_intents("demo"),
        "peers": lambda: store.get_peers("demo"),
        "target": lambda: store.get_target("demo"),
        "framework_id": store.get_framework_id,
    }
    kind = next(k for k in reads if k in relative)
    with pytest.raises(CorruptRecord, match=path):
        reads[kind]()
    # Reported, not repaired: the bytes are still there for an operator to look at.
    with pytest.raises(CorruptRecord, match=path):
        reads[kind]()


def test_target_pointing_at_a_missing_config_is_corrupt(backend: Backend) -> None:
    store = backend.store()
    store.put_config("demo", SPEC, None)
    backend.write_raw(
        f"{backend.root}/clusters/demo/target", b'{"config_id": "00000009-deadbeef", "sequence": 9}'
    )
    with pytest.raises(CorruptRecord, match="00000009-deadbeef"):
        store.get_target("demo")
    with pytest.raises(CorruptRecord, match="00000009-deadbeef"):
        store.snapshot()


# -- scale -----------------------------------------------------------------------------------------


def test_a_thousand_task_records_load_in_one_snapshot(backend: Backend) -> None:
    store = backend.store()
    store.put_config("big", SPEC, None)
    for i in range(1000):
        store.put_task(task("big", f"node-{i}"), None)
    snap = backend.store().snapshot()
    assert len(snap.clusters["big"].tasks) == 1000
    assert snap.clusters["big"].tasks["node-999"] == task("big", "node-999")
    assert store.delete_cluster("big") is True  # more documents than one transaction holds
    assert store.list_clusters() == []


# -- leader election -------------------------------------------------------------------------------


def test_one_leader_among_instances_and_hand_over_on_resignation(backend: Backend) -> None:
    a, b = backend.store().election("a"), backend.store().election("b")
    events: list[str] = []
    a.start(on_elected=lambda: events.append("a elected"), on_lost=lambda: events.append("a lost"))
    assert a.wait_leader(10)
    b.start(on_elected=lambda: events.append("b elected"), on_lost=lambda: events.append("b lost"))
    assert wait_until(lambda: b.leader() == "a")
    assert not b.wait_leader(0.2)
    a.stop()
    assert b.wait_leader(10)
    assert (a.is_leader(), b.leader()) == (False, "b")
    b.stop()
    assert b.leader() is None
    assert events == ["a elected", "a lost", "b elected", "b lost"]


def test_update_intent_decides_again_when_another_writer_got_in_between(store: DocumentStore) -> None:
    store.put_config("demo", SPEC, None)
    store.put_intent("demo", "cleanup", {"results": {}})
    seen: list[object] = []

    def change(doc: Mapping[str, object] | None) -> dict[str, object]:
        seen.append(doc)
        if len(seen) == 1:  # an operator's verb lands between our read and our write
            store.put_intent("demo", "cleanup", {"results": {}, "interrupted": True})
        return {**(doc or {}), "results": {"node-0": "SUCCEEDED"}}

    written = update_intent(store, "demo", "cleanup", change)
    assert written == {"results": {"node-0": "SUCCEEDED"}, "interrupted": True}
    assert store.get_intents("demo")["cleanup"] == written and len(seen) == 2
    assert update_intent(store, "demo", "missing", lambda doc: None) is None
