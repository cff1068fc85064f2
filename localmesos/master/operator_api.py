"""Operator API v1 responses (reference §6.2) and the legacy `/master/state` JSON (§6.4)."""

from __future__ import annotations

import copy
from typing import Any

from localmesos import resources as res
from localmesos.master import events
from localmesos.master.master import Master
from localmesos.master.state import VERSION, Agent, Framework, JsonDict, Task
from localmesos.resources import Resources


def _time(seconds: float | None) -> JsonDict | None:
    return None if seconds is None else {"nanoseconds": int(seconds * 1e9)}


def _endpoint(resources: Resources | list[JsonDict]) -> list[JsonDict]:
    items = resources.to_json() if isinstance(resources, Resources) else resources
    return [res.to_format(r, "endpoint") for r in items]


def _drop_none(d: dict[str, Any]) -> JsonDict:
    return {k: v for k, v in d.items() if v is not None and v != []}


def task_json(task: Task) -> JsonDict:
    info = task.info
    statuses = []
    for s in task.statuses:
        s = dict(s)
        s.pop("data", None)
        statuses.append(s)
    out: JsonDict = {
        "name": info.get("name", ""),
        "task_id": info["task_id"],
        "framework_id": {"value": task.framework_id},
        "agent_id": {"value": task.agent_id},
        "state": task.state,
        "resources": _endpoint(info.get("resources") or []),
        "statuses": statuses,
    }
    if task.status_update_state:
        out["status_update_state"] = task.status_update_state
    if task.status_update_uuid:
        out["status_update_uuid"] = task.status_update_uuid
    for key in ("labels", "discovery", "container", "health_check", "kill_policy", "limits"):
        if key in info:
            out[key] = info[key]
    if "executor" in info:
        out["executor_id"] = info["executor"]["executor_id"]
    return out


def framework_json(master: Master, fw: Framework) -> JsonDict:
    offers = [master.offers[o] for o in fw.offers if o in master.offers]
    allocated = Resources()
    for t in fw.tasks.values():
        allocated = allocated + (t.info.get("resources") or [])
    offered = Resources()
    for o in offers:
        offered = offered + o.resources
    return _drop_none(
        {
            "framework_info": fw.info,
            "active": fw.active,
            "connected": fw.connected,
            "recovered": fw.recovered,
            "registered_time": _time(fw.registered_time),
            "reregistered_time": _time(fw.reregistered_time),
            "unregistered_time": _time(fw.unregistered_time),
            "offers": [
                events.offer_json(o, fw, master.agents[o.agent_id])
                for o in offers
                if o.agent_id in master.agents
            ],
            "allocated_resources": _endpoint(allocated),
            "offered_resources": _endpoint(offered),
            "offer_constraints": fw.offer_constraints,
        }
    )


def agent_json(agent: Agent) -> JsonDict:
    return _drop_none(
        {
            "agent_info": agent.info_json(),
            "active": agent.connected,
            "deactivated": False,
            "version": VERSION,
            "pid": agent.pid,
            "registered_time": _time(agent.registered_time),
            "reregistered_time": _time(agent.reregistered_time),
            "total_resources": _endpoint(agent.total),
            "allocated_resources": _endpoint(agent.used),
            "offered_resources": _endpoint(agent.offered),
            "capabilities": [
                {"type": t}
                for t in (
                    "MULTI_ROLE",
                    "HIERARCHICAL_ROLE",
                    "RESERVATION_REFINEMENT",
                    "RESOURCE_PROVIDER",
                    "AGENT_OPERATION_FEEDBACK",
                )
            ],
        }
    )


def get_frameworks(master: Master) -> JsonDict:
    return _drop_none(
        {
            "frameworks": [framework_json(master, f) for f in master.frameworks.values()],
            "completed_frameworks": [framework_json(master, f) for f in master.completed_frameworks],
        }
    )


def get_agents(master: Master) -> JsonDict:
    return _drop_none(
        {
            "agents": [agent_json(a) for a in master.agents.values()],
            "recovered_agents": [
                {"hostname": "", "id": {"value": i}} for i in sorted(master.recovered_agent_ids)
            ],
        }
    )


def get_tasks(master: Master) -> JsonDict:
    frameworks = list(master.frameworks.values())
    return _drop_none(
        {
            "tasks": [task_json(t) for f in frameworks for t in f.tasks.values()],
            "unreachable_tasks": [task_json(t) for f in frameworks for t in f.unreachable_tasks.values()],
            "completed_tasks": [
                task_json(t)
                for f in frameworks + list(master.completed_frameworks)
                for t in f.completed_tasks
            ],
        }
    )


def get_state(master: Master) -> JsonDict:
    return {
        "get_tasks": get_tasks(master),
        "get_executors": {},
        "get_frameworks": get_frameworks(master),
        "get_agents": get_agents(master),
    }


