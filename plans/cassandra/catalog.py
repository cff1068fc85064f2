"""Every plan of a cluster, in priority order, and the cluster's one-word status.

This is where a new operation plugs in: write ``build_<op>_plan(state, intents) -> Plan`` and
add it to ``BUILDERS`` (order = priority when two plans want the same node in one cycle).
The reconciler and the API both call ``build_plans`` on the same snapshot, so what the API
shows is exactly what the reconciler acts on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from model.errors import NotFound
from model.intents import PlanIntents
from plans.cassandra import deploy, recovery, uninstall
from plans.cassandra.state import ClusterState
from plans.model import Plan, Status
from plans.status import plan_status

Builder = Callable[[ClusterState, PlanIntents], Plan]

BUILDERS: dict[str, Builder] = {
    deploy.PLAN: deploy.build_deploy_plan,
    recovery.PLAN: recovery.build_recovery_plan,
}
# Operation plans: built only while their intent exists (see framework.reconciler.cluster_plans).
OPERATION_BUILDERS: dict[str, Builder] = {
    uninstall.PLAN: uninstall.build_uninstall_plan,
}


def plan_names() -> list[str]:
    return list(BUILDERS)


def build_plan(name: str, state: ClusterState, intents: Mapping[str, PlanIntents]) -> Plan:
    """One plan by name; NotFound for a plan this framework does not have."""
    builder = BUILDERS.get(name)
    if builder is None:
        raise NotFound(f"cluster {state.cluster} has no plan {name!r} (plans: {', '.join(BUILDERS)})")
    return builder(state, intents.get(name) or PlanIntents(name))


def build_plans(state: ClusterState, intents: Mapping[str, PlanIntents]) -> list[Plan]:
    """All plans, highest priority first; plans without stored intents get empty ones."""
    return [build_plan(name, state, intents) for name in BUILDERS]


def cluster_status(plans: list[Plan]) -> str:
    """``DEPLOYING`` | ``RUNNING`` | ``RECOVERING`` | ``WAITING`` | ``ERROR`` for GET /v1/clusters/{c}.

    ERROR when any plan is in error; WAITING when the deploy plan is held by an operator;
    RECOVERING while a node whose task ended is being relaunched (this wins over DEPLOYING: a
    node is down); DEPLOYING while the deploy plan is incomplete; RUNNING otherwise.
    """
    by_name = {p.name: plan_status(p) for p in plans}
    if Status.ERROR in by_name.values():
        return "ERROR"
    deploy_status = by_name.get(deploy.PLAN, Status.COMPLETE)
    if deploy_status is Status.WAITING:
        return "WAITING"
    if by_name.get(recovery.PLAN, Status.COMPLETE) is not Status.COMPLETE:
        return "RECOVERING"
    if deploy_status is not Status.COMPLETE:
        return "DEPLOYING"
    return "RUNNING"
