"""Operator API reservation and volume calls (reference §6.1): 202, 409 Conflict or 400."""

from __future__ import annotations

from localmesos import resources as res
from localmesos.jsonmap import id_of
from localmesos.master.master import Master
from localmesos.master.state import JsonDict
from localmesos.master.validation import id_error
from localmesos.resources import ResourceError

BODY_KEY = {
    "RESERVE_RESOURCES": ("reserve_resources", "resources"),
    "UNRESERVE_RESOURCES": ("unreserve_resources", "resources"),
    "CREATE_VOLUMES": ("create_volumes", "volumes"),
    "DESTROY_VOLUMES": ("destroy_volumes", "volumes"),
}


class OperatorError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _conversion(kind: str, items: list[JsonDict], master: Master, agent_id: str) -> tuple[list, list]:
    """(consumed, produced) of one operator call, after Mesos' checks."""
    agent = master.agents[agent_id]
    if kind == "RESERVE_RESOURCES":
        for r in items:
            if "allocation_info" in r:
                raise OperatorError(400, "Invalid reservation: resources must not have 'allocation_info' set")
            if not res.is_dynamic(r):
                raise OperatorError(400, f"Resource {res.describe(r)} is not dynamically reserved")
        return [res.pop_reservation(r) for r in items], items
    if kind == "UNRESERVE_RESOURCES":
        for r in items:
            if not res.is_dynamic(r):
                raise OperatorError(400, f"Resource {res.describe(r)} is not dynamically reserved")
            if res.is_persistent_volume(r):
                raise OperatorError(
                    400,
                    f"A dynamically reserved persistent volume {res.describe(r)} cannot be unreserved "
                    "directly. Please destroy the persistent volume first then unreserve the resource",
                )
        return items, [res.pop_reservation(r) for r in items]
    # Unique per role on the agent, as in Mesos (§3.6).
    existing = {
        (res.reservation_role(r), res.persistence_id(r))
        for r in agent.total.to_json()
        if res.is_persistent_volume(r)
    }
    for v in items:
        disk = v.get("disk") or {}
        if "persistence" not in disk:
            raise OperatorError(
                400, f"Not a persistent volume: Resource {res.describe(v)} does not have DiskInfo"
            )
        if kind == "CREATE_VOLUMES":
            prefix = "Invalid resources: Invalid DiskInfo: "
            if not res.is_reserved(v):
                raise OperatorError(
                    400, prefix + "Persistent volumes cannot be created from unreserved resources"
                )
            if "volume" not in disk:
                raise OperatorError(400, prefix + "Expecting 'volume' to be set for persistent volume")
            if disk["volume"].get("mode") != "RW":
                raise OperatorError(400, "Not a persistent volume: Read-only persistent volume not supported")
            pid = str(disk["persistence"]["id"])
            err = id_error(pid)
            if err:
                raise OperatorError(400, prefix + f"Invalid persistence ID for persistent volume: {err}")
            if (res.reservation_role(v), pid) in existing:
                raise OperatorError(400, f"Persistence ID '{pid}' is not unique")
            existing.add((res.reservation_role(v), pid))
    if kind == "CREATE_VOLUMES":
        return [res.strip_volume(v) for v in items], items
    if not agent.total.contains(items):
        raise OperatorError(400, "Persistent volumes not found")
    if not (agent.total - agent.used).contains(items):
        raise OperatorError(409, "Persistent volumes in use")
    return items, [res.strip_volume(v) for v in items]


def apply(master: Master, call: JsonDict) -> None:
    """Apply one operator reservation/volume call; raises OperatorError."""
    kind = str(call["type"])
    body_key, list_key = BODY_KEY[kind]
    body = call.get(body_key)
    if not isinstance(body, dict):
        raise OperatorError(400, f"Failed to validate master::Call: Expecting '{body_key}' to be present")
    agent_id = id_of(body.get("agent_id")) or ""
    if agent_id not in master.agents:
        raise OperatorError(
            400,
            f"No agent found with specified ID: {agent_id}"
            if agent_id
            else "Failed to validate master::Call: Expecting 'agent_id' to be present",
        )
    try:
        items = res.validate_and_upgrade(body.get(list_key) or [])
    except ResourceError as exc:
        raise OperatorError(400, str(exc)) from exc
    if not items:
        raise OperatorError(400, f"Failed to validate master::Call: '{list_key}' must not be empty")
    consumed, produced = _conversion(kind, items, master, agent_id)
    agent = master.agents[agent_id]
    if not agent.available().contains(consumed):
        if not (agent.available() + agent.offered).contains(consumed):
            raise OperatorError(409, "Conflict")
        for offer_id in list(agent.offers):  # the resources are held by offers: take them back
            master.rescind(offer_id)
    agent.total = agent.total.subtract(consumed) + produced
    master.checkpoint(agent)
