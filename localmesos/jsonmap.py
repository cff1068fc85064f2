"""The JSON ↔ protobuf mapping Mesos applies to v1 calls (reference §1.2), without protobuf.

`parse_message(json, "scheduler.Call")` checks a decoded JSON value the way stout's
`protobuf::parse` does: field kinds (`Not expecting a JSON string for field 'framework_id'`),
enum names (unknown in an optional field ⇒ dropped, in a required one ⇒ error), base64 bytes,
then required fields (`Missing required fields: <paths>`). Unknown keys are ignored. The result is
the same JSON with dropped enums removed; callers then read it as plain dicts.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


class ConversionError(ValueError):
    """The JSON cannot be converted into the protobuf message; the text is stout's."""


@dataclass(frozen=True)
class F:
    """One proto field: kind is string|double|int|bool|bytes|enum|msg|any."""

    kind: str
    ref: str = ""  # message name for msg, enum name for enum
    required: bool = False
    repeated: bool = False


def _f(kind: str, ref: str = "", *, r: bool = False, rep: bool = False) -> F:
    return F(kind, ref, r, rep)


STR, DBL, INT, BOOL, BYTES, ANY = (_f("string"), _f("double"), _f("int"), _f("bool"), _f("bytes"), _f("any"))


def msg(ref: str, *, r: bool = False, rep: bool = False) -> F:
    return _f("msg", ref, r=r, rep=rep)


def enum(ref: str, *, r: bool = False, rep: bool = False) -> F:
    return _f("enum", ref, r=r, rep=rep)


REQ_STR = _f("string", r=True)
STRS = _f("string", rep=True)

ENUMS: dict[str, tuple[str, ...]] = {
    "Call.Type": (
        "UNKNOWN",
        "SUBSCRIBE",
        "TEARDOWN",
        "ACCEPT",
        "DECLINE",
        "REVIVE",
        "KILL",
        "SHUTDOWN",
        "ACKNOWLEDGE",
        "RECONCILE",
        "MESSAGE",
        "REQUEST",
        "SUPPRESS",
        "ACCEPT_INVERSE_OFFERS",
        "DECLINE_INVERSE_OFFERS",
        "ACKNOWLEDGE_OPERATION_STATUS",
        "RECONCILE_OPERATIONS",
        "UPDATE_FRAMEWORK",
    ),
    "Operation.Type": (
        "UNKNOWN",
        "LAUNCH",
        "LAUNCH_GROUP",
        "RESERVE",
        "UNRESERVE",
        "CREATE",
        "DESTROY",
        "GROW_VOLUME",
        "SHRINK_VOLUME",
        "CREATE_DISK",
        "DESTROY_DISK",
    ),
    "Value.Type": ("SCALAR", "RANGES", "SET", "TEXT"),
    "ReservationInfo.Type": ("UNKNOWN", "STATIC", "DYNAMIC"),
    "Volume.Mode": ("RW", "RO"),
    "Source.Type": ("UNKNOWN", "PATH", "MOUNT", "BLOCK", "RAW"),
    "Capability.Type": (
        "UNKNOWN",
        "REVOCABLE_RESOURCES",
        "TASK_KILLING_STATE",
        "GPU_RESOURCES",
        "SHARED_RESOURCES",
        "PARTITION_AWARE",
        "MULTI_ROLE",
        "RESERVATION_REFINEMENT",
        "REGION_AWARE",
    ),
    "Variable.Type": ("UNKNOWN", "VALUE", "SECRET"),
    "ExecutorInfo.Type": ("UNKNOWN", "DEFAULT", "CUSTOM"),
    "master.Call.Type": (
        "UNKNOWN",
        "GET_HEALTH",
        "GET_FLAGS",
        "GET_VERSION",
        "GET_METRICS",
        "GET_LOGGING_LEVEL",
        "SET_LOGGING_LEVEL",
        "LIST_FILES",
        "READ_FILE",
        "GET_STATE",
        "GET_AGENTS",
        "GET_FRAMEWORKS",
        "GET_EXECUTORS",
        "GET_OPERATIONS",
        "GET_TASKS",
        "GET_ROLES",
        "GET_WEIGHTS",
        "UPDATE_WEIGHTS",
        "GET_MASTER",
        "SUBSCRIBE",
        "RESERVE_RESOURCES",
        "UNRESERVE_RESOURCES",
        "CREATE_VOLUMES",
        "DESTROY_VOLUMES",
        "GROW_VOLUME",
        "SHRINK_VOLUME",
        "GET_MAINTENANCE_STATUS",
        "GET_MAINTENANCE_SCHEDULE",
        "UPDATE_MAINTENANCE_SCHEDULE",
        "START_MAINTENANCE",
        "STOP_MAINTENANCE",
        "DRAIN_AGENT",
        "DEACTIVATE_AGENT",
        "REACTIVATE_AGENT",
        "GET_QUOTA",
        "UPDATE_QUOTA",
        "SET_QUOTA",
        "REMOVE_QUOTA",
        "TEARDOWN",
        "MARK_AGENT_GONE",
    ),
}

