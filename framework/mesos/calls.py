"""Typed builders of v1 scheduler calls, in the JSON mapping the Mesos master parses.

Every builder returns the whole ``Call`` object (``framework_id``, ``type`` and the union member)
so the driver only adds headers. Ids are always ``{"value": ...}`` objects; bytes are base64.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.errors import InvalidInput

ONE_WEEK_SECONDS = 7 * 24 * 3600.0
# Every driver speaks the post-refinement resource format and multiple roles; PARTITION_AWARE
# so that unreachable agents are TASK_UNREACHABLE (may come back), not TASK_LOST.
DEFAULT_CAPABILITIES = ("MULTI_ROLE", "RESERVATION_REFINEMENT", "PARTITION_AWARE")

Json = dict[str, Any]


def value_id(value: str) -> Json:
    return {"value": value}


@dataclass(frozen=True)
class FrameworkInfoSpec:
    """What the framework tells the master about itself on SUBSCRIBE."""

    name: str
    user: str
    roles: tuple[str, ...]
    principal: str | None = None
    failover_timeout: float = ONE_WEEK_SECONDS
    checkpoint: bool = True
    webui_url: str | None = None
    hostname: str | None = None
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("FrameworkInfo.name must not be empty")
        if not self.user:
            raise InvalidInput("FrameworkInfo.user must not be empty")
        if not self.roles:
            raise InvalidInput("FrameworkInfo.roles must name at least one role (without roles, no offers)")
        if len(set(self.roles)) != len(self.roles):
            raise InvalidInput(f"FrameworkInfo.roles contains duplicates: {list(self.roles)}")
        if "*" in self.roles:
            raise InvalidInput("FrameworkInfo.roles must not contain '*' (it cannot hold reservations)")
        # Mesos turns the timeout into a Duration; beyond ~9.2e9 s (or inf/nan) it sends an ERROR event.
        if not (0 <= self.failover_timeout <= 9.0e9):
            raise InvalidInput(
                f"failover_timeout must be between 0 and 9e9 seconds, got {self.failover_timeout}"
            )

    def to_json(self, framework_id: str | None = None) -> Json:
        info: Json = {
            "name": self.name,
            "user": self.user,
            "roles": list(self.roles),
            "failover_timeout": float(self.failover_timeout),
            "checkpoint": self.checkpoint,
            "capabilities": [{"type": c} for c in self.capabilities],
        }
        if framework_id is not None:
            info["id"] = value_id(framework_id)
        if self.principal is not None:
            info["principal"] = self.principal
        if self.webui_url is not None:
            info["webui_url"] = self.webui_url
        if self.hostname is not None:
            info["hostname"] = self.hostname
        if self.labels:
            info["labels"] = {"labels": [{"key": k, "value": v} for k, v in self.labels.items()]}
        return info


def subscribe(
    info: FrameworkInfoSpec, framework_id: str | None, suppressed_roles: Sequence[str] = ()
) -> Json:
    """SUBSCRIBE; with an id both the top-level ``framework_id`` and ``framework_info.id`` carry it."""
    call: Json = {
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": info.to_json(framework_id)},
    }
    if suppressed_roles:
        call["subscribe"]["suppressed_roles"] = list(suppressed_roles)
    if framework_id is not None:
        call["framework_id"] = value_id(framework_id)
    return call


def _call(framework_id: str, call_type: str, body: Json | None = None) -> Json:
    call: Json = {"framework_id": value_id(framework_id), "type": call_type}
    if body is not None:
        call[call_type.lower()] = body
    return call


def filters(refuse_seconds: float | None) -> Json | None:
    return None if refuse_seconds is None else {"refuse_seconds": float(refuse_seconds)}


def accept(
    framework_id: str,
    offer_ids: Sequence[str],
    operations: Sequence[Mapping[str, Any]],
    refuse_seconds: float | None = None,
) -> Json:
    if not offer_ids:
        raise InvalidInput("ACCEPT needs at least one offer id")
    body: Json = {
        "offer_ids": [value_id(o) for o in offer_ids],
        "operations": [dict(op) for op in operations],
    }
    f = filters(refuse_seconds)
    if f is not None:
        body["filters"] = f
    return _call(framework_id, "ACCEPT", body)


def decline(framework_id: str, offer_ids: Sequence[str], refuse_seconds: float | None = None) -> Json:
    if not offer_ids:
        raise InvalidInput("DECLINE needs at least one offer id")
    body: Json = {"offer_ids": [value_id(o) for o in offer_ids]}
    f = filters(refuse_seconds)
    if f is not None:
        body["filters"] = f
    return _call(framework_id, "DECLINE", body)


def revive(framework_id: str, roles: Sequence[str] = ()) -> Json:
    """REVIVE the given roles; no roles means all of the framework's roles."""
    return _call(framework_id, "REVIVE", {"roles": list(roles)} if roles else {})


