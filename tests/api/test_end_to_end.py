"""The CLI and API in front of the real scheduler: the production SchedulerService (ZooKeeper
store, leader election, Mesos driver, reconciler) in this process with the API served by uvicorn
on the same event loop, against localmesos process agents running the stand-in node."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from typer.testing import CliRunner, Result

from api.app import create_app
from cassandra_mesos.cli import app as cli
from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.config import parse_config
from localmesos.harness import LocalMesos
from tests.scheduler.conftest import mesos, role  # noqa: F401 (fixtures)
from tests.scheduler.harness import SMALL_NODE, InProcessScheduler, config_dict

pytestmark = [pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(180)]


@pytest.fixture
async def api_url(
    mesos: LocalMesos,  # noqa: F811
    zookeeper_server: ZooKeeperServer,
    zk_root: str,
    role: str,  # noqa: F811
) -> AsyncIterator[str]:
    config = parse_config(config_dict(mesos.master_url, zookeeper_server.hosts, zk_root, role))
    async with InProcessScheduler(config) as s:
        assert s.service is not None
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        s.service.set_scheduler_url(url)  # what the nodes ask for seeds
        server = uvicorn.Server(uvicorn.Config(create_app(s.service), log_level="warning"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            async with asyncio.timeout(20):
                while not server.started:
                    await asyncio.sleep(0.02)
            yield url
        finally:
            server.should_exit = True
            with contextlib.suppress(Exception):
                async with asyncio.timeout(15):
                    await task
            sock.close()


async def run(url: str, *args: str) -> Result:
    # The CLI blocks: run it in a thread so the scheduler and the API keep running on the loop.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env={"CM_API": url, "COLUMNS": "200"})


async def test_create_wait_restart_a_node_in_place_and_connect(api_url: str) -> None:
    sets = [arg for k, v in SMALL_NODE.items() for arg in ("--set", f"{k}={v}")]
    r = await run(api_url, "cluster", "create", "c1", "--nodes", "3", *sets, "--wait", "--timeout", "90")
    assert r.exit_code == 0, r.output
    assert "plan deploy of cluster c1 is COMPLETE" in r.stdout

    r = await run(api_url, "connection", "c1")
    assert r.exit_code == 0 and len(r.stdout.split()) == 3, r.output
    before = json.loads((await run(api_url, "node", "show", "c1", "node-1", "--json")).stdout)
    assert before["live"] is True and before["mode"] == "NORMAL", before
    assert before["state"] == "TASK_RUNNING" and before["launch_count"] == 1

    r = await run(api_url, "node", "restart", "c1", "node-1", "--wait", "--timeout", "90")
    assert r.exit_code == 0, r.output
    after = json.loads((await run(api_url, "node", "show", "c1", "node-1", "--json")).stdout)
    # Relaunched in place: a new task on the same agent with the same ports.
    assert after["launch_count"] == 2 and after["task_id"] != before["task_id"]
    assert after["agent_id"] == before["agent_id"] and after["ports"] == before["ports"]
    assert after["state"] == "TASK_RUNNING"
    nodes = json.loads((await run(api_url, "node", "list", "c1", "--json")).stdout)
    assert {n["name"]: n["task_id"] for n in nodes}["node-0"] != after["task_id"]

    r = await run(api_url, "node", "restart", "c1", "node-7")
    assert r.exit_code == 2 and "node-7" in r.stderr
