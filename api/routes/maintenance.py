"""Maintenance operations of a cluster: cleanup, repair, backup and restore, run node by node by
the sidecars."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from api.context import AppContext
from api.schemas import Accepted, BackupStart, ErrorBody, MaintenanceStart, RestoreStart


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

    # Declared before /{operation}/start, which would otherwise take these paths and refuse them.
    @router.put(
        "/backup/start",
        status_code=202,
        response_model=Accepted,
        responses=errors,
        dependencies=[ctx.guard],
        summary="Back up every node's tables to a shared directory: plan backup, one node at a time",
        description="Each node snapshots its tables (nodetool snapshot), copies them to "
        "<location>/<backup_name>/<node>/ and clears the snapshot. Only file:// locations: a directory "
        "every agent mounts at the same path.",
    )
    def start_backup(cluster: str, body: BackupStart) -> dict[str, Any]:
        return {"message": ctx.commands.start_maintenance(cluster, "backup", body.model_dump()).message}

    @router.put(
        "/restore/start",
        status_code=202,
        response_model=Accepted,
        responses=errors,
        dependencies=[ctx.guard],
        summary="Restore a backup: each node imports the files it backed up (nodetool import)",
        description="The tables must exist (their CREATE statements are in the backup's schema.cql "
        "files) and the cluster must have the same nodes as when it was backed up.",
    )
    def start_restore(cluster: str, body: RestoreStart) -> dict[str, Any]:
        return {"message": ctx.commands.start_maintenance(cluster, "restore", body.model_dump()).message}

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
        summary="Stop a cleanup, repair, backup or restore: the plan goes, running jobs are stopped",
    )
    def stop(cluster: str, operation: Literal["cleanup", "repair", "backup", "restore"]) -> dict[str, Any]:
        return {"message": ctx.commands.stop_maintenance(cluster, operation).message}

    return router
