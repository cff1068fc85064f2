"""Master-side validation with Mesos' exact messages (reference §5.2, §8.2)."""

from __future__ import annotations

import math
from collections.abc import Container
from typing import Any

from localmesos import resources as res
from localmesos.jsonmap import b64decode, id_of, is_valid_uuid_bytes
from localmesos.master.state import JsonDict

NAME_MAX = 255
MAX_DURATION_SECONDS = 9.2e9


class CallError(ValueError):
    """`Failed to validate scheduler::Call: <msg>` (400)."""


def id_error(value: str) -> str | None:
    """common/validation.cpp `validateID`."""
    if not value:
        return "ID must not be empty"
    if len(value) > NAME_MAX:
        return f"ID must not be greater than {NAME_MAX} characters"
    if value in (".", ".."):
        return f"'{value}' is disallowed"
    if any(ch in "/\\" or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return f"'{value}' contains invalid characters"
    return None


_BODY_OF = {
    "ACCEPT": "accept",
    "DECLINE": "decline",
    "ACCEPT_INVERSE_OFFERS": "accept_inverse_offers",
    "DECLINE_INVERSE_OFFERS": "decline_inverse_offers",
    "KILL": "kill",
    "SHUTDOWN": "shutdown",
    "ACKNOWLEDGE": "acknowledge",
    "ACKNOWLEDGE_OPERATION_STATUS": "acknowledge_operation_status",
    "RECONCILE": "reconcile",
    "RECONCILE_OPERATIONS": "reconcile_operations",
    "MESSAGE": "message",
    "REQUEST": "request",
    "UPDATE_FRAMEWORK": "update_framework",
}


def validate_call(call: JsonDict) -> None:
    """validation::scheduler::call::validate; raises CallError."""
    kind = call.get("type")
    if kind is None:
        raise CallError("Expecting 'type' to be present")
    if kind == "SUBSCRIBE":
        if "subscribe" not in call:
            raise CallError("Expecting 'subscribe' to be present")
        info = call["subscribe"]["framework_info"]
        if id_of(info.get("id")) != id_of(call.get("framework_id")):
            raise CallError("'framework_id' differs from 'subscribe.framework_info.id'")
        return
    if "framework_id" not in call:
        raise CallError("Expecting 'framework_id' to be present")
    body = _BODY_OF.get(kind)
    if body is not None and body not in call:
        raise CallError(f"Expecting '{body}' to be present")
    if kind == "ACKNOWLEDGE" and not is_valid_uuid_bytes(b64decode(call["acknowledge"]["uuid"])):
        raise CallError("Not a valid UUID")
    if kind == "ACKNOWLEDGE_OPERATION_STATUS":
        ack = call["acknowledge_operation_status"]
        if not is_valid_uuid_bytes(b64decode(ack["uuid"])):
            raise CallError("Not a valid UUID")
        if "agent_id" not in ack:
            raise CallError("Expecting 'agent_id' to be present")
    if kind == "UPDATE_FRAMEWORK" and (
        id_of(call["update_framework"]["framework_info"].get("id")) != id_of(call["framework_id"])
    ):
        raise CallError("'framework_id' differs from 'update_framework.framework_info.id'")


def framework_error(info: JsonDict, suppressed: list[str]) -> str | None:
    """FrameworkInfo checks of SUBSCRIBE / UPDATE_FRAMEWORK (reference §5.2); None when valid."""
    caps = {c.get("type") for c in info.get("capabilities") or []}
    multi = "MULTI_ROLE" in caps
    roles: list[str] = list(info.get("roles") or [])
    if multi and "role" in info:
        return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
    if not multi and roles:
        return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
    if multi:
        dups = sorted({r for r in roles if roles.count(r) > 1})
        if dups:
            return f"'FrameworkInfo.roles' contains duplicate items: {', '.join(dups)}"
        for role in roles:
            err = res.role_error(role)
            if err:
                return f"'FrameworkInfo.roles' contains invalid role: {err}"
    elif "role" in info:
        err = res.role_error(info["role"])
        if err:
            return f"'FrameworkInfo.role' is not a valid role: {err}"
    fid = id_of(info.get("id"))
    if fid is not None:
        err = id_error(fid)
        if err:
            return f"'FrameworkInfo.id' is invalid: {err}"
    timeout = info.get("failover_timeout")
    if timeout is not None and (
        not math.isfinite(float(timeout)) or abs(float(timeout)) > MAX_DURATION_SECONDS
    ):
        return f"The framework failover_timeout ({_num(timeout)}) is invalid"
    effective = roles if multi else [info.get("role") or "*"]
    for role in suppressed:
        if role not in effective:
            return f"Suppressed role '{role}' is not contained in the list of roles"
    return None


def _num(value: Any) -> str:
    f = float(value)
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return f"{f:g}"


def task_error(
    task: JsonDict, agent_id: str, known_ids: Container[str], unreachable_ids: Container[str]
) -> str | None:
    """The checks validateTask runs before the resources, in Mesos' order."""
    task_id = id_of(task.get("task_id")) or ""
    err = id_error(task_id)
    if err:
        return err
    if task_id in known_ids:
        return f"Task has duplicate ID: {task_id}"
    if task_id in unreachable_ids:
        return f"Task reuses the ID of an unreachable task: {task_id}"
    if id_of(task.get("agent_id")) != agent_id:
        return f"Task uses invalid agent {id_of(task.get('agent_id'))} while agent {agent_id} is expected"
    grace = ((task.get("kill_policy") or {}).get("grace_period") or {}).get("nanoseconds")
    if grace is not None and int(grace) < 0:
        return "Task's 'kill_policy.grace_period' must be non-negative"
    mct = (task.get("max_completion_time") or {}).get("nanoseconds")
    if mct is not None and int(mct) < 0:
        return "Task's `max_completion_time` must be non-negative"
    check = task.get("health_check")
    # The master fills `type` for legacy checks that only set `command` or `http`.
    if isinstance(check, dict) and not ({"type", "command", "http"} & set(check)):
        return "Task uses invalid health check: HealthCheck must specify 'type'"
    return None


def task_command_error(task: JsonDict) -> str | None:
    """The checks after the resources: CommandInfo, then command-or-executor (validateExecutor)."""
    for var in ((task.get("command") or {}).get("environment") or {}).get("variables") or []:
        if var.get("type", "VALUE") == "VALUE" and "value" not in var:
            return (
                f"Task's `CommandInfo` is invalid: Environment variable '{var.get('name')}' "
                "of type 'VALUE' must have a value set"
            )
    if ("command" in task) == ("executor" in task):
        return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
    executor = task.get("executor")
    if executor is not None:
        err = id_error(id_of(executor.get("executor_id")) or "")
        if err:
            return err
        if executor.get("type", "CUSTOM") != "CUSTOM":
            return "'ExecutorInfo.type' must be 'CUSTOM'"
        if "command" not in executor:
            return "'ExecutorInfo.command' must be set"
    return None


def task_resources_error(resources: list[JsonDict]) -> str | None:
    """Checks on the upgraded task resources (after format validation)."""
    if not resources:
        return "Task uses no resources"
    ids = [res.persistence_id(r) for r in resources if res.is_persistent_volume(r)]
    dups = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    if dups:
        return f"Task uses duplicate persistence ID: {', '.join(dups)}"
    roles = sorted({(r.get("allocation_info") or {}).get("role", "") for r in resources})
    if len(roles) > 1:
        return (
            f"Invalid task resources: The resources have multiple allocation roles ('{roles[0]}' and "
            f"'{roles[1]}') but only one allocation role is allowed"
        )
    revocable = {"revocable" in r for r in resources}
    if len(revocable) > 1:
        return f"Task mixes revocable and non-revocable resources: {res.describe_all(resources)}"
    return None
