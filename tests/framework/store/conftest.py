"""Store fixtures: the contract suite runs every test once on MemoryStore and once on a real ZooKeeper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from kazoo.client import KazooClient

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.store.documents import DocumentStore
from framework.store.memory import MemoryStore, MemoryTree
from framework.store.zookeeper import ZooKeeperStore
from tests.zookeeper import own_zookeeper, zk_root, zookeeper_server  # noqa: F401 (fixtures)


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Backend:
    """Opens stores on one shared backend and root, and writes raw bytes past the store."""

    name: str
    root: str
    open: Callable[[], DocumentStore]
    write_raw: Callable[[str, bytes], None]
    clock: FakeClock
    opened: list[DocumentStore] = field(default_factory=list)

    def store(self) -> DocumentStore:
        s = self.open()
        self.opened.append(s)
        return s


@pytest.fixture(params=["memory", pytest.param("zookeeper", marks=pytest.mark.zookeeper)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    clock = FakeClock()
    if request.param == "memory":
        tree = MemoryTree()
        root = "/cassandra-mesos/test"
        b = Backend("memory", root, lambda: MemoryStore(root, tree=tree, clock=clock), tree.put_raw, clock)
        yield b
        return
    server: ZooKeeperServer = request.getfixturevalue("zookeeper_server")
    root = request.getfixturevalue("zk_root")
    raw = KazooClient(server.hosts)
    raw.start(timeout=10)

    def write_raw(path: str, data: bytes) -> None:
        if raw.exists(path):
            raw.set(path, data)
        else:
            raw.create(path, data, makepath=True)

    b = Backend("zookeeper", root, lambda: ZooKeeperStore(server.hosts, root, clock=clock), write_raw, clock)
    try:
        yield b
    finally:
        for s in b.opened:
            s.close()
        raw.stop()
        raw.close()


@pytest.fixture
def store(backend: Backend) -> DocumentStore:
    return backend.store()
