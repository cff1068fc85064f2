"""Which processes belong to a task's container, and signalling all of them.

Mesos puts a container in a cgroup and destroys all of it. localmesos has no cgroups: it tags
every task with `LOCALMESOS_CONTAINER_ID=<container id>` in its environment (which children
inherit, even ones that start their own session, like a daemonising JVM) and, to be safe, also
signals the task's process group.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil

CONTAINER_ENV = "LOCALMESOS_CONTAINER_ID"


def processes_by_container() -> dict[str, list[psutil.Process]]:
    """Every live process tagged with a container id, grouped by it (one scan of the process table)."""
    out: dict[str, list[psutil.Process]] = {}
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            container_id = proc.environ().get(CONTAINER_ENV)
            if container_id and proc.status() != psutil.STATUS_ZOMBIE:
                out.setdefault(container_id, []).append(proc)
    return out


def container_processes(container_id: str) -> list[psutil.Process]:
    return processes_by_container().get(container_id, [])


def signal_container(
    container_id: str, pgid: int | None, sig: int, procs: list[psutil.Process] | None = None
) -> int:
    """Send `sig` to the task's process group and every process tagged with its container id
    (`procs`, when the caller already scanned the process table)."""
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    procs = container_processes(container_id) if procs is None else procs
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)
    return len(procs)


def kill_container(container_id: str, pgid: int | None) -> int:
    return signal_container(container_id, pgid, signal.SIGKILL)
