"""Status updates: stored first; the driver acknowledges only after ``store_update`` returned.

If storing fails the exception propagates, the driver does not acknowledge, and the agent sends
the update again: nothing is lost. Updates of tasks that are not a node's current task (older
launches, unknown tasks) are not stored; the caller kills such tasks when they still run.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from framework.store.base import Store, StoreSnapshot
from model.errors import InvalidInput
from model.node import parse_task_id

RECONCILIATION_REASON = "REASON_RECONCILIATION"
# What Mesos answers, on reconciliation, for a task it never heard of.
NEVER_SEEN_STATES = frozenset({"TASK_GONE", "TASK_UNKNOWN", "TASK_DROPPED"})


class Outcome(enum.Enum):
    STORED = "stored"
    STALE = "stale"  # not the node's current task (or no record): not stored
    NOT_OURS = "not-ours"  # the task id is not one this framework builds
    FORGOTTEN = "forgotten"  # a launch that never reached Mesos: its record was removed
    UNCHANGED = "unchanged"  # already recorded, or a late copy of an older update: nothing to write


def already_recorded(snapshot: StoreSnapshot | None, status: Mapping[str, Any]) -> bool:
    """True for an update without uuid (a master's reconciliation answer: never acknowledged)
    whose task and state the latest snapshot already records. After a restart nearly every
    answer is one, and skipping the write keeps reconciling 1,000 tasks from being 1,000 writes.
    Skipping a write is always safe; anything that differs is written."""
    if status.get("uuid"):
        return False
    try:
        tid = parse_task_id(task_id_of(status))
    except InvalidInput:
        return False
    cluster = snapshot.clusters.get(tid.cluster) if snapshot is not None else None
    record = cluster.tasks.get(tid.node) if cluster is not None else None
    return (
        record is not None
        and record.task_id == str(tid)
        and record.status is not None
        and record.state == status.get("state")
    )


def task_id_of(status: Mapping[str, Any]) -> str:
    return str((status.get("task_id") or {}).get("value", ""))


def _timestamp(status: Mapping[str, Any] | None) -> float | None:
    value = (status or {}).get("timestamp")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def is_older(status: Mapping[str, Any], recorded: Mapping[str, Any] | None) -> bool:
    """An agent resends an update until acknowledged, so a copy of an earlier update can arrive
    after a later one was stored; it must not overwrite it (TASK_STARTING over TASK_RUNNING)."""
    new, old = _timestamp(status), _timestamp(recorded)
    return new is not None and old is not None and new < old


def store_update(store: Store, status: Mapping[str, Any]) -> Outcome:
    """Store the update (blocking: kazoo). Raises if the store is unavailable: then no ack."""
    try:
        tid = parse_task_id(task_id_of(status))
    except InvalidInput:
        return Outcome.NOT_OURS
    current = store.get_task(tid.cluster, tid.node)
    if current is None or current[0].task_id != str(tid):
        return Outcome.STALE
    record, version = current
    if is_older(status, record.status):
        return Outcome.UNCHANGED
    if status.get("reason") == RECONCILIATION_REASON and status.get("state") in NEVER_SEEN_STATES:
        if record.is_terminal:
            # Mesos forgets finished tasks; "never seen" must not overwrite how it ended.
            return Outcome.STALE
        # A record without status whose task Mesos never saw: the scheduler died between storing
        # the record and sending the ACCEPT. Forget the launch so the node is placed afresh
        # instead of waiting forever. Compare-and-set: a concurrent change wins.
        if record.status is None and store.delete_task(tid.cluster, tid.node, version):
            return Outcome.FORGOTTEN
    if store.update_status(tid.cluster, tid.node, dict(status)):
        return Outcome.STORED
    return Outcome.STALE