def flags(master: Master) -> dict[str, str]:
    c = master.config
    return {
        "allocation_interval": f"{c.allocation_interval}secs",
        "agent_ping_timeout": f"{c.agent_ping_timeout}secs",
        "max_agent_ping_timeouts": str(c.max_agent_ping_timeouts),
        "hostname": c.hostname,
        "port": str(master.port),
        "work_dir": c.work_dir,
        "min_allocatable_resources": "cpus:0.01|mem:32",
        "max_completed_frameworks": "50",
        "max_completed_tasks_per_framework": "1000",
        "authenticate_frameworks": "false",
        "authenticate_http_frameworks": "false",
        "root_submissions": "true",
    }


# ----------------------------------------------------------------------------- legacy JSON


def _legacy_task(task: Task) -> JsonDict:
    out: JsonDict = {
        "id": task.task_id,
        "name": task.info.get("name", ""),
        "framework_id": task.framework_id,
        "executor_id": "",
        "slave_id": task.agent_id,
        "state": task.state,
        "resources": res.flatten(task.info.get("resources") or []),
        "role": task.role,
        "statuses": [
            _drop_none(
                {
                    "state": s.get("state"),
                    "timestamp": s.get("timestamp"),
                    "labels": s.get("labels"),
                    "container_status": s.get("container_status"),
                    "healthy": s.get("healthy"),
                }
            )
            for s in task.statuses
        ],
    }
    for key in ("labels", "discovery", "container", "health_check"):
        if key in task.info:
            out[key] = task.info[key]
    return out


def _legacy_framework(master: Master, fw: Framework) -> JsonDict:
    used = Resources()
    for t in fw.tasks.values():
        used = used + (t.info.get("resources") or [])
    offered = Resources()
    for o in fw.offers:
        if o in master.offers:
            offered = offered + master.offers[o].resources
    out: JsonDict = {
        "id": fw.id,
        "name": fw.info.get("name", ""),
        "used_resources": res.flatten(used.to_json()),
        "offered_resources": res.flatten(offered.to_json()),
        "resources": res.flatten((used + offered).to_json()),
        "capabilities": sorted(fw.capabilities),
        "hostname": fw.info.get("hostname", ""),
        "webui_url": fw.info.get("webui_url", ""),
        "active": fw.active,
        "connected": fw.connected,
        "recovered": fw.recovered,
        "user": fw.info.get("user", ""),
        "failover_timeout": float(fw.info.get("failover_timeout") or 0.0),
        "checkpoint": bool(fw.info.get("checkpoint", False)),
        "registered_time": fw.registered_time,
        "unregistered_time": fw.unregistered_time or 0.0,
        "tasks": [_legacy_task(t) for t in fw.tasks.values()],
        "unreachable_tasks": [_legacy_task(t) for t in fw.unreachable_tasks.values()],
        "completed_tasks": [_legacy_task(t) for t in fw.completed_tasks],
        "offers": [
            {
                "id": o,
                "framework_id": fw.id,
                "slave_id": master.offers[o].agent_id,
                "resources": res.flatten(master.offers[o].resources.to_json()),
            }
            for o in fw.offers
            if o in master.offers
        ],
        "executors": [],
        "offer_constraints": fw.offer_constraints or {},
    }
    if fw.principal is not None:
        out["principal"] = fw.principal
    if fw.reregistered_time is not None:
        out["reregistered_time"] = fw.reregistered_time
    if fw.has("MULTI_ROLE"):
        out["roles"] = fw.roles
    else:
        out["role"] = fw.roles[0]
    if "labels" in fw.info:
        out["labels"] = (fw.info["labels"] or {}).get("labels", [])
    return out


def _legacy_agent(agent: Agent) -> JsonDict:
    reserved: dict[str, list[JsonDict]] = {}
    for r in agent.total.to_json():
        if r.get("reservations"):
            reserved.setdefault(res.reservation_role(r), []).append(r)
    attributes: dict[str, Any] = {}
    for a in agent.attributes:
        kind = a.get("type")
        if kind == "TEXT":
            attributes[a["name"]] = a.get("text", {}).get("value")
        elif kind == "SCALAR":
            attributes[a["name"]] = a.get("scalar", {}).get("value")
        else:
            attributes[a["name"]] = copy.deepcopy(a.get(str(kind).lower()))
    out: JsonDict = {
        "id": agent.id,
        "hostname": agent.hostname,
        "port": agent.port,
        "attributes": attributes,
        "pid": agent.pid,
        "registered_time": agent.registered_time,
        "resources": res.flatten(agent.total.to_json()),
        "used_resources": res.flatten(agent.used.to_json()),
        "offered_resources": res.flatten(agent.offered.to_json()),
        "reserved_resources": {role: res.flatten(items) for role, items in reserved.items()},
        "unreserved_resources": res.flatten([r for r in agent.total.to_json() if not r.get("reservations")]),
        "reserved_resources_full": {role: _endpoint(items) for role, items in reserved.items()},
        "unreserved_resources_full": _endpoint(
            [r for r in agent.total.to_json() if not r.get("reservations")]
        ),
        "used_resources_full": _endpoint(agent.used),
        "offered_resources_full": _endpoint(agent.offered),
        "active": agent.connected,
        "deactivated": False,
        "version": VERSION,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
    }
    if agent.reregistered_time is not None:
        out["reregistered_time"] = agent.reregistered_time
    if agent.domain:
        out["domain"] = agent.domain
    return out


