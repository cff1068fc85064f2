"""Node identity: names, task ids, ports, seeds, racks, initial tokens, and observed node health.

Nodes are ``node-<i>`` (i from 0) within a cluster, and every launch of a node gets a fresh task
id ``<cluster>__node-<i>__<uuid>``; cluster names cannot contain ``__`` (``^[a-z][a-z0-9-]*``), so
the id splits unambiguously.

Initial tokens (new clusters only, see ``initial_tokens``): the Murmur3 ring is
``[-2**63, 2**63 - 1]``. For N nodes with ``num_tokens`` T each, the ring is cut into N*T equal
arcs and token k (k = 0 .. N*T-1) is ``-2**63 + (k * 2**64) // (N*T) + offset``. Node i owns the
tokens k = i, i + N, i + 2N, ...: its T tokens are spread around the whole ring and consecutive
tokens belong to consecutive nodes, which sit in different racks when there are several racks.
Every node then owns exactly 1/N of the ring. ``offset`` keeps datacenters of one cluster from
choosing identical tokens (tokens must be unique cluster-wide).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model.cluster import ClusterSpec, rack_of
from model.errors import InvalidInput

if TYPE_CHECKING:
    from model.maintenance import JobStatus

NODE_RE = re.compile(r"^node-(0|[1-9][0-9]{0,5})$")
TASK_ID_RE = re.compile(
    r"^(?P<cluster>[a-z][a-z0-9-]{0,47})__(?P<node>node-(?:0|[1-9][0-9]{0,5}))__(?P<uuid>[0-9A-Za-z-]{1,64})$"
)
MURMUR3_MIN = -(2**63)
MURMUR3_MAX = 2**63 - 1
RING_SIZE = 2**64
# Datacenter offsets stay tiny against the arc between tokens (2**64 / (N*T) >> 2**20).
DC_OFFSET_LIMIT = 2**20


def node_name(index: int) -> str:
    if index < 0:
        raise InvalidInput(f"node index must be >= 0, got {index}")
    return f"node-{index}"


def node_index(name: str) -> int:
    """``"node-3"`` -> 3; raises InvalidInput for anything that is not a node name."""
    m = NODE_RE.match(name) if isinstance(name, str) else None
    if m is None:
        raise InvalidInput(f"{name!r} is not a node name (expected node-<i>, e.g. node-0)")
    return int(m.group(1))


def is_node_name(name: str) -> bool:
    return isinstance(name, str) and NODE_RE.match(name) is not None


def node_names(count: int) -> list[str]:
    return [node_name(i) for i in range(count)]


@dataclass(frozen=True)
class TaskId:
    cluster: str
    node: str
    uuid: str

    def __str__(self) -> str:
        return f"{self.cluster}__{self.node}__{self.uuid}"


def task_id(cluster: str, node: str, uuid: str) -> str:
    """Build a task id; the caller supplies the uuid (e.g. ``uuid4().hex``) so this stays pure."""
    tid = f"{cluster}__{node}__{uuid}"
    parse_task_id(tid)
    return tid


def parse_task_id(value: str) -> TaskId:
    m = TASK_ID_RE.match(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidInput(
            f"{value!r} is not a task id of this framework (expected <cluster>__node-<i>__<uuid>)"
        )
    return TaskId(m.group("cluster"), m.group("node"), m.group("uuid"))


def seed_nodes(spec: ClusterSpec) -> list[str]:
    """This datacenter's seeds: the first ``spec.seeds`` nodes by index (stable across updates)."""
    return node_names(min(spec.seeds, spec.nodes))


def is_seed(spec: ClusterSpec, node: str) -> bool:
    return node_index(node) < min(spec.seeds, spec.nodes)


def node_rack(spec: ClusterSpec, node: str) -> str:
    """The Cassandra rack of a node: racks dealt round-robin by node index."""
    return rack_of(spec, node_index(node))


def datacenter_token_offset(data_center: str) -> int:
    """A stable small offset per datacenter name so two datacenters never share a token."""
    return zlib.crc32(data_center.encode()) % DC_OFFSET_LIMIT


def initial_tokens(nodes: int, num_tokens: int, offset: int = 0) -> list[list[int]]:
    """Balanced initial tokens of a new cluster: element i is node i's sorted token list."""
    if nodes < 1:
        raise InvalidInput(f"need at least one node, got nodes={nodes}")
    return [node_initial_tokens(i, nodes, num_tokens, offset) for i in range(nodes)]


def node_initial_tokens(index: int, nodes: int, num_tokens: int, offset: int = 0) -> list[int]:
    """Node ``index``'s share of ``initial_tokens(nodes, num_tokens, offset)``, in O(num_tokens)."""
    if nodes < 1 or num_tokens < 1:
        raise InvalidInput(f"need at least one node and one token, got nodes={nodes} num_tokens={num_tokens}")
    if not 0 <= index < nodes:
        raise InvalidInput(f"node index {index} is outside a cluster of {nodes} nodes")
    if not 0 <= offset < DC_OFFSET_LIMIT:
        raise InvalidInput(f"token offset must be in [0, {DC_OFFSET_LIMIT}), got {offset}")
    total = nodes * num_tokens
    return [MURMUR3_MIN + (k * RING_SIZE) // total + offset for k in range(index, total, nodes)]


def initial_token_string(tokens: list[int] | tuple[int, ...]) -> str:
    """The ``initial_token`` value of cassandra.yaml: comma-separated tokens."""
    return ",".join(str(t) for t in tokens)


# Cassandra operation modes as nodetool/StorageService reports them.
NODE_MODES = frozenset(
    {"STARTING", "NORMAL", "JOINING", "LEAVING", "DECOMMISSIONED", "MOVING", "DRAINING", "DRAINED", "UNKNOWN"}
)


@dataclass(frozen=True)
class NodeHealth:
    """What a node's sidecar last said about it; supplied to the plan builders by the poller.

    ``task_id`` names the task the observation came from: an observation of an older launch is
    ignored by the builders, so a slow poll can never complete a block for a task that died.
    """

    mode: str = "UNKNOWN"
    cql_ready: bool = False
    task_id: str | None = None
    # Maintenance jobs the sidecar knows (running and recently finished), newest last.
    jobs: tuple[JobStatus, ...] = ()

    @property
    def is_ready(self) -> bool:
        """Up and Normal (UN) and answering CQL: the only state that completes a node's block."""
        return self.mode == "NORMAL" and self.cql_ready

    def job(self, job_id: str) -> JobStatus | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "cql_ready": self.cql_ready,
            "task_id": self.task_id,
            "jobs": [j.to_json() for j in self.jobs],
        }

    @classmethod
    def from_json(cls, data: Any) -> NodeHealth:
        if not isinstance(data, Mapping):
            return cls()
        from model.maintenance import JobStatus  # model.maintenance imports this module

        mode = str(data.get("mode") or "UNKNOWN").upper()
        tid = data.get("task_id")
        raw_jobs = data.get("jobs")
        jobs = [JobStatus.from_json(j) for j in raw_jobs] if isinstance(raw_jobs, list) else []
        return cls(
            mode=mode if mode in NODE_MODES else "UNKNOWN",
            cql_ready=bool(data.get("cql_ready", False)),
            task_id=str(tid) if tid else None,
            jobs=tuple(j for j in jobs if j is not None),
        )