ID = {"value": REQ_STR}

MESSAGES: dict[str, dict[str, F]] = {
    "ID": ID,
    "Label": {"key": REQ_STR, "value": STR},
    "Labels": {"labels": msg("Label", rep=True)},
    "Filters": {"refuse_seconds": DBL},
    "Duration": {"nanoseconds": _f("int", r=True)},
    "KillPolicy": {"grace_period": msg("Duration")},
    "Capability": {"type": enum("Capability.Type")},
    "FrameworkInfo": {
        "user": REQ_STR,
        "name": REQ_STR,
        "id": msg("ID"),
        "failover_timeout": DBL,
        "checkpoint": BOOL,
        "role": STR,
        "roles": STRS,
        "hostname": STR,
        "principal": STR,
        "webui_url": STR,
        "capabilities": msg("Capability", rep=True),
        "labels": msg("Labels"),
        "offer_filters": ANY,
    },
    "Subscribe": {
        "framework_info": msg("FrameworkInfo", r=True),
        "suppressed_roles": STRS,
        "offer_constraints": ANY,
    },
    "UpdateFramework": {
        "framework_info": msg("FrameworkInfo", r=True),
        "suppressed_roles": STRS,
        "offer_constraints": ANY,
    },
    "Scalar": {"value": _f("double", r=True)},
    "Range": {"begin": _f("int", r=True), "end": _f("int", r=True)},
    "Ranges": {"range": msg("Range", rep=True)},
    "Set": {"item": STRS},
    "AllocationInfo": {"role": STR},
    "ReservationInfo": {
        "type": enum("ReservationInfo.Type"),
        "role": STR,
        "principal": STR,
        "labels": msg("Labels"),
    },
    "Persistence": {"id": REQ_STR, "principal": STR},
    "Volume": {
        "mode": enum("Volume.Mode", r=True),
        "container_path": REQ_STR,
        "host_path": STR,
        "image": ANY,
        "source": ANY,
    },
    "DiskSource": {
        "type": enum("Source.Type", r=True),
        "path": ANY,
        "mount": ANY,
        "vendor": STR,
        "id": STR,
        "metadata": ANY,
        "profile": STR,
    },
    "DiskInfo": {"persistence": msg("Persistence"), "volume": msg("Volume"), "source": msg("DiskSource")},
    "Resource": {
        "provider_id": msg("ID"),
        "name": REQ_STR,
        "type": enum("Value.Type", r=True),
        "scalar": msg("Scalar"),
        "ranges": msg("Ranges"),
        "set": msg("Set"),
        "role": STR,
        "allocation_info": msg("AllocationInfo"),
        "reservation": msg("ReservationInfo"),
        "reservations": msg("ReservationInfo", rep=True),
        "disk": msg("DiskInfo"),
        "revocable": ANY,
        "shared": ANY,
    },
    "URI": {"value": REQ_STR, "executable": BOOL, "extract": BOOL, "cache": BOOL, "output_file": STR},
    "Variable": {"name": REQ_STR, "type": enum("Variable.Type"), "value": STR, "secret": ANY},
    "Environment": {"variables": msg("Variable", rep=True)},
    "CommandInfo": {
        "uris": msg("URI", rep=True),
        "environment": msg("Environment"),
        "shell": BOOL,
        "value": STR,
        "arguments": STRS,
        "user": STR,
    },
    "ExecutorInfo": {
        "type": enum("ExecutorInfo.Type"),
        "executor_id": msg("ID", r=True),
        "framework_id": msg("ID"),
        "command": msg("CommandInfo"),
        "container": ANY,
        "resources": msg("Resource", rep=True),
        "name": STR,
        "source": STR,
        "data": BYTES,
        "discovery": ANY,
        "shutdown_grace_period": msg("Duration"),
        "labels": msg("Labels"),
    },
    "TaskInfo": {
        "name": REQ_STR,
        "task_id": msg("ID", r=True),
        "agent_id": msg("ID", r=True),
        "resources": msg("Resource", rep=True),
        "executor": msg("ExecutorInfo"),
        "command": msg("CommandInfo"),
        "container": ANY,
        "health_check": ANY,
        "check": ANY,
        "kill_policy": msg("KillPolicy"),
        "data": BYTES,
        "labels": msg("Labels"),
        "discovery": ANY,
        "max_completion_time": msg("Duration"),
        "limits": ANY,
    },
    "TaskGroupInfo": {"tasks": msg("TaskInfo", rep=True)},
    "Launch": {"task_infos": msg("TaskInfo", rep=True)},
    "LaunchGroup": {"executor": msg("ExecutorInfo", r=True), "task_group": msg("TaskGroupInfo", r=True)},
    "Reserve": {"resources": msg("Resource", rep=True), "source": msg("Resource", rep=True)},
    "Unreserve": {"resources": msg("Resource", rep=True)},
    "Create": {"volumes": msg("Resource", rep=True)},
    "Destroy": {"volumes": msg("Resource", rep=True)},
    "Operation": {
        "type": enum("Operation.Type"),
        "id": msg("ID"),
        "launch": msg("Launch"),
        "launch_group": msg("LaunchGroup"),
        "reserve": msg("Reserve"),
        "unreserve": msg("Unreserve"),
        "create": msg("Create"),
        "destroy": msg("Destroy"),
        "grow_volume": ANY,
        "shrink_volume": ANY,
        "create_disk": ANY,
        "destroy_disk": ANY,
    },
    "Accept": {
        "offer_ids": msg("ID", rep=True),
        "operations": msg("Operation", rep=True),
        "filters": msg("Filters"),
    },
    "Decline": {"offer_ids": msg("ID", rep=True), "filters": msg("Filters")},
    "InverseOffers": {"inverse_offer_ids": msg("ID", rep=True), "filters": msg("Filters")},
    "Roles": {"roles": STRS},
    "Kill": {"task_id": msg("ID", r=True), "agent_id": msg("ID"), "kill_policy": msg("KillPolicy")},
    "Shutdown": {"executor_id": msg("ID", r=True), "agent_id": msg("ID", r=True)},
    "Acknowledge": {"agent_id": msg("ID", r=True), "task_id": msg("ID", r=True), "uuid": _f("bytes", r=True)},
    "AcknowledgeOperationStatus": {
        "agent_id": msg("ID"),
        "resource_provider_id": msg("ID"),
        "uuid": _f("bytes", r=True),
        "operation_id": msg("ID", r=True),
    },
    "ReconcileTask": {"task_id": msg("ID", r=True), "agent_id": msg("ID")},
    "Reconcile": {"tasks": msg("ReconcileTask", rep=True)},
    "ReconcileOperation": {
        "operation_id": msg("ID", r=True),
        "agent_id": msg("ID"),
        "resource_provider_id": msg("ID"),
    },
    "ReconcileOperations": {"operations": msg("ReconcileOperation", rep=True)},
    "Message": {"agent_id": msg("ID", r=True), "executor_id": msg("ID", r=True), "data": _f("bytes", r=True)},
    "RequestItem": {"agent_id": msg("ID"), "resources": msg("Resource", rep=True)},
    "Request": {"requests": msg("RequestItem", rep=True)},
    "scheduler.Call": {
        "framework_id": msg("ID"),
        "type": enum("Call.Type"),
        "subscribe": msg("Subscribe"),
        "accept": msg("Accept"),
        "decline": msg("Decline"),
        "accept_inverse_offers": msg("InverseOffers"),
        "decline_inverse_offers": msg("InverseOffers"),
        "revive": msg("Roles"),
        "kill": msg("Kill"),
        "shutdown": msg("Shutdown"),
        "acknowledge": msg("Acknowledge"),
        "acknowledge_operation_status": msg("AcknowledgeOperationStatus"),
        "reconcile": msg("Reconcile"),
        "reconcile_operations": msg("ReconcileOperations"),
        "message": msg("Message"),
        "request": msg("Request"),
        "suppress": msg("Roles"),
        "update_framework": msg("UpdateFramework"),
    },
    "master.Teardown": {"framework_id": msg("ID", r=True)},
    "master.Resources": {"agent_id": msg("ID", r=True), "resources": msg("Resource", rep=True)},
    "master.Volumes": {"agent_id": msg("ID", r=True), "volumes": msg("Resource", rep=True)},
    "master.Call": {
        "type": enum("master.Call.Type"),
        "teardown": msg("master.Teardown"),
        "reserve_resources": msg("master.Resources"),
        "unreserve_resources": msg("master.Resources"),
        "create_volumes": msg("master.Volumes"),
        "destroy_volumes": msg("master.Volumes"),
    },
}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


