"""The ``cleanup`` and ``repair`` plans, and the cleanup offered after a scale-out.

A plan exists while its ``model.maintenance.MaintenanceRequest`` is stored. One serial phase,
``nodes``, with a block per requested node, one node at a time (cleanup and repair are heavy;
dcos-cassandra-service ran them serially too):

| observation                                           | status   | action          |
|-------------------------------------------------------|----------|-----------------|
| result recorded SUCCEEDED (newer than a restart)      | COMPLETE | none            |
| result recorded FAILED                                | ERROR    | none (restart)  |
| node not running, not UN or not answering CQL         | PENDING  | none (waits)    |
| sidecar does not know the job, or it was STOPPED      | PENDING  | StartJob        |
| sidecar runs the job                                  | STARTED  | none            |
| sidecar says the job SUCCEEDED or FAILED              | STARTED  | RecordJobResult |

A restart of a block asks for a new attempt: the job id carries the attempt number, so the new
job is a new run, and ``orphan_jobs`` stops the old one if it still runs.

After a scale-out (``cleanup_offer``): once the deploy plan is COMPLETE and nodes joined that no
cleanup was offered for, every node but the newest joiner holds data it no longer owns. The
cleanup of those nodes is stored as the ``cleanup`` plan, interrupted (offered: an operator
continues it) or running at once when the spec says ``auto_cleanup_after_scale``.
"""

from __future__ import annotations

from collections.abc import Mapping

from model.errors import CorruptRecord
from model.intents import PlanIntents
from model.maintenance import (
    CLEANUP,
    JOB_RUNNING,
    JOB_STOPPED,
    JOB_SUCCEEDED,
    REASON_SCALE_OUT,
    MaintenanceRequest,
    NodeResult,
)
from model.node import is_node_name, node_index
from plans.actions import OfferCleanup, RecordJobResult, StartJob, StopJob
from plans.cassandra.state import ClusterState, genesis_nodes, launch_reason, recorded_bootstrap
from plans.intents import apply_intents
from plans.model import IN_PROGRESS, Block, Plan, Status, Strategy, block_id, new_block, new_phase, new_plan
from plans.status import plan_status

PHASE = "nodes"
# Where the scale-out joins already offered a cleanup are remembered (an intents document that
# is not a plan: no builder reads it as one).
CLEANUP_OFFERS = "cleanup-offers"
OFFERED_FOR = "offered_for"


def read_request(intents: PlanIntents) -> MaintenanceRequest:
    return MaintenanceRequest.from_json(intents.parameters, f"intents of plan {intents.plan}")


def current_attempt(
    request: MaintenanceRequest, node: str, intents: PlanIntents
) -> tuple[int, NodeResult | None]:
    """(the attempt the node's block is on, its recorded result if that attempt finished)."""
    mark = intents.restart_mark(block_id(request.plan, PHASE, node))
    result = request.results.get(node)
    if result is not None and (mark is None or result.attempt > mark):
        return result.attempt, result
    return (mark + 1 if mark is not None else 1), None


def _block(state: ClusterState, request: MaintenanceRequest, node: str, intents: PlanIntents) -> Block:
    plan = request.plan
    attempt, result = current_attempt(request, node, intents)

    def block(status: Status, message: str, action: StartJob | RecordJobResult | None = None) -> Block:
        started = result is not None or status in IN_PROGRESS
        return new_block(
            plan,
            PHASE,
            node,
            status,
            message,
            action=action,
            asset=node,
            generation=attempt if started else 0,
        )

    if result is not None:
        if result.state == JOB_SUCCEEDED:
            return block(Status.COMPLETE, f"{request.kind} done: {result.message}")
        return block(Status.ERROR, f"{request.kind} failed: {result.message}; restart this block to retry")
    record = state.records.get(node)
    health = state.health_of(node)
    if record is None or record.state != "TASK_RUNNING" or health is None or not health.is_ready:
        why = record.state if record is not None else "not launched"
        if health is not None and record is not None and record.state == "TASK_RUNNING":
            why = f"mode {health.mode}, CQL {'ready' if health.cql_ready else 'not ready'}"
        return block(Status.PENDING, f"waiting for the node to be Up/Normal ({why})")
    job = request.job(node, attempt)
    seen = health.job(job.id)
    if seen is None or seen.state == JOB_STOPPED:
        return block(
            Status.PENDING, f"will start {request.kind} on the node", StartJob(node, record.task_id, job)
        )
    if seen.state == JOB_RUNNING:
        return block(Status.STARTED, f"{request.kind} running: {seen.message}")
    outcome = NodeResult(seen.state, attempt, seen.message)
    verb = "succeeded" if seen.state == JOB_SUCCEEDED else "failed"
    return block(Status.STARTED, f"{request.kind} {verb}: recording it", RecordJobResult(plan, node, outcome))


