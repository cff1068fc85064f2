"""Health, Prometheus metrics and the web control plane."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api import queries
from api.context import AppContext
from api.schemas import Health


def _asset(name: str) -> str:
    return resources.files("api.web").joinpath(name).read_text(encoding="utf-8")


def build(ctx: AppContext, registry: CollectorRegistry) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/v1/health",
        response_model=Health,
        tags=["service"],
        summary="Liveness, leadership, Mesos and ZooKeeper",
    )
    def health() -> dict[str, Any]:
        return queries.health(ctx.view)

    @router.get(
        "/metrics",
        tags=["service"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(_asset("index.html"))

    @router.get("/web/app.js", include_in_schema=False)
    def script() -> Response:
        return Response(_asset("app.js"), media_type="text/javascript")

    return router