@dataclass
class _Ctx:
    missing: list[str] = field(default_factory=list)


def _scalar(fd: F, name: str, value: Any) -> tuple[bool, Any]:
    """Convert one non-repeated, non-message value; (keep, value)."""
    kind = _kind_of(value)
    wrong = ConversionError(f"Not expecting a JSON {kind} for field '{name}'")
    if fd.kind == "any":
        return True, value
    if fd.kind == "string":
        if kind != "string":
            raise wrong
        return True, value
    if fd.kind == "bytes":
        if kind != "string":
            raise wrong
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConversionError(f"Failed to base64-decode field '{name}'") from exc
        return True, value
    if fd.kind == "bool":
        if kind != "boolean":
            raise wrong
        return True, value
    if fd.kind in ("double", "int"):
        if kind == "string":
            try:
                number = float(value) if fd.kind == "double" else int(value)
            except ValueError as exc:
                raise ConversionError(f"Failed to convert '{value}' to number for field '{name}'") from exc
            return True, number
        if kind != "number":
            raise wrong
        if fd.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ConversionError(
                    f"Failed to convert JSON number '{value}' to integer for field '{name}'"
                )
            return True, int(value)
        if isinstance(value, float) and math.isnan(value):
            return True, value
        return True, value
    if fd.kind == "enum":
        if kind != "string":
            raise wrong
        if value in ENUMS[fd.ref]:
            return True, value
        if fd.required:
            raise ConversionError(f"Failed to find enum for '{value}'")
        return False, None
    raise AssertionError(fd.kind)


