"""API fixtures: the app over a real ZooKeeperStore, with a small SchedulerView standing in for the
scheduler service (it builds every plan from the store with the reconciler's builder, as the
service does, from health the test sets)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.reconciler.cluster_plans import build_cluster_plans
from framework.store.base import ANY_VERSION, Store
from framework.store.base import ClusterState as StoredCluster
from framework.store.zookeeper import ZooKeeperStore
from framework.views import MESOS_SUBSCRIBED, ZOOKEEPER_CONNECTED, OfferWait
from model.node import NodeHealth, node_index
from model.records import EXTRA_HOSTNAME, EXTRA_PORTS, TaskRecord
from plans.model import Plan
from tests.zookeeper import own_zookeeper, zk_root, zookeeper_server  # noqa: F401 (fixtures)

TOKEN = "s3cret-token"


class StoreView:
    """The SchedulerView of a scheduler that reconciled everything in the store (a test stand-in)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.health: dict[str, dict[str, NodeHealth]] = {}
        self.wakes = 0
        self.woken = threading.Event()
        self.leader = True
        self.plan_builds = 0
        self.waits: dict[str, list[OfferWait]] = {}

    @property
    def store(self) -> Store:
        return self._store

    def wake(self) -> None:
        self.wakes += 1
        self.woken.set()

    def is_leader(self) -> bool:
        return self.leader

    def mesos_state(self) -> str:
        return MESOS_SUBSCRIBED if self.leader else "standby"

    def zookeeper_state(self) -> str:
        return ZOOKEEPER_CONNECTED if self._store.is_writable() else "suspended"

    def plans(self, cluster: str) -> dict[str, Plan]:
        self.plan_builds += 1
        target = self._store.get_target_versioned(cluster)
        if target is None:
            return {}
        stored = StoredCluster(
            name=cluster,
            target=target,
            tasks=self._store.get_tasks(cluster),
            intents=self._store.get_intents(cluster),
        )
        built = build_cluster_plans(stored, self.health.get(cluster, {}), reconciled=True)
        return dict(built.plans) if built is not None else {}

    def node_health(self, cluster: str) -> Mapping[str, NodeHealth]:
        return self.health.get(cluster, {})

    def offer_waits(self, cluster: str) -> list[OfferWait]:
        return self.waits.get(cluster, [])


def ports_of(node: str) -> dict[str, int]:
    base = 31000 + 10 * node_index(node)
    return {
        "storage": base,
        "ssl_storage": base + 1,
        "native_transport": base + 2,
        "jmx": base + 3,
        "sidecar": base + 4,
    }


def launch(
    view: StoreView,
    cluster: str,
    node: str,
    state: str = "TASK_RUNNING",
    *,
    ready: bool = True,
    launch_count: int = 1,
    host: str | None = None,
) -> TaskRecord:
    """Record a node's task as the reconciler would: record first, then its latest status."""
    tid = f"{cluster}__{node}__uuid{launch_count}"
    hostname = host or f"127.0.1.{node_index(node) + 1}"
    extra: dict[str, Any] = {
        EXTRA_HOSTNAME: hostname,
        EXTRA_PORTS: ports_of(node),
        "launch_reason": "deploy",
        "genesis_nodes": 3,
    }
    record = TaskRecord(
        cluster=cluster,
        node=node,
        task_info={"task_id": {"value": tid}, "agent_id": {"value": f"agent-{node}"}},
        launch_count=launch_count,
        extra=extra,
    )
    view.store.put_task(record, ANY_VERSION)
    view.store.update_status(cluster, node, {"task_id": {"value": tid}, "state": state})
    if ready:
        view.health.setdefault(cluster, {})[node] = NodeHealth("NORMAL", True, tid)
    return record


@pytest.fixture
def store(zookeeper_server: ZooKeeperServer, zk_root: str) -> Iterator[ZooKeeperStore]:  # noqa: F811
    s = ZooKeeperStore(zookeeper_server.hosts, zk_root)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def view(store: ZooKeeperStore) -> StoreView:
    return StoreView(store)


def fake_sidecar(record: TaskRecord) -> Mapping[str, Any]:
    """Stands in for a node's sidecar ``/status`` (the real one needs Cassandra; tested in tests/sidecar)."""
    if record.node == "node-2":
        raise ConnectionError("connection refused")
    return {
        "mode": "NORMAL",
        "host_id": f"host-{record.node}",
        "data_center": "dc1",
        "rack": "rack1",
        "load": "105.3 KiB",
        "tokens": 16,
        "version": "5.0.8",
    }


@pytest.fixture
def client(view: StoreView) -> Iterator[TestClient]:
    # Route semantics without the read cache (tests/api/test_read_cache.py covers it).
    with TestClient(create_app(view, sidecar_status=fake_sidecar, read_cache_s=0)) as c:
        yield c


@pytest.fixture
def secured(view: StoreView) -> Iterator[TestClient]:
    with TestClient(create_app(view, token=TOKEN, sidecar_status=fake_sidecar, read_cache_s=0)) as c:
        yield c


@pytest.fixture
def api_url(view: StoreView) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(view, token=TOKEN, sidecar_status=fake_sidecar), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert thread.is_alive(), "uvicorn exited"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
