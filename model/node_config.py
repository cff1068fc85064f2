"""What the scheduler tells one Cassandra node: the contract between scheduler and sidecar.

The scheduler builds a :class:`NodeConfig` per node and puts it, as JSON, in ONE environment
variable (``CM_NODE_CONFIG``) of the task's CommandInfo; the sidecar reads it back with
:meth:`NodeConfig.from_env`. Everything the sidecar needs to render ``cassandra.yaml`` and start
the JVM is here, except the seeds, which change over the node's life and are asked for at
``{scheduler_url}/v1/clusters/{cluster}/seeds?node={node}``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model.errors import InvalidInput

ENV_VAR: Final = "CM_NODE_CONFIG"

# cassandra.yaml keys the sidecar derives from the fields of NodeConfig (identity, ports, volume,
# seeds, snitch); an override would silently split the node from what the scheduler reserved.
OWNED_YAML_KEYS: Final = frozenset(
    {
        "cluster_name",
        "listen_address",
        "listen_interface",
        "broadcast_address",
        "rpc_address",
        "rpc_interface",
        "broadcast_rpc_address",
        "storage_port",
        "ssl_storage_port",
        "native_transport_port",
        "native_transport_port_ssl",
        "data_file_directories",
        "commitlog_directory",
        "hints_directory",
        "saved_caches_directory",
        "cdc_raw_directory",
        "seed_provider",
        "endpoint_snitch",
        "num_tokens",
        "initial_token",
        "auto_bootstrap",
    }
)

# JVM options that would undo what the sidecar owns: the heap (heap_mb), JMX (ports.jmx) and the
# config locations it writes.
_OWNED_JVM_PREFIXES: Final = (
    ("-Xmx", "heap_mb"),
    ("-Xms", "heap_mb"),
    ("-XX:MaxHeapSize", "heap_mb"),
    ("-XX:InitialHeapSize", "heap_mb"),
    ("-Dcassandra.jmx.", "ports.jmx"),
    ("-Dcom.sun.management.jmxremote.port", "ports.jmx"),
    ("-Dcassandra.config=", "cassandra_yaml"),
    ("-Dcassandra-rackdc.properties", "data_center/rack"),
    ("-Dcassandra.replace_address", "replace_address"),
    ("-Dcassandra.initial_token", "initial_token"),
    ("-Dcassandra.storagedir", "volume_path"),
)

# Startup-speed knobs for tests and development (cassandra-runtime.md §4). NOT production
# defaults: RING_DELAY guards bootstrap/decommission safety margins. The gossip settle wait is
# shortened (≈3.5 s instead of ≈8 s), never skipped: a node that serves CQL before it has learned
# the ring takes a CREATE KEYSPACE thinking it is alone in its datacenter.
FAST_START_JVM_OPTIONS: Final[tuple[str, ...]] = (
    "-Dcassandra.ring_delay_ms=5000",
    "-Dcassandra.gossip_settle_min_wait_ms=2000",
    "-Dcassandra.gossip_settle_interval_ms=500",
    "-XX:TieredStopAtLevel=1",
)

# Small-machine sizing for tests and development (cassandra-runtime.md §5.2): a node fits in
# ~1 GB RSS with a 512 MB heap and leaves disk alone.
DEV_CASSANDRA_YAML: Final[Mapping[str, Any]] = {
    "memtable_heap_space": "64MiB",
    "key_cache_size": "16MiB",
    "counter_cache_size": "0MiB",
    "index_summary_capacity": "16MiB",
    "networking_cache_size": "32MiB",
    "concurrent_reads": 8,
    "concurrent_writes": 8,
    "concurrent_counter_writes": 8,
    "concurrent_materialized_view_writes": 8,
    "concurrent_compactors": 1,
    "memtable_flush_writers": 1,
    "native_transport_max_threads": 32,
    "commitlog_segment_size": "8MiB",
    "commitlog_total_space": "256MiB",
}

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
_NODE = re.compile(r"^node-(0|[1-9][0-9]{0,4})$")
_DC_RACK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_TOKEN = re.compile(r"^-?[0-9]{1,20}(,\s*-?[0-9]{1,20})*$")


class InvalidNodeConfig(InvalidInput):
    """CM_NODE_CONFIG is missing or does not describe a node; the message names the field."""


Port = Field(ge=1, le=65535)


class NodePorts(BaseModel):
    """The node's five reserved ports, fixed for its life (ARCHITECTURE.md, Node identity)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    storage: int = Port
    ssl_storage: int = Port
    native_transport: int = Port
    jmx: int = Port
    sidecar: int = Port

    @model_validator(mode="after")
    def _distinct(self) -> NodePorts:
        seen: dict[int, str] = {}
        for name in ("storage", "ssl_storage", "native_transport", "jmx", "sidecar"):
            port = getattr(self, name)
            if port in seen:
                raise ValueError(f"ports.{name} and ports.{seen[port]} are both {port}; they must differ")
            seen[port] = name
        return self


