"""`python -m localmesos.master` as a process: ready file, flags, restart with registry recovery."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.localmesos.master.rawhttp import framework_info, scalar, subscribe
from tests.localmesos.master.stub_agent import StubAgent
from tests.localmesos.master.test_agent_protocol import RESOURCES, launch, running_status


class MasterProcess:
    def __init__(self, work_dir: Path, ready: Path) -> None:
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localmesos.master",
                "--port",
                "0",
                "--work-dir",
                str(work_dir),
                "--ready-file",
                str(ready),
                "--allocation-interval",
                "0.1",
                "--agent-ping-timeout",
                "0.2",
            ],
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.ready = ready

    async def wait_ready(self) -> str:
        deadline = time.monotonic() + 20
        while not self.ready.exists():
            assert self.proc.poll() is None, self.proc.stderr.read().decode() if self.proc.stderr else ""
            assert time.monotonic() < deadline, "master did not become ready"
            await asyncio.sleep(0.05)
        return f"http://127.0.0.1:{json.loads(self.ready.read_text())['port']}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


def test_bad_flags_fail_with_a_clear_message(tmp_path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "localmesos.master",
            "--work-dir",
            str(tmp_path),
            "--simulated-resources",
            "cpus:lots",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert "--simulated-resources: Invalid resource text 'cpus:lots'" in out.stderr
    assert "Traceback" not in out.stderr


async def test_restart_keeps_admitted_agents_and_accepts_old_framework_id(tmp_path) -> None:
    work = tmp_path / "master"
    agent = StubAgent()
    await agent.start()
    first = MasterProcess(work, tmp_path / "ready.json")
    second: MasterProcess | None = None
    try:
        base = await first.wait_ready()
        agent_id = await agent.register(base, RESOURCES)
        sub = await subscribe(base + "/api/v1/scheduler", info=framework_info(failover_timeout=3600.0))
        try:
            run = await launch(sub, agent, "t1")
            status = running_status("t1", agent_id)
            await agent.status(base, sub.framework_id, status)
            await sub.ack((await sub.next("UPDATE"))["update"]["status"])
        finally:
            await sub.close()
        first.stop()
        assert json.loads((work / "registry.json").read_text())["agents"][0]["id"] == agent_id

        second = MasterProcess(work, tmp_path / "ready.json")
        base = await second.wait_ready()
        again = await subscribe(
            base + "/api/v1/scheduler",
            framework_id=sub.framework_id,
            info=framework_info(failover_timeout=3600.0),
        )
        try:
            assert again.framework_id == sub.framework_id
            await agent.register(
                base,
                RESOURCES,
                tasks=[
                    {
                        "framework_id": {"value": sub.framework_id},
                        "framework_info": framework_info(),
                        "task": run["task"],
                        "state": "TASK_RUNNING",
                        "status": status,
                    }
                ],
            )
            assert agent.agent_id == agent_id
            assert await again.call(
                {
                    "type": "RECONCILE",
                    "reconcile": {"tasks": [{"task_id": {"value": "t1"}, "agent_id": {"value": agent_id}}]},
                }
            ) == (202, "")
            reply = (await again.next("UPDATE"))["update"]["status"]
            assert (reply["state"], reply["reason"]) == ("TASK_RUNNING", "REASON_RECONCILIATION")
            offer = (await again.offers())[0]
            cpus = sum(r["scalar"]["value"] for r in offer["resources"] if r["name"] == "cpus")
            assert cpus == 1.0  # the adopted task still holds its cpu
            assert scalar("cpus", 1.0, allocation_info={"role": "db"}) in offer["resources"]
        finally:
            await again.close()
    finally:
        first.stop()
        if second is not None:
            second.stop()
        await agent.stop()
