"""JSON documents in znodes: encoding what we write, and strict decoding of what we read.

Every decoding error names the znode path and is a ``CorruptRecord``: a document we cannot
read is reported, never skipped and never deleted.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from framework.store.base import ConfigVersion, JsonObject
from model.errors import CorruptRecord, InvalidInput
from model.records import TaskRecord

# ZooKeeper refuses requests above jute.maxbuffer (1 MiB by default) by dropping the connection,
# which would look like an outage; refuse big documents here with a clear error instead.
MAX_DOCUMENT_BYTES = 512 * 1024


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Decoding 1,000 task records allocates ~10^5 acyclic containers; the cyclic collector
    scanning them while they pile up doubled the load time, so it waits for the batch."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def encode(what: str, doc: Any) -> bytes:
    """Compact, key-sorted JSON; InvalidInput naming ``what`` if it is not JSON or too big."""
    try:
        data = json.dumps(doc, separators=(",", ":"), sort_keys=True, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} is not a JSON document: {exc}") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"{what} is {len(data)} bytes of JSON, more than the {MAX_DOCUMENT_BYTES} allowed")
    return data


def require_object(what: str, doc: object) -> JsonObject:
    if not isinstance(doc, Mapping):
        raise InvalidInput(f"{what} must be a JSON object, got {type(doc).__name__}")
    return doc


def decode(path: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptRecord(f"{path}: not a JSON document ({exc})") from exc


def decode_object(path: str, data: bytes) -> dict[str, Any]:
    doc = decode(path, data)
    if not isinstance(doc, dict):
        raise CorruptRecord(f"{path}: expected a JSON object, got {type(doc).__name__}")
    return doc


def _field(path: str, doc: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in doc:
        raise CorruptRecord(f"{path}: missing field {name!r}")
    value = doc[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise CorruptRecord(f"{path}: field {name!r} has the wrong type {type(value).__name__}")
    return value


# -- schema -------------------------------------------------------------------------------------


def encode_schema(version: int) -> bytes:
    return encode("schema", {"version": version})


def decode_schema(path: str, data: bytes) -> int:
    version = int(_field(path, decode_object(path, data), "version", int))
    if version < 1:
        raise CorruptRecord(f"{path}: schema version {version} is not a version this store ever wrote")
    return version


# -- framework id -------------------------------------------------------------------------------


def encode_framework_id(framework_id: str) -> bytes:
    if not isinstance(framework_id, str) or not framework_id:
        raise InvalidInput(f"framework id must be a non-empty string, got {framework_id!r}")
    return encode("framework id", {"framework_id": framework_id})


def decode_framework_id(path: str, data: bytes) -> str:
    value = _field(path, decode_object(path, data), "framework_id", str)
    if not value:
        raise CorruptRecord(f"{path}: empty framework id")
    return str(value)


# -- configs and target -------------------------------------------------------------------------


def encode_config(config_id: str, spec: JsonObject, created_at: float) -> bytes:
    require_object("cluster spec", spec)
    return encode("cluster spec", {"config_id": config_id, "spec": spec, "created_at": created_at})


def decode_config(path: str, data: bytes, config_id: str) -> ConfigVersion:
    doc = decode_object(path, data)
    stored_id = _field(path, doc, "config_id", str)
    if stored_id != config_id:
        raise CorruptRecord(f"{path}: holds config {stored_id!r}, not {config_id!r}")
    created_at = float(_field(path, doc, "created_at", (int, float)))
    if not math.isfinite(created_at):
        raise CorruptRecord(f"{path}: created_at is not a time")
    return ConfigVersion(config_id, _field(path, doc, "spec", dict), created_at)


def encode_target(config_id: str, sequence: int) -> bytes:
    return encode("target", {"config_id": config_id, "sequence": sequence})


def decode_target(path: str, data: bytes) -> tuple[str, int]:
    """``(config_id, sequence)``: the sequence numbers the cluster's config ids."""
    doc = decode_object(path, data)
    config_id = _field(path, doc, "config_id", str)
    sequence = int(_field(path, doc, "sequence", int))
    return config_id, sequence


def config_id_for(sequence: int, unique: str) -> str:
    """Sortable by creation (zero-padded sequence), unique across a deleted and recreated cluster."""
    return f"{sequence:08d}-{unique}"


# -- tasks --------------------------------------------------------------------------------------


def encode_task(record: TaskRecord) -> bytes:
    what = f"task record of {record.cluster}/{record.node}"
    data = encode(what, record.to_json())
    # Refuse now what could not be read back later.
    try:
        TaskRecord.from_json(json.loads(data), where=what)
    except CorruptRecord as exc:
        raise InvalidInput(str(exc)) from exc
    return data


def decode_task(path: str, data: bytes, cluster: str, node: str) -> TaskRecord:
    record = TaskRecord.from_json(decode(path, data), where=path)
    if (record.cluster, record.node) != (cluster, node):
        raise CorruptRecord(f"{path}: holds the record of {record.cluster}/{record.node}")
    return record


def status_task_id(status: JsonObject) -> str:
    try:
        task_id = status["task_id"]["value"]
        state = status["state"]
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"task status needs task_id.value and state, missing {exc}") from exc
    if not isinstance(task_id, str) or not isinstance(state, str):
        raise InvalidInput("task status: task_id.value and state must be strings")
    return task_id
