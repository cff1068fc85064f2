"""Offer x node requirements -> operations, or the reason the offer does not fit.

A node's cpus, mem, disk and ports are dynamically reserved for the framework's role with
labels naming (cluster, node, resource id); its data lives on a persistent volume with a stable
persistence id. The first launch reserves, creates the volume and launches in one ACCEPT. A
relaunch (after the task ended) finds those reservations and the volume in an offer from the
same agent and launches on them as offered, so the data survives. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any

from framework.mesos import resources as rs
from framework.offers.cleanup import orphan_operations
from framework.offers.placement import agent_facts, violation
from framework.offers.requirements import NodeRequirements, ReservationKey
from model.records import TaskRecord

Json = dict[str, Any]

# Offers no pending node can use are declined for this long; a REVIVE clears the filter when
# work appears, so a long filter costs nothing and keeps the master from re-offering them.
LONG_DECLINE_SECONDS = 3600.0
# Reasons kept per unplaced node (one per offer weighed): thousands of agents must not mean
# thousands of strings per node per batch.
MAX_WAIT_REASONS = 20
RACK_ATTRIBUTE = "rack"


@dataclass(frozen=True)
class OfferView:
    """The parts of an offer evaluation needs, parsed once."""

    offer_id: str
    agent_id: str
    hostname: str
    role: str | None
    rack: str | None
    unreserved: Mapping[str, float]
    unreserved_ports: tuple[rs.Range, ...]
    owned: Mapping[ReservationKey, tuple[Json, ...]]
    raw: Mapping[str, Any] = field(repr=False)
    # What placement rules can name: hostname, attributes, fault domain (framework.offers.placement).
    facts: Mapping[str, str] = field(default_factory=dict)
    # Unreserved MOUNT disks (whole devices: taken whole or not at all), smallest first.
    mount_disks: tuple[Json, ...] = ()


def rack_of(offer: Mapping[str, Any], attribute: str = RACK_ATTRIBUTE) -> str | None:
    """The agent's rack: its ``rack`` attribute, else the zone of its fault domain."""
    for attr in offer.get("attributes") or []:
        if attr.get("name") == attribute:
            if attr.get("type") == "TEXT":
                return str((attr.get("text") or {}).get("value"))
            if attr.get("type") == "SCALAR":
                return f"{(attr.get('scalar') or {}).get('value', 0):g}"
    zone = (((offer.get("domain") or {}).get("fault_domain") or {}).get("zone") or {}).get("name")
    return None if zone is None else str(zone)


def view_offer(offer: Mapping[str, Any], rack_attribute: str = RACK_ATTRIBUTE) -> OfferView:
    role = (offer.get("allocation_info") or {}).get("role")
    unreserved: dict[str, float] = {}
    ports: list[rs.Range] = []
    mounts: list[Json] = []
    owned: dict[ReservationKey, list[Json]] = {}
    for res in offer.get("resources") or []:
        if role is None:
            role = rs.allocation_role(res)
        if rs.is_unreserved(res):
            if rs.is_mount_disk(res):
                mounts.append(res)
            if not rs.is_plain(res):
                continue
            if res.get("type") == "SCALAR":
                unreserved[res["name"]] = unreserved.get(res["name"], 0.0) + rs.scalar_value(res)
            elif res.get("name") == "ports" and res.get("type") == "RANGES":
                ports.extend(rs.ranges_of(res))
        elif role is not None and rs.is_dynamically_reserved_for(res, role):
            key = ReservationKey.from_labels(rs.reservation_labels(res))
            if key is not None:
                owned.setdefault(key, []).append(res)
    return OfferView(
        offer_id=str(offer["id"]["value"]),
        agent_id=str(offer["agent_id"]["value"]),
        hostname=str(offer.get("hostname", "")),
        role=role,
        rack=rack_of(offer, rack_attribute),
        unreserved=unreserved,
        unreserved_ports=tuple(sorted(ports)),
        owned={k: tuple(v) for k, v in owned.items()},
        raw=offer,
        facts=agent_facts(offer),
        mount_disks=tuple(sorted(mounts, key=rs.scalar_value)),
    )


