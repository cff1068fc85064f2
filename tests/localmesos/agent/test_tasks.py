"""Command tasks on a real localmesos, seen by a framework over raw HTTP (reference §7)."""

from __future__ import annotations

import contextlib
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from localmesos.harness import LocalMesos
from tests.localmesos.agent.rawsched import RawScheduler, framework_info, scalar, task

pytestmark = pytest.mark.localmesos


@pytest.fixture(scope="module")
def localmesos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMesos]:
    """One cluster for this module: these tests break nothing, and each tears its framework down."""
    with LocalMesos(
        tmp_path_factory.mktemp("tasks"), agents=1, executor_environment={"LM_FROM_FLAG": "yes"}
    ) as lm:
        yield lm


@pytest.fixture
def sched(localmesos: LocalMesos) -> Iterator[RawScheduler]:
    s = RawScheduler(localmesos.master_url, framework_info()).subscribe()
    try:
        yield s
    finally:
        with contextlib.suppress(AssertionError):
            s.call("TEARDOWN")  # kills its tasks and frees its resources for the next test
        s.close()


def _sandbox(lm: LocalMesos, framework_id: str, task_id: str) -> Path:
    agent_dir = lm.agents[0].work_dir
    agent_id = (agent_dir / "slaves" / "latest").resolve().name
    path = (
        agent_dir
        / "slaves"
        / agent_id
        / "frameworks"
        / framework_id
        / "executors"
        / task_id
        / "runs"
        / "latest"
    )
    return path.resolve()


def test_command_task_runs_in_its_sandbox_with_mesos_environment_and_fetched_uris(
    localmesos: LocalMesos, sched: RawScheduler, tmp_path: Path
) -> None:
    src = tmp_path / "uris"
    src.mkdir()
    (src / "tool.sh").write_text("#!/bin/sh\necho tool ran\n")
    (src / "conf.txt").write_text("from the bundle\n")
    with tarfile.open(src / "bundle.tgz", "w:gz") as tar:
        tar.add(src / "conf.txt", arcname="bundle/conf.txt")
    offer = sched.next_offer()
    sched.launch(
        offer,
        task(
            offer,
            "t-env",
            'env > env.txt; cat bundle/conf.txt; ./tool.sh; echo "node=$NODE"',
            command_fields={
                "uris": [
                    {"value": str(src / "tool.sh"), "executable": True},
                    {"value": f"file://{src}/bundle.tgz"},
                ],
                "environment": {"variables": [{"name": "NODE", "value": "n1"}]},
            },
        ),
    )
    finished = sched.wait_update("t-env", "TASK_FINISHED", from_agent=True)
    states = [s["state"] for s in sched.updates("t-env")]
    assert states[:3] == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    assert finished["message"] == "Command exited with status 0"
    assert all(s["source"] == "SOURCE_EXECUTOR" and s["uuid"] for s in sched.updates("t-env"))
    assert finished["executor_id"]["value"] == "t-env"

    sandbox = _sandbox(localmesos, sched.framework_id or "", "t-env")
    assert (sandbox / "stdout").read_text() == "from the bundle\ntool ran\nnode=n1\n"
    env = dict(line.split("=", 1) for line in (sandbox / "env.txt").read_text().splitlines() if "=" in line)
    agent = localmesos.agents[0]
    assert env["MESOS_FRAMEWORK_ID"] == sched.framework_id
    assert env["MESOS_EXECUTOR_ID"] == "t-env"
    assert env["MESOS_SANDBOX"] == env["MESOS_DIRECTORY"] == str(sandbox)
    assert env["MESOS_SLAVE_ID"] == offer["agent_id"]["value"]
    assert env["MESOS_AGENT_ENDPOINT"] == f"{agent.ip}:{agent.port}"
    assert env["MESOS_CHECKPOINT"] == "1"
    assert "MESOS_TASK_ID" not in env
    assert env["LM_FROM_FLAG"] == "yes"  # agent --executor-environment-variables
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_failed_killed_and_unfetchable_tasks(sched: RawScheduler, tmp_path: Path) -> None:
    offer = sched.next_offer()
    grace = {"grace_period": {"nanoseconds": 300_000_000}}
    sched.launch(
        offer,
        task(offer, "t-fail", "echo bad >&2; exit 3"),
        task(offer, "t-kill", "trap '' TERM; while :; do sleep 0.05; done", kill_policy=grace),
        task(offer, "t-fetch", "true", command_fields={"uris": [{"value": str(tmp_path / "missing.tgz")}]}),
    )
    failed = sched.wait_update("t-fail", "TASK_FAILED", from_agent=True)
    assert failed["message"] == "Command exited with status 3" and failed["source"] == "SOURCE_EXECUTOR"

    unfetchable = sched.wait_update("t-fetch", "TASK_FAILED", from_agent=True)
    assert unfetchable["source"] == "SOURCE_AGENT"
    assert unfetchable["reason"] == "REASON_CONTAINER_LAUNCH_FAILED"
    assert unfetchable["message"].startswith(
        "Failed to launch container: Failed to fetch all URIs for container"
    )
    assert "TASK_RUNNING" not in [s["state"] for s in sched.updates("t-fetch")]

    sched.wait_update("t-kill", "TASK_RUNNING")
    sched.call("KILL", kill={"task_id": {"value": "t-kill"}, "agent_id": offer["agent_id"]})
    killed = sched.wait_update("t-kill", "TASK_KILLED", from_agent=True)
    # SIGTERM is ignored by the command, so the grace period ends with SIGKILL.
    assert killed["message"] == "Command terminated with signal Killed"


