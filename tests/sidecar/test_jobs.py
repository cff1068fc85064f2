"""Maintenance jobs on the sidecar: one at a time, idempotent starts, outcomes kept, stop stops
Cassandra's work too. nodetool is scripted (no JVM); the real thing runs in tests/e2e_ops."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from model.errors import Conflict, InvalidInput
from model.maintenance import Job
from sidecar.config import NodePaths
from sidecar.http import CqlProbe, build_app
from sidecar.jobs import JobRunner
from sidecar.nodetool import Nodetool
from tests.sidecar.harness import node_config, running_state


class ScriptedNodetool:
    """Each nodetool call waits until the test releases it with an exit code."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self.cancelled = 0

    async def __call__(self, cmd: Sequence[str], timeout: float) -> tuple[int | None, str]:
        args = list(cmd[cmd.index("-p") + 2 :]) if "-p" in cmd else list(cmd)
        self.calls.append(args)
        if args[:1] == ["stop"]:
            return 0, ""
        try:
            return await self.release.get()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


def runner_for(tmp_path: Path, script: ScriptedNodetool) -> tuple[JobRunner, Nodetool]:
    node = node_config("http://s:1")
    paths = NodePaths(tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, Path("/java"))
    nodetool = Nodetool(paths, node.ports.jmx, runner=script)
    return JobRunner(nodetool), nodetool


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_job_commands_name_keyspaces_and_tables_after_a_double_dash() -> None:
    assert Job("j", "cleanup").nodetool_commands() == [["cleanup"]]
    assert Job("j", "repair", ("ks1", "ks2")).nodetool_commands() == [
        ["repair", "-full", "-pr", "--", "ks1"],
        ["repair", "-full", "-pr", "--", "ks2"],
    ]
    assert Job("j", "cleanup", ("ks",), ("t1", "t2")).nodetool_commands() == [
        ["cleanup", "--", "ks", "t1", "t2"]
    ]
    with pytest.raises(InvalidInput, match="exactly one keyspace"):
        Job("j", "cleanup", ("a", "b"), ("t",))
    with pytest.raises(InvalidInput, match="not a Cassandra name"):
        Job("j", "cleanup", ("-h",))
    with pytest.raises(InvalidInput, match="kind"):
        Job("j", "compact")


async def test_a_job_runs_its_commands_in_order_and_reports_success(tmp_path: Path) -> None:
    script = ScriptedNodetool()
    jobs, _ = runner_for(tmp_path, script)
    status, started = jobs.start(Job("c-1", "cleanup", ("ks1", "ks2")))
    assert started and status.state == "RUNNING"
    await settle()
    assert jobs.get("c-1").message.startswith("step 1/2")  # type: ignore[union-attr]
    await script.release.put((0, ""))
    await settle()
    await script.release.put((0, ""))
    await settle()
    done = jobs.get("c-1")
    assert done is not None and done.state == "SUCCEEDED"
    assert [c[-2:] for c in script.calls] == [["--", "ks1"], ["--", "ks2"]]
    # The same id again is the same job, not a second run.
    again, started = jobs.start(Job("c-1", "cleanup", ("ks1", "ks2")))
    assert not started and again.state == "SUCCEEDED" and len(script.calls) == 2


async def test_a_failing_command_fails_the_job_with_nodetools_words(tmp_path: Path) -> None:
    script = ScriptedNodetool()
    jobs, _ = runner_for(tmp_path, script)
    jobs.start(Job("r-1", "repair", ("ks",)))
    await settle()
    await script.release.put((2, "error: Repair job has failed with the error message: boom"))
    await settle()
    failed = jobs.get("r-1")
    assert failed is not None and failed.state == "FAILED" and "boom" in failed.message


async def test_one_job_at_a_time_and_stop_kills_the_client_and_stops_cassandras_work(tmp_path: Path) -> None:
    script = ScriptedNodetool()
    jobs, _ = runner_for(tmp_path, script)
    jobs.start(Job("c-1", "cleanup"))
    await settle()
    with pytest.raises(Conflict, match="c-1"):
        jobs.start(Job("r-1", "repair"))
    stopped = await jobs.stop("c-1")
    assert stopped is not None and stopped.state == "STOPPED"
    assert script.cancelled == 1
    assert script.calls[-1] == ["stop", "--", "CLEANUP"]
    # Asked again, a stopped job runs again (its block still wants it); a finished one would not.
    again, started = jobs.start(Job("c-1", "cleanup"))
    assert started and again.state == "RUNNING"
    await jobs.stop("c-1")
    # Now another job may run.
    _, started = jobs.start(Job("r-1", "repair"))
    assert started
    await jobs.close()
    assert jobs.get("r-1").state == "STOPPED"  # type: ignore[union-attr]
    assert script.calls[-1] == ["stop", "--", "VALIDATION"]


async def test_no_job_starts_while_cassandra_is_not_running(tmp_path: Path) -> None:
    node = node_config("http://s:1")
    paths = NodePaths(tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, Path("/java"))
    jobs = JobRunner(
        Nodetool(paths, node.ports.jmx, runner=ScriptedNodetool()), lambda: "not running (starting)"
    )
    with pytest.raises(Conflict, match="not running"):
        jobs.start(Job("c-1", "cleanup"))


async def test_the_jobs_api(tmp_path: Path) -> None:
    script = ScriptedNodetool()
    jobs, nodetool = runner_for(tmp_path, script)
    state = running_state(node_config("http://s:1"), nodetool, CqlProbe("127.0.0.1", 1), jobs)
    async with TestClient(TestServer(build_app(state))) as client:
        bad = await client.post("/v1/jobs", json={"id": "x", "kind": "cleanup", "key_spaces": ["a;b"]})
        assert bad.status == 400 and "not a Cassandra name" in (await bad.json())["message"]
        first = await client.post("/v1/jobs", json={"id": "c-1", "kind": "cleanup"})
        assert first.status == 201
        assert (await client.post("/v1/jobs", json={"id": "c-1", "kind": "cleanup"})).status == 200
        busy = await client.post("/v1/jobs", json={"id": "r-1", "kind": "repair"})
        assert busy.status == 409
        listed = await (await client.get("/v1/jobs")).json()
        assert [(j["id"], j["state"]) for j in listed] == [("c-1", "RUNNING")]
        assert (await client.get("/v1/jobs/nope")).status == 404
        stopped = await client.delete("/v1/jobs/c-1")
        assert stopped.status == 200 and (await stopped.json())["state"] == "STOPPED"
        assert (await client.delete("/v1/jobs/nope")).status == 404
