"""The cluster spec users submit (API.md "Cluster spec"), its validation and its update rules.

Validation happens twice, as in dcos-commons: the spec alone (``parse_spec``: types, ranges,
framework-owned ``cassandra.yaml`` keys), then the new spec against the current target
(``check_update``: fields that cannot change after creation). Every refusal names the field and,
for rules, the rule, so the API can answer a 400/422 a user can act on.

``config_id`` is a *content hash*: the first 16 hex digits of the SHA-256 of the spec's canonical
JSON with every default filled in. Submitting the same spec twice gives the same id (a PUT is
idempotent); any change of value gives a new id. ``node_config_id`` hashes only the fields that
a running node's task is built from (resources, version, datacenter, cassandra.yaml, JVM
options): nodes restart when it changes, and not for a change of node count, seeds, placement
or peers (seeds reach Cassandra through the seeds endpoint, placement only matters for new
placements).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from model.errors import InvalidInput

CLUSTER_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,47}$")
# "5.0.<patch>" names a release; "5.0.x" means the 5.0 release this framework ships.
CASSANDRA_VERSION_RE = re.compile(r"^5\.0\.(x|\d{1,3})$")
# The release "5.0.x" means; jvm.CASSANDRA_VERSION and the Makefile pin the same (a test checks).
SHIPPED_CASSANDRA_VERSION = "5.0.8"
# Where a node's Cassandra is named by version: scheduler config node.uris and node.cassandra_lib.
VERSION_PLACEHOLDER = "{version}"


def release_of(cassandra_version: str) -> str:
    """The concrete release a spec's ``cassandra_version`` names ("5.0.x" -> the shipped one)."""
    return SHIPPED_CASSANDRA_VERSION if cassandra_version.endswith(".x") else cassandra_version


def with_release(template: str, cassandra_version: str) -> str:
    """``template`` (a URI or a lib path) with ``{version}`` replaced by the concrete release."""
    return template.replace(VERSION_PLACEHOLDER, release_of(cassandra_version))


# Same limits as the sidecar's NodeConfig, so a spec accepted here never fails at launch.
LOCATION_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")
PEER_URL_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")
DEFAULT_SEEDS = 2
DEFAULT_NUM_TOKENS = 16  # Cassandra 5.0's own default in cassandra.yaml

# cassandra.yaml keys the framework writes itself; a user value would break the node or the cluster.
FRAMEWORK_OWNED_YAML: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "storage_port",
            "ssl_storage_port",
            "native_transport_port",
            "native_transport_port_ssl",
            "rpc_port",
        ),
        "framework-owns-ports",
    ),
    **dict.fromkeys(
        (
            "listen_address",
            "listen_interface",
            "listen_interface_prefer_ipv6",
            "listen_on_broadcast_address",
            "broadcast_address",
            "rpc_address",
            "rpc_interface",
            "rpc_interface_prefer_ipv6",
            "broadcast_rpc_address",
        ),
        "framework-owns-addresses",
    ),
    "seed_provider": "framework-owns-seeds",
    "seeds": "framework-owns-seeds",
    **dict.fromkeys(
        (
            "data_file_directories",
            "commitlog_directory",
            "saved_caches_directory",
            "hints_directory",
            "cdc_raw_directory",
            "local_system_data_file_directory",
            "metadata_directory",
        ),
        "framework-owns-data-directories",
    ),
    "cluster_name": "framework-owns-cluster-name",
    "endpoint_snitch": "framework-owns-snitch",
    "initial_token": "framework-owns-tokens",
    "auto_bootstrap": "framework-owns-bootstrap",
}

# JVM options the framework sets from the spec or per launch.
FRAMEWORK_OWNED_JVM_PREFIXES: tuple[tuple[str, str], ...] = (
    ("-Xmx", "heap-is-set-by-heap_mb"),
    ("-Xms", "heap-is-set-by-heap_mb"),
    ("-XX:MaxHeapSize", "heap-is-set-by-heap_mb"),
    ("-XX:InitialHeapSize", "heap-is-set-by-heap_mb"),
    ("-Dcassandra-rackdc.properties", "framework-owns-config-files"),
    ("-Dcassandra.replace_address", "framework-owns-replace"),
    ("-Dcassandra.initial_token", "framework-owns-tokens"),
    ("-Dcassandra.auto_bootstrap", "framework-owns-bootstrap"),
    ("-Dcassandra.config", "framework-owns-config-files"),
    ("-Dcassandra.storagedir", "framework-owns-data-directories"),
    ("-Dcassandra.jmx.", "framework-owns-ports"),
    ("-Dcom.sun.management.jmxremote.port", "framework-owns-ports"),
)