def _message(value: JsonDict, schema: str, path: str, ctx: _Ctx) -> JsonDict:
    fields = MESSAGES[schema]
    out: JsonDict = {}
    for key, item in value.items():
        fd = fields.get(key)
        if fd is None:
            continue  # unknown keys are ignored, like stout
        if item is None:
            continue
        sub = f"{path}{key}"
        if fd.repeated:
            if not isinstance(item, list):
                raise ConversionError(f"Not expecting a JSON {_kind_of(item)} for field '{key}'")
            items = []
            for i, elem in enumerate(item):
                if fd.kind == "msg":
                    if not isinstance(elem, dict):
                        raise ConversionError(f"Not expecting a JSON {_kind_of(elem)} for field '{key}'")
                    items.append(_message(elem, fd.ref, f"{sub}[{i}].", ctx))
                else:
                    if elem is None:
                        raise ConversionError(f"Not expecting a JSON null for field '{key}'")
                    keep, v = _scalar(fd, key, elem)
                    if keep:
                        items.append(v)
            out[key] = items
        elif fd.kind == "msg":
            if not isinstance(item, dict):
                raise ConversionError(f"Not expecting a JSON {_kind_of(item)} for field '{key}'")
            out[key] = _message(item, fd.ref, f"{sub}.", ctx)
        else:
            if isinstance(item, list):
                raise ConversionError(f"Not expecting a JSON array for field '{key}'")
            keep, v = _scalar(fd, key, item)
            if keep:
                out[key] = v
    for key, fd in fields.items():
        if fd.required and key not in out:
            ctx.missing.append(f"{path}{key}")
    return out


def parse_message(value: Any, schema: str) -> JsonDict:
    """Convert decoded JSON into the named message; raises ConversionError with stout's text."""
    if not isinstance(value, dict):
        raise ConversionError("Expecting a JSON object")
    ctx = _Ctx()
    out = _message(value, schema, "", ctx)
    if ctx.missing:
        raise ConversionError("Missing required fields: " + ", ".join(ctx.missing))
    return out


def id_of(value: Any) -> str | None:
    """`{"value": "x"}` → "x"; None when absent."""
    if isinstance(value, dict):
        v = value.get("value")
        return v if isinstance(v, str) else None
    return None


def id_obj(value: str) -> JsonDict:
    return {"value": value}


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text)


def is_valid_uuid_bytes(raw: bytes) -> bool:
    """stout `UUID::fromBytes`: 16 bytes carrying a known RFC-4122 version."""
    if len(raw) != 16:
        return False
    version = raw[6] >> 4
    variant_ok = (raw[8] & 0xC0) == 0x80
    return 1 <= version <= 5 and variant_ok
