"""Request and response bodies of the REST API (docs/API.md), as they appear in the OpenAPI schema."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from model.cluster import LOCATION_NAME_RE, PEER_URL_RE

# A seed as peers send it: an IPv4/hostname, optionally with the storage port.
SEED_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}(:[0-9]{1,5})?$")


class Message(BaseModel):
    message: str


class Accepted(BaseModel):
    message: str
    config_id: str | None = None


class ErrorBody(BaseModel):
    message: str
    errors: list[str] | None = None


class Health(BaseModel):
    status: str = Field(description="ok, or degraded while the state store is unreachable")
    leader: bool
    mesos: str
    zookeeper: str


class ClusterInfo(BaseModel):
    name: str
    spec: dict[str, Any]
    config_id: str
    status: str = Field(description="PENDING, DEPLOYING, RUNNING, RECOVERING, WAITING, ERROR or UNINSTALLING")
    nodes: int = Field(description="nodes the spec asks for")
    nodes_running: int = Field(description="nodes whose task is TASK_RUNNING")
    plans: dict[str, str] = Field(description="plan name -> plan status")


class BlockInfo(BaseModel):
    id: str
    name: str
    status: str
    message: str


class PhaseInfo(BaseModel):
    id: str
    name: str
    status: str
    strategy: str
    blocks: list[BlockInfo]


class PlanInfo(BaseModel):
    name: str
    status: str
    strategy: str
    errors: list[str]
    phases: list[PhaseInfo]


class NodeInfo(BaseModel):
    name: str
    task_id: str
    agent_id: str
    hostname: str | None
    state: str
    mode: str
    ports: dict[str, int]


class OfferWaitInfo(BaseModel):
    node: str
    waiting_s: float = Field(description="seconds since the scheduler first wanted to launch it")
    checked_s_ago: float | None = Field(description="seconds since offers were weighed for it; null: not yet")
    reasons: list[str] = Field(description='why each offer weighed last did not fit, "agent: reason"')


class NodeDetail(NodeInfo):
    cql_ready: bool
    launch_count: int
    seed: bool
    live: bool = Field(description="true when the node's sidecar answered just now")
    live_error: str | None = None
    host_id: str | None = None
    data_center: str | None = None
    rack: str | None = None
    load: str | None = None
    tokens: int | None = None
    version: str | None = None


class Seeds(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    is_seed: bool = Field(alias="isSeed")
    seeds: list[str]


class Connection(BaseModel):
    address: list[str]
    dns: list[str]


class ScaleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: int = Field(ge=1, le=1000, description="the new node count; grow only")

    @field_validator("nodes", mode="before")
    @classmethod
    def _a_number(cls, v: Any) -> Any:
        # JSON numbers only (3 or 3.0); "3" and true are refused rather than coerced.
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError("must be an integer")
        return v


class DatacenterInfo(BaseModel):
    """A framework instance's datacenter of a cluster: its name, where to reach it, its seeds."""

    model_config = ConfigDict(extra="forbid")

    data_center: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=2048)
    seeds: list[str] = Field(default_factory=list, max_length=1000)

    @field_validator("data_center")
    @classmethod
    def _dc(cls, v: str) -> str:
        if not LOCATION_NAME_RE.match(v):
            raise ValueError(f"{v!r}: letters, digits, '_', '.', '-' only, 1 to 64 characters")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not PEER_URL_RE.match(v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[str]) -> list[str]:
        for s in v:
            m = SEED_RE.match(s)
            if m is None or (m.group(1) and not 1 <= int(m.group(1)[1:]) <= 65535):
                raise ValueError(f"seed {s!r} is not an address or address:port")
        return v


class MaintenanceStart(BaseModel):
    """Body of ``PUT /v1/clusters/{c}/{cleanup,repair}/start`` (dcos-cassandra-service's shape)."""

    model_config = ConfigDict(extra="forbid")

    nodes: list[str] | str = Field(description='node names, or ["*"] for every launched node')
    key_spaces: list[str] | str | None = Field(
        default=None, description="keyspaces (default: every keyspace the command covers); a list or 'a,b'"
    )
    column_families: list[str] | str | None = Field(
        default=None, description="tables of the one keyspace in key_spaces (default: all)"
    )


class BackupStart(BaseModel):
    """Body of ``PUT /v1/clusters/{c}/backup/start`` (dcos-cassandra-service's names)."""

    model_config = ConfigDict(extra="forbid")

    backup_name: str = Field(description="a name for the backup: letters, digits, '_', '.', '-'")
    external_location: str = Field(
        description="file:///<dir>: a directory every agent mounts at the same path (NFS or the like)"
    )
    key_spaces: list[str] | str | None = Field(
        default=None, description="keyspaces (default: every non-system keyspace); a list or 'a,b'"
    )


class RestoreStart(BaseModel):
    """Body of ``PUT /v1/clusters/{c}/restore/start``."""

    model_config = ConfigDict(extra="forbid")

    backup_name: str
    external_location: str = Field(description="where the backup was written: file:///<dir>")
