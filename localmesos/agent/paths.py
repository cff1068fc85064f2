"""Where the agent keeps things on disk (Mesos `src/slave/paths.cpp` layout, reference §7.1)."""

from __future__ import annotations

import os
from pathlib import Path


def agent_info_file(work_dir: str) -> Path:
    return Path(work_dir, "meta", "slave.info")


def resources_file(work_dir: str) -> Path:
    return Path(work_dir, "meta", "resources", "resources_and_operations.state")


def executor_dir(work_dir: str, agent_id: str, framework_id: str, executor_id: str) -> Path:
    return Path(work_dir, "slaves", agent_id, "frameworks", framework_id, "executors", executor_id)


def sandbox_dir(work_dir: str, agent_id: str, framework_id: str, executor_id: str, container_id: str) -> Path:
    return executor_dir(work_dir, agent_id, framework_id, executor_id) / "runs" / container_id


def run_meta_dir(
    work_dir: str, agent_id: str, framework_id: str, executor_id: str, container_id: str
) -> Path:
    """Checkpoints of one container run: task record, executor pid, exit status, kill requests."""
    return Path(work_dir, "meta") / sandbox_dir("", agent_id, framework_id, executor_id, container_id)


def task_records(work_dir: str) -> list[Path]:
    return sorted(Path(work_dir, "meta", "slaves").glob("*/frameworks/*/executors/*/runs/*/task.json"))


def volume_dir(work_dir: str, role: str, persistence_id: str) -> Path:
    # Mesos replaces '/' in hierarchical roles by ' ' so each role is one directory.
    return Path(work_dir, "volumes", "roles", role.replace("/", " "), persistence_id)


def point_latest(parent: Path, target: str) -> None:
    """Make `parent/latest` a symlink to `target` (atomically replacing an older link)."""
    link = parent / "latest"
    tmp = parent / f".latest.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)