def test_task_writes_into_its_persistent_volume_and_a_relaunch_reads_it(
    localmesos: LocalMesos, sched: RawScheduler
) -> None:
    offer = sched.next_offer()
    role = "test"
    reserved = [{"type": "DYNAMIC", "role": role}]
    cpus, mem = scalar("cpus", 0.2, role, reserved), scalar("mem", 64, role, reserved)
    disk = scalar("disk", 32, role, reserved)
    volume = {
        **disk,
        "disk": {"persistence": {"id": "vol-1"}, "volume": {"mode": "RW", "container_path": "data"}},
    }
    sched.accept(
        offer,
        [
            {"type": "RESERVE", "reserve": {"resources": [cpus, mem, disk]}},
            {"type": "CREATE", "create": {"volumes": [volume]}},
            {
                "type": "LAUNCH",
                "launch": {
                    "task_infos": [
                        task(offer, "t-write", "echo payload > data/file", resources=[cpus, mem, volume])
                    ]
                },
            },
        ],
    )
    sched.wait_update("t-write", "TASK_FINISHED", from_agent=True)
    volume_dir = localmesos.agents[0].work_dir / "volumes" / "roles" / role / "vol-1"
    assert (volume_dir / "file").read_text() == "payload\n"

    # Reservations and volumes are checkpointed: they survive an agent restart.
    localmesos.restart_agent(0)
    agent_state = httpx.get(f"{localmesos.agents[0].url}/localmesos/state", timeout=10).json()
    assert [r["disk"]["persistence"]["id"] for r in agent_state["checkpointed_resources"] if "disk" in r] == [
        "vol-1"
    ]

    def has_volume(o: dict) -> bool:
        return any(
            ((r.get("disk") or {}).get("persistence") or {}).get("id") == "vol-1" for r in o["resources"]
        )

    again = sched.next_offer(pred=has_volume)
    offered = next(r for r in again["resources"] if has_volume({"resources": [r]}))
    sched.launch(again, task(again, "t-read", "cat data/file", resources=[cpus, mem, offered]))
    sched.wait_update("t-read", "TASK_FINISHED", from_agent=True)
    assert (_sandbox(localmesos, sched.framework_id or "", "t-read") / "stdout").read_text() == "payload\n"