def suppress(framework_id: str, roles: Sequence[str] = ()) -> Json:
    """SUPPRESS the given roles; no roles means all of the framework's roles."""
    return _call(framework_id, "SUPPRESS", {"roles": list(roles)} if roles else {})


def kill(
    framework_id: str, task_id: str, agent_id: str | None = None, grace_seconds: float | None = None
) -> Json:
    body: Json = {"task_id": value_id(task_id)}
    if agent_id is not None:
        body["agent_id"] = value_id(agent_id)
    if grace_seconds is not None:
        if grace_seconds < 0:
            raise InvalidInput(f"kill grace period must be non-negative, got {grace_seconds}")
        body["kill_policy"] = {"grace_period": {"nanoseconds": int(grace_seconds * 1e9)}}
    return _call(framework_id, "KILL", body)


def acknowledge(framework_id: str, agent_id: str, task_id: str, uuid_b64: str) -> Json:
    """ACKNOWLEDGE echoes the update's base64 uuid unchanged (re-encoding it breaks the match)."""
    if not uuid_b64:
        raise InvalidInput(
            "cannot acknowledge a status update without uuid (Mesos answers 'Not a valid UUID')"
        )
    try:
        raw = base64.b64decode(uuid_b64, validate=True)
    except ValueError as exc:
        raise InvalidInput(f"status uuid is not base64: {uuid_b64!r}") from exc
    if len(raw) != 16:
        raise InvalidInput(f"status uuid must be 16 bytes, got {len(raw)}")
    return _call(
        framework_id,
        "ACKNOWLEDGE",
        {"agent_id": value_id(agent_id), "task_id": value_id(task_id), "uuid": uuid_b64},
    )


def acknowledge_operation_status(framework_id: str, agent_id: str, operation_id: str, uuid_b64: str) -> Json:
    """ACKNOWLEDGE_OPERATION_STATUS: echo the inner base64 of the status uuid (the ack field is bytes)."""
    if not uuid_b64:
        raise InvalidInput("cannot acknowledge an operation status without uuid")
    return _call(
        framework_id,
        "ACKNOWLEDGE_OPERATION_STATUS",
        {"agent_id": value_id(agent_id), "operation_id": value_id(operation_id), "uuid": uuid_b64},
    )


def reconcile(framework_id: str, tasks: Sequence[tuple[str, str | None]] = ()) -> Json:
    """RECONCILE: explicit for the given (task id, agent id) pairs, implicit when empty.

    The ``reconcile`` object must be present even for implicit reconciliation.
    """
    entries: list[Json] = []
    for task_id, agent_id in tasks:
        entry: Json = {"task_id": value_id(task_id)}
        if agent_id is not None:
            entry["agent_id"] = value_id(agent_id)
        entries.append(entry)
    return _call(framework_id, "RECONCILE", {"tasks": entries} if entries else {})


def teardown(framework_id: str) -> Json:
    return _call(framework_id, "TEARDOWN")


def message(framework_id: str, agent_id: str, executor_id: str, data: bytes) -> Json:
    return _call(
        framework_id,
        "MESSAGE",
        {
            "agent_id": value_id(agent_id),
            "executor_id": value_id(executor_id),
            "data": base64.b64encode(data).decode(),
        },
    )


def shutdown(framework_id: str, executor_id: str, agent_id: str) -> Json:
    return _call(
        framework_id, "SHUTDOWN", {"executor_id": value_id(executor_id), "agent_id": value_id(agent_id)}
    )