@dataclass(frozen=True)
class PlacementContext:
    """Where the nodes of each cluster already are: cluster -> agent id -> node names, and
    cluster -> node -> the facts of its agent (for the spec's placement rules)."""

    placed: Mapping[str, Mapping[str, Set[str]]] = field(default_factory=dict)
    max_nodes_per_agent: int = 1
    facts: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: Iterable[TaskRecord], max_nodes_per_agent: int = 1) -> PlacementContext:
        """Placement of every recorded node on the agent of its newest launch."""
        placed: dict[str, dict[str, set[str]]] = {}
        facts: dict[str, dict[str, Mapping[str, str]]] = {}
        for rec in records:
            placed.setdefault(rec.cluster, {}).setdefault(rec.agent_id, set()).add(rec.node)
            facts.setdefault(rec.cluster, {})[rec.node] = rec.agent_facts
        return cls(placed, max_nodes_per_agent, facts)

    def facts_of_others(self, cluster: str, node: str) -> list[Mapping[str, str]]:
        return [f for n, f in self.facts.get(cluster, {}).items() if n != node]

    def others_on_agent(self, cluster: str, agent_id: str, node: str) -> frozenset[str]:
        return frozenset(self.placed.get(cluster, {}).get(agent_id, ())) - {node}


@dataclass(frozen=True)
class Fit:
    """The offer fits the node: run ``operations(task_info)`` in one ACCEPT of ``offer_id``."""

    offer_id: str
    agent_id: str
    hostname: str
    rack: str | None
    node: ReservationKey
    ports: Mapping[str, int]
    preparation: tuple[Json, ...]
    task_resources: tuple[Json, ...]
    facts: Mapping[str, str] = field(default_factory=dict)

    @property
    def relaunch_in_place(self) -> bool:
        """True when the node's reservations and volume were all there (no RESERVE, no CREATE)."""
        return not self.preparation

    def task_info(self, task_info: Mapping[str, Any]) -> Json:
        """``task_info`` (name, task_id, command, ...) completed with this agent and these resources."""
        return {
            **task_info,
            "agent_id": {"value": self.agent_id},
            "resources": [dict(r) for r in self.task_resources],
        }

    def operations(self, task_info: Mapping[str, Any]) -> list[Json]:
        """RESERVE and CREATE when needed, then LAUNCH of the completed ``task_info``."""
        return [*self.preparation, rs.launch_op([self.task_info(task_info)])]


@dataclass(frozen=True)
class NoFit:
    offer_id: str
    node: ReservationKey
    reason: str


Decision = Fit | NoFit


