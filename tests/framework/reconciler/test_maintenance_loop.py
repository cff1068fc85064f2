"""The reconciler performing a cleanup against real sidecar HTTP servers (nodetool scripted):
start the job, see it through the health poll, record the outcome, move to the next node, and
stop a job once its request is deleted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from framework.reconciler.health import probe_all, targets
from framework.reconciler.launch import NodeCommand
from framework.reconciler.loop import Reconciler, ReconcilerSettings
from framework.reconciler.offers import all_records
from framework.store.memory import MemoryStore
from model.maintenance import MaintenanceRequest
from model.records import TaskRecord
from sidecar.config import NodePaths
from sidecar.http import CqlProbe, Readiness, build_app
from sidecar.nodetool import Nodetool
from tests.framework.offers.offer_factory import PRINCIPAL, ROLE
from tests.framework.reconciler.fakes import FakeMesos
from tests.sidecar.harness import node_config, running_state

SETTINGS = ReconcilerSettings(role=ROLE, principal=PRINCIPAL, refuse_seconds=120.0)
COMMAND = NodeCommand(command="python3 -m sidecar", scheduler_url="http://sched:8080")
FIXTURES = Path(__file__).parents[2] / "sidecar" / "fixtures"
# nodetool output captured from Cassandra 5.0.8, for /status.
OUTPUT = {
    "info": (FIXTURES / "info_vnodes.txt").read_text(),
    "status": (FIXTURES / "status_vnodes_one_down.txt").read_text(),
    "netstats": (FIXTURES / "netstats.txt").read_text(),
}


class Ready(CqlProbe):
    async def check(self) -> Readiness:
        return Readiness(True, "CQL answers", "5.0.8")


class Sidecars:
    """One aiohttp sidecar per node; nodetool cleanup/stop calls are recorded and held until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.release: dict[str, asyncio.Event] = {}
        self.servers: dict[str, TestServer] = {}

    async def start(self, node: str, tmp_path: Path) -> TestServer:
        async def runner(cmd: Sequence[str], timeout: float) -> tuple[int | None, str]:
            args = list(cmd[cmd.index("-p") + 2 :])
            if args[-1] in OUTPUT:
                return 0, OUTPUT[args[-1]]
            self.calls.append((node, args))
            if args[0] == "cleanup":
                await self.release.setdefault(node, asyncio.Event()).wait()
            return 0, ""

        config = node_config("http://s:1", node=node, cluster="c1")
        paths = NodePaths(tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, Path("/java"))
        nodetool = Nodetool(paths, config.ports.jmx, runner=runner)
        server = TestServer(
            build_app(running_state(config, nodetool, Ready("127.0.0.1", 1))), host="127.0.0.1"
        )
        await server.start_server()
        self.servers[node] = server
        return server


@pytest.fixture
async def sidecars() -> AsyncIterator[Sidecars]:
    s = Sidecars()
    try:
        yield s
    finally:
        for server in s.servers.values():
            await server.close()


def record(node: str, port: int) -> TaskRecord:
    tid = f"c1__{node}__a"
    rec = TaskRecord(
        "c1",
        node,
        {"task_id": {"value": tid}, "agent_id": {"value": f"agent-{node}"}},
        extra={"genesis_nodes": 2, "bootstrap": False, "hostname": "127.0.0.1", "ports": {"sidecar": port}},
    )
    return rec.with_status({"task_id": {"value": tid}, "state": "TASK_RUNNING"})


async def poll(rec: Reconciler, store: MemoryStore) -> None:
    """One health sweep as the loop's health task does it, then one cycle."""
    import httpx

    snapshot = store.snapshot()
    async with httpx.AsyncClient(timeout=5) as client:
        results = await probe_all(client, targets(all_records(snapshot)))
    rec._health = {}
    for (cluster, node), health in results.items():
        rec._health.setdefault(cluster, {})[node] = health
    await rec.cycle()
    await asyncio.sleep(0.05)


