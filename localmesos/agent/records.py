"""What the agent remembers about each task it was given, checkpointed as `<run meta dir>/task.json`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from localmesos.agent.checkpoint import read_json, write_json


@dataclass
class TaskRecord:
    framework_id: str
    framework_info: dict[str, Any]
    task: dict[str, Any]
    container_id: str
    sandbox: str
    meta_dir: str
    state: str = "TASK_STAGING"
    latest_status: dict[str, Any] | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # unacknowledged updates, oldest first
    phase: str = "launching"  # launching -> running (executor started) -> exited
    executor_pid: int | None = None
    executor_start: float | None = None
    kill_requested: bool = False
    health_seq: int = 0  # lines of the executor's health.jsonl already turned into updates
    silent: bool = False  # framework shut down: no more updates
    completed: bool = False

    @property
    def task_id(self) -> str:
        return str(self.task["task_id"]["value"])

    @property
    def key(self) -> tuple[str, str]:
        return (self.framework_id, self.task_id)

    @property
    def meta(self) -> Path:
        return Path(self.meta_dir)

    def capabilities(self) -> set[str]:
        return {str(c.get("type")) for c in self.framework_info.get("capabilities") or []}

    def save(self) -> None:
        write_json(self.meta / "task.json", dataclasses.asdict(self))

    @classmethod
    def load(cls, path: Path) -> TaskRecord:
        data = read_json(path)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def process_start_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def process_alive(pid: int | None, start_time: float | None) -> bool:
    """Same process still running (pid reuse guarded by the start time; zombies count as dead)."""
    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        if start_time is not None and abs(proc.create_time() - start_time) > 0.5:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
