"""Performing the maintenance actions: sidecar job calls and the request writes that follow them.

The sidecar calls are short and best effort: a refused or failed call is logged and the next
cycle derives the same action again from what the sidecar reports (level-triggered). The
request writes are read-modify-write of one intents document; the reconciler is the only
writer of ``results`` and of the cleanup-offer memory.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx

from framework.store.base import JsonObject, Store, update_intent
from model.intents import PlanIntents
from model.maintenance import MaintenanceRequest
from model.records import TaskRecord
from plans.actions import OfferCleanup, RecordJobResult, StartJob, StopJob
from plans.cassandra.maintenance import CLEANUP_OFFERS, OFFERED_FOR

log = logging.getLogger(__name__)

SIDECAR_TIMEOUT_S = 5.0


def sidecar_url(record: TaskRecord) -> str | None:
    port = record.ports.get("sidecar")
    return f"http://{record.hostname}:{port}" if record.hostname and port else None


async def start_job(client: httpx.AsyncClient, cluster: str, record: TaskRecord, act: StartJob) -> bool:
    url = sidecar_url(record)
    if url is None or record.task_id != act.task_id:
        return False
    try:
        r = await client.post(f"{url}/v1/jobs", json=act.job.to_json(), timeout=SIDECAR_TIMEOUT_S)
    except httpx.HTTPError as exc:
        log.warning(
            "cluster %s: cannot reach the sidecar of %s to start %s: %s", cluster, act.node, act.job.id, exc
        )
        return False
    if r.status_code in (200, 201):
        if r.status_code == 201:
            log.info("cluster %s: %s started on %s", cluster, act.job.id, act.node)
        return True
    log.warning(
        "cluster %s: %s refused %s: %s %s", cluster, act.node, act.job.id, r.status_code, r.text[:200]
    )
    return False


async def stop_job(client: httpx.AsyncClient, cluster: str, record: TaskRecord, act: StopJob) -> bool:
    url = sidecar_url(record)
    if url is None or record.task_id != act.task_id:
        return False
    log.info("cluster %s: stopping %s on %s (no request wants it)", cluster, act.job_id, act.node)
    try:
        # Stopping waits for Cassandra to stop the work (``nodetool stop``): allow longer.
        r = await client.delete(f"{url}/v1/jobs/{act.job_id}", timeout=90.0)
    except httpx.HTTPError as exc:
        log.warning("cluster %s: stopping %s on %s failed: %s", cluster, act.job_id, act.node, exc)
        return False
    return r.status_code in (200, 404)


def record_result(store: Store, cluster: str, act: RecordJobResult) -> bool:
    """Write the node's outcome into the plan's request (compare-and-set: an operator's verb on
    the same document is never lost); False if the request is gone or no longer has the node."""
    where = f"intents of plan {act.plan} of {cluster}"

    def change(doc: JsonObject | None) -> JsonObject | None:
        if doc is None:
            return None
        intents = PlanIntents.from_json(doc, where)
        request = MaintenanceRequest.from_json(intents.parameters, where)
        if act.node not in request.nodes:
            return None
        return intents.with_changes(parameters=request.with_result(act.node, act.result).to_json()).to_json()

    if update_intent(store, cluster, act.plan, change) is None:
        return False
    log.info("cluster %s: %s on %s %s", cluster, act.plan, act.node, act.result.state)
    return True


def store_cleanup_offer(store: Store, cluster: str, act: OfferCleanup, now: float) -> None:
    """The cleanup request first, then the memory that it was offered: a crash in between offers
    the same cleanup again, never loses it. Compare-and-set on the document the offer was decided
    on: a cleanup an operator started since is kept, and the next cycle decides again."""
    request = replace(act.request, requested_at=now)

    def change(doc: JsonObject | None) -> JsonObject | None:
        if doc != act.replaces:
            return None
        return request.to_intents(interrupted=act.interrupted).to_json()

    if update_intent(store, cluster, request.plan, change) is None:
        log.info("cluster %s: the cleanup changed meanwhile; the offer after the scale-out waits", cluster)
        return
    memory = PlanIntents(CLEANUP_OFFERS, parameters={OFFERED_FOR: list(act.offered_for)})
    store.put_intent(cluster, CLEANUP_OFFERS, memory.to_json())
    how = (
        "waiting for an operator to continue it"
        if act.interrupted
        else "running it (auto_cleanup_after_scale)"
    )
    log.info(
        "cluster %s: nodes %s joined; cleanup of %s offered, %s", cluster, act.offered_for, request.nodes, how
    )
