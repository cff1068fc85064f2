"""Maintenance operations of a cluster: cleanup and repair, run node by node by the sidecars."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from api.context import AppContext
from api.schemas import Accepted, ErrorBody, MaintenanceStart


def build(ctx: AppContext) -> APIRouter:
    router = APIRouter(prefix="/v1/clusters/{cluster}", tags=["maintenance"])
    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody, "description": "unknown node names, bad keyspace or table names"},
        401: {"model": ErrorBody, "description": "bearer token missing"},
        403: {"model": ErrorBody, "description": "bearer token wrong"},
        404: {"model": ErrorBody, "description": "unknown cluster"},
        409: {"model": ErrorBody, "description": "one is already in progress, or there is none to stop"},
        422: {"model": ErrorBody, "description": "malformed body"},
        503: {"model": ErrorBody, "description": "state store unavailable"},
    }

    @router.put(
        "/{operation}/start",
        status_code=202,
        response_model=Accepted,
        responses=errors,
        dependencies=[ctx.guard],
        summary="Start a cleanup or a repair: plan <operation>, one node at a time",
        description="Cleanup runs `nodetool cleanup`; repair runs a full primary-range repair "
        "(`nodetool repair -full -pr`) on each node in turn. Follow it with GET .../plans/<operation>.",
    )
    def start(
        cluster: str, operation: Literal["cleanup", "repair"], body: MaintenanceStart
    ) -> dict[str, Any]:
        return {"message": ctx.commands.start_maintenance(cluster, operation, body.model_dump()).message}

    @router.put(
        "/{operation}/stop",
        status_code=202,
        response_model=Accepted,
        responses=errors,
        dependencies=[ctx.guard],
        summary="Stop a cleanup or a repair: the plan goes and the jobs running on nodes are stopped",
    )
    def stop(cluster: str, operation: Literal["cleanup", "repair"]) -> dict[str, Any]:
        return {"message": ctx.commands.stop_maintenance(cluster, operation).message}

    return router