def evaluate(
    offer: Mapping[str, Any] | OfferView, req: NodeRequirements, context: PlacementContext | None = None
) -> Decision:
    """Whether ``offer`` can run node ``req``, and with which operations."""
    view = offer if isinstance(offer, OfferView) else view_offer(offer)
    ctx = context or PlacementContext()

    def no(reason: str) -> NoFit:
        return NoFit(view.offer_id, req.key, reason)

    if view.role != req.role:
        return no(f"offer is allocated to role {view.role!r}, node needs role {req.role!r}")
    if req.agent_id is not None and view.agent_id != req.agent_id:
        return no(f"{req.node} of {req.cluster} has its reservations and volume on agent {req.agent_id}")
    if req.avoid_agent_id is not None and view.agent_id == req.avoid_agent_id:
        return no(f"{req.node} of {req.cluster} is being replaced: not on its old agent {req.avoid_agent_id}")
    if req.rack is not None and view.rack != req.rack:
        return no(f"{req.node} of {req.cluster} belongs to rack {req.rack}, agent is in rack {view.rack}")
    owned = view.owned.get(req.key, ())
    if req.agent_id is None and not owned:
        others = ctx.others_on_agent(req.cluster, view.agent_id, req.node)
        if len(others) >= ctx.max_nodes_per_agent:
            return no(
                f"agent {view.hostname or view.agent_id} already hosts "
                f"{', '.join(sorted(others))} of {req.cluster}"
            )
        broken = violation(req.placement, view.facts, ctx.facts_of_others(req.cluster, req.node))
        if broken is not None:
            return no(f"{req.node} of {req.cluster}: {broken}")

    volume = [r for r in owned if r.get("name") == "disk" and rs.persistence_id(r) == req.persistence_id]
    # Reserved for the node but without its volume yet (a CREATE that did not happen).
    plain_disk = [r for r in owned if r.get("name") == "disk" and rs.persistence_id(r) is None]
    if req.agent_id is not None and not volume and not plain_disk:
        # Creating a fresh volume here would silently start the node without its data.
        return no(
            f"volume {req.persistence_id} of {req.node} is not in this offer "
            "(task still running or offer partial)"
        )

    reservation = rs.dynamic_reservation(req.role, req.principal, req.reservation_labels())
    to_reserve: list[Json] = []
    surplus: list[Json] = []
    task_resources: list[Json] = []
    shortfalls: list[str] = []

    for name, amount in (("cpus", req.cpus), ("mem", req.mem)):
        mine = [r for r in owned if r.get("name") == name and rs.is_plain(r)]
        held = sum(rs.scalar_value(r) for r in mine)
        if mine and abs(held - amount) < 1e-6:
            task_resources.extend(mine)
        elif mine:
            # A config update changed cpus or mem: resize the node's reservation in place (same
            # labels), unreserving the surplus or reserving the extra before the launch.
            same = [dict(r) for r in rs.reservations_of(mine[0])]
            if held > amount:
                surplus.append(rs.scalar(name, held - amount, req.role, same))
                task_resources.append(rs.scalar(name, amount, req.role, same))
            elif view.unreserved.get(name, 0.0) + 1e-9 < amount - held:
                shortfalls.append(
                    f"{name}: need {amount - held:g} more than the {held:g} reserved, "
                    f"offered {view.unreserved.get(name, 0.0):g} unreserved"
                )
            else:
                to_reserve.append(rs.scalar(name, amount - held, req.role, same))
                task_resources.append(rs.scalar(name, amount, req.role, same))
        elif view.unreserved.get(name, 0.0) + 1e-9 < amount:
            shortfalls.append(
                f"{name}: need {amount:g}, offered {view.unreserved.get(name, 0.0):g} unreserved"
            )
        else:
            res = rs.scalar(name, amount, req.role, [reservation])
            to_reserve.append(res)
            task_resources.append(res)

    create: Json | None = None
    if volume:
        task_resources.append(volume[0])
    else:
        base: Json | None
        if plain_disk:
            base = max(plain_disk, key=rs.scalar_value)
        elif req.disk_type == "MOUNT":
            base = _mount_disk(view, req, reservation)
            if base is None:
                sizes = ", ".join(f"{rs.scalar_value(d):g}" for d in view.mount_disks) or "none"
                shortfalls.append(f"disk: need a MOUNT disk of at least {req.disk:g} MB, offered {sizes}")
            else:
                to_reserve.append(base)
        elif view.unreserved.get("disk", 0.0) + 1e-9 < req.disk:
            shortfalls.append(
                f"disk: need {req.disk:g}, offered {view.unreserved.get('disk', 0.0):g} unreserved"
            )
            base = None
        else:
            base = rs.scalar("disk", req.disk, req.role, [reservation])
            to_reserve.append(base)
        if base is not None:
            create = rs.with_volume(base, req.persistence_id, req.principal, req.volume_path)
            task_resources.append(create)

    ports, port_resource, port_reserve, why = _ports(view, req, owned, reservation)
    if why is not None:
        shortfalls.append(why)
    if shortfalls:
        return no("; ".join(shortfalls))
    if port_resource is not None:
        task_resources.append(port_resource)
        if port_reserve:
            to_reserve.append(port_resource)

    preparation: list[Json] = []
    if surplus:
        preparation.append(rs.unreserve_op(surplus))
    if to_reserve:
        preparation.append(rs.reserve_op(to_reserve))
    if create is not None:
        preparation.append(rs.create_op([create]))
    return Fit(
        offer_id=view.offer_id,
        agent_id=view.agent_id,
        hostname=view.hostname,
        rack=view.rack,
        node=req.key,
        ports=ports,
        facts=view.facts,
        preparation=tuple(preparation),
        task_resources=tuple(task_resources),
    )


