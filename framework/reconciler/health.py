"""Polling the sidecars: ``/status`` (mode), ``/ready`` (CQL) and ``/v1/jobs`` (maintenance jobs)
-> ``model.node.NodeHealth``.

Short timeouts: a node that does not answer is UNKNOWN and not ready, which keeps its block
STARTED; it never stalls the loop. Only nodes whose task runs are polled, each observation is
tagged with the task it came from (a slow answer cannot complete a block for a newer task).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Set
from dataclasses import dataclass, replace

import httpx

from model.node import NodeHealth
from model.records import TaskRecord


@dataclass(frozen=True)
class HealthTarget:
    cluster: str
    node: str
    task_id: str
    url: str


def targets(records: Iterable[TaskRecord], task_ids: Set[str] | None = None) -> list[HealthTarget]:
    """The running nodes with a known address and sidecar port; with ``task_ids``, just those
    tasks (just reported running: the snapshot may not say so yet)."""
    out = []
    for rec in records:
        port = rec.ports.get("sidecar")
        wanted = rec.state == "TASK_RUNNING" if task_ids is None else rec.task_id in task_ids
        if not wanted or not rec.hostname or not port:
            continue
        out.append(HealthTarget(rec.cluster, rec.node, rec.task_id, f"http://{rec.hostname}:{port}"))
    return out


async def _body(client: httpx.AsyncClient, url: str) -> object:
    """The JSON an endpoint answered, or None when it did not answer JSON."""
    try:
        return (await client.get(url)).json()
    except (httpx.HTTPError, ValueError):
        return None


async def probe(client: httpx.AsyncClient, target: HealthTarget) -> NodeHealth:
    status, ready, jobs = await asyncio.gather(
        _body(client, target.url + "/status"),
        _body(client, target.url + "/ready"),
        _body(client, target.url + "/v1/jobs"),
    )
    mode = status.get("mode") if isinstance(status, dict) else None
    cql_ready = bool(ready.get("ready")) if isinstance(ready, dict) else False
    # NodeHealth.from_json turns anything that is not a mode or a list of jobs into UNKNOWN / none.
    health = NodeHealth.from_json({"mode": mode, "cql_ready": cql_ready, "jobs": jobs})
    return replace(health, task_id=target.task_id)


def carry_mode(previous: NodeHealth | None, observed: NodeHealth) -> NodeHealth:
    """Keep a node's last known mode while only the mode is unknown.

    The sidecar reads the mode over JMX (nodetool, a JVM per call, when its resident reader
    cannot run), which can time out on an overloaded host while the node itself answers CQL.
    Without this, every such timeout turns an UN node UNKNOWN and sends its finished block back
    to STARTED. A real change of mode (JOINING,
    LEAVING, DRAINED...) is still taken at once, and so is a node that stops answering CQL.
    """
    if (
        previous is not None
        and observed.mode == "UNKNOWN"
        and observed.cql_ready
        and previous.task_id == observed.task_id
    ):
        return replace(observed, mode=previous.mode)
    return observed


# Probes in flight at once: httpx's pool does work per queued request for every request, so
# thousands at once keep the event loop busy for minutes (seen at 1,000 unreachable nodes).
PROBE_CONCURRENCY = 32


async def probe_all(
    client: httpx.AsyncClient, nodes: list[HealthTarget], concurrency: int = PROBE_CONCURRENCY
) -> dict[tuple[str, str], NodeHealth]:
    gate = asyncio.Semaphore(concurrency)

    async def one(target: HealthTarget) -> NodeHealth:
        async with gate:
            return await probe(client, target)

    results = await asyncio.gather(*(one(t) for t in nodes))
    return {(t.cluster, t.node): h for t, h in zip(nodes, results, strict=True)}
