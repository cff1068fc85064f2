"""Maintenance operations run by the sidecars, node by node: ``cleanup``, ``repair``, ``backup``
and ``restore`` (the last two with a ``backup_name`` and a shared-directory ``location``).

``PUT /v1/clusters/{c}/{cleanup,repair}/start`` stores a ``MaintenanceRequest`` as the intents of
the plan of the same name; the plan (``plans.cassandra.maintenance``) has one block per node, run
one node at a time. A block asks the node's sidecar to run a ``Job`` (``POST /v1/jobs``) and
follows it through the sidecar's ``JobStatus`` (polled with the node's health); the outcome is
written back into the request (``results``), so a finished node stays finished across scheduler
failover and task restarts. The request stays stored after the plan completes (the plan stays
visible until the next start); ``stop`` deletes it, and the reconciler then stops every job the
sidecars still run for it.

dcos-cassandra-service's defects fixed here: unknown node names are refused (it dropped them),
``stop`` stops the work in flight (it only forgot the plan), a second start while one runs is a
409 (it was a 400), and ``key_spaces``/``column_families`` are accepted as a list or as the
comma-separated string its CLI sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from model.errors import CorruptRecord, InvalidInput
from model.intents import PlanIntents
from model.node import is_node_name

CLEANUP = "cleanup"
REPAIR = "repair"
BACKUP = "backup"
RESTORE = "restore"
MAINTENANCE_KINDS = (CLEANUP, REPAIR)
BACKUP_KINDS = (BACKUP, RESTORE)
ALL_KINDS = (*MAINTENANCE_KINDS, *BACKUP_KINDS)
BACKUP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
REASON_OPERATOR = "operator"
REASON_SCALE_OUT = "scale-out"

# Cassandra identifiers (unquoted): also keeps anything but a name out of nodetool's arguments.
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9_]{1,48}$")
JOB_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

# What a sidecar says about a job.
JOB_RUNNING = "RUNNING"
JOB_SUCCEEDED = "SUCCEEDED"
JOB_FAILED = "FAILED"
JOB_STOPPED = "STOPPED"
JOB_STATES = (JOB_RUNNING, JOB_SUCCEEDED, JOB_FAILED, JOB_STOPPED)
# What a request records per node once its job ended.
FINISHED_STATES = (JOB_SUCCEEDED, JOB_FAILED)


@dataclass(frozen=True)
class Job:
    """One node's part of an operation: what its sidecar runs (``POST /v1/jobs`` body)."""

    id: str
    kind: str
    key_spaces: tuple[str, ...] = ()
    column_families: tuple[str, ...] = ()
    # backup and restore: the backup's name and the directory (every agent mounts it) holding it.
    backup_name: str = ""
    location: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ALL_KINDS:
            raise InvalidInput(f"job kind must be one of {list(ALL_KINDS)}, got {self.kind!r}")
        if not JOB_ID_RE.match(self.id):
            raise InvalidInput(f"job id {self.id!r}: letters, digits, '_', '.', '-' only, 1 to 128")
        _check_names(self.key_spaces, self.column_families)
        if self.kind in BACKUP_KINDS:
            check_backup_name(self.backup_name)
            check_location(self.location)

    def nodetool_commands(self) -> list[list[str]]:
        """The nodetool invocations, in order. No keyspace: every keyspace the command covers by
        default (cleanup: all non-local ones; repair: all but system_distributed). Repair is full
        and primary-range: run on every node in turn, each range is repaired exactly once."""
        verb = ["cleanup"] if self.kind == CLEANUP else ["repair", "-full", "-pr"]
        if not self.key_spaces:
            return [verb]
        return [[*verb, "--", ks, *self.column_families] for ks in self.key_spaces]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "key_spaces": list(self.key_spaces),
            "column_families": list(self.column_families),
        }
        if self.kind in BACKUP_KINDS:
            out.update(backup_name=self.backup_name, location=self.location)
        return out

    @classmethod
    def from_json(cls, data: Any) -> Job:
        if not isinstance(data, Mapping):
            raise InvalidInput("a job must be a JSON object with 'id' and 'kind'")
        unknown = set(data) - {"id", "kind", "key_spaces", "column_families", "backup_name", "location"}
        if unknown:
            raise InvalidInput(f"unknown job fields {sorted(unknown)}")
        return cls(
            id=str(data.get("id") or ""),
            kind=str(data.get("kind") or ""),
            key_spaces=name_list(data.get("key_spaces"), "key_spaces"),
            column_families=name_list(data.get("column_families"), "column_families"),
            backup_name=str(data.get("backup_name") or ""),
            location=str(data.get("location") or ""),
        )


