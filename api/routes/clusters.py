"""Clusters: list, show, create or update, scale, uninstall."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from api import queries
from api.context import AppContext
from api.schemas import Accepted, ClusterInfo, ErrorBody, OfferWaitInfo, ScaleRequest
from model.cluster import ClusterSpec

SPEC_EXAMPLE = {"nodes": 3, "seeds": 2, "cpus": 1.0, "mem_mb": 2048, "heap_mb": 512}


def build(ctx: AppContext) -> APIRouter:
    router = APIRouter(prefix="/v1/clusters", tags=["clusters"])
    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody, "description": "unknown cluster"},
    }
    mutation_errors: dict[int | str, dict[str, Any]] = {
        **errors,
        400: {"model": ErrorBody, "description": "invalid input or a refused update (names the rule)"},
        401: {"model": ErrorBody, "description": "bearer token missing"},
        403: {"model": ErrorBody, "description": "bearer token wrong"},
        409: {"model": ErrorBody, "description": "conflict with the current state"},
        422: {"model": ErrorBody, "description": "body refused by its schema"},
        503: {"model": ErrorBody, "description": "state store unavailable"},
    }

    @router.get("", response_model=list[str], summary="Names of all clusters")
    def list_clusters() -> list[str]:
        return queries.list_clusters(ctx.view.store)

    @router.get(
        "/{cluster}", response_model=ClusterInfo, responses=errors, summary="A cluster, its spec and status"
    )
    async def get_cluster(cluster: str) -> Response:
        return await ctx.cache.answer(
            ("cluster", cluster),
            ctx.health_fingerprint(cluster),
            lambda: queries.cluster_info(ctx.view, cluster),
        )

    @router.get(
        "/{cluster}/offers",
        response_model=list[OfferWaitInfo],
        responses=errors,
        summary="Nodes waiting for an offer that fits, and why the latest offers did not",
        description="Empty when nothing waits. Each reason names the agent and what it lacked: "
        "resources, ports, a placement rule, the agent a node's volume is on.",
    )
    def offers(cluster: str) -> list[dict[str, Any]]:
        return queries.offer_waits(ctx.view, cluster)

    @router.put(
        "/{cluster}",
        status_code=202,
        response_model=Accepted,
        responses=mutation_errors,
        dependencies=[ctx.guard],
        summary="Create or update a cluster",
        description="Validates the spec alone and against the current target (fields that cannot change "
        "are refused naming the rule); an identical spec changes nothing. Unknown fields are refused.",
    )
    def put_cluster(
        cluster: str, spec: Annotated[ClusterSpec, Body(examples=[SPEC_EXAMPLE])]
    ) -> dict[str, Any]:
        out = ctx.commands.put_cluster(cluster, spec)
        return {"message": out.message, "config_id": out.config_id}

    @router.delete(
        "/{cluster}",
        status_code=202,
        response_model=Accepted,
        responses=mutation_errors,
        dependencies=[ctx.guard],
        summary="Uninstall a cluster: kill its nodes, destroy its volumes, unreserve",
    )
    def delete_cluster(cluster: str) -> dict[str, Any]:
        return {"message": ctx.commands.delete_cluster(cluster).message}

    @router.post(
        "/{cluster}/scale",
        status_code=202,
        response_model=Accepted,
        responses=mutation_errors,
        dependencies=[ctx.guard],
        summary="Grow the cluster to N nodes (shrinking is refused by rule nodes-cannot-shrink)",
    )
    def scale(cluster: str, body: ScaleRequest) -> dict[str, Any]:
        out = ctx.commands.scale(cluster, body.nodes)
        return {"message": out.message, "config_id": out.config_id}

    return router
