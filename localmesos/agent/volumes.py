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


def volume_path(work_dir: str, resource: dict[str, Any]) -> Path:
    """Where a volume's data lives, as Mesos maps it (src/slave/paths.cpp): on a MOUNT disk the
    mount root itself, on a PATH disk ``<root>/volumes/roles/<role>/<id>``, else under the agent's
    work dir. A relative root is relative to the work dir."""
    pid = persistence_id(resource) or ""
    role = volume_role(resource)
    source = (resource.get("disk") or {}).get("source") or {}
    if source.get("type") == "MOUNT":
        return Path(work_dir, str((source.get("mount") or {}).get("root", "")))
    if source.get("type") == "PATH":
        return paths.volume_dir(
            str(Path(work_dir, str((source.get("path") or {}).get("root", "")))), role, pid
        )
    return paths.volume_dir(work_dir, role, pid)


def _is_mount(resource: dict[str, Any]) -> bool:
    return (((resource.get("disk") or {}).get("source") or {}).get("type")) == "MOUNT"


def volume_paths(work_dir: str, resources: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[Path, bool]]:
    """(role, persistence id) -> (where its data lives, whether that is a whole MOUNT disk)."""
    out: dict[tuple[str, str], tuple[Path, bool]] = {}
    for r in resources:
        pid = persistence_id(r)
        if pid:
            out[(volume_role(r), pid)] = (volume_path(work_dir, r), _is_mount(r))
    return out


def sync_volumes(work_dir: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Create directories of new volumes; delete (with their data) those no longer checkpointed.

    A MOUNT disk's volume is the mount point: destroying it empties it and leaves the mount."""
    before, after = volume_paths(work_dir, old), volume_paths(work_dir, new)
    for key, (path, _) in after.items():
        path.mkdir(parents=True, exist_ok=True)
        if key not in before:
            log.info("created persistent volume %s at %s", key, path)
    for key, (path, mount) in before.items():
        if key in after:
            continue
        if mount:
            for child in path.iterdir() if path.is_dir() else ():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        else:
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
        target = volume_path(work_dir, r)
        target.mkdir(parents=True, exist_ok=True)
        link = sandbox / container_path
        if link.is_symlink() or link.exists():
            warnings.append(f"Skipping volume '{pid}': '{container_path}' already exists in the sandbox")
            continue
        os.symlink(target, link)
    for w in warnings:
        log.warning("%s", w)
    return warnings
