"""The in-memory store plays a suspended ZooKeeper session the way ZooKeeperStore behaves in test_outage."""

from __future__ import annotations

import pytest

from framework.store.memory import MemoryStore
from model.errors import StoreUnavailable
from tests.framework.store.test_contract import SPEC


def test_unavailable_memory_store_refuses_everything_then_resumes() -> None:
    store = MemoryStore()
    states: list[bool] = []
    wakes: list[int] = []
    store.add_state_listener(states.append)
    store.watch(lambda: wakes.append(1))
    store.put_config("demo", SPEC, None)
    before = store.snapshot()

    store.set_available(False)
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
    store.put_config("demo", SPEC, 0)
