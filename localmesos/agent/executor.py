"""The command executor: `python -m localmesos.agent.executor --meta-dir D`.

One per command task, in its own session so it outlives agent restarts. It starts the command in
its own process group, writes `forked.pid`, waits for it and writes `exit.json` (the wait status
and whether a kill was requested). A kill is a SIGTERM to this process after the agent wrote
`kill.json` with the grace period: SIGTERM to the task's process group, SIGKILL when the grace
period ends. `max_completion_time` in the launch spec is enforced the same way. When the
command exits, whatever is left of its container (process group and every process tagged with
its container id, see `containers.py`) is SIGKILLed, as Mesos destroys the container.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from localmesos.agent.checkpoint import read_json, write_json
from localmesos.agent.containers import CONTAINER_ENV, signal_container
from localmesos.agent.healthcheck import HealthPolicy, HealthSpec, probe
from localmesos.agent.records import process_start_time
from localmesos.agent.statuses import DEFAULT_KILL_GRACE

POLL = 0.05


class _KillFlag:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def _command_argv(spec: dict[str, Any]) -> tuple[list[str], str | None]:
    if spec.get("shell", True):
        return ["/bin/sh", "-c", str(spec["value"])], None
    arguments = [str(a) for a in spec.get("arguments") or []] or [str(spec["value"])]
    return arguments, str(spec["value"])


class _HealthChecks(threading.Thread):
    """Runs TaskInfo.health_check; each report becomes a line of `health.jsonl` for the agent."""

    def __init__(self, spec: HealthSpec, launch: dict[str, Any], meta: Path) -> None:
        super().__init__(daemon=True)
        self.spec = spec
        self.launch = launch
        self.meta = meta
        self.stop = threading.Event()
        self.kill_requested = threading.Event()

    def run(self) -> None:
        policy = HealthPolicy(self.spec, time.monotonic())
        if self.stop.wait(self.spec.delay):
            return
        seq = 0
        while not self.stop.is_set():
            ok = probe(
                self.spec,
                str(self.launch.get("host", "127.0.0.1")),
                self.launch["env"],
                self.launch["sandbox"],
            )
            report = policy.success() if ok else policy.failure(time.monotonic())
            if report is not None and not self.stop.is_set():
                seq += 1
                line = {"seq": seq, "healthy": report.healthy, "kill_task": report.kill_task}
                with open(self.meta / "health.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps(line) + "\n")
                if report.kill_task:
                    self.kill_requested.set()
                    return
            if self.stop.wait(self.spec.interval):
                return


def run(meta: Path) -> int:
    spec = read_json(meta / "launch.json")
    write_json(meta / "executor.pid", {"pid": os.getpid(), "start_time": process_start_time(os.getpid())})
    kill = _KillFlag()
    signal.signal(signal.SIGTERM, kill)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sandbox = Path(spec["sandbox"])
    argv, executable = _command_argv(spec)
    try:
        with open(sandbox / "stdout", "ab") as out, open(sandbox / "stderr", "ab") as err:
            child = subprocess.Popen(
                argv,
                executable=executable,
                cwd=sandbox,
                env=spec["env"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                close_fds=True,
                process_group=0,
            )
    except OSError as e:
        write_json(meta / "exit.json", {"launch_error": f"Failed to execute '{spec['value']}': {e}"})
        return 1
    write_json(meta / "forked.pid", {"pid": child.pid})
    container_id = spec["env"].get(CONTAINER_ENV)

    def signal_task(sig: int) -> None:
        if container_id:
            signal_container(container_id, child.pid, sig)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, sig)

    health_spec = HealthSpec.from_task(spec.get("health_check"))
    health = _HealthChecks(health_spec, spec, meta) if health_spec is not None else None
    if health is not None:
        health.start()
    unhealthy = False
    deadline: float | None = None
    term_sent = kill_sent = timed_out = False
    max_completion = spec.get("max_completion_time")
    completion_deadline = None if max_completion is None else time.monotonic() + float(max_completion)
    while True:
        pid, wait_status = os.waitpid(child.pid, os.WNOHANG)
        if pid:
            break
        if health is not None and health.kill_requested.is_set() and not term_sent:
            # Too many consecutive health check failures: killed like a KILL (TASK_KILLED, healthy=false).
            unhealthy = term_sent = True
            deadline = time.monotonic() + float(spec.get("kill_grace", DEFAULT_KILL_GRACE))
            signal_task(signal.SIGTERM)
        if completion_deadline is not None and not term_sent and time.monotonic() >= completion_deadline:
            # TaskInfo.max_completion_time: killed like a KILL with the task's grace period.
            timed_out = term_sent = True
            deadline = time.monotonic() + float(spec.get("kill_grace", DEFAULT_KILL_GRACE))
            signal_task(signal.SIGTERM)
        if kill.requested:
            kill.requested = False
            grace = DEFAULT_KILL_GRACE
            if (meta / "kill.json").exists():
                grace = float(read_json(meta / "kill.json").get("grace_period", DEFAULT_KILL_GRACE))
            # A repeated kill may only shorten the remaining grace period (reference §7.6).
            new_deadline = time.monotonic() + max(0.0, grace)
            deadline = new_deadline if deadline is None else min(deadline, new_deadline)
            if not term_sent:
                signal_task(signal.SIGTERM)
                term_sent = True
        if deadline is not None and not kill_sent and time.monotonic() >= deadline:
            signal_task(signal.SIGKILL)
            kill_sent = True
        time.sleep(POLL)
    signal_task(signal.SIGKILL)
    if health is not None:
        health.stop.set()
    write_json(
        meta / "exit.json",
        {
            "wait_status": wait_status,
            "killed": term_sent and not timed_out,
            "max_completion_time_reached": timed_out,
            "unhealthy": unhealthy,
        },
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="localmesos.agent.executor")
    p.add_argument("--meta-dir", required=True)
    ns = p.parse_args(argv)
    sys.exit(run(Path(ns.meta_dir)))


if __name__ == "__main__":
    main()
