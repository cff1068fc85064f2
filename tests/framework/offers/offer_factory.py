"""Offers as a MULTI_ROLE + RESERVATION_REFINEMENT framework receives them (reference §2.4)."""

from __future__ import annotations

from typing import Any

from framework.mesos import resources as rs

ROLE = "cass"
PRINCIPAL = "cass-principal"


def offer(
    agent: str = "agent-1",
    offer_id: str = "offer-1",
    cpus: float = 8,
    mem: float = 16384,
    disk: float = 100_000,
    ports: list[tuple[int, int]] | None = None,
    reserved: list[dict[str, Any]] | None = None,
    rack: str | None = None,
    zone: str | None = None,
    role: str = ROLE,
) -> dict[str, Any]:
    resources = [
        rs.scalar("cpus", cpus, role),
        rs.scalar("mem", mem, role),
        rs.scalar("disk", disk, role),
    ]
    if ports is None:
        ports = [(31000, 32000)]
    if ports:
        resources.append(rs.ranges("ports", ports, role))
    o: dict[str, Any] = {
        "id": {"value": offer_id},
        "framework_id": {"value": "fw"},
        "agent_id": {"value": agent},
        "hostname": f"{agent}.example",
        "allocation_info": {"role": role},
        "resources": resources + (reserved or []),
    }
    if rack is not None:
        o["attributes"] = [{"name": "rack", "type": "TEXT", "text": {"value": rack}}]
    if zone is not None:
        o["domain"] = {"fault_domain": {"region": {"name": "eu"}, "zone": {"name": zone}}}
    return o


def node_reservations(
    cluster: str,
    node: str,
    resource_id: str,
    persistence_id: str | None,
    cpus: float = 1,
    mem: float = 2048,
    disk: float = 4096,
    ports: list[int] | None = None,
    role: str = ROLE,
) -> list[dict[str, Any]]:
    """What an offer holds for a node whose task ended: its reservations and volume."""
    resv = rs.dynamic_reservation(
        role, PRINCIPAL, {"cluster": cluster, "node": node, "resource_id": resource_id}
    )
    disk_res = rs.scalar("disk", disk, role, [resv])
    out = [rs.scalar("cpus", cpus, role, [resv]), rs.scalar("mem", mem, role, [resv])]
    out.append(rs.with_volume(disk_res, persistence_id, PRINCIPAL, "data") if persistence_id else disk_res)
    if ports:
        out.append(rs.ranges("ports", rs.ports_to_ranges(ports), role, [resv]))
    return out
