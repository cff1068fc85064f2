"""Offer allocation (reference §5.7): a pure function from state to grants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from localmesos import resources as res
from localmesos.master.state import Agent, Framework, JsonDict
from localmesos.resources import Resources

MIN_CPUS = 0.01
MIN_MEM = 32.0
MAX_REFUSE_SECONDS = 31536000.0
DEFAULT_REFUSE_SECONDS = 5.0


@dataclass(frozen=True)
class Grant:
    framework_id: str
    role: str
    agent_id: str
    resources: Resources  # without allocation_info


@dataclass(frozen=True)
class RefuseFilter:
    expires: float
    resources: Resources


FilterKey = tuple[str, str, str]  # (framework_id, role, agent_id)


def refuse_seconds(filters: JsonDict | None) -> float:
    value = (filters or {}).get("refuse_seconds", DEFAULT_REFUSE_SECONDS)
    value = float(value)
    if value < 0 or value != value:
        return DEFAULT_REFUSE_SECONDS
    return min(value, MAX_REFUSE_SECONDS)


def allocatable_to(resource: JsonDict, role: str, refinement: bool) -> bool:
    stack = resource.get("reservations") or []
    if not stack:
        return True
    if len(stack) > 1 and not refinement:
        return False
    reserved = stack[-1]["role"]
    return bool(role == reserved or res.is_strict_subrole(role, reserved))


def _worth_offering(r: Resources) -> bool:
    return r.scalar("cpus") >= MIN_CPUS or r.scalar("mem") >= MIN_MEM


def allocate(
    agents: Iterable[Agent],
    frameworks: Iterable[Framework],
    filters: dict[FilterKey, RefuseFilter],
    now: float,
) -> list[Grant]:
    candidates = [
        (fw, role) for fw in frameworks if fw.active for role in fw.roles if role not in fw.suppressed
    ]
    if not candidates:
        return []
    share: dict[str, float] = {}
    for fw, _ in candidates:
        share[fw.id] = fw.cpus_in_use
    grants: list[Grant] = []
    for agent in agents:
        if not agent.connected:
            continue
        available = agent.available()
        if not _worth_offering(available):
            continue
        has_gpus = available.scalar("gpus") > 0 or agent.total.scalar("gpus") > 0
        for fw, role in sorted(candidates, key=lambda c: share[c[0].id]):
            if has_gpus and not fw.has("GPU_RESOURCES"):
                continue
            refinement = fw.has("RESERVATION_REFINEMENT")
            offerable = available.filter(lambda r, role=role, ref=refinement: allocatable_to(r, role, ref))
            if not _worth_offering(offerable):
                continue
            refused = filters.get((fw.id, role, agent.id))
            if refused is not None and refused.expires > now and refused.resources.contains(offerable):
                continue
            grants.append(Grant(fw.id, role, agent.id, offerable))
            share[fw.id] += offerable.scalar("cpus")
            available = available - offerable
            if not _worth_offering(available):
                break
    return grants