@dataclass(frozen=True)
class JobStatus:
    """A sidecar's account of one job (``GET /v1/jobs``)."""

    id: str
    kind: str
    state: str
    message: str = ""

    @property
    def running(self) -> bool:
        return self.state == JOB_RUNNING

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "state": self.state, "message": self.message}

    @classmethod
    def from_json(cls, data: Any) -> JobStatus | None:
        """None for anything that is not a job status (a sidecar of another version, garbage)."""
        if not isinstance(data, Mapping):
            return None
        state = data.get("state")
        if state not in JOB_STATES or not isinstance(data.get("id"), str):
            return None
        return cls(str(data["id"]), str(data.get("kind") or ""), str(state), str(data.get("message") or ""))


@dataclass(frozen=True)
class NodeResult:
    """How a node's job ended, recorded in the request: ``attempt`` counts restarts of its block."""

    state: str
    attempt: int
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "attempt": self.attempt, "message": self.message}


@dataclass(frozen=True)
class MaintenanceRequest:
    kind: str
    op_id: str
    nodes: tuple[str, ...]
    requested_at: float
    key_spaces: tuple[str, ...] = ()
    column_families: tuple[str, ...] = ()
    reason: str = REASON_OPERATOR
    results: Mapping[str, NodeResult] = field(default_factory=dict)
    backup_name: str = ""
    location: str = ""

    @property
    def plan(self) -> str:
        return self.kind

    def job(self, node: str, attempt: int) -> Job:
        return Job(
            f"{self.kind}-{self.op_id}-{node}-{attempt}",
            self.kind,
            self.key_spaces,
            self.column_families,
            self.backup_name,
            self.location,
        )

    def with_result(self, node: str, result: NodeResult) -> MaintenanceRequest:
        return replace(self, results={**self.results, node: result})

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.kind,
            "op_id": self.op_id,
            "nodes": list(self.nodes),
            "requested_at": self.requested_at,
            "key_spaces": list(self.key_spaces),
            "column_families": list(self.column_families),
            "reason": self.reason,
            "results": {n: r.to_json() for n, r in sorted(self.results.items())},
            "backup_name": self.backup_name,
            "location": self.location,
        }

    def to_intents(self, interrupted: bool = False) -> PlanIntents:
        return PlanIntents(plan=self.plan, interrupted=interrupted, parameters=self.to_json())

    @classmethod
    def from_json(cls, data: Any, where: str = "maintenance request") -> MaintenanceRequest:
        if not isinstance(data, Mapping) or data.get("operation") not in ALL_KINDS:
            raise CorruptRecord(f"{where}: not a cleanup, repair, backup or restore request")
        op_id = data.get("op_id")
        if not isinstance(op_id, str) or not JOB_ID_RE.match(op_id):
            raise CorruptRecord(f"{where}: 'op_id' must be a short identifier")
        nodes = data.get("nodes")
        if not isinstance(nodes, list) or not all(isinstance(n, str) and is_node_name(n) for n in nodes):
            raise CorruptRecord(f"{where}: 'nodes' must be a list of node names")
        at = data.get("requested_at")
        if isinstance(at, bool) or not isinstance(at, int | float):
            raise CorruptRecord(f"{where}: 'requested_at' must be a number")
        try:
            key_spaces = name_list(data.get("key_spaces"), "key_spaces")
            column_families = name_list(data.get("column_families"), "column_families")
        except InvalidInput as exc:
            raise CorruptRecord(f"{where}: {exc}") from None
        raw_results = data.get("results") or {}
        if not isinstance(raw_results, Mapping):
            raise CorruptRecord(f"{where}: 'results' must be an object")
        results = {}
        for node, r in raw_results.items():
            if not isinstance(r, Mapping) or r.get("state") not in FINISHED_STATES:
                raise CorruptRecord(f"{where}: result of {node} must have a state in {list(FINISHED_STATES)}")
            attempt = r.get("attempt")
            if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
                raise CorruptRecord(f"{where}: result of {node} must have an attempt >= 1")
            results[str(node)] = NodeResult(str(r["state"]), attempt, str(r.get("message") or ""))
        return cls(
            kind=str(data["operation"]),
            op_id=op_id,
            nodes=tuple(nodes),
            requested_at=float(at),
            key_spaces=key_spaces,
            column_families=column_families,
            reason=str(data.get("reason") or REASON_OPERATOR),
            results=results,
            backup_name=str(data.get("backup_name") or ""),
            location=str(data.get("location") or ""),
        )