def test_failing_health_check_reports_unhealthy_then_kills_the_task(
    localmesos: LocalMesos, sched: RawScheduler
) -> None:
    offer = sched.next_offer()
    check = {
        "type": "COMMAND",
        "command": {"value": "test -e healthy"},
        "delay_seconds": 0,
        "interval_seconds": 0.2,
        "timeout_seconds": 2,
        "grace_period_seconds": 0,
        "consecutive_failures": 2,
    }
    sched.launch(
        offer,
        task(
            offer,
            "t-health",
            "touch healthy; while :; do sleep 0.05; done",
            health_check=check,
            kill_policy={"grace_period": {"nanoseconds": 200_000_000}},
        ),
    )

    def health_update(healthy: bool) -> dict:
        return sched.wait_event(
            lambda e: (
                e["type"] == "UPDATE"
                and e["update"]["status"].get("healthy") is healthy
                and e["update"]["status"]["state"] == "TASK_RUNNING"
            )
        )["update"]["status"]

    good = health_update(True)
    assert good["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED" and good["source"] == "SOURCE_EXECUTOR"
    (_sandbox(localmesos, sched.framework_id or "", "t-health") / "healthy").unlink()
    bad = health_update(False)
    assert bad["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
    killed = sched.wait_update("t-health", "TASK_KILLED", from_agent=True)
    assert killed["healthy"] is False


def test_agent_state_and_files_endpoints_show_the_sandbox(
    localmesos: LocalMesos, sched: RawScheduler
) -> None:
    offer = sched.next_offer()
    sched.launch(offer, task(offer, "t-visible", "echo visible; while :; do sleep 0.1; done"))
    sched.wait_update("t-visible", "TASK_RUNNING")
    agent = localmesos.agents[0]
    state = httpx.get(f"{agent.url}/state", timeout=10).json()
    assert state["id"] == offer["agent_id"]["value"] and state["pid"] == f"slave(1)@{agent.ip}:{agent.port}"
    assert state["resources"]["cpus"] == 4
    framework = next(f for f in state["frameworks"] if f["id"] == sched.framework_id)
    executor = next(e for e in framework["executors"] if e["id"] == "t-visible")
    assert executor["tasks"][0]["state"] == "TASK_RUNNING"
    directory = executor["directory"]
    assert directory == str(_sandbox(localmesos, sched.framework_id or "", "t-visible"))

    read = httpx.get(
        f"{agent.url}/files/read", params={"path": f"{directory}/stdout", "offset": 0}, timeout=10
    )
    assert read.json() == {"data": "visible\n", "offset": 0}
    listing = httpx.get(f"{agent.url}/files/browse", params={"path": directory}, timeout=10).json()
    assert {Path(e["path"]).name for e in listing} >= {"stdout", "stderr"}
    assert (
        httpx.get(f"{agent.url}/files/read", params={"path": "/etc/passwd", "offset": 0}).status_code == 404
    )


def test_framework_with_task_killing_state_sees_task_killing_first(localmesos: LocalMesos) -> None:
    sched = RawScheduler(localmesos.master_url, framework_info(killing_state=True)).subscribe()
    try:
        offer = sched.next_offer()
        sched.launch(
            offer, task(offer, "t-killing", "trap 'sleep 0.3; exit 0' TERM; while :; do sleep 0.05; done")
        )
        sched.wait_update("t-killing", "TASK_RUNNING")
        sched.call("KILL", kill={"task_id": {"value": "t-killing"}, "agent_id": offer["agent_id"]})
        killed = sched.wait_update("t-killing", "TASK_KILLED", from_agent=True)
        states = [s["state"] for s in sched.updates("t-killing") if s.get("uuid")]
        assert states[-2:] == ["TASK_KILLING", "TASK_KILLED"]
        assert killed["message"] == "Command exited with status 0"  # still KILLED: a kill was requested
    finally:
        sched.call("TEARDOWN")
        sched.close()
