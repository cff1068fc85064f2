"""`localmesos run`, `localmesos ctl` and the harness: info file, admin verbs, teardown, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from localmesos.admin import AdminClient, AdminError
from localmesos.harness import LocalMesos
from tests.localmesos.agent.rawsched import RawScheduler, framework_info, task

pytestmark = pytest.mark.localmesos


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localmesos", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _until(cond: Callable[[], object], timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout}s"
        time.sleep(0.05)


def test_agents_get_their_own_ips_attributes_and_ctl_verbs(
    localmesos_factory: Callable[..., LocalMesos],
) -> None:
    lm = localmesos_factory(
        agents=2,
        attributes=["rack:r1", "rack:r2"],
        agent_resources="cpus:2;mem:1024;disk:2048;ports:[31000-31099]",
        domains=[_domain("eu", "eu-1"), _domain("eu", "eu-2")],
    )
    info = json.loads((lm.work_dir / "localmesos.json").read_text())
    assert info["master"] == lm.master_url and info["admin"] == lm.admin_url
    assert [a["ip"] for a in info["agents"]] == [f"{lm.ip_base}1", f"{lm.ip_base}2"]
    slaves = sorted(lm.state()["slaves"], key=lambda s: s["hostname"])
    assert [(s["hostname"], s["attributes"]) for s in slaves] == [
        (f"{lm.ip_base}1", {"rack": "r1"}),
        (f"{lm.ip_base}2", {"rack": "r2"}),
    ]
    assert [s["domain"]["fault_domain"]["zone"]["name"] for s in slaves] == ["eu-1", "eu-2"]
    assert slaves[0]["resources"]["cpus"] == 2 and slaves[0]["resources"]["ports"] == "[31000-31099]"

    assert _cli("ctl", "--work-dir", str(lm.work_dir), "agent", "stop", "1").returncode == 0
    assert [a["running"] for a in lm.admin_state()["agents"]] == [True, False]
    assert _cli("ctl", "--work-dir", str(lm.work_dir), "agent", "start", "1").returncode == 0
    state = json.loads(_cli("ctl", "--work-dir", str(lm.work_dir), "state").stdout)
    assert [a["running"] for a in state["agents"]] == [True, True]
    assert state["agents"][1]["agent_id"] == info["agents"][1]["agent_id"], "restarted agent keeps its id"

    with pytest.raises(AdminError, match="no agent 7"):
        AdminClient(lm.admin_url).agent("stop", 7)


def test_teardown_stops_every_process_including_tasks(localmesos_factory: Callable[..., LocalMesos]) -> None:
    lm = localmesos_factory(agents=1)
    sched = RawScheduler(lm.master_url, framework_info()).subscribe()
    offer = sched.next_offer()
    sched.launch(offer, task(offer, "t-orphan", "sleep 300 & while :; do sleep 0.1; done"))
    sched.wait_update("t-orphan", "TASK_RUNNING")
    sched.close()
    supervisor = psutil.Process(lm.proc.pid if lm.proc else -1)
    ours = [supervisor, *supervisor.children(recursive=True)]
    ours += [p for p in psutil.process_iter() if str(lm.work_dir) in " ".join(_cmdline(p))]
    tasks = [
        p
        for p in psutil.process_iter()
        if "sleep 300" in " ".join(_cmdline(p)) or (_cwd(p) or "").startswith(str(lm.work_dir))
    ]
    assert tasks, "the task process should be visible before teardown"

    lm.close()

    # Generous: this asserts that everything goes, not how fast (a loaded CI machine reaps slowly).
    _until(lambda: not [p for p in ours + tasks if _alive(p)], timeout=30, what="every process gone")


def test_simulated_agents_live_inside_the_master(localmesos_factory: Callable[..., LocalMesos]) -> None:
    lm = localmesos_factory(agents=3, simulated=True)
    assert lm.agents == []
    assert len(lm.state()["slaves"]) == 3


def test_bad_input_is_refused_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    cases = [
        (
            (
                "run",
                "--work-dir",
                str(tmp_path / "w"),
                "--agents",
                "3",
                "--attributes",
                "rack:a",
                "--attributes",
                "rack:b",
            ),
            "--attributes given 2 times for 3 agents",
        ),
        (
            ("run", "--work-dir", str(tmp_path / "w"), "--ip-base", "10.0.0."),
            "--ip-base must look like '127.X.Y.'",
        ),
        (("ctl", "--work-dir", str(tmp_path / "nothing"), "state"), "localmesos.json not found"),
        (
            ("agent", "--master", "127.0.0.1:5050", "--work-dir", str(tmp_path / "a")),
            "--master must be an http:// URL",
        ),
        (
            (
                "agent",
                "--master",
                "http://127.0.0.1:1",
                "--work-dir",
                str(tmp_path / "a"),
                "--resources",
                "cpus:x",
            ),
            "--resources cpus: value 'x' is not a number",
        ),
    ]
    for args, message in cases:
        r = _cli(*args)
        assert r.returncode != 0, args
        assert message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr, (args, r.stderr)


def _domain(region: str, zone: str) -> dict:
    return {"fault_domain": {"region": {"name": region}, "zone": {"name": zone}}}


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _cwd(p: psutil.Process) -> str | None:
    try:
        return p.cwd()
    except psutil.Error:
        return None


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_everything_stops_when_the_test_process_dies_without_cleanup(tmp_path: Path) -> None:
    # A test runner killed on a timeout never reaches its finally blocks.
    script = (
        "import json, sys, time\n"
        "from localmesos.harness import LocalMesos\n"
        f"lm = LocalMesos({str(tmp_path)!r}, agents=1).__enter__()\n"
        "print(json.dumps({'supervisor': lm.proc.pid}), flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        supervisor = psutil.Process(json.loads(line)["supervisor"])
        family = [supervisor, *supervisor.children(recursive=True)]
        assert len(family) >= 3, "supervisor, master and agent"
        parent.kill()
        parent.wait()
        _until(
            lambda: not [p for p in family if _alive(p)],
            timeout=20,
            what="localmesos stopped with its parent",
        )
    finally:
        if parent.poll() is None:
            parent.kill()
