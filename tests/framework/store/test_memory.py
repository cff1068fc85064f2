"""The in-memory store plays a suspended ZooKeeper session the way ZooKeeperStore behaves in test_outage."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from framework.store.memory import MemoryStore, MemoryTree
from framework.store.tree import Node
from model.errors import StoreUnavailable
from tests.framework.store.test_contract import SPEC, status, task


def test_unavailable_memory_store_refuses_everything_then_resumes() -> None:
    store = MemoryStore()
    states: list[bool] = []
    wakes: list[int] = []
    store.add_state_listener(states.append)
    store.watch(lambda: wakes.append(1))
    election = store.election("a")
    leading: list[bool] = []
    election.start(on_elected=lambda: leading.append(True), on_lost=lambda: leading.append(False))
    store.put_config("demo", SPEC, None)
    before = store.snapshot()

    store.set_available(False)
    assert leading == [True, False]
    assert not store.is_writable()
    assert not store.wait_writable(0.05)
    with pytest.raises(StoreUnavailable):
        store.put_config("demo", SPEC, 0)
    with pytest.raises(StoreUnavailable):
        store.snapshot()
    assert states == [False]

    store.set_available(True)
    assert store.wait_writable(0)
    assert states == [False, True]
    assert len(wakes) >= 3  # the write, and both availability changes
    assert store.snapshot() == before
    assert leading == [True, False, True]
    store.put_config("demo", SPEC, 0)


class BusyTree(MemoryTree):
    """A tree whose every bulk read races a status update, as under a never-pausing status stream."""

    writer: MemoryStore | None = None

    def get_many(self, paths: Sequence[str]) -> list[Node | None]:
        found = super().get_many(paths)
        writer, self.writer = self.writer, None  # the writer's own reads must not recurse
        if writer is not None:
            writer.update_status("demo", "node-0", status(task("demo", "node-0"), "TASK_RUNNING"))
            self.writer = writer
        return found


def test_snapshot_under_constant_writes_is_marked_inexact_but_whole() -> None:
    tree = BusyTree()
    store = MemoryStore(tree=tree)
    store.put_config("demo", SPEC, None)
    store.put_task(task("demo", "node-0"), None)
    assert store.snapshot().exact

    tree.writer = MemoryStore(tree=tree)
    snap = store.snapshot()  # gives up on an exact cut instead of stalling the reconciler
    assert not snap.exact
    demo = snap.clusters["demo"]
    assert demo.target is not None and dict(demo.target.spec) == SPEC
    assert demo.tasks["node-0"].state == "TASK_RUNNING"
