"""What the scheduler process shows the API: the contract between ``framework`` and ``api``.

The API reads the store and these views, writes intents to the store and then calls ``wake()``;
it never talks to Mesos. ``framework.service.SchedulerService`` implements this protocol; API
tests may pass any object with the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class OfferWait:
    """A node the scheduler wants to launch and has not placed: since when, and why the offers
    weighed for it last did not fit (``"agent: reason"`` each; empty while no offer came)."""

    node: str
    waiting_s: float
    checked_s_ago: float | None  # None: no offer weighed for it yet
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "node": self.node,
            "waiting_s": round(self.waiting_s, 1),
            "checked_s_ago": None if self.checked_s_ago is None else round(self.checked_s_ago, 1),
            "reasons": list(self.reasons),
        }


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

    def offer_waits(self, cluster: str) -> list[OfferWait]:
        """The cluster's nodes waiting for an offer that fits, by node name; empty when none
        waits (or this instance is not the leader)."""
        ...