PLACEMENT_OPERATORS = frozenset({"UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"})
_PLACEMENT_VALUE_REQUIRED = frozenset({"CLUSTER", "LIKE", "UNLIKE", "MAX_PER", "IS"})


@dataclass(frozen=True)
class PlacementRule:
    """One Marathon-style constraint, ``field:OPERATOR[:value]`` (e.g. ``hostname:UNIQUE``)."""

    field: str
    operator: str
    value: str | None = None


def parse_placement(text: str) -> tuple[PlacementRule, ...]:
    """Parse ``"hostname:UNIQUE,rack:GROUP_BY:3"``; raises ValueError naming the bad constraint."""
    rules: list[PlacementRule] = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        parts = raw.split(":", 2)
        if len(parts) < 2 or not parts[0]:
            raise ValueError(f"placement constraint {raw!r} must look like field:OPERATOR[:value]")
        fld, op = parts[0], parts[1].upper()
        value = parts[2] if len(parts) == 3 else None
        if op not in PLACEMENT_OPERATORS:
            known = ", ".join(sorted(PLACEMENT_OPERATORS))
            raise ValueError(f"placement constraint {raw!r}: unknown operator {parts[1]!r} (known: {known})")
        if op in _PLACEMENT_VALUE_REQUIRED and not value:
            raise ValueError(f"placement constraint {raw!r}: {op} needs a value")
        if op == "MAX_PER" and not (value or "").isdigit():
            raise ValueError(f"placement constraint {raw!r}: MAX_PER needs a positive integer")
        if op == "GROUP_BY" and value is not None and not value.isdigit():
            raise ValueError(f"placement constraint {raw!r}: GROUP_BY takes the number of values, an integer")
        if op in ("LIKE", "UNLIKE"):
            try:
                re.compile(value or "")
            except re.error as exc:
                raise ValueError(f"placement constraint {raw!r}: bad regular expression: {exc}") from None
        rules.append(PlacementRule(fld, op, value))
    return tuple(rules)


def _err(kind: str, message: str) -> PydanticCustomError:
    # A custom error keeps the message exactly as written (no "Value error, " prefix).
    return PydanticCustomError(kind, message)


