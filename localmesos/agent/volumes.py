"""Persistent volumes on the agent (reference §3.6, §7.4): directories that outlive tasks."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from localmesos.agent import paths

log = logging.getLogger(__name__)


def volume_role(resource: dict[str, Any]) -> str:
    stack = resource.get("reservations") or []
    if stack:
        return str(stack[-1].get("role", "*"))
    return str(resource.get("role", "*"))


def persistence_id(resource: dict[str, Any]) -> str | None:
    pid = ((resource.get("disk") or {}).get("persistence") or {}).get("id")
    return str(pid) if pid else None


def volume_paths(work_dir: str, resources: list[dict[str, Any]]) -> dict[tuple[str, str], Path]:
    out: dict[tuple[str, str], Path] = {}
    for r in resources:
        pid = persistence_id(r)
        if pid:
            role = volume_role(r)
            out[(role, pid)] = paths.volume_dir(work_dir, role, pid)
    return out


def sync_volumes(work_dir: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Create directories of new volumes; delete (with their data) those no longer checkpointed."""
    before, after = volume_paths(work_dir, old), volume_paths(work_dir, new)
    for key, path in after.items():
        path.mkdir(parents=True, exist_ok=True)
        if key not in before:
            log.info("created persistent volume %s at %s", key, path)
    for key, path in before.items():
        if key not in after:
            shutil.rmtree(path, ignore_errors=True)
            log.info("destroyed persistent volume %s (data at %s deleted)", key, path)


def link_task_volumes(work_dir: str, task: dict[str, Any], sandbox: Path) -> list[str]:
    """Symlink each volume of the task into the sandbox at its container_path (posix isolator).

    Like Mesos 1.11, a container_path with '/' (absolute or nested) is skipped with a warning.
    Returns the warnings.
    """
    warnings: list[str] = []
    for r in task.get("resources") or []:
        pid = persistence_id(r)
        if not pid:
            continue
        container_path = str(((r.get("disk") or {}).get("volume") or {}).get("container_path", ""))
        if not container_path or "/" in container_path or container_path in (".", ".."):
            warnings.append(
                f"Skipping volume '{pid}': container_path '{container_path}' is not a single "
                "relative path component"
            )
            continue
        target = paths.volume_dir(work_dir, volume_role(r), pid)
        target.mkdir(parents=True, exist_ok=True)
        link = sandbox / container_path
        if link.is_symlink() or link.exists():
            warnings.append(f"Skipping volume '{pid}': '{container_path}' already exists in the sandbox")
            continue
        os.symlink(target, link)
    for w in warnings:
        log.warning("%s", w)
    return warnings
