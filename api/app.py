"""The FastAPI application of the scheduler process: ``create_app(view, token=...)``.

Reads come from the store and the scheduler's views; mutations validate, write intent to the
store and wake the reconciler (api/commands.py). OpenAPI at /docs and /openapi.json, the web
control plane at /, Prometheus metrics at /metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from fastapi import FastAPI

from api.auth import token_guard
from api.commands import Commands
from api.context import AppContext
from api.errors import install_error_handlers
from api.metrics import install_metrics
from api.queries import SidecarStatus
from api.read_cache import ReadCache
from api.routes import clusters, datacenter, maintenance, nodes, plans, service
from framework.views import SchedulerView
from model.records import TaskRecord

SIDECAR_TIMEOUT_S = 2.0


def http_sidecar_status(timeout: float = SIDECAR_TIMEOUT_S) -> SidecarStatus:
    """``GET http://<hostname>:<sidecar port>/status`` of the node's sidecar."""

    def fetch(record: TaskRecord) -> Mapping[str, Any]:
        port = record.ports.get("sidecar")
        if record.hostname is None or not port:
            raise LookupError("the node's record has no sidecar address")
        resp = httpx.get(f"http://{record.hostname}:{port}/status", timeout=timeout)
        body = resp.json()
        if resp.status_code != 200 or not isinstance(body, dict):
            message = body.get("message") if isinstance(body, dict) else None
            raise RuntimeError(f"sidecar answered HTTP {resp.status_code}: {message or resp.text[:200]}")
        return body

    return fetch


def create_app(
    view: SchedulerView,
    *,
    token: str | None = None,
    public_url: str | None = None,
    sidecar_status: SidecarStatus | None = None,
    read_cache_s: float = 1.0,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The API of one scheduler instance.

    ``token``: when set, every PUT/POST/DELETE needs ``Authorization: Bearer <token>``.
    ``public_url``: this instance's base URL as peers reach it (default: from each request).
    ``sidecar_status``: how GET node reads live status (default: HTTP to the node's sidecar).
    ``read_cache_s``: longest reuse of a GET cluster/plan/nodes answer (api/read_cache.py); 0: none.
    """
    app = FastAPI(
        title="cassandra-mesos",
        version="1",
        description='Apache Cassandra clusters on Apache Mesos. Errors are JSON {"message": ...}.',
    )
    install_error_handlers(app)
    registry = install_metrics(app, view)
    cache = ReadCache(max_age=read_cache_s)
    if read_cache_s > 0:
        cache.follow(view.store)
    ctx = AppContext(
        view=view,
        commands=Commands(view, clock, on_write=cache.invalidate_hard),
        guard=token_guard(token),
        public_url=public_url,
        sidecar_status=sidecar_status if sidecar_status is not None else http_sidecar_status(),
        cache=cache,
    )
    app.include_router(service.build(ctx, registry))
    app.include_router(clusters.build(ctx))
    app.include_router(plans.build(ctx))
    app.include_router(nodes.build(ctx))
    app.include_router(maintenance.build(ctx))
    app.include_router(datacenter.build(ctx))
    return app
