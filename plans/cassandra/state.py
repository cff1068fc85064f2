"""The snapshot the Cassandra plan builders read, and how they read task records.

The reconciler assembles one ``ClusterState`` per cluster per cycle from a consistent store
snapshot plus what it observed (sidecar health, reconciliation, peer exchanges); the builders
are pure functions of it and the plan's intents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from model.cluster import ClusterSpec, node_config_id
from model.node import NodeHealth, is_node_name, node_index
from model.records import TaskRecord
from plans.actions import (
    EXTRA_BOOTSTRAP,
    EXTRA_CONFIG_ID,
    EXTRA_GENESIS_NODES,
    EXTRA_LAUNCH_REASON,
    EXTRA_NODE_CONFIG,
    EXTRA_REPLACE_ADDRESS,
)

# The agent is gone for good: an in-place relaunch would wait forever; the node must be replaced.
GONE_STATES = frozenset({"TASK_GONE", "TASK_GONE_BY_OPERATOR"})


@dataclass(frozen=True)
class ClusterState:
    cluster: str
    spec: ClusterSpec
    config_id: str
    records: Mapping[str, TaskRecord] = field(default_factory=dict)
    health: Mapping[str, NodeHealth] = field(default_factory=dict)
    # True once the tasks in ``records`` were reconciled with Mesos since the scheduler started.
    reconciled: bool = True
    # Peer URLs with which at least one datacenter exchange succeeded.
    synced_peers: frozenset[str] = frozenset()
    # Problems to show on the deploy plan, e.g. an update refused by check_update.
    errors: tuple[str, ...] = ()

    @cached_property
    def node_config(self) -> str:
        """What a node running the target config was built from (``model.cluster.node_config_id``)."""
        return node_config_id(self.spec)

    def health_of(self, node: str) -> NodeHealth | None:
        """The node's health, unless it was observed on another task than the recorded one."""
        h = self.health.get(node)
        rec = self.records.get(node)
        if h is None or rec is None:
            return None
        if h.task_id is not None and h.task_id != rec.task_id:
            return None
        return h


def recorded_config_id(record: TaskRecord) -> str | None:
    value = record.extra.get(EXTRA_CONFIG_ID)
    return str(value) if value else None


def recorded_node_config(record: TaskRecord) -> str | None:
    value = record.extra.get(EXTRA_NODE_CONFIG)
    return str(value) if value else None


def launch_reason(record: TaskRecord) -> str:
    return str(record.extra.get(EXTRA_LAUNCH_REASON) or "")


def recorded_bootstrap(record: TaskRecord) -> bool | None:
    value = record.extra.get(EXTRA_BOOTSTRAP)
    return value if isinstance(value, bool) else None


def recorded_replace_address(record: TaskRecord) -> str | None:
    value = record.extra.get(EXTRA_REPLACE_ADDRESS)
    return str(value) if value else None


def genesis_nodes(state: ClusterState) -> int:
    """How many nodes the cluster was first formed with (they start together, unbootstrapped).

    Read back from the records (every launch records it); with no record at all the cluster is
    brand new and forms with the spec's node count. Records that predate the field count every
    recorded node as original, so only nodes added later bootstrap.
    """
    recorded = [
        v
        for r in state.records.values()
        if isinstance(v := r.extra.get(EXTRA_GENESIS_NODES), int) and not isinstance(v, bool) and v > 0
    ]
    if recorded:
        return max(recorded)
    if not state.records:
        return state.spec.nodes
    return max((node_index(n) for n in state.records if is_node_name(n)), default=-1) + 1