def _mount_disk(view: OfferView, req: NodeRequirements, reservation: Json) -> Json | None:
    """The smallest offered MOUNT disk that holds ``req.disk``, reserved whole for the node."""
    for disk in view.mount_disks:
        if rs.scalar_value(disk) + 1e-9 >= req.disk:
            reserved = dict(disk)
            reserved["reservations"] = [reservation]
            reserved.pop("role", None)
            return reserved
    return None


def _ports(
    view: OfferView, req: NodeRequirements, owned: Sequence[Json], reservation: Json
) -> tuple[dict[str, int], Json | None, bool, str | None]:
    """(name -> port, the task's ports resource, whether it must be reserved, or why not)."""
    names = req.port_names
    if not names:
        return {}, None, False, None
    mine = [r for r in owned if r.get("name") == "ports" and r.get("type") == "RANGES"]
    if mine:
        held = rs.ports_in(span for r in mine for span in rs.ranges_of(r))
        if req.ports is not None:
            if sorted(req.ports.values()) != held:
                return (
                    {},
                    None,
                    False,
                    f"ports: reserved {held} differ from the node's ports {sorted(req.ports.values())}",
                )
            assigned = dict(req.ports)
        elif len(held) != len(names):
            return {}, None, False, f"ports: {len(held)} reserved, node needs {len(names)}"
        else:
            # Ports are taken in ascending order for the names in order, so the same rule maps them back.
            assigned = dict(zip(names, held, strict=True))
        if len(mine) == 1:
            return assigned, mine[0], False, None
        merged = rs.ranges(
            "ports", rs.ports_to_ranges(held), req.role, [dict(r) for r in rs.reservations_of(mine[0])]
        )
        return assigned, merged, False, None
    if req.ports is not None:
        missing = [p for p in req.ports.values() if not rs.contains_port(view.unreserved_ports, p)]
        if missing:
            return {}, None, False, f"ports: the node's ports {sorted(missing)} are not offered"
        assigned = dict(req.ports)
    else:
        fixed = dict(req.fixed_ports)
        missing = [p for p in fixed.values() if not rs.contains_port(view.unreserved_ports, p)]
        if missing:
            return {}, None, False, f"ports: the cluster's ports {sorted(missing)} are not offered"
        free = rs.without_ports(view.unreserved_ports, fixed.values())
        # The first node of a cluster picks its shared ports from the top of the offered ranges:
        # agents on one host (localmesos) share a block there, while their lower, host-unique
        # ranges keep local-only ports (JMX on 127.0.0.1) apart.
        unfixed_shared = [n for n in req.shared_port_names if n not in fixed]
        top = (
            rs.take_top_ports(rs.without_ports(free, req.shared_ports_taken), len(unfixed_shared))
            if unfixed_shared
            else []
        )
        if top:
            fixed.update(zip(unfixed_shared, top, strict=True))
            free = rs.without_ports(free, top)
        rest = [n for n in names if n not in fixed]
        picked = rs.take_ports(free, len(rest))
        if top is None or picked is None:
            return (
                {},
                None,
                False,
                f"ports: need {len(names)}, offered {len(rs.ports_in(view.unreserved_ports))}",
            )
        assigned = {**fixed, **dict(zip(rest, picked, strict=True))}
        assigned = {n: assigned[n] for n in names}
    resource = rs.ranges("ports", rs.ports_to_ranges(assigned.values()), req.role, [reservation])
    return assigned, resource, True, None


@dataclass(frozen=True)
class OfferPlan:
    """What to do with a batch of offers: launches, cleanups (ACCEPT) and declines."""

    fits: tuple[Fit, ...]
    cleanups: Mapping[str, tuple[Json, ...]]
    declines: tuple[str, ...]
    reasons: Mapping[str, str]
    # Each node left unplaced -> why each offer it was weighed against did not fit it
    # ("agent: reason"); an operator's answer to "why does my node not start?".
    waiting: Mapping[ReservationKey, tuple[str, ...]] = field(default_factory=dict)


