"""A ``LaunchNode`` + the offer that fits it -> node requirements, NodeConfig, TaskInfo and TaskRecord.

Pure: the caller supplies ids (``uuid4().hex``) so the same inputs always build the same task.
The record carries, in ``extra``, what a later relaunch in place needs (reservation and
persistence ids, hostname, ports, rack) next to what the plans read back (``record_extra``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from framework.offers.evaluate import Fit
from framework.offers.requirements import (
    CASSANDRA_PORT_NAMES,
    CLUSTER_WIDE_PORT_NAMES,
    NodeRequirements,
    ReservationKey,
)
from model.cluster import ClusterSpec, release_of, with_release
from model.errors import InvalidInput
from model.node import initial_token_string, task_id
from model.node_config import ENV_VAR, OWNED_YAML_KEYS, NodeConfig, NodePorts
from model.records import EXTRA_AGENT_FACTS, EXTRA_HOSTNAME, EXTRA_PORTS, TaskRecord
from plans.actions import LaunchNode

EXTRA_RESOURCE_ID = "resource_id"
EXTRA_PERSISTENCE_ID = "persistence_id"
EXTRA_RACK = "rack"
VOLUME_PATH = "data"
LABEL_CLUSTER = "cassandra-mesos/cluster"
LABEL_NODE = "cassandra-mesos/node"


@dataclass(frozen=True)
class NodeCommand:
    """What every node task runs and how (from ``SchedulerConfig.node``)."""

    command: str
    scheduler_url: str
    uris: tuple[str, ...] = ()
    environment: Mapping[str, str] | None = None
    cassandra_lib: str | None = None
    java_home: str | None = None
    kill_grace_period_s: float = 120.0
    jvm_options: tuple[str, ...] = ()


def reservation_key(record: TaskRecord) -> ReservationKey | None:
    """The key of the reservations and volume a record refers to (None for records without one)."""
    rid = record.extra.get(EXTRA_RESOURCE_ID)
    return ReservationKey(record.cluster, record.node, str(rid)) if rid else None


def cluster_wide_ports(records: Iterable[TaskRecord]) -> dict[str, int]:
    """The storage ports the cluster's nodes share: the most common among the records (all equal,
    unless records predate the rule), or none when no node was placed yet."""
    counts: Counter[tuple[tuple[str, int], ...]] = Counter()
    for rec in records:
        ports = rec.ports
        if all(n in ports for n in CLUSTER_WIDE_PORT_NAMES):
            counts[tuple((n, ports[n]) for n in CLUSTER_WIDE_PORT_NAMES)] += 1
    if not counts:
        return {}
    best = max(counts.items(), key=lambda kv: (kv[1], [-p for _, p in kv[0]]))[0]
    return dict(best)


def requirements(
    spec: ClusterSpec,
    cluster: str,
    action: LaunchNode,
    record: TaskRecord | None,
    role: str,
    principal: str | None,
    new_id: str,
    cluster_ports: Mapping[str, int] | None = None,
    other_clusters_ports: frozenset[int] = frozenset(),
) -> NodeRequirements:
    """What the node needs from an offer. In place: the recorded agent, ids and ports; otherwise
    fresh ids (``new_id``), the cluster's shared storage ports (``cluster_wide_ports``; while it has
    none, ones that ``other_clusters_ports`` does not hold) and any agent the placement rules
    allow."""
    common: dict[str, Any] = {
        "cluster": cluster,
        "node": action.node,
        "role": role,
        "principal": principal,
        "cpus": spec.cpus,
        "mem": float(spec.mem_mb),
        "disk": float(spec.disk_mb),
        "volume_path": VOLUME_PATH,
    }
    if action.in_place:
        if record is None or reservation_key(record) is None:
            raise InvalidInput(
                f"{cluster}/{action.node}: relaunch in place needs a record with its reservation"
            )
        ports = record.ports
        return NodeRequirements(
            **common,
            resource_id=str(record.extra[EXTRA_RESOURCE_ID]),
            persistence_id=str(record.extra.get(EXTRA_PERSISTENCE_ID) or f"{cluster}-{action.node}"),
            agent_id=record.agent_id,
            ports=ports if set(ports) == set(CASSANDRA_PORT_NAMES) else None,
        )
    return NodeRequirements(
        **common,
        resource_id=f"{action.node}-{new_id}",
        persistence_id=f"{cluster}-{action.node}-{new_id}",
        avoid_agent_id=action.avoid_agent,
        shared_port_names=CLUSTER_WIDE_PORT_NAMES,
        fixed_ports=dict(cluster_ports or {}),
        shared_ports_taken=other_clusters_ports,
        placement=spec.placement_rules,
        disk_type=spec.disk_type,
    )


def node_config(
    spec: ClusterSpec, cluster: str, action: LaunchNode, fit: Fit, rack: str, command: NodeCommand
) -> NodeConfig:
    yaml = {k: v for k, v in spec.cassandra_yaml.items() if k not in OWNED_YAML_KEYS}
    try:
        return NodeConfig(
            cluster=cluster,
            node=action.node,
            config_id=action.config_id,
            cassandra_version=release_of(spec.cassandra_version),
            scheduler_url=command.scheduler_url,
            data_center=spec.data_center,
            rack=rack,
            listen_address=fit.hostname,
            ports=NodePorts(**fit.ports),
            volume_path=VOLUME_PATH,
            heap_mb=spec.heap_mb,
            num_tokens=spec.num_tokens,
            initial_token=initial_token_string(action.initial_tokens) if action.initial_tokens else None,
            auto_bootstrap=action.bootstrap,
            replace_address=action.replace_address,
            cassandra_yaml=yaml,
            jvm_options=(*command.jvm_options, *spec.jvm_options),
            cassandra_lib=with_release(command.cassandra_lib, spec.cassandra_version)
            if command.cassandra_lib
            else None,
            java_home=command.java_home,
            kill_grace_period_s=command.kill_grace_period_s,
        )
    except ValidationError as exc:
        raise InvalidInput(f"cannot build the node config of {cluster}/{action.node}: {exc}") from None


def task_info(tid: str, config: NodeConfig, command: NodeCommand) -> dict[str, Any]:
    """TaskInfo without agent and resources (``Fit.task_info`` adds them)."""
    variables = [{"name": ENV_VAR, "value": config.model_dump_json()}]
    variables += [{"name": k, "value": v} for k, v in sorted((command.environment or {}).items())]
    cmd: dict[str, Any] = {"shell": True, "value": command.command, "environment": {"variables": variables}}
    if command.uris:
        # A URI naming {version} fetches the node's release: a version change rolls onto it.
        uris = [with_release(u, config.cassandra_version) for u in command.uris]
        cmd["uris"] = [{"value": u, "extract": True, "cache": False} for u in uris]
    return {
        "name": tid,
        "task_id": {"value": tid},
        "command": cmd,
        # The sidecar drains Cassandra between SIGTERM and SIGKILL.
        "kill_policy": {"grace_period": {"nanoseconds": int(command.kill_grace_period_s * 1e9)}},
        "labels": {
            "labels": [
                {"key": LABEL_CLUSTER, "value": config.cluster},
                {"key": LABEL_NODE, "value": config.node},
            ]
        },
    }


@dataclass(frozen=True)
class Launch:
    """One launch ready to go: store ``record`` first, then ACCEPT ``operations`` on ``offer_id``."""

    offer_id: str
    record: TaskRecord
    operations: tuple[dict[str, Any], ...]
    expected_version: int | None


def build_launch(
    spec: ClusterSpec,
    cluster: str,
    action: LaunchNode,
    fit: Fit,
    req: NodeRequirements,
    prior: tuple[TaskRecord, int] | None,
    command: NodeCommand,
    task_uuid: str,
) -> Launch:
    record = prior[0] if prior is not None else None
    if record is not None and (action.in_place or action.replace_address is not None):
        # A replacement keeps the replaced node's Cassandra rack: it takes over its token ranges.
        rack = str(record.extra.get(EXTRA_RACK) or fit.rack or action.rack or "rack1")
    else:
        # Racks come from the agents (attribute or fault domain); the spec's names are the fallback.
        rack = fit.rack or action.rack or "rack1"
    config = node_config(spec, cluster, action, fit, rack, command)
    tid = task_id(cluster, action.node, task_uuid)
    base = task_info(tid, config, command)
    extra: dict[str, Any] = {
        **action.record_extra(),
        EXTRA_HOSTNAME: fit.hostname,
        EXTRA_PORTS: dict(fit.ports),
        EXTRA_AGENT_FACTS: dict(fit.facts),
        EXTRA_RACK: rack,
        EXTRA_RESOURCE_ID: req.resource_id,
        EXTRA_PERSISTENCE_ID: req.persistence_id,
    }
    new_record = TaskRecord(
        cluster=cluster,
        node=action.node,
        task_info=fit.task_info(base),
        status=None,
        launch_count=(record.launch_count + 1) if record is not None else 1,
        extra=extra,
    )
    return Launch(
        offer_id=fit.offer_id,
        record=new_record,
        operations=tuple(fit.operations(base)),
        expected_version=prior[1] if prior is not None else None,
    )
