"""Store snapshot + observations -> every plan of every cluster. Pure: the loop and the views share it."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from framework.store.base import ClusterState as StoredCluster
from framework.store.base import StoreSnapshot
from model.cluster import ClusterSpec, parse_spec
from model.errors import CassandraMesosError, CorruptRecord
from model.intents import PlanIntents
from model.maintenance import ALL_KINDS, CLEANUP, MaintenanceRequest
from model.node import NodeHealth
from model.operations import REPLACE_PREFIX, UNINSTALL
from plans.actions import OfferCleanup, StopJob
from plans.cassandra import deploy, maintenance, recovery, replace, uninstall
from plans.cassandra.state import ClusterState
from plans.model import Plan, Strategy, new_plan

log = logging.getLogger(__name__)

# Priority order for plans.coordinator.next_work: an operation owns its nodes, then deploy
# claims its nodes before recovery. Replace plans (``replace-node-<i>``) sit before deploy;
# cleanup and repair come last: a node that must be relaunched is never held by them.
PLAN_ORDER = (uninstall.PLAN, REPLACE_PREFIX, deploy.PLAN, recovery.PLAN, *ALL_KINDS)


def _priority(name: str) -> tuple[int, str]:
    key = REPLACE_PREFIX if name.startswith(REPLACE_PREFIX) else name
    return (PLAN_ORDER.index(key) if key in PLAN_ORDER else len(PLAN_ORDER), name)


@dataclass(frozen=True)
class ClusterPlans:
    cluster: str
    spec: ClusterSpec
    config_id: str
    state: ClusterState
    plans: Mapping[str, Plan]
    # Work outside any plan's blocks: jobs no request wants, the cleanup offered after a scale-out.
    housekeeping: tuple[StopJob | OfferCleanup, ...] = ()

    def ordered(self) -> list[Plan]:
        return [self.plans[name] for name in sorted(self.plans, key=_priority)]


def intents_of(stored: StoredCluster, plan: str) -> tuple[PlanIntents, str | None]:
    """The plan's operator intents, or defaults plus an error to show when the document is unreadable."""
    data = stored.intents.get(plan)
    if data is None:
        return PlanIntents(plan), None
    try:
        return PlanIntents.from_json(data, f"intents of plan {plan} of {stored.name}"), None
    except CorruptRecord as exc:
        return PlanIntents(plan), str(exc)


def build_cluster_plans(
    stored: StoredCluster,
    health: Mapping[str, NodeHealth],
    reconciled: bool,
    synced_peers: frozenset[str] = frozenset(),
) -> ClusterPlans | None:
    """All plans of one cluster, or None when it has no (valid) target config to deploy."""
    if stored.target is None:
        return None
    try:
        spec = parse_spec(stored.target.spec)
    except CassandraMesosError as exc:
        # The API validates specs before storing them; a bad one here was written past it.
        log.error(
            "cluster %s: stored target config %s is invalid: %s", stored.name, stored.target.config_id, exc
        )
        return None
    deploy_intents, deploy_error = intents_of(stored, deploy.PLAN)
    recovery_intents, recovery_error = intents_of(stored, recovery.PLAN)
    errors = tuple(e for e in (deploy_error, recovery_error) if e)
    state = ClusterState(
        cluster=stored.name,
        spec=spec,
        config_id=stored.target.config_id,
        records=dict(stored.tasks),
        health=dict(health),
        reconciled=reconciled,
        synced_peers=synced_peers,
        errors=errors,
    )
    plans: dict[str, Plan]
    if UNINSTALL in stored.intents:
        # The cluster's only plan: deploy and recovery would relaunch what it kills.
        uninstall_intents, _ = intents_of(stored, uninstall.PLAN)
        plans = {uninstall.PLAN: uninstall.build_uninstall_plan(state, uninstall_intents)}
    else:
        plans = {
            deploy.PLAN: deploy.build_deploy_plan(state, deploy_intents),
            recovery.PLAN: recovery.build_recovery_plan(state, recovery_intents),
        }
        for name in sorted(stored.intents):
            if name.startswith(REPLACE_PREFIX):
                replace_intents, replace_error = intents_of(stored, name)
                if replace_error:
                    replace_intents = PlanIntents(name, parameters={"error": replace_error})
                plans[name] = replace.build_replace_plan(state, replace_intents)
    requests: dict[str, tuple[MaintenanceRequest, PlanIntents]] = {}
    for kind in ALL_KINDS:
        if kind not in stored.intents or UNINSTALL in stored.intents:
            continue
        kind_intents, kind_error = intents_of(stored, kind)
        if kind_error:
            plans[kind] = new_plan(kind, Strategy.SERIAL, [], errors=(kind_error,))
            continue
        plans[kind] = maintenance.build_maintenance_plan(state, kind_intents)
        with contextlib.suppress(CorruptRecord):
            requests[kind] = (maintenance.read_request(kind_intents), kind_intents)
    housekeeping: list[StopJob | OfferCleanup] = list(maintenance.orphan_jobs(state, requests))
    if deploy.PLAN in plans:
        offers, _ = intents_of(stored, maintenance.CLEANUP_OFFERS)
        offered = offers.parameters.get(maintenance.OFFERED_FOR)
        current = (requests[CLEANUP][0], plans[CLEANUP]) if CLEANUP in requests else None
        offer = maintenance.cleanup_offer(
            state,
            plans[deploy.PLAN],
            current,
            frozenset(offered) if isinstance(offered, list) else frozenset(),
        )
        if offer is not None:
            housekeeping.append(dataclasses.replace(offer, replaces=stored.intents.get(CLEANUP)))
    return ClusterPlans(stored.name, spec, stored.target.config_id, state, plans, tuple(housekeeping))


def build_all_plans(
    snapshot: StoreSnapshot,
    health: Mapping[str, Mapping[str, NodeHealth]],
    reconciled: bool,
    synced_peers: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, ClusterPlans]:
    """Every cluster's plans from one snapshot; clusters without a (valid) target are left out.
    ``synced_peers``: per cluster, the peer URLs a datacenter exchange succeeded with."""
    out = {}
    synced = synced_peers or {}
    for name, stored in snapshot.clusters.items():
        built = build_cluster_plans(stored, health.get(name, {}), reconciled, synced.get(name, frozenset()))
        if built is not None:
            out[name] = built
    return out