def name_list(value: Any, what: str) -> tuple[str, ...]:
    """A list of Cassandra names, or one comma-separated string (dcos-cassandra's CLI sent that)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Sequence[Any] = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise InvalidInput(f"{what} must be a list of names or a comma-separated string")
    out = []
    for item in items:
        if not isinstance(item, str) or not IDENTIFIER_RE.match(item):
            raise InvalidInput(f"{what}: {item!r} is not a Cassandra name (letters, digits, '_', 1 to 48)")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _check_names(key_spaces: Sequence[str], column_families: Sequence[str]) -> None:
    for what, names in (("key_spaces", key_spaces), ("column_families", column_families)):
        for n in names:
            if not IDENTIFIER_RE.match(n):
                raise InvalidInput(f"{what}: {n!r} is not a Cassandra name")
    if column_families and len(key_spaces) != 1:
        raise InvalidInput("column_families need exactly one keyspace in key_spaces (tables belong to one)")


def parse_start_body(
    body: Any, kind: str, known_nodes: Sequence[str], op_id: str, now: float
) -> MaintenanceRequest:
    """A ``.../{cleanup,repair}/start`` body -> the request to store, or InvalidInput naming why."""
    if not isinstance(body, Mapping):
        raise InvalidInput('the body must be a JSON object such as {"nodes": ["*"]}')
    unknown = set(body) - {"nodes", "key_spaces", "column_families"}
    if unknown:
        raise InvalidInput(f"unknown fields {sorted(unknown)}: expected nodes, key_spaces, column_families")
    nodes = body.get("nodes")
    if isinstance(nodes, str):
        nodes = [n.strip() for n in nodes.split(",") if n.strip()]
    if not isinstance(nodes, list) or not nodes or not all(isinstance(n, str) for n in nodes):
        raise InvalidInput('nodes must be a non-empty list of node names, or ["*"] for every node')
    if not known_nodes:
        raise InvalidInput(f"the cluster has no node yet to run {kind} on")
    if "*" in nodes:
        if len(nodes) > 1:
            raise InvalidInput('nodes: "*" means every node and cannot be combined with names')
        chosen = tuple(known_nodes)
    else:
        missing = [n for n in nodes if n not in known_nodes]
        if missing:
            raise InvalidInput(
                f"nodes {missing} are not nodes of this cluster (known: {', '.join(known_nodes)})"
            )
        chosen = tuple(n for n in known_nodes if n in set(nodes))
    key_spaces = name_list(body.get("key_spaces"), "key_spaces")
    column_families = name_list(body.get("column_families"), "column_families")
    _check_names(key_spaces, column_families)
    return MaintenanceRequest(kind, op_id, chosen, now, key_spaces, column_families)


def check_backup_name(name: str) -> str:
    if not BACKUP_NAME_RE.match(name):
        raise InvalidInput(
            f"backup_name {name!r}: letters, digits, '_', '.', '-', 1 to 64, not starting with a dot"
        )
    return name


def check_location(location: str) -> str:
    """An absolute directory path with no '..' (a filesystem every agent mounts at that path)."""
    if not location.startswith("/") or ".." in location.split("/") or "\x00" in location:
        raise InvalidInput(f"location {location!r}: an absolute directory path is required")
    return location


def location_of(external_location: Any) -> str:
    """``file:///backups`` or ``/backups`` -> ``/backups``; other schemes are refused by name."""
    if not isinstance(external_location, str) or not external_location:
        raise InvalidInput("external_location is required, e.g. file:///mnt/cassandra-backups")
    if external_location.startswith("file://"):
        return check_location(external_location[len("file://") :])
    if "://" in external_location:
        scheme = external_location.split("://", 1)[0]
        raise InvalidInput(
            f"external_location: {scheme}:// is not supported; use file:///<dir>, a directory every "
            "agent mounts at the same path (e.g. NFS)"
        )
    return check_location(external_location)


def parse_backup_body(
    body: Any, kind: str, known_nodes: Sequence[str], op_id: str, now: float
) -> MaintenanceRequest:
    """A ``.../{backup,restore}/start`` body -> the request to store (every launched node takes
    part: a backup is of the whole cluster, a restore gives each node its own files back)."""
    if not isinstance(body, Mapping):
        raise InvalidInput(
            'the body must be a JSON object such as {"backup_name": "b1", "external_location": ...}'
        )
    allowed = {"backup_name", "external_location"} | ({"key_spaces"} if kind == BACKUP else set())
    unknown = set(body) - allowed
    if unknown:
        raise InvalidInput(f"unknown fields {sorted(unknown)}: expected {', '.join(sorted(allowed))}")
    name = check_backup_name(str(body.get("backup_name") or ""))
    location = location_of(body.get("external_location"))
    if not known_nodes:
        raise InvalidInput(f"the cluster has no node yet to {kind}")
    key_spaces = name_list(body.get("key_spaces"), "key_spaces")
    return MaintenanceRequest(
        kind, op_id, tuple(known_nodes), now, key_spaces, (), backup_name=name, location=location
    )
