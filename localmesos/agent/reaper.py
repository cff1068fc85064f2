"""Kill every task process an agent started, from its checkpoints (the host "dies", or teardown).

Executors run in their own sessions so they survive agent restarts; this is how the supervisor
and the test harness still make sure none of them outlives a `kill` or the whole run.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import psutil

from localmesos.agent import paths
from localmesos.agent.checkpoint import read_json
from localmesos.agent.containers import processes_by_container, signal_container
from localmesos.agent.records import TaskRecord, process_alive


def _kill_group(pid: int, not_before: float | None) -> bool:
    try:
        proc = psutil.Process(pid)
        if not_before is not None and proc.create_time() < not_before - 1:
            return False  # pid reused by an older process: not ours
        if os.getpgid(pid) != pid:
            return False
    except (psutil.Error, ProcessLookupError):
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return True


def kill_agent_tasks(agent_work_dir: str | Path) -> int:
    """SIGKILL the executor and the task process group of every run of this agent; returns how many."""
    killed = 0
    tagged = processes_by_container()
    for path in paths.task_records(str(agent_work_dir)):
        try:
            record = TaskRecord.load(path)
        except (OSError, ValueError, TypeError):
            continue
        if record.completed:
            continue  # its executor exited and destroyed the container already
        if process_alive(record.executor_pid, record.executor_start) and record.executor_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.executor_pid, signal.SIGKILL)
            killed += 1
        forked = record.meta / "forked.pid"
        if forked.exists():
            with contextlib.suppress(OSError, ValueError):
                if _kill_group(int(read_json(forked)["pid"]), record.executor_start):
                    killed += 1
        killed += signal_container(
            record.container_id, None, signal.SIGKILL, tagged.get(record.container_id, [])
        )
    return killed
