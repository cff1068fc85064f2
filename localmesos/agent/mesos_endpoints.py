"""The Mesos agent's operator endpoints, as far as tools use them: `/state`, `/files/*`, `/health`.

`/state` follows the shape of Mesos 1.11's agent `/state` (frameworks -> executors -> tasks, with
sandbox `directory`); `/files/browse|read|download` serve files under the agent's work dir only.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from localmesos.agent.records import TaskRecord
from localmesos.resources import flatten

MESOS_VERSION = "1.11.0"


def flat_attributes(attributes: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in attributes:
        kind = a.get("type")
        if kind == "TEXT":
            out[a["name"]] = a["text"]["value"]
        elif kind == "SCALAR":
            out[a["name"]] = a["scalar"]["value"]
        elif kind == "RANGES":
            out[a["name"]] = "[" + ", ".join(f"{r['begin']}-{r['end']}" for r in a["ranges"]["range"]) + "]"
        elif kind == "SET":
            out[a["name"]] = "{" + ",".join(a["set"]["item"]) + "}"
    return out


def _task_json(r: TaskRecord, agent_id: str) -> dict[str, Any]:
    statuses = [r.latest_status] if r.latest_status else []
    return {
        "id": r.task_id,
        "name": r.task.get("name", ""),
        "framework_id": r.framework_id,
        "executor_id": "",
        "slave_id": agent_id,
        "state": r.state,
        "resources": flatten(r.task.get("resources") or []),
        "statuses": [
            {k: s[k] for k in ("state", "timestamp", "container_status", "healthy") if k in s}
            for s in statuses
        ],
    }


def _executor_json(r: TaskRecord, agent_id: str, done: bool) -> dict[str, Any]:
    value = str((r.task.get("command") or {}).get("value", ""))
    shown = value if len(value) <= 15 else value[:12] + "..."
    task = _task_json(r, agent_id)
    return {
        "id": r.task_id,
        "name": f"Command Executor (Task: {r.task_id}) (Command: sh -c '{shown}')",
        "source": r.task_id,
        "container": r.container_id,
        "directory": r.sandbox,
        "resources": task["resources"],
        "tasks": [] if done else [task],
        "queued_tasks": [],
        "completed_tasks": [task] if done else [],
    }


def state_json(
    *,
    agent_id: str,
    ip: str,
    port: int,
    hostname: str,
    resources: list[dict[str, Any]],
    attributes: list[dict[str, Any]],
    domain: dict[str, Any] | None,
    master: str,
    start_time: float,
    running: Iterable[TaskRecord],
    completed: Iterable[TaskRecord],
) -> dict[str, Any]:
    frameworks: dict[str, dict[str, Any]] = {}

    def framework(r: TaskRecord) -> dict[str, Any]:
        info = r.framework_info
        return frameworks.setdefault(
            r.framework_id,
            {
                "id": r.framework_id,
                "name": info.get("name", ""),
                "user": info.get("user", ""),
                "failover_timeout": info.get("failover_timeout", 0),
                "checkpoint": bool(info.get("checkpoint", False)),
                "hostname": info.get("hostname", ""),
                "roles": info.get("roles", [info["role"]] if "role" in info else []),
                "executors": [],
                "completed_executors": [],
            },
        )

    for r in running:
        framework(r)["executors"].append(_executor_json(r, agent_id, done=False))
    for r in completed:
        framework(r)["completed_executors"].append(_executor_json(r, agent_id, done=True))
    out: dict[str, Any] = {
        "version": MESOS_VERSION,
        "start_time": start_time,
        "id": agent_id,
        "pid": f"slave(1)@{ip}:{port}",
        "hostname": hostname,
        "capabilities": [
            "MULTI_ROLE",
            "HIERARCHICAL_ROLE",
            "RESERVATION_REFINEMENT",
            "RESOURCE_PROVIDER",
            "RESIZE_VOLUME",
            "AGENT_OPERATION_FEEDBACK",
            "AGENT_DRAINING",
            "TASK_RESOURCE_LIMITS",
        ],
        "resources": flatten(resources),
        "attributes": flat_attributes(attributes),
        "master_hostname": master.split("://", 1)[-1].rsplit(":", 1)[0],
        "frameworks": list(frameworks.values()),
        "completed_frameworks": [],
    }
    if domain:
        out["domain"] = domain
    return out


def _resolve(work_dir: str, request: web.Request) -> Path:
    raw = request.query.get("path")
    if not raw:
        raise web.HTTPBadRequest(text="Expecting 'path' query parameter")
    path = Path(raw).resolve()
    root = Path(work_dir).resolve()
    if path != root and root not in path.parents:
        raise web.HTTPNotFound(text=f"'{raw}' is not under the agent's work directory")
    if not path.exists():
        raise web.HTTPNotFound(text=f"'{raw}' does not exist")
    return path


def file_routes(work_dir: str) -> list[web.RouteDef]:
    async def browse(request: web.Request) -> web.Response:
        path = _resolve(work_dir, request)
        if not path.is_dir():
            raise web.HTTPBadRequest(text=f"'{path}' is not a directory")
        entries = []
        for child in sorted(path.iterdir()):
            st = child.stat()
            entries.append(
                {
                    "path": str(child),
                    "size": st.st_size,
                    "mode": stat.filemode(st.st_mode),
                    "nlink": st.st_nlink,
                    "uid": str(st.st_uid),
                    "gid": str(st.st_gid),
                    "mtime": int(st.st_mtime),
                }
            )
        return web.json_response(entries)

    async def read(request: web.Request) -> web.Response:
        path = _resolve(work_dir, request)
        if path.is_dir():
            raise web.HTTPBadRequest(text="Cannot read a directory")
        try:
            offset = int(request.query.get("offset", "-1"))
            length = int(request.query.get("length", "-1"))
        except ValueError:
            raise web.HTTPBadRequest(text="'offset' and 'length' must be integers") from None
        size = path.stat().st_size
        if offset == -1:  # Mesos: just report the size
            return web.json_response({"data": "", "offset": size})
        with open(path, "rb") as f:
            f.seek(min(offset, size))
            data = f.read(length if length >= 0 else -1)
        return web.json_response({"data": data.decode("utf-8", errors="replace"), "offset": offset})

    async def download(request: web.Request) -> web.FileResponse:
        path = _resolve(work_dir, request)
        if path.is_dir():
            raise web.HTTPBadRequest(text="Cannot download a directory")
        return web.FileResponse(path, headers={"Content-Disposition": f"attachment; filename={path.name}"})

    async def health(request: web.Request) -> web.Response:
        return web.Response(status=200)

    return [
        web.get("/files/browse", browse),
        web.get("/files/read", read),
        web.get("/files/download", download),
        web.get("/health", health),
    ]
