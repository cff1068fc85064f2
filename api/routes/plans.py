"""Plans of a cluster and the operator verbs on them."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from api import queries
from api.context import AppContext
from api.schemas import ErrorBody, Message, PlanInfo


def build(ctx: AppContext) -> APIRouter:
    router = APIRouter(prefix="/v1/clusters/{cluster}/plans", tags=["plans"])
    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody, "description": "unknown cluster or plan"}
    }
    verb_errors: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody, "description": "ambiguous block name (name the phase)"},
        401: {"model": ErrorBody, "description": "bearer token missing"},
        403: {"model": ErrorBody, "description": "bearer token wrong"},
        404: {"model": ErrorBody, "description": "unknown cluster, plan, phase or block"},
        409: {"model": ErrorBody, "description": "the verb would change nothing (e.g. already interrupted)"},
        422: {"model": ErrorBody, "description": "bad query parameters"},
        503: {"model": ErrorBody, "description": "state store unavailable"},
    }

    @router.get("", response_model=list[str], responses=errors, summary="Names of the cluster's plans")
    def list_plans(cluster: str) -> list[str]:
        return queries.plan_names(ctx.view, cluster)

    @router.get(
        "/{plan}", response_model=PlanInfo, responses=errors, summary="A plan, phase by phase, block by block"
    )
    async def get_plan(cluster: str, plan: str) -> Response:
        return await ctx.cache.answer(
            ("plan", cluster, plan),
            ctx.health_fingerprint(cluster),
            lambda: queries.plan_json(ctx.view, cluster, plan),
        )

    @router.post(
        "/{plan}/{verb}",
        response_model=Message,
        responses=verb_errors,
        dependencies=[ctx.guard],
        summary="interrupt, continue, force-complete or restart a plan, a phase or a block",
        description="Without phase and block the verb applies to the whole plan; phase and block are "
        "ids or names. Work already running is not killed by interrupt.",
    )
    def plan_verb(
        cluster: str,
        plan: str,
        verb: Literal["interrupt", "continue", "force-complete", "restart"],
        phase: str | None = Query(default=None, min_length=1, description="phase id or name"),
        block: str | None = Query(default=None, min_length=1, description="block id or name"),
    ) -> dict[str, Any]:
        return {"message": ctx.commands.plan_verb(cluster, plan, verb, phase, block).message}

    return router
