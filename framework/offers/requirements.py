"""What one Cassandra node needs from an agent, and the labels that tie reservations to it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from model.cluster import PlacementRule
from model.errors import InvalidInput

# Reservation label keys: every cpus/mem/disk/ports reservation of a node carries all three.
LABEL_CLUSTER = "cluster"
LABEL_NODE = "node"
LABEL_RESOURCE_ID = "resource_id"

# The five ports of a node, in the order they are taken from the agent's ranges.
CASSANDRA_PORT_NAMES = ("storage", "ssl_storage", "native_transport", "jmx", "sidecar")
# Ports every node of a cluster must share. Cassandra still reads a peer's address without its
# port in places (the legacy gossip STATUS of a replacing node is parsed with the local storage
# port), so a replacement fails unless all nodes use one storage port, as real clusters do.
CLUSTER_WIDE_PORT_NAMES = ("storage", "ssl_storage")


@dataclass(frozen=True, order=True)
class ReservationKey:
    """Identifies the reservations and volume of one node: (cluster, node, resource id)."""

    cluster: str
    node: str
    resource_id: str

    def labels(self) -> dict[str, str]:
        return {LABEL_CLUSTER: self.cluster, LABEL_NODE: self.node, LABEL_RESOURCE_ID: self.resource_id}

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> ReservationKey | None:
        """The key named by reservation labels, or None if they are not ours."""
        try:
            return cls(labels[LABEL_CLUSTER], labels[LABEL_NODE], labels[LABEL_RESOURCE_ID])
        except KeyError:
            return None


@dataclass(frozen=True)
class NodeRequirements:
    """Resources, identity and placement of one node.

    ``resource_id`` and ``persistence_id`` are chosen once for the node's life and stored with
    its record; ``agent_id`` is set once the node has reservations on an agent (relaunch in place
    only there); ``ports`` are the node's ports once chosen (fixed for its life).
    """

    cluster: str
    node: str
    role: str
    principal: str | None
    cpus: float
    mem: float
    disk: float
    resource_id: str
    persistence_id: str
    port_names: tuple[str, ...] = CASSANDRA_PORT_NAMES
    volume_path: str = "data"
    labels: Mapping[str, str] = field(default_factory=dict)
    agent_id: str | None = None
    ports: Mapping[str, int] | None = None
    # New placement: names of ports that must equal the other nodes' of the cluster, and their
    # values once some node holds them (``fixed_ports``); the other ports are taken freely.
    shared_port_names: tuple[str, ...] = ()
    fixed_ports: Mapping[str, int] = field(default_factory=dict)
    # The shared ports of the other clusters: a first node picks its own elsewhere, or the two
    # clusters could never both have a node on the same agent.
    shared_ports_taken: frozenset[int] = frozenset()
    # The spec's placement rules, checked for new placements only (framework.offers.placement).
    placement: tuple[PlacementRule, ...] = ()
    # ROOT: a slice of the agent's root disk; MOUNT: a whole MOUNT disk of at least ``disk`` MB.
    disk_type: str = "ROOT"
    rack: str | None = None
    # A replacement must land elsewhere than the node it replaces (that agent may come back).
    avoid_agent_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("cluster", "node", "role", "resource_id", "persistence_id"):
            if not getattr(self, name):
                raise InvalidInput(f"node requirements: {name} must not be empty")
        if self.role == "*":
            raise InvalidInput("node requirements: role '*' cannot hold reservations")
        for name in ("cpus", "mem", "disk"):
            if getattr(self, name) <= 0:
                raise InvalidInput(
                    f"node requirements of {self.node}: {name} must be > 0, got {getattr(self, name)}"
                )
        if self.disk_type not in ("ROOT", "MOUNT"):
            raise InvalidInput(f"node requirements of {self.node}: disk_type must be ROOT or MOUNT")
        if len(set(self.port_names)) != len(self.port_names):
            raise InvalidInput(
                f"node requirements of {self.node}: duplicate port names {list(self.port_names)}"
            )
        if "/" in self.volume_path or self.volume_path in ("", ".", ".."):
            raise InvalidInput(f"volume_path must be one relative path component, got {self.volume_path!r}")
        if self.ports is not None and set(self.ports) != set(self.port_names):
            raise InvalidInput(
                f"node requirements of {self.node}: ports {sorted(self.ports)} do not match port names "
                f"{sorted(self.port_names)}"
            )
        unknown = (set(self.shared_port_names) | set(self.fixed_ports)) - set(self.port_names)
        if unknown:
            raise InvalidInput(
                f"node requirements of {self.node}: shared or fixed ports {sorted(unknown)} are not among "
                f"the port names {sorted(self.port_names)}"
            )
        if len(set(self.fixed_ports.values())) != len(self.fixed_ports):
            raise InvalidInput(
                f"node requirements of {self.node}: fixed ports {dict(self.fixed_ports)} repeat"
            )
        reserved = {LABEL_CLUSTER, LABEL_NODE, LABEL_RESOURCE_ID} & set(self.labels)
        if reserved:
            raise InvalidInput(f"node requirements: extra labels must not override {sorted(reserved)}")

    @property
    def key(self) -> ReservationKey:
        return ReservationKey(self.cluster, self.node, self.resource_id)

    def reservation_labels(self) -> dict[str, str]:
        return {**self.labels, **self.key.labels()}
