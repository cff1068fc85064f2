"""Scheduler API events (reference §2.3) and master-generated task statuses."""

from __future__ import annotations

import ipaddress
import socket
import struct
import uuid
from typing import Any

from localmesos import resources as res
from localmesos.jsonmap import b64encode
from localmesos.master.state import Agent, Framework, JsonDict, Offer


def subscribed(framework_id: str, heartbeat: float, master_info: JsonDict) -> JsonDict:
    return {
        "type": "SUBSCRIBED",
        "subscribed": {
            "framework_id": {"value": framework_id},
            "heartbeat_interval_seconds": float(heartbeat),
            "master_info": master_info,
        },
    }


def error(message: str) -> JsonDict:
    return {"type": "ERROR", "error": {"message": message}}


def heartbeat() -> JsonDict:
    return {"type": "HEARTBEAT"}


def rescind(offer_id: str) -> JsonDict:
    return {"type": "RESCIND", "rescind": {"offer_id": {"value": offer_id}}}


def update(status: JsonDict) -> JsonDict:
    return {"type": "UPDATE", "update": {"status": status}}


def failure(agent_id: str) -> JsonDict:
    return {"type": "FAILURE", "failure": {"agent_id": {"value": agent_id}}}


def offers(items: list[JsonDict]) -> JsonDict:
    return {"type": "OFFERS", "offers": {"offers": items}}


def operation_status(
    operation_id: str,
    state: str,
    message: str | None = None,
    agent_id: str | None = None,
    converted: list[JsonDict] | None = None,
) -> JsonDict:
    status: JsonDict = {"operation_id": {"value": operation_id}, "state": state}
    if message is not None:
        status["message"] = message
    if agent_id is not None:
        # Agent-confirmed statuses carry a uuid and must be acknowledged; master errors carry neither.
        status["agent_id"] = {"value": agent_id}
        status["uuid"] = {"value": b64encode(uuid.uuid4().bytes)}
    if converted:
        status["converted_resources"] = converted
    return {"type": "UPDATE_OPERATION_STATUS", "update_operation_status": {"status": status}}


def master_status(
    task_id: str,
    state: str,
    reason: str,
    message: str,
    now: float,
    agent_id: str | None = None,
    extra: JsonDict | None = None,
) -> JsonDict:
    status: JsonDict = {
        "task_id": {"value": task_id},
        "state": state,
        "source": "SOURCE_MASTER",
        "reason": reason,
        "message": message,
        "timestamp": now,
    }
    if agent_id is not None:
        status["agent_id"] = {"value": agent_id}
    if extra:
        status.update(extra)
    return status


def packed_ip(ip: str) -> int:
    """MasterInfo.ip: the IPv4 in network byte order read as a host uint32 (§2.4)."""
    try:
        raw = socket.inet_aton(str(ipaddress.IPv4Address(ip)))
    except (ValueError, OSError):
        return 0
    return int(struct.unpack("=I", raw)[0])


def master_info(master_id: str, hostname: str, port: int, version: str) -> JsonDict:
    return {
        "id": master_id,
        "ip": packed_ip(hostname),
        "port": port,
        "pid": f"master@{hostname}:{port}",
        "hostname": hostname,
        "version": version,
        "address": {"hostname": hostname, "ip": hostname, "port": port},
        "capabilities": [{"type": "AGENT_UPDATE"}, {"type": "AGENT_DRAINING"}, {}],
    }


def offer_json(offer: Offer, framework: Framework, agent: Agent) -> JsonDict:
    """An Offer in the format the framework's capabilities ask for (§3.3)."""
    multi_role = framework.has("MULTI_ROLE")
    fmt: res.Format = "post" if framework.has("RESERVATION_REFINEMENT") else "pre"
    items: list[JsonDict] = []
    for r in offer.resources.to_json():
        out: dict[str, Any] = res.to_format(r, fmt)
        if not multi_role:
            out.pop("allocation_info", None)
        items.append(out)
    body: JsonDict = {
        "id": {"value": offer.id},
        "framework_id": {"value": framework.id},
        "agent_id": {"value": agent.id},
        "hostname": agent.hostname,
        "url": {
            "scheme": "http",
            "address": {"hostname": agent.hostname, "ip": agent.ip, "port": agent.port},
            "path": "/slave(1)",
        },
        "resources": items,
    }
    if multi_role:
        body["allocation_info"] = {"role": offer.role}
    if agent.attributes:
        body["attributes"] = agent.attributes
    if agent.domain:
        body["domain"] = agent.domain
    return body
