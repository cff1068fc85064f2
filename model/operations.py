"""Operator requests the API stores for the reconciler: node replace and cluster uninstall.

Both are stored as the intents of a plan of their own (``PlanIntents`` with ``parameters``), so
that every intent document under a cluster has one shape, the plan verbs (interrupt, continue...)
work on them like on any plan, and the request survives failover:

- ``replace-node-<i>`` (``NodeReplace``): put a new node ``node-<i>`` on *another* agent with
  ``replace_address_first_boot`` set to the old node's address, then release the old node's
  reservations and volume. The reconciler deletes the document once the new node is Up/Normal and
  CQL-ready (until then the API answers 409 to a second replace of the node).
- ``uninstall`` (``Uninstall``): kill every task of the cluster, destroy its volumes, unreserve
  its resources, then delete the cluster from the store (which removes this document too).

A node *restart* needs no document of its own: it is the ``restart`` verb on the node's block of
the deploy plan (a restart mark in the deploy plan's intents), which relaunches the node in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from model.errors import CorruptRecord
from model.intents import PlanIntents
from model.node import is_node_name

REPLACE_PREFIX = "replace-"
UNINSTALL = "uninstall"
OP_REPLACE = "replace"
OP_UNINSTALL = "uninstall"


def replace_plan_name(node: str) -> str:
    return f"{REPLACE_PREFIX}{node}"


@dataclass(frozen=True)
class NodeReplace:
    """Replace ``node`` (its agent is gone or its data is lost) by a fresh node on another agent.

    ``old_*`` describe the task being replaced, as recorded when the operator asked: the new node
    starts with ``replace_address_first_boot = old_hostname`` and must avoid ``old_agent_id``.
    """

    node: str
    requested_at: float
    old_task_id: str | None = None
    old_agent_id: str | None = None
    old_hostname: str | None = None
    # Nodes on one host differ by port: Cassandra must be told the old node's storage port, or it
    # looks for the old address with its own port and finds nothing in gossip.
    old_storage_port: int | None = None

    @property
    def plan(self) -> str:
        return replace_plan_name(self.node)

    @property
    def replace_address(self) -> str | None:
        """``replace_address_first_boot`` for the new node: ``ip:storage_port`` when the port is known."""
        if self.old_hostname is None:
            return None
        if self.old_storage_port is None:
            return self.old_hostname
        return f"{self.old_hostname}:{self.old_storage_port}"

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": OP_REPLACE,
            "node": self.node,
            "requested_at": self.requested_at,
            "old_task_id": self.old_task_id,
            "old_agent_id": self.old_agent_id,
            "old_hostname": self.old_hostname,
            "old_storage_port": self.old_storage_port,
        }

    def to_intents(self) -> PlanIntents:
        return PlanIntents(plan=self.plan, parameters=self.to_json())

    @classmethod
    def from_json(cls, data: Any, where: str = "replace request") -> NodeReplace:
        if not isinstance(data, Mapping) or data.get("operation") != OP_REPLACE:
            raise CorruptRecord(f"{where}: not a replace request")
        node = data.get("node")
        if not isinstance(node, str) or not is_node_name(node):
            raise CorruptRecord(f"{where}: 'node' must be a node name, got {node!r}")
        at = data.get("requested_at")
        if isinstance(at, bool) or not isinstance(at, int | float):
            raise CorruptRecord(f"{where}: 'requested_at' must be a number")
        return cls(
            node=node,
            requested_at=float(at),
            old_task_id=_opt_str(data, "old_task_id", where),
            old_agent_id=_opt_str(data, "old_agent_id", where),
            old_hostname=_opt_str(data, "old_hostname", where),
            old_storage_port=_opt_port(data, "old_storage_port", where),
        )


def _opt_port(data: Mapping[str, Any], key: str, where: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise CorruptRecord(f"{where}: {key!r} must be a port number, got {value!r}")
    return value


@dataclass(frozen=True)
class Uninstall:
    """Remove the cluster: kill its tasks, destroy its volumes, unreserve, forget it."""

    requested_at: float

    plan = UNINSTALL

    def to_json(self) -> dict[str, Any]:
        return {"operation": OP_UNINSTALL, "requested_at": self.requested_at}

    def to_intents(self) -> PlanIntents:
        return PlanIntents(plan=UNINSTALL, parameters=self.to_json())

    @classmethod
    def from_json(cls, data: Any, where: str = "uninstall request") -> Uninstall:
        if not isinstance(data, Mapping) or data.get("operation") != OP_UNINSTALL:
            raise CorruptRecord(f"{where}: not an uninstall request")
        at = data.get("requested_at")
        if isinstance(at, bool) or not isinstance(at, int | float):
            raise CorruptRecord(f"{where}: 'requested_at' must be a number")
        return cls(requested_at=float(at))


Operation = NodeReplace | Uninstall


def operation_of(intents: PlanIntents) -> Operation | None:
    """The operation a plan's intents carry, or None for an ordinary plan (deploy, recovery...)."""
    kind = intents.parameters.get("operation")
    where = f"intents of plan {intents.plan}"
    if kind == OP_REPLACE:
        return NodeReplace.from_json(intents.parameters, where)
    if kind == OP_UNINSTALL:
        return Uninstall.from_json(intents.parameters, where)
    return None


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorruptRecord(f"{where}: {key!r} must be a string or null")
    return value