def build_maintenance_plan(state: ClusterState, intents: PlanIntents) -> Plan:
    try:
        request = read_request(intents)
    except CorruptRecord as exc:
        return new_plan(intents.plan, Strategy.SERIAL, [], errors=(str(exc),))
    blocks = [_block(state, request, node, intents) for node in request.nodes]
    phase = new_phase(request.plan, PHASE, Strategy.SERIAL, blocks)
    return apply_intents(new_plan(request.plan, Strategy.SERIAL, [phase]), intents)


def orphan_jobs(
    state: ClusterState, current: Mapping[str, tuple[MaintenanceRequest, PlanIntents]]
) -> list[StopJob]:
    """Jobs sidecars run that no stored request wants now (by kind): stop them."""
    out = []
    for node in sorted(state.records):
        health = state.health_of(node)
        record = state.records[node]
        if health is None:
            continue
        for job in health.jobs:
            if not job.running:
                continue
            wanted = current.get(job.kind)
            if wanted is not None and node in wanted[0].nodes:
                request, intents = wanted
                attempt, result = current_attempt(request, node, intents)
                if result is None and request.job(node, attempt).id == job.id:
                    continue
            out.append(StopJob(node, record.task_id, job.id))
    return out


def scale_out_joiners(state: ClusterState) -> list[str]:
    """Nodes that joined an existing cluster by bootstrapping (scale-out), oldest first."""
    genesis = genesis_nodes(state)
    out = []
    for node, record in state.records.items():
        if not is_node_name(node) or node_index(node) < genesis:
            continue
        if recorded_bootstrap(record) is False or launch_reason(record) == "replace":
            continue
        out.append(node)
    return sorted(out, key=node_index)


def _cleanup_pending(cleanup: tuple[MaintenanceRequest, Plan] | None) -> bool:
    """A stored cleanup that must not be replaced: not ended, and either asked for by an operator
    or already begun. An untouched offer may be replaced by a wider one."""
    if cleanup is None:
        return False
    request, plan = cleanup
    if plan_status(plan) in (Status.COMPLETE, Status.ERROR):
        return False
    begun = bool(request.results) or any(b.status in IN_PROGRESS for p in plan.phases for b in p.blocks)
    return begun or request.reason != REASON_SCALE_OUT


def cleanup_offer(
    state: ClusterState,
    deploy: Plan,
    cleanup: tuple[MaintenanceRequest, Plan] | None,
    offered: frozenset[str],
) -> OfferCleanup | None:
    """The cleanup to offer now after a scale-out, or None. The request's time is stamped by the
    reconciler when it stores it (this stays a pure function of its inputs)."""
    joiners = scale_out_joiners(state)
    new = [n for n in joiners if n not in offered]
    if not new or plan_status(deploy) is not Status.COMPLETE:
        return None
    if _cleanup_pending(cleanup):
        return None  # a cleanup is under way or asked for: offer the next one after it
    newest = new[-1]
    nodes = tuple(sorted((n for n in state.records if is_node_name(n) and n != newest), key=node_index))
    if not nodes:
        return None
    request = MaintenanceRequest(CLEANUP, f"after-{newest}", nodes, 0.0, reason=REASON_SCALE_OUT)
    return OfferCleanup(request, not state.spec.auto_cleanup_after_scale, tuple(joiners))
