"""What nodes and peer framework instances read: seeds, connection, datacenter exchange."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from api import queries
from api.context import AppContext
from api.schemas import Connection, DatacenterInfo, ErrorBody, Seeds


def build(ctx: AppContext) -> APIRouter:
    router = APIRouter(prefix="/v1/clusters/{cluster}", tags=["seeds and datacenters"])
    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody, "description": "unknown cluster or node"}
    }

    @router.get(
        "/seeds",
        response_model=Seeds,
        response_model_by_alias=True,
        responses=errors,
        summary="Seeds for a node: this datacenter's first, then the peers'",
        description="Seeds are 'ip:storage_port' (nodes sharing a host differ by port). "
        "With ?node=node-i, isSeed says whether that node is a seed; without it, "
        "whether the asker must start as the first seed.",
    )
    async def seeds(
        cluster: str, node: str | None = Query(default=None, description="the asking node")
    ) -> Response:
        # Every node polls this: answered from the read cache while the store is unchanged.
        return await ctx.cache.answer(
            ("seeds", cluster, node), None, lambda: queries.seeds(ctx.view, cluster, node)
        )

    @router.get(
        "/connection",
        response_model=Connection,
        responses=errors,
        summary="CQL contact points: running, CQL-ready nodes as ip:native_port",
    )
    async def connection(cluster: str) -> Response:
        return await ctx.cache.answer(
            ("connection", cluster),
            ctx.health_fingerprint(cluster),
            lambda: queries.connection(ctx.view, cluster),
        )

    @router.get(
        "/datacenter",
        response_model=DatacenterInfo,
        responses=errors,
        summary="This datacenter of the cluster: name, URL, seeds",
    )
    def get_datacenter(cluster: str, request: Request) -> dict[str, Any]:
        base = (ctx.public_url or str(request.base_url)).rstrip("/")
        return queries.datacenter(ctx.view, cluster, f"{base}/v1/clusters/{cluster}/datacenter")

    @router.put(
        "/datacenter",
        status_code=204,
        response_class=Response,
        responses={
            **errors,
            400: {"model": ErrorBody, "description": "a peer naming this datacenter"},
            401: {"model": ErrorBody, "description": "bearer token missing"},
            403: {"model": ErrorBody, "description": "bearer token wrong"},
            422: {"model": ErrorBody, "description": "body refused by its schema"},
            503: {"model": ErrorBody, "description": "state store unavailable"},
        },
        dependencies=[ctx.guard],
        summary="A peer datacenter registers its URL and seeds",
    )
    def put_datacenter(cluster: str, info: DatacenterInfo) -> Response:
        ctx.commands.register_peer(cluster, info)
        return Response(status_code=204)

    return router