class ClusterSpec(BaseModel):
    """A Cassandra cluster as the user asks for it; defaults make ``{"nodes": 3}`` a valid spec."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    nodes: int = Field(default=3, ge=1, le=1000)
    seeds: int = Field(default=DEFAULT_SEEDS, ge=1)
    cpus: float = Field(default=1.0, gt=0, le=1024)
    mem_mb: int = Field(default=2048, gt=0)
    # Above ~31 GiB the JVM loses compressed oops; below 256 MB Cassandra 5.0 does not start reliably.
    heap_mb: int = Field(default=512, ge=256, le=31744)
    disk_mb: int = Field(default=4096, ge=1)
    disk_type: Literal["ROOT", "MOUNT"] = "ROOT"
    cassandra_version: str = "5.0.x"
    data_center: str = "dc1"
    racks: tuple[str, ...] = ("rack1",)
    placement: str = "hostname:UNIQUE"
    cassandra_yaml: dict[str, Any] = Field(default_factory=dict)
    jvm_options: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()
    # After a scale-out, run the cleanup of the older nodes at once instead of offering it.
    auto_cleanup_after_scale: bool = Field(default=False, strict=True)
    # The storage ports every node uses (they must be in the agents' port resources). Unset: the
    # first node placed picks them from its offer and every later node takes the same.
    storage_port: int | None = Field(default=None, ge=1, le=65535)
    ssl_storage_port: int | None = Field(default=None, ge=1, le=65535)

    @model_validator(mode="before")
    @classmethod
    def _default_seeds(cls, data: Any) -> Any:
        # {"nodes": 1} must work: without an explicit seeds count, use min(2, nodes).
        if isinstance(data, Mapping) and "seeds" not in data:
            nodes = data.get("nodes", 3)
            if isinstance(nodes, str) and nodes.strip().isdigit():
                nodes = int(nodes)
            if isinstance(nodes, int) and not isinstance(nodes, bool) and nodes >= 1:
                return {**data, "seeds": min(DEFAULT_SEEDS, nodes)}
        return data

    @field_validator(
        "nodes", "seeds", "mem_mb", "heap_mb", "disk_mb", "storage_port", "ssl_storage_port", mode="before"
    )
    @classmethod
    def _no_bools(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise _err("int_type", "must be an integer, not a boolean")
        return v

    @field_validator("cassandra_version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not CASSANDRA_VERSION_RE.match(v):
            raise _err(
                "cassandra_version", f"{v!r} is not a Cassandra 5.0 release (expected 5.0.<patch> or 5.0.x)"
            )
        return v

    @field_validator("data_center")
    @classmethod
    def _data_center(cls, v: str) -> str:
        if not LOCATION_NAME_RE.match(v):
            raise _err("location_name", f"{v!r}: letters, digits, '_', '.', '-' only, 1 to 48 characters")
        return v

    @field_validator("racks")
    @classmethod
    def _racks(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise _err("racks_empty", "must name at least one rack")
        for rack in v:
            if not LOCATION_NAME_RE.match(rack):
                raise _err(
                    "location_name", f"rack {rack!r}: letters, digits, '_', '.', '-' only, 1 to 48 characters"
                )
        if len(set(v)) != len(v):
            raise _err("racks_unique", "rack names must be unique")
        return v

    @field_validator("placement")
    @classmethod
    def _placement(cls, v: str) -> str:
        try:
            parse_placement(v)
        except ValueError as exc:
            raise _err("placement", str(exc)) from None
        return v

    @field_validator("cassandra_yaml")
    @classmethod
    def _cassandra_yaml(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            rule = FRAMEWORK_OWNED_YAML.get(key)
            if rule is not None:
                raise _err("framework_owned", f"{key} is set by the framework (rule {rule})")
        if "num_tokens" in v:
            nt = v["num_tokens"]
            if isinstance(nt, bool) or not isinstance(nt, int) or not 1 <= nt <= 1024:
                raise _err("num_tokens", f"num_tokens must be an integer from 1 to 1024, got {nt!r}")
        return v

    @field_validator("jvm_options")
    @classmethod
    def _jvm_options(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for opt in v:
            if not opt.startswith("-") or any(c.isspace() for c in opt):
                raise _err(
                    "jvm_option", f"{opt!r} is not a single JVM option (must start with '-', no spaces)"
                )
            for prefix, rule in FRAMEWORK_OWNED_JVM_PREFIXES:
                if opt.startswith(prefix):
                    raise _err("framework_owned", f"{opt} is set by the framework (rule {rule})")
        return v

    @field_validator("peers")
    @classmethod
    def _peers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for url in v:
            if not PEER_URL_RE.match(url):
                raise _err("peer_url", f"{url!r} is not an http(s) URL of a peer framework instance")
        if len(set(v)) != len(v):
            raise _err("peers_unique", "peer URLs must be unique")
        return v

    @model_validator(mode="after")
    def _cross_field(self) -> ClusterSpec:
        if self.seeds > self.nodes:
            raise _err("seeds_range", f"seeds: must be between 1 and nodes ({self.nodes}), got {self.seeds}")
        if self.heap_mb >= self.mem_mb:
            raise _err("heap_range", f"heap_mb: must be less than mem_mb ({self.mem_mb}), got {self.heap_mb}")
        if self.ssl_storage_port is not None and self.storage_port is None:
            raise _err("storage_ports", "ssl_storage_port: set storage_port too (they are chosen together)")
        if self.storage_port == 65535 and self.ssl_storage_port is None:
            raise _err("storage_ports", "ssl_storage_port: storage_port 65535 has no next port; set it")
        if self.storage_port is not None and self.ssl_storage_port == self.storage_port:
            raise _err(
                "storage_ports", f"ssl_storage_port: must differ from storage_port ({self.storage_port})"
            )
        return self

    @property
    def fixed_storage_ports(self) -> dict[str, int]:
        """The storage ports the spec names (ssl_storage_port defaults to storage_port + 1), or {}."""
        if self.storage_port is None:
            return {}
        ssl = self.ssl_storage_port if self.ssl_storage_port is not None else self.storage_port + 1
        return {"storage": self.storage_port, "ssl_storage": ssl}

    @property
    def num_tokens(self) -> int:
        value = self.cassandra_yaml.get("num_tokens", DEFAULT_NUM_TOKENS)
        return int(value)

    @property
    def placement_rules(self) -> tuple[PlacementRule, ...]:
        return parse_placement(self.placement)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class InvalidSpec(InvalidInput):
    """A spec refused by validation; ``errors`` holds one line per problem, each naming its field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid cluster spec: " + "; ".join(errors))
        self.errors = errors


def parse_spec(data: Any) -> ClusterSpec:
    """Validate user input (a JSON object) into a spec, or raise InvalidSpec naming every problem."""
    if not isinstance(data, Mapping):
        raise InvalidSpec([f"the cluster spec must be a JSON object, got {type(data).__name__}"])
    try:
        return ClusterSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidSpec([_describe(err) for err in exc.errors()]) from None


