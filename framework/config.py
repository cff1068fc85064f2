"""The scheduler's configuration: one YAML file, validated into ``SchedulerConfig``.

Example (every key but ``masters`` and ``zookeeper`` has a default)::

    masters: ["http://10.0.0.1:5050", "http://10.0.0.2:5050"]
    zookeeper: {hosts: "10.0.0.1:2181,10.0.0.2:2181", root: /cassandra-mesos, instance: dc1}
    framework: {name: cassandra, role: cassandra, principal: cassandra, user: nobody}
    api: {host: 0.0.0.0, port: 8080}
    node: {command: "python3 -m sidecar", uris: ["https://repo/cassandra-mesos-node.tar.gz"]}
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from model.errors import InvalidInput

ONE_WEEK_SECONDS = 7 * 24 * 3600.0


class ConfigError(InvalidInput):
    """The scheduler config file is missing, not YAML, or names a bad value (the message says which)."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZooKeeperConfig(_Section):
    hosts: str = Field(min_length=1)
    root: str = "/cassandra-mesos"
    # One framework instance per datacenter: its store lives under <root>/<instance>.
    instance: str = Field(default="dc1", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    session_timeout_s: float = Field(default=10.0, gt=0, le=600)

    @field_validator("root")
    @classmethod
    def _root(cls, v: str) -> str:
        if not v.startswith("/") or (v.endswith("/") and v != "/"):
            raise ValueError(
                "must be an absolute ZooKeeper path without a trailing '/', e.g. /cassandra-mesos"
            )
        return v

    @property
    def store_root(self) -> str:
        return f"{self.root.rstrip('/')}/{self.instance}"


class FrameworkConfig(_Section):
    name: str = Field(default="cassandra", min_length=1)
    role: str = Field(default="cassandra", min_length=1)
    principal: str | None = "cassandra"
    user: str = Field(default_factory=getpass.getuser, min_length=1)
    # How long Mesos keeps the framework's tasks while no scheduler is subscribed.
    failover_timeout_s: float = Field(default=ONE_WEEK_SECONDS, ge=0, le=9.0e9)
    webui_url: str | None = None

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v == "*" or v.startswith("/") or v.endswith("/"):
            raise ValueError("must be a named role ('*' cannot hold reservations)")
        return v


class ApiConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # What nodes call for seeds; defaults to http://<host>:<port> (set it when host is 0.0.0.0).
    advertised_url: str | None = None
    # When set, every mutating request needs "Authorization: Bearer <token>".
    token: str | None = None


class NodeCommandConfig(_Section):
    """What a node task runs: the sidecar in production, any stand-in in tests."""

    command: str = Field(default="python3 -m sidecar", min_length=1)
    # Fetched into the sandbox by the Mesos fetcher (extracted), e.g. a tarball of the sidecar.
    uris: tuple[str, ...] = ()
    environment: dict[str, str] = Field(default_factory=dict)
    cassandra_lib: str | None = None
    java_home: str | None = None
    kill_grace_period_s: float = Field(default=120.0, gt=0, le=3600)
    jvm_options: tuple[str, ...] = ()


class TimingConfig(_Section):
    # Offers no pending node can use are refused this long (a REVIVE clears the filter on new work).
    refuse_seconds: float = Field(default=120.0, ge=0)
    # Implicit reconciliation period; explicit reconciliation follows every subscription.
    reconcile_interval_s: float = Field(default=600.0, gt=0)
    # Explicit reconciliation is sent again while some known task has not been answered.
    reconcile_retry_s: float = Field(default=10.0, gt=0)
    # The loop runs at least this often even when nothing wakes it.
    cycle_interval_s: float = Field(default=5.0, gt=0)
    health_interval_s: float = Field(default=5.0, gt=0)
    health_timeout_s: float = Field(default=2.0, gt=0)
    # A KILL is sent again if the task is still active this long after.
    kill_retry_s: float = Field(default=30.0, gt=0)
    # With nothing to launch offers are suppressed; this often they are revived for a while so
    # reservations orphaned meanwhile are cleaned up. 0: never.
    orphan_sweep_s: float = Field(default=900.0, ge=0)
    driver_backoff_initial_s: float = Field(default=0.5, gt=0)
    driver_backoff_max_s: float = Field(default=15.0, gt=0)


class SchedulerConfig(_Section):
    masters: tuple[str, ...] = Field(min_length=1)
    zookeeper: ZooKeeperConfig
    framework: FrameworkConfig = Field(default_factory=FrameworkConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    node: NodeCommandConfig = Field(default_factory=NodeCommandConfig)
    timing: TimingConfig = Field(default_factory=TimingConfig)
    max_nodes_per_agent: int = Field(default=1, ge=1)
    rack_attribute: str = "rack"

    def scheduler_url(self, port: int | None = None) -> str:
        """The API URL nodes call; ``port`` is the bound one when the config says 0."""
        if self.api.advertised_url:
            return self.api.advertised_url.rstrip("/")
        return f"http://{self.api.host}:{port if port is not None else self.api.port}"


def parse_config(data: Any, where: str = "scheduler config") -> SchedulerConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    try:
        return SchedulerConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from None


def load_config(path: str | Path) -> SchedulerConfig:
    """Read and validate a YAML (or JSON) config file; ConfigError names the problem."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read scheduler config {file}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file} is not valid YAML: {exc}") from None
    return parse_config(data, str(file))


def dump_config(config: SchedulerConfig) -> str:
    return json.dumps(config.model_dump(mode="json"), indent=2)