class NodeConfig(BaseModel):
    """Everything the scheduler tells a node task (see docs/sidecar.md for each field)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cluster: str
    node: str
    config_id: str = Field(min_length=1, max_length=128)
    # The spec's Cassandra release; a change rolls like any config update (shown in the node's
    # task environment; the jars at cassandra_lib are what runs).
    cassandra_version: str = Field(default="5.0.x", min_length=1, max_length=32)
    scheduler_url: str
    data_center: str = "dc1"
    rack: str = "rack1"
    # The agent's hostname or IP, copied by the scheduler from the offer: Cassandra listens on it
    # (storage and CQL), and so does the sidecar's HTTP API.
    listen_address: str
    ports: NodePorts
    # Persistent volume, relative to $MESOS_SANDBOX (the volume's container_path).
    volume_path: str = "data"
    heap_mb: int = Field(ge=256, le=31744)  # above ~31 GiB the JVM loses compressed oops
    num_tokens: int = Field(default=16, ge=1, le=1536)
    initial_token: str | None = None
    auto_bootstrap: bool = True
    replace_address: str | None = None
    cassandra_yaml: dict[str, Any] = Field(default_factory=dict)
    jvm_options: tuple[str, ...] = ()
    cassandra_lib: str | None = None
    java_home: str | None = None
    # Must equal TaskInfo.kill_policy.grace_period: SIGTERM to SIGKILL is what the sidecar has to
    # drain Cassandra and stop it.
    kill_grace_period_s: float = Field(default=120.0, gt=0, le=3600)
    # How long a starting node waits for a usable seeds answer before the task fails, and how
    # often a running node asks again (changes are applied with `nodetool reloadseeds`).
    seeds_wait_s: float = Field(default=300.0, gt=0, le=86400)
    seeds_poll_interval_s: float = Field(default=30.0, ge=0.1, le=3600)

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("must be 1-48 of a-z, 0-9, '_', '-', starting with a letter or digit")
        return v

    @field_validator("node")
    @classmethod
    def _node(cls, v: str) -> str:
        if not _NODE.match(v):
            raise ValueError("must be node-<i> (e.g. node-0)")
        return v

    @field_validator("scheduler_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", v):
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/")

    @field_validator("data_center", "rack")
    @classmethod
    def _dc_rack(cls, v: str) -> str:
        if not _DC_RACK.match(v):
            raise ValueError("must be 1-48 of letters, digits, '_', '.', '-'")
        return v

    @field_validator("listen_address")
    @classmethod
    def _listen(cls, v: str) -> str:
        try:
            ipaddress.ip_address(v)
        except ValueError:
            if not _HOST.match(v):
                raise ValueError("must be an IP address or a hostname") from None
        else:
            if ipaddress.ip_address(v).is_unspecified:
                raise ValueError("must be the agent's own address, not 0.0.0.0 / ::")
        return v

    @field_validator("replace_address")
    @classmethod
    def _replace(cls, v: str | None) -> str | None:
        if v is not None:
            host = v.rsplit(":", 1)[0] if v.count(":") == 1 else v
            try:
                ipaddress.ip_address(host)
            except ValueError:
                if not _HOST.match(host):
                    raise ValueError("must be the replaced node's address, ip[:port]") from None
        return v

    @field_validator("volume_path")
    @classmethod
    def _volume(cls, v: str) -> str:
        if not v or v.startswith("/") or ".." in v.split("/"):
            raise ValueError("must be a path relative to $MESOS_SANDBOX without '..' (e.g. 'data')")
        return v

    @field_validator("initial_token")
    @classmethod
    def _token(cls, v: str | None) -> str | None:
        if v is not None and not _TOKEN.match(v.strip()):
            raise ValueError("must be one token or comma-separated tokens (Murmur3 integers)")
        return v.strip() if v is not None else None

    @field_validator("cassandra_yaml")
    @classmethod
    def _yaml(cls, v: dict[str, Any]) -> dict[str, Any]:
        owned = sorted(set(v) & OWNED_YAML_KEYS)
        if owned:
            raise ValueError(
                f"{', '.join(owned)} cannot be overridden: the sidecar sets them from the node's "
                "identity, ports, volume and seeds"
            )
        return v

    @field_validator("jvm_options")
    @classmethod
    def _jvm(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for opt in v:
            if not opt.startswith("-"):
                raise ValueError(f"{opt!r} is not a JVM option (must start with '-')")
            for prefix, field in _OWNED_JVM_PREFIXES:
                if opt.startswith(prefix):
                    raise ValueError(f"{opt!r} is owned by the sidecar; set {field} instead")
        return v

    @model_validator(mode="after")
    def _tokens(self) -> NodeConfig:
        if self.initial_token is not None:
            count = len(self.initial_token.split(","))
            if count != self.num_tokens:
                raise ValueError(
                    f"initial_token has {count} token(s) but num_tokens is {self.num_tokens}; "
                    "they must match (Cassandra refuses to restart otherwise)"
                )
        return self

    @property
    def index(self) -> int:
        return int(self.node.removeprefix("node-"))

    @property
    def seeds_url(self) -> str:
        return f"{self.scheduler_url}/v1/clusters/{self.cluster}/seeds?node={self.node}"

    def to_env(self) -> dict[str, str]:
        """The CommandInfo.environment entry that carries this config."""
        return {ENV_VAR: self.model_dump_json()}

    @classmethod
    def from_json(cls, text: str) -> NodeConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidNodeConfig(f"{ENV_VAR} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise InvalidNodeConfig(f"{ENV_VAR} must be a JSON object, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise InvalidNodeConfig(f"{ENV_VAR} is invalid: {_describe(e)}") from None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NodeConfig:
        text = env.get(ENV_VAR)
        if not text:
            raise InvalidNodeConfig(f"{ENV_VAR} is not set: the scheduler passes the node's config in it")
        return cls.from_json(text)


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)