def legacy_state(master: Master) -> JsonDict:
    c = master.config
    pid = f"master@{c.hostname}:{master.port}"
    return {
        "version": VERSION,
        "build_date": "",
        "build_time": 0,
        "build_user": "localmesos",
        "start_time": master.start_time,
        "elected_time": master.start_time,
        "id": master.id,
        "pid": pid,
        "hostname": c.hostname,
        "capabilities": ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
        "activated_slaves": len(master.agents),
        "deactivated_slaves": 0,
        "unreachable_slaves": len(master.unreachable_agents),
        "leader": pid,
        "leader_info": {"id": master.id, "pid": pid, "port": master.port, "hostname": c.hostname},
        "flags": flags(master),
        "slaves": [_legacy_agent(a) for a in master.agents.values()],
        "recovered_slaves": [{"id": i} for i in sorted(master.recovered_agent_ids)],
        "frameworks": [_legacy_framework(master, f) for f in master.frameworks.values()],
        "completed_frameworks": [_legacy_framework(master, f) for f in master.completed_frameworks],
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    }


def legacy_slaves(master: Master) -> JsonDict:
    return {
        "slaves": [_legacy_agent(a) for a in master.agents.values()],
        "recovered_slaves": [{"id": i} for i in sorted(master.recovered_agent_ids)],
    }


def legacy_frameworks(master: Master) -> JsonDict:
    return {
        "frameworks": [_legacy_framework(master, f) for f in master.frameworks.values()],
        "completed_frameworks": [_legacy_framework(master, f) for f in master.completed_frameworks],
        "unregistered_frameworks": [],
    }


def legacy_tasks(master: Master) -> JsonDict:
    tasks = [
        _legacy_task(t)
        for f in master.frameworks.values()
        for group in (f.tasks.values(), f.unreachable_tasks.values(), f.completed_tasks)
        for t in group
    ]
    return {"tasks": tasks}


def _without(d: JsonDict, *keys: str) -> JsonDict:
    return {k: v for k, v in d.items() if k not in keys}


def stream_event(master: Master, kind: str, obj: Any) -> JsonDict | None:
    """An operator event stream record (§6.3); offers and allocations are never included."""
    if kind == "TASK_ADDED":
        return {"type": kind, "task_added": {"task": task_json(obj)}}
    if kind == "TASK_UPDATED":
        status = dict(obj.latest_status or {})
        status.pop("data", None)
        return {
            "type": kind,
            "task_updated": {
                "framework_id": {"value": obj.framework_id},
                "status": status,
                "state": obj.state,
            },
        }
    if kind == "AGENT_ADDED":
        agent = _without(agent_json(obj), "allocated_resources", "offered_resources")
        return {"type": kind, "agent_added": {"agent": agent}}
    if kind == "AGENT_REMOVED":
        return {"type": kind, "agent_removed": {"agent_id": {"value": obj.id}}}
    if kind in ("FRAMEWORK_ADDED", "FRAMEWORK_UPDATED"):
        fw = _without(
            framework_json(master, obj),
            "offers",
            "allocated_resources",
            "offered_resources",
            "offer_constraints",
        )
        return {"type": kind, kind.lower(): {"framework": fw}}
    if kind == "FRAMEWORK_REMOVED":
        return {"type": kind, "framework_removed": {"framework_info": obj.info}}
    return None


def metrics(master: Master) -> dict[str, float | int]:
    tasks = [t for f in master.frameworks.values() for t in f.tasks.values()]
    return {
        "allocator/mesos/allocation_run_ms": master.allocation_run_ms,
        "allocator/mesos/allocation_runs": master.allocation_runs,
        "allocator/mesos/offers_last_run": master.allocation_offers,
        "master/elected": 1,
        "master/uptime_secs": master.clock() - master.start_time,
        "master/slaves_active": len(master.agents),
        "master/slaves_unreachable": len(master.unreachable_agents),
        "master/frameworks_active": sum(1 for f in master.frameworks.values() if f.active),
        "master/frameworks_connected": sum(1 for f in master.frameworks.values() if f.connected),
        "master/tasks_running": sum(1 for t in tasks if t.state == "TASK_RUNNING"),
        "master/tasks_staging": sum(1 for t in tasks if t.state == "TASK_STAGING"),
        "master/tasks_starting": sum(1 for t in tasks if t.state == "TASK_STARTING"),
        "master/outstanding_offers": len(master.offers),
    }
