"""Status updates against the store: what is stored, what is refused, what a never-sent launch becomes."""

from __future__ import annotations

from typing import Any

from framework.reconciler.updates import Outcome, store_update
from framework.store.memory import MemoryStore
from model.records import TaskRecord

SPEC = {"nodes": 1, "cpus": 0.5, "mem_mb": 1024, "heap_mb": 512, "disk_mb": 100}


def store_with(record: TaskRecord) -> MemoryStore:
    store = MemoryStore()
    store.put_config("c1", SPEC, None)
    store.put_task(record, None)
    return store


def record(status: dict[str, Any] | None = None, tid: str = "c1__node-0__a") -> TaskRecord:
    return TaskRecord("c1", "node-0", {"task_id": {"value": tid}, "agent_id": {"value": "ag"}}, status)


def status(state: str, tid: str = "c1__node-0__a", **extra: Any) -> dict[str, Any]:
    return {"task_id": {"value": tid}, "state": state, **extra}


def test_the_current_tasks_update_is_stored() -> None:
    store = store_with(record())
    assert store_update(store, status("TASK_RUNNING")) is Outcome.STORED
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].state == "TASK_RUNNING"


def test_an_older_launchs_update_is_not_stored() -> None:
    store = store_with(record(tid="c1__node-0__new"))
    assert store_update(store, status("TASK_FAILED", tid="c1__node-0__old")) is Outcome.STALE
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].status is None


def test_task_ids_of_other_frameworks_are_not_ours() -> None:
    store = store_with(record())
    assert store_update(store, status("TASK_RUNNING", tid="something-else")) is Outcome.NOT_OURS


def test_a_launch_mesos_never_saw_is_forgotten_so_the_node_is_placed_again() -> None:
    store = store_with(record())  # stored, but the scheduler died before the ACCEPT
    answer = status("TASK_GONE", reason="REASON_RECONCILIATION")
    assert store_update(store, answer) is Outcome.FORGOTTEN
    assert store.get_task("c1", "node-0") is None


def test_a_finished_task_forgotten_by_mesos_keeps_how_it_ended() -> None:
    store = store_with(record({"state": "TASK_FAILED", "message": "exit 1"}))
    answer = status("TASK_GONE", reason="REASON_RECONCILIATION")
    assert store_update(store, answer) is Outcome.STALE
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].state == "TASK_FAILED"


def test_a_running_task_that_is_gone_for_real_is_recorded_gone() -> None:
    store = store_with(record({"state": "TASK_RUNNING"}))
    answer = status("TASK_GONE", reason="REASON_RECONCILIATION")
    assert store_update(store, answer) is Outcome.STORED
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].state == "TASK_GONE"


def test_a_late_copy_of_an_earlier_update_does_not_overwrite_a_later_one() -> None:
    store = store_with(record({"state": "TASK_RUNNING", "timestamp": 20.0}))
    assert store_update(store, status("TASK_STARTING", timestamp=10.0, uuid="dXVpZA==")) is Outcome.UNCHANGED
    got = store.get_task("c1", "node-0")
    assert got is not None and got[0].state == "TASK_RUNNING"
    assert store_update(store, status("TASK_FAILED", timestamp=30.0)) is Outcome.STORED
