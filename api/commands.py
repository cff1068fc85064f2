"""Mutations: validate, write intent to the store, wake the reconciler. Never Mesos.

Every function returns the message for the operator; the reconciler's next cycle does the work.
Intent documents are read-modify-written with compare-and-set (``framework.store.base.
update_intent``): a verb racing another verb or the reconciler's write of a job result is
decided again on what is stored, never lost.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from api import queries
from api.schemas import DatacenterInfo
from framework.store.base import JsonObject, Store, update_intent
from framework.views import SchedulerView
from model.cluster import ClusterSpec, Violation, check_update, parse_spec, validate_cluster_name
from model.errors import Conflict, InvalidInput, NotFound
from model.intents import PlanIntents
from model.maintenance import BACKUP_KINDS, parse_backup_body, parse_start_body
from model.node import node_index
from model.operations import UNINSTALL, NodeReplace, Uninstall, replace_plan_name
from plans import verbs
from plans.model import IN_PROGRESS, Plan, Status
from plans.status import plan_status

DEPLOY = "deploy"

Verb = Callable[[Plan, PlanIntents, str | None, str | None], verbs.VerbResult]
VERBS: dict[str, Verb] = {
    "interrupt": verbs.interrupt,
    "continue": verbs.continue_,
    "force-complete": verbs.force_complete,
    "restart": verbs.restart,
}


class UpdateRefused(InvalidInput):
    """A valid spec that may not replace the current target; ``errors`` name each broken rule."""

    def __init__(self, cluster: str, violations: list[Violation]) -> None:
        rules = ", ".join(v.rule for v in violations)
        super().__init__(f"update of cluster {cluster!r} refused by rule(s) {rules}")
        self.errors = [str(v) for v in violations]
        self.violations = violations


@dataclass(frozen=True)
class Outcome:
    message: str
    config_id: str | None = None


class Commands:
    def __init__(
        self,
        view: SchedulerView,
        clock: Callable[[], float] = time.time,
        on_write: Callable[[], None] = lambda: None,
    ) -> None:
        self._view = view
        self._clock = clock
        # Called after every write, before answering: the read cache drops what it holds.
        self._on_write = on_write

    @property
    def _store(self) -> Store:
        return self._view.store

    def _done(self, outcome: Outcome) -> Outcome:
        self._on_write()
        self._view.wake()
        return outcome

    def _refuse_if_uninstalling(self, cluster: str, what: str) -> None:
        if UNINSTALL in self._store.get_intents(cluster):
            raise Conflict(f"cluster {cluster!r} is being uninstalled: cannot {what}")

    # -- clusters -------------------------------------------------------------------------------

    def put_cluster(self, cluster: str, spec: ClusterSpec) -> Outcome:
        validate_cluster_name(cluster)
        store = self._store
        target = store.get_target_versioned(cluster)
        if target is None:
            self._refuse_shared_storage_ports(cluster, spec)
            config_id = store.put_config(cluster, spec.to_json(), None)
            return self._done(
                Outcome(f"cluster {cluster} created; deploying {spec.nodes} node(s)", config_id)
            )
        self._refuse_if_uninstalling(cluster, "update it")
        old = queries.spec_of(cluster, target)
        violations = check_update(old, spec)
        if violations:
            raise UpdateRefused(cluster, violations)
        if old.to_json() == spec.to_json():
            return Outcome(f"cluster {cluster} already has this spec; nothing to do", target.config_id)
        config_id = store.put_config(cluster, spec.to_json(), target.version)
        return self._done(Outcome(f"cluster {cluster} updated to config {config_id}", config_id))

    def _refuse_shared_storage_ports(self, cluster: str, spec: ClusterSpec) -> None:
        """Clusters share agents, and every node of a cluster needs the same storage ports on its
        agent: a port another cluster holds would keep this one off every agent that one uses."""
        in_use = queries.storage_ports_in_use(self._store, but=cluster)
        for name, port in spec.fixed_storage_ports.items():
            if port in in_use:
                field = "storage_port" if name == "storage" else "ssl_storage_port"
                raise Conflict(
                    f"{field} {port} is a storage port of cluster {in_use[port]!r}; clusters on the same "
                    "agents need distinct storage ports (leave them out to have free ones chosen)"
                )

    def scale(self, cluster: str, nodes: int) -> Outcome:
        store = self._store
        target = queries.require_target(store, cluster)
        self._refuse_if_uninstalling(cluster, "scale it")
        old = queries.spec_of(cluster, target)
        if nodes == old.nodes:
            return Outcome(f"cluster {cluster} already has {nodes} node(s); nothing to do", target.config_id)
        new = parse_spec({**old.to_json(), "nodes": nodes})
        violations = check_update(old, new)
        if violations:
            raise UpdateRefused(cluster, violations)
        config_id = store.put_config(cluster, new.to_json(), target.version)
        return self._done(Outcome(f"cluster {cluster} scaling from {old.nodes} to {nodes} nodes", config_id))

    def delete_cluster(self, cluster: str) -> Outcome:
        store = self._store
        queries.require_target(store, cluster)
        if UNINSTALL in store.get_intents(cluster):
            return Outcome(f"cluster {cluster} is already being uninstalled")
        try:
            store.put_intent(cluster, UNINSTALL, Uninstall(self._clock()).to_intents().to_json(), None)
        except Conflict:
            return Outcome(f"cluster {cluster} is already being uninstalled")
        return self._done(
            Outcome(f"uninstalling cluster {cluster}: killing its nodes, destroying volumes, unreserving")
        )

    # -- plans ----------------------------------------------------------------------------------

    def plan_verb(
        self, cluster: str, plan_name: str, verb: str, phase: str | None, block: str | None
    ) -> Outcome:
        if verb not in VERBS:
            raise NotFound(f"no plan verb {verb!r} (known: {', '.join(VERBS)})")
        if phase == "" or block == "":
            raise InvalidInput("phase and block, when given, must not be empty")
        plan = queries.require_plan(self._view, cluster, plan_name)
        messages: list[str] = []

        def change(doc: JsonObject | None) -> JsonObject:
            result = VERBS[verb](plan, _intents_of(doc, cluster, plan_name), phase, block)
            messages.append(result.message)
            return result.intents.to_json()

        update_intent(self._store, cluster, plan_name, change)
        return self._done(Outcome(messages[-1]))

    # -- nodes ----------------------------------------------------------------------------------

    def restart_node(self, cluster: str, node: str) -> Outcome:
        """Relaunch the node in place: the restart verb on its block of the deploy plan."""
        store = self._store
        spec = queries.spec_of(cluster, queries.require_target(store, cluster))
        record = queries.require_node(store, cluster, spec, node)
        self._refuse_if_uninstalling(cluster, f"restart {node}")
        if record is None:
            raise Conflict(f"{node} of cluster {cluster!r} has not been launched yet: nothing to restart")
        if replace_plan_name(node) in store.get_intents(cluster):
            raise Conflict(f"{node} of cluster {cluster!r} is being replaced: restart it afterwards")
        deploy = self._view.plans(cluster).get(DEPLOY)
        if deploy is None:
            raise Conflict(f"the deploy plan of cluster {cluster!r} is not built yet; retry in a moment")
        results: list[verbs.VerbResult] = []

        def change(doc: JsonObject | None) -> JsonObject:
            try:
                result = verbs.restart(deploy, _intents_of(doc, cluster, DEPLOY), None, node)
            except Conflict:
                raise Conflict(f"a restart of {node} of cluster {cluster!r} is already in progress") from None
            results.append(result)
            return result.intents.to_json()

        update_intent(store, cluster, DEPLOY, change)
        held = ""
        if results[-1].intents.interrupted:
            held = "; the deploy plan is interrupted: the restart begins when it is continued"
        return self._done(
            Outcome(f"restarting {node} of cluster {cluster} in place ({record.task_id}){held}")
        )

    def replace_node(self, cluster: str, node: str) -> Outcome:
        store = self._store
        spec = queries.spec_of(cluster, queries.require_target(store, cluster))
        record = queries.require_node(store, cluster, spec, node)
        self._refuse_if_uninstalling(cluster, f"replace {node}")
        if record is None:
            raise Conflict(f"{node} of cluster {cluster!r} has not been launched yet: nothing to replace")
        request = NodeReplace(
            node=node,
            requested_at=self._clock(),
            old_task_id=record.task_id,
            old_agent_id=record.agent_id,
            old_hostname=record.hostname,
            old_storage_port=record.ports.get("storage"),
        )
        try:
            store.put_intent(cluster, request.plan, request.to_intents().to_json(), None)
        except Conflict:
            raise Conflict(f"{node} of cluster {cluster!r} is already being replaced") from None
        return self._done(
            Outcome(
                f"replacing {node} of cluster {cluster} ({record.task_id}) by a new node on another agent"
            )
        )

    # -- maintenance (cleanup, repair) ----------------------------------------------------------

    def start_maintenance(self, cluster: str, kind: str, body: Mapping[str, Any]) -> Outcome:
        store = self._store
        queries.require_target(store, cluster)
        self._refuse_if_uninstalling(cluster, f"start a {kind}")
        launched = sorted(store.get_tasks(cluster), key=node_index)
        parse = parse_backup_body if kind in BACKUP_KINDS else parse_start_body
        request = parse(body, kind, launched, uuid.uuid4().hex[:12], self._clock())
        stored = store.get_intent(cluster, kind)
        current = self._view.plans(cluster).get(kind)
        if current is not None and _in_progress(current):
            raise Conflict(
                f"a {kind} of cluster {cluster!r} is in progress; wait for it or stop it "
                f"(PUT /v1/clusters/{cluster}/{kind}/stop)"
            )
        try:
            # Replaces exactly the request judged above: a start racing this one loses with a 409.
            store.put_intent(cluster, kind, request.to_intents().to_json(), stored[1] if stored else None)
        except Conflict:
            raise Conflict(
                f"a {kind} of cluster {cluster!r} was started at the same moment; see its plan"
            ) from None
        return self._done(
            Outcome(f"{kind} of cluster {cluster} started on {', '.join(request.nodes)}, one node at a time")
        )

    def stop_maintenance(self, cluster: str, kind: str) -> Outcome:
        store = self._store
        queries.require_target(store, cluster)
        if not store.delete_intent(cluster, kind):
            raise Conflict(f"cluster {cluster!r} has no {kind} to stop")
        return self._done(
            Outcome(f"{kind} of cluster {cluster} stopped; jobs still running on nodes are being stopped")
        )

    # -- datacenters ----------------------------------------------------------------------------

    def register_peer(self, cluster: str, info: DatacenterInfo) -> None:
        store = self._store
        spec = queries.spec_of(cluster, queries.require_target(store, cluster))
        if info.data_center == spec.data_center:
            raise InvalidInput(
                f"data_center {info.data_center!r} is this instance's own datacenter; "
                "a peer must name its own"
            )
        data: dict[str, Any] = info.model_dump()
        data["registered_at"] = self._clock()
        store.put_peer(cluster, info.data_center, data)
        self._on_write()
        self._view.wake()


def _in_progress(plan: Plan) -> bool:
    """Begun and not ended: a block working, or a result recorded while others remain. A plan only
    offered (nothing begun) may be replaced by a new start."""
    status = plan_status(plan)
    if status in (Status.COMPLETE, Status.ERROR):
        return False
    blocks = [b for p in plan.phases for b in p.blocks]
    return any(b.status in IN_PROGRESS or b.status is Status.COMPLETE for b in blocks)


def _intents_of(doc: JsonObject | None, cluster: str, plan: str) -> PlanIntents:
    if doc is None:
        return PlanIntents(plan=plan)
    return PlanIntents.from_json(doc, f"intents of plan {plan!r} of cluster {cluster!r}")
