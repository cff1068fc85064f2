"""Two datacenters of one cluster exchange seeds: this instance's reconciler against the real API
of a peer instance (uvicorn, ZooKeeper behind it), as two framework instances do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from framework.reconciler.launch import NodeCommand
from framework.reconciler.loop import Reconciler, ReconcilerSettings
from framework.store.memory import MemoryStore
from framework.store.zookeeper import ZooKeeperStore
from model.records import TaskRecord
from plans.model import Status
from tests.api.conftest import TOKEN, StoreView, launch
from tests.framework.offers.offer_factory import PRINCIPAL, ROLE
from tests.framework.reconciler.fakes import FakeMesos

OURS = "http://10.9.0.1:9000"


class FailingPeer:
    """A peer instance that answers every exchange with 503, counting the attempts."""

    def __init__(self) -> None:
        self.requests = 0
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _fail(self) -> None:
                peer.requests += 1
                body = b'{"message": "store unavailable"}'
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = _fail

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def failing_peer() -> Iterator[FailingPeer]:
    peer = FailingPeer()
    try:
        yield peer
    finally:
        peer.close()


def _record(node: str, host: str) -> TaskRecord:
    tid = f"demo__{node}__a"
    rec = TaskRecord(
        "demo",
        node,
        {"task_id": {"value": tid}, "agent_id": {"value": f"agent-{node}"}},
        extra={"genesis_nodes": 3, "bootstrap": False, "hostname": host, "ports": {"storage": 7000}},
    )
    return rec.with_status({"task_id": {"value": tid}, "state": "TASK_RUNNING"})


def _sync_block(rec: Reconciler, url: str) -> Any:
    plans = rec.cluster_plans("demo")
    assert plans is not None
    phase = next(p for p in plans.plans["deploy"].phases if p.name == "sync-datacenter")
    return next(b for b in phase.blocks if b.name == url)


async def test_seeds_are_exchanged_both_ways_and_a_failing_peer_backs_off(
    api_url: str, view: StoreView, store: ZooKeeperStore, failing_peer: FailingPeer
) -> None:
    down = failing_peer.url
    # The peer instance runs dc2 of the cluster.
    store.put_config("demo", {"nodes": 3, "data_center": "dc2"}, None)
    for i in range(3):
        launch(view, "demo", f"node-{i}")
    # This instance runs dc1, with two seeds placed.
    local = MemoryStore()
    local.put_config("demo", {"nodes": 3, "data_center": "dc1", "peers": [api_url, down]}, None)
    for i, host in enumerate(("10.1.0.1", "10.1.0.2")):
        local.put_task(_record(f"node-{i}", host), None)
    clock = [1000.0]
    settings = ReconcilerSettings(role=ROLE, principal=PRINCIPAL, peer_token=TOKEN)
    rec = Reconciler(local, settings, NodeCommand("true", OURS), clock=lambda: clock[0])
    rec.bind(FakeMesos())
    await rec.on_event({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "fw"}}})
    await rec.cycle()
    for i in range(2):
        status = {
            "task_id": {"value": f"demo__node-{i}__a"},
            "state": "TASK_RUNNING",
            "reason": "REASON_RECONCILIATION",
        }
        await rec.on_event({"type": "UPDATE", "update": {"status": status}})
    await rec.cycle()

    # The peer now serves dc1's seeds to its nodes; this instance stored dc2's.
    theirs = store.get_peers("demo")
    assert theirs["dc1"]["seeds"] == ["10.1.0.1:7000", "10.1.0.2:7000"]
    assert theirs["dc1"]["url"] == f"{OURS}/v1/clusters/demo/datacenter"
    ours = local.get_peers("demo")
    assert list(ours) == ["dc2"] and ours["dc2"]["seeds"] == ["127.0.1.1:31000", "127.0.1.2:31010"]
    assert rec.synced_peers("demo") == {api_url}
    await rec.cycle()
    assert _sync_block(rec, api_url).status is Status.COMPLETE
    dead = _sync_block(rec, down)
    assert dead.status is Status.PENDING and "waiting for a first exchange" in dead.message
    # A failing peer is not asked again every cycle: it waits out its backoff.
    tried = failing_peer.requests
    assert tried >= 1
    for _ in range(3):
        await rec.cycle()
    assert failing_peer.requests == tried
    clock[0] += 120
    await rec.cycle()
    assert failing_peer.requests > tried