async def test_a_cleanup_runs_node_by_node_and_a_stop_stops_the_running_job(
    sidecars: Sidecars, tmp_path: Path
) -> None:
    store = MemoryStore()
    store.put_config("c1", {"nodes": 2, "cpus": 0.5, "mem_mb": 1024, "heap_mb": 512, "disk_mb": 100}, None)
    for node in ("node-0", "node-1"):
        server = await sidecars.start(node, tmp_path / node)
        store.put_task(record(node, server.port), None)
    request = MaintenanceRequest("cleanup", "op1", ("node-0", "node-1"), 1.0, ("ks",))
    store.put_intent("c1", "cleanup", request.to_intents().to_json())
    rec = Reconciler(store, SETTINGS, COMMAND, clock=lambda: 1000.0)
    mesos = FakeMesos()
    rec.bind(mesos)
    await rec.on_event({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "fw"}}})
    await rec.cycle()  # sends the explicit reconciliation of both tasks
    for node in ("node-0", "node-1"):
        status = {
            "task_id": {"value": f"c1__{node}__a"},
            "state": "TASK_RUNNING",
            "agent_id": {"value": f"agent-{node}"},
            "reason": "REASON_RECONCILIATION",
        }
        await rec.on_event({"type": "UPDATE", "update": {"status": status}})
    assert rec.reconciled

    await poll(rec, store)  # node-0's job starts
    assert sidecars.calls == [("node-0", ["cleanup", "--", "ks"])]
    await poll(rec, store)  # seen running: nothing else starts
    assert [n for n, _ in sidecars.calls] == ["node-0"]
    sidecars.release["node-0"].set()
    await asyncio.sleep(0.05)
    await poll(rec, store)  # seen succeeded: recorded
    stored: dict[str, Any] = store.get_intents("c1")["cleanup"]["parameters"]
    assert stored["results"]["node-0"]["state"] == "SUCCEEDED"
    await poll(rec, store)  # node-1's turn
    assert sidecars.calls[-1] == ("node-1", ["cleanup", "--", "ks"])

    store.delete_intent("c1", "cleanup")  # PUT .../cleanup/stop
    await poll(rec, store)
    await poll(rec, store)
    assert ("node-1", ["stop", "--", "CLEANUP"]) in sidecars.calls


def test_a_cleanup_offer_never_overwrites_a_cleanup_an_operator_started_meanwhile() -> None:
    from framework.reconciler.jobs import store_cleanup_offer
    from plans.actions import OfferCleanup

    store = MemoryStore()
    store.put_config("c1", {"nodes": 4}, None)
    # Decided when no cleanup was stored; an operator's cleanup was stored since.
    offer = OfferCleanup(
        MaintenanceRequest(
            "cleanup", "after-node-3", ("node-0", "node-1", "node-2"), 0.0, reason="scale-out"
        ),
        interrupted=True,
        offered_for=("node-3",),
        replaces=None,
    )
    operators = MaintenanceRequest("cleanup", "op", ("node-0",), 1.0)
    store.put_intent("c1", "cleanup", operators.to_intents().to_json())
    store_cleanup_offer(store, "c1", offer, 5.0)
    intents = store.get_intents("c1")
    assert intents["cleanup"]["parameters"]["op_id"] == "op" and "cleanup-offers" not in intents
    # Decided on the stored earlier offer, which is still there: the wider one replaces it.
    earlier = replace(offer.request, op_id="after-node-2", nodes=("node-0", "node-1"))
    store.put_intent("c1", "cleanup", earlier.to_intents(interrupted=True).to_json())
    decided_on = store.get_intents("c1")["cleanup"]
    store_cleanup_offer(store, "c1", replace(offer, replaces=decided_on), 6.0)
    intents = store.get_intents("c1")
    assert intents["cleanup"]["parameters"]["op_id"] == "after-node-3" and intents["cleanup"]["interrupted"]
    assert intents["cleanup-offers"]["parameters"]["offered_for"] == ["node-3"]
