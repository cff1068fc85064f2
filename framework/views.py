"""What the scheduler process shows the API: the contract between ``framework`` and ``api``.

The API reads the store and these views, writes intents to the store and then calls ``wake()``;
it never talks to Mesos. ``framework.service.SchedulerService`` implements this protocol; API
tests may pass any object with the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from framework.store.base import Store
from model.node import NodeHealth
from plans.model import Plan

# Values of ``mesos_state()``.
MESOS_SUBSCRIBED = "subscribed"
MESOS_SUBSCRIBING = "subscribing"
MESOS_DISCONNECTED = "disconnected"
# Not the leader: another instance (or none yet) holds the Mesos subscription.
MESOS_STANDBY = "standby"

# Values of ``zookeeper_state()``.
ZOOKEEPER_CONNECTED = "connected"
ZOOKEEPER_SUSPENDED = "suspended"


class SchedulerView(Protocol):
    """Read-only views of the running scheduler, plus the one nudge the API may give it."""

    @property
    def store(self) -> Store:
        """The store the scheduler decides from; the API reads and writes intents through it."""
        ...

    def wake(self) -> None:
        """Ask the reconciler for a cycle soon (after the API wrote something). Never blocks;
        safe to call from any thread."""
        ...

    def is_leader(self) -> bool:
        """True while this instance holds the leader election (and so may talk to Mesos)."""
        ...

    def mesos_state(self) -> str:
        """One of MESOS_SUBSCRIBED, MESOS_SUBSCRIBING, MESOS_DISCONNECTED, MESOS_STANDBY."""
        ...

    def zookeeper_state(self) -> str:
        """ZOOKEEPER_CONNECTED or ZOOKEEPER_SUSPENDED (writes refused until it is back)."""
        ...

    def plans(self, cluster: str) -> dict[str, Plan]:
        """The cluster's plans by name, built from the latest snapshot with the loop's builders.

        Empty for an unknown cluster. Render with ``plans.render.render_plan``."""
        ...

    def node_health(self, cluster: str) -> Mapping[str, NodeHealth]:
        """What the sidecars last said, by node name; empty for an unknown cluster."""
        ...