def _with_batch_ports(req: NodeRequirements, shared: Mapping[str, Mapping[str, int]]) -> NodeRequirements:
    """``req`` with the shared ports an earlier placement of its cluster in this batch fixed, and
    those that first placements of other clusters in this batch took."""
    if req.ports is not None or not req.shared_port_names or not shared:
        return req
    fixed = {**shared.get(req.cluster, {}), **req.fixed_ports}
    taken = req.shared_ports_taken.union(*(p.values() for c, p in shared.items() if c != req.cluster))
    if fixed == dict(req.fixed_ports) and taken == req.shared_ports_taken:
        return req
    return replace(req, fixed_ports=fixed, shared_ports_taken=taken)


def plan_offers(
    offers: Iterable[Mapping[str, Any] | OfferView],
    nodes: Sequence[NodeRequirements],
    context: PlacementContext | None = None,
    referenced: frozenset[ReservationKey] | None = None,
    role: str | None = None,
) -> OfferPlan:
    """Assign at most one pending node to each offer, greedily, in the order given.

    Nodes with reservations (``agent_id`` set) only ever go to their agent. Placements made in
    this batch count for the one-node-per-agent rule of later offers. If ``referenced`` and
    ``role`` are given, an offer that runs nothing but holds orphaned reservations or volumes of
    ``role`` gets cleanup operations (see ``cleanup.orphan_operations``) instead of a decline.
    The first node placed of a cluster whose shared ports are not fixed yet fixes them for the
    cluster's later nodes in the batch.
    """
    ctx = context or PlacementContext()
    placed: dict[str, dict[str, set[str]]] = {
        c: {a: set(n) for a, n in agents.items()} for c, agents in ctx.placed.items()
    }
    pinned: dict[str, list[NodeRequirements]] = {}
    floating: list[NodeRequirements] = []
    for req in nodes:
        if req.agent_id is not None:
            pinned.setdefault(req.agent_id, []).append(req)
        else:
            floating.append(req)

    # Placements made in this batch count for later offers.
    facts: dict[str, dict[str, Mapping[str, str]]] = {c: dict(nodes) for c, nodes in ctx.facts.items()}
    live = PlacementContext(placed, ctx.max_nodes_per_agent, facts)
    fits: list[Fit] = []
    cleanups: dict[str, tuple[Json, ...]] = {}
    declines: list[str] = []
    reasons: dict[str, str] = {}
    why: dict[ReservationKey, list[str]] = {req.key: [] for req in nodes}
    shared: dict[str, dict[str, int]] = {}
    for offer in offers:
        view = offer if isinstance(offer, OfferView) else view_offer(offer)
        chosen: Fit | None = None
        first_reason: str | None = None
        candidates = pinned.get(view.agent_id, [])
        for pool in (candidates, floating):
            for req in pool:
                decision = evaluate(view, _with_batch_ports(req, shared), live)
                if isinstance(decision, Fit):
                    chosen = decision
                    pool.remove(req)
                    placed.setdefault(req.cluster, {}).setdefault(view.agent_id, set()).add(req.node)
                    facts.setdefault(req.cluster, {})[req.node] = view.facts
                    if req.shared_port_names:
                        shared.setdefault(req.cluster, {n: decision.ports[n] for n in req.shared_port_names})
                    break
                first_reason = first_reason or f"{req.cluster}/{req.node}: {decision.reason}"
                if len(why[req.key]) < MAX_WAIT_REASONS:
                    why[req.key].append(f"{view.hostname or view.agent_id}: {decision.reason}")
            if chosen is not None:
                break
        if chosen is not None:
            fits.append(chosen)
            continue
        if referenced is not None and role is not None:
            ops = orphan_operations(view.raw, role, referenced)
            if ops:
                cleanups[view.offer_id] = tuple(ops)
                continue
        declines.append(view.offer_id)
        reasons[view.offer_id] = first_reason or "no pending node needs resources"
    unplaced = [req for pool in (*pinned.values(), floating) for req in pool]
    waiting = {
        req.key: tuple(why[req.key])
        or (f"no offer from agent {req.agent_id}" if req.agent_id is not None else "no offer weighed",)
        for req in unplaced
    }
    return OfferPlan(tuple(fits), cleanups, tuple(declines), reasons, waiting)