def _describe(err: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "extra_forbidden":
        return f"{loc}: unknown field (not part of the cluster spec)"
    msg = str(err.get("msg", "invalid"))
    return f"{loc}: {msg}" if loc else msg


def validate_cluster_name(name: str) -> str:
    """Cluster names appear in URLs, task ids and ZooKeeper paths: ``^[a-z][a-z0-9-]{0,47}$``."""
    if not isinstance(name, str) or not CLUSTER_NAME_RE.match(name):
        raise InvalidInput(
            f"cluster name {name!r} is invalid: it must start with a lower-case letter and contain "
            "only lower-case letters, digits and '-', at most 48 characters"
        )
    return name


def _content_hash(doc: Mapping[str, Any]) -> str:
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def config_id(spec: ClusterSpec) -> str:
    """Content hash of the spec (defaults filled in): equal specs have equal ids."""
    return _content_hash(spec.to_json())


# The fields a node's task and Cassandra configuration are built from.
NODE_CONFIG_FIELDS = (
    "cpus",
    "mem_mb",
    "heap_mb",
    "disk_mb",
    "disk_type",
    "cassandra_version",
    "data_center",
    "cassandra_yaml",
    "jvm_options",
)


def node_config_id(spec: ClusterSpec) -> str:
    """Content hash of what a running node is built from; a change means a rolling restart."""
    doc = spec.to_json()
    return _content_hash({k: doc[k] for k in NODE_CONFIG_FIELDS})


@dataclass(frozen=True)
class Violation:
    """One update rule a new spec breaks; ``rule`` is a stable name scripts can match on."""

    rule: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} (rule {self.rule})"


def rack_of(spec: ClusterSpec, index: int) -> str:
    """The rack of node ``index``: racks are dealt round-robin, node i in ``racks[i % len(racks)]``."""
    return spec.racks[index % len(spec.racks)]


def check_update(
    old: ClusterSpec,
    new: ClusterSpec,
    *,
    old_name: str | None = None,
    new_name: str | None = None,
) -> list[Violation]:
    """Rules for replacing the target ``old`` with ``new``; an empty list means the update is allowed."""
    out: list[Violation] = []
    if old_name is not None and new_name is not None and old_name != new_name:
        out.append(
            Violation("cluster-name-cannot-change", "name", f"the cluster is {old_name!r}, not {new_name!r}")
        )
    if new.data_center != old.data_center:
        out.append(
            Violation(
                "data-center-cannot-change",
                "data_center",
                f"nodes already belong to {old.data_center!r}; cannot move them to {new.data_center!r}",
            )
        )
    if new.disk_mb != old.disk_mb:
        out.append(
            Violation(
                "disk-size-cannot-change",
                "disk_mb",
                f"persistent volumes were created with {old.disk_mb} MB; cannot change to {new.disk_mb}",
            )
        )
    if new.disk_type != old.disk_type:
        out.append(
            Violation(
                "disk-type-cannot-change",
                "disk_type",
                f"persistent volumes are {old.disk_type}; cannot change to {new.disk_type}",
            )
        )
    moved = [
        f"node-{i} ({rack_of(old, i)} -> {rack_of(new, i)})"
        for i in range(min(old.nodes, new.nodes))
        if rack_of(old, i) != rack_of(new, i)
    ]
    if moved:
        out.append(
            Violation(
                "racks-of-existing-nodes-cannot-change",
                "racks",
                "the new rack list would move existing nodes: " + ", ".join(moved),
            )
        )
    if new.nodes < old.nodes:
        out.append(
            Violation(
                "nodes-cannot-shrink",
                "nodes",
                f"cannot go from {old.nodes} to {new.nodes} nodes by update; decommission nodes instead",
            )
        )
    if new.seeds > old.seeds and new.seeds > old.nodes:
        # A seed never bootstraps: a brand-new node made a seed would join without its data.
        out.append(
            Violation(
                "new-nodes-cannot-be-seeds",
                "seeds",
                f"seeds may name only existing nodes (at most {old.nodes}), got {new.seeds}",
            )
        )
    if new.fixed_storage_ports != old.fixed_storage_ports:
        out.append(
            Violation(
                "storage-ports-cannot-change",
                "storage_port",
                "every node keeps the storage ports it was placed with, and all nodes share them; "
                f"cannot change {old.fixed_storage_ports or 'the chosen ports'} to "
                f"{new.fixed_storage_ports or 'unset'}",
            )
        )
    if new.num_tokens != old.num_tokens:
        out.append(
            Violation(
                "num-tokens-cannot-change",
                "cassandra_yaml.num_tokens",
                f"nodes own {old.num_tokens} tokens each; cannot change to {new.num_tokens}",
            )
        )
    return out
