"""Nodes of a cluster: list, show with live status, restart in place, replace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api import queries
from api.context import AppContext
from api.schemas import Accepted, ErrorBody, NodeDetail, NodeInfo


def build(ctx: AppContext) -> APIRouter:
    router = APIRouter(prefix="/v1/clusters/{cluster}/nodes", tags=["nodes"])
    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody, "description": "unknown cluster or node"}
    }
    mutation_errors: dict[int | str, dict[str, Any]] = {
        **errors,
        401: {"model": ErrorBody, "description": "bearer token missing"},
        403: {"model": ErrorBody, "description": "bearer token wrong"},
        409: {"model": ErrorBody, "description": "not launched yet, or an operation on it is in progress"},
        503: {"model": ErrorBody, "description": "state store unavailable"},
    }

    @router.get("", response_model=list[NodeInfo], responses=errors, summary="The cluster's launched nodes")
    async def list_nodes(cluster: str) -> Response:
        return await ctx.cache.answer(
            ("nodes", cluster), ctx.health_fingerprint(cluster), lambda: queries.list_nodes(ctx.view, cluster)
        )

    @router.get(
        "/{node}", response_model=NodeDetail, responses=errors, summary="A node's record and its live status"
    )
    def get_node(cluster: str, node: str) -> dict[str, Any]:
        return queries.node_detail(ctx.view, cluster, node, ctx.sidecar_status)

    @router.post(
        "/{node}/restart",
        status_code=202,
        response_model=Accepted,
        responses=mutation_errors,
        dependencies=[ctx.guard],
        summary="Relaunch the node in place (same agent, volume and ports)",
    )
    def restart(cluster: str, node: str) -> dict[str, Any]:
        return {"message": ctx.commands.restart_node(cluster, node).message}

    @router.post(
        "/{node}/replace",
        status_code=202,
        response_model=Accepted,
        responses=mutation_errors,
        dependencies=[ctx.guard],
        summary="Replace the node by a new one on another agent (replace_address_first_boot)",
    )
    def replace(cluster: str, node: str) -> dict[str, Any]:
        return {"message": ctx.commands.replace_node(cluster, node).message}

    return router
