"""The command executor as a real process: exit status, kill policy, process-group cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from localmesos.agent.containers import CONTAINER_ENV, container_processes


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def start_executor(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], Path, Path]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(value: str, shell: bool = True, arguments: list[str] | None = None, **extra: object):
        meta, sandbox = tmp_path / f"meta{len(procs)}", tmp_path / f"sb{len(procs)}"
        meta.mkdir()
        sandbox.mkdir()
        spec = {
            "shell": shell,
            "value": value,
            "arguments": arguments or [],
            "sandbox": str(sandbox),
            "env": {
                "PATH": "/usr/bin:/bin",
                "GREETING": "hello",
                CONTAINER_ENV: f"c-{tmp_path.name}-{len(procs)}",
            },
            **extra,
        }
        (meta / "launch.json").write_text(json.dumps(spec))
        p = subprocess.Popen(
            [sys.executable, "-m", "localmesos.agent.executor", "--meta-dir", str(meta)],
            start_new_session=True,
        )
        procs.append(p)
        return p, meta, sandbox

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def _outcome(meta: Path) -> dict:
    _wait(lambda: (meta / "exit.json").exists())
    return json.loads((meta / "exit.json").read_text())


def test_shell_command_output_and_exit_status(start_executor) -> None:
    p, meta, sandbox = start_executor('echo "$GREETING from $PWD"; echo oops >&2; exit 7')
    outcome = _outcome(meta)
    assert os.WEXITSTATUS(outcome["wait_status"]) == 7 and outcome["killed"] is False
    assert (sandbox / "stdout").read_text() == f"hello from {sandbox}\n"
    assert (sandbox / "stderr").read_text() == "oops\n"
    assert p.wait(timeout=5) == 0


def test_non_shell_command_uses_arguments_as_argv(start_executor) -> None:
    _, meta, sandbox = start_executor("/bin/echo", shell=False, arguments=["echo", "a b", "$HOME"])
    assert _outcome(meta)["wait_status"] == 0
    assert (sandbox / "stdout").read_text() == "a b $HOME\n"


def test_missing_program_is_a_launch_error(start_executor) -> None:
    _, meta, _ = start_executor("/no/such/program", shell=False)
    assert "Failed to execute '/no/such/program'" in _outcome(meta)["launch_error"]


def test_kill_sends_sigterm_then_sigkill_after_the_grace_period(start_executor) -> None:
    # The command ignores SIGTERM and has a child in its process group.
    p, meta, _ = start_executor("trap '' TERM; sleep 300 & while true; do sleep 0.05; done")
    _wait(lambda: (meta / "forked.pid").exists())
    group = json.loads((meta / "forked.pid").read_text())["pid"]
    _wait(lambda: len([q for q in psutil.process_iter() if _pgid(q) == group]) >= 2)
    (meta / "kill.json").write_text(json.dumps({"grace_period": 0.5}))
    started = time.monotonic()
    p.send_signal(signal.SIGTERM)
    outcome = _outcome(meta)
    assert time.monotonic() - started >= 0.45
    assert outcome["killed"] is True and os.WTERMSIG(outcome["wait_status"]) == signal.SIGKILL
    _wait(lambda: not [q for q in psutil.process_iter() if _pgid(q) == group and _alive(q)])


def test_command_that_honours_sigterm_ends_before_the_grace_period(start_executor) -> None:
    p, meta, sandbox = start_executor("trap 'echo bye; exit 0' TERM; while true; do sleep 0.05; done")
    _wait(lambda: (meta / "forked.pid").exists())
    (meta / "kill.json").write_text(json.dumps({"grace_period": 30}))
    started = time.monotonic()
    p.send_signal(signal.SIGTERM)
    outcome = _outcome(meta)
    assert time.monotonic() - started < 5
    assert outcome["wait_status"] == 0 and outcome["killed"] is True
    assert (sandbox / "stdout").read_text() == "bye\n"


def _pgid(proc: psutil.Process) -> int | None:
    try:
        return os.getpgid(proc.pid)
    except (ProcessLookupError, PermissionError):
        return None


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_max_completion_time_kills_the_command(start_executor) -> None:
    _, meta, _ = start_executor("while :; do sleep 0.05; done", max_completion_time=0.3, kill_grace=0.2)
    outcome = _outcome(meta)
    assert outcome["max_completion_time_reached"] is True and outcome["killed"] is False
    assert os.WTERMSIG(outcome["wait_status"]) == signal.SIGTERM


def test_container_is_destroyed_with_escaped_children_when_the_command_exits(start_executor) -> None:
    # A child in its own session escapes the process group, but not the container.
    _, meta, _ = start_executor("setsid sleep 300 & sleep 0.3; exit 0")
    container_id = json.loads((meta / "launch.json").read_text())["env"][CONTAINER_ENV]
    assert _outcome(meta)["wait_status"] == 0
    _wait(lambda: not container_processes(container_id))
