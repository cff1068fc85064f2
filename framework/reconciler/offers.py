"""Offer handling around ``framework.offers``: held offers, placement, orphans, suppress/revive.

Pure helpers; the loop performs what they return. Offers are held from OFFERS until the next
cycle uses, cleans or declines them (with a long filter: REVIVE clears filters when new work
appears, so a long filter costs nothing and keeps the master from offering them again and again).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from framework.offers.evaluate import PlacementContext
from framework.offers.requirements import ReservationKey
from framework.reconciler.launch import reservation_key
from framework.store.base import StoreSnapshot
from model.records import TaskRecord
from plans.cassandra.state import GONE_STATES

# How long offers are held after an orphan sweep's revive: a few allocation rounds.
SWEEP_WINDOW_S = 15.0

Json = dict[str, Any]


class OfferBook:
    """Offers received and not yet answered, by offer id; they die with their subscription."""

    def __init__(self) -> None:
        self._offers: dict[str, Json] = {}

    def add(self, offers: Iterable[Mapping[str, Any]]) -> None:
        for offer in offers:
            self._offers[str(offer["id"]["value"])] = dict(offer)

    def rescind(self, offer_id: str) -> None:
        self._offers.pop(offer_id, None)

    def clear(self) -> None:
        self._offers.clear()

    def take(self) -> list[Json]:
        """All held offers; the caller answers each one (accept or decline) or puts it back."""
        out = list(self._offers.values())
        self._offers.clear()
        return out

    def __len__(self) -> int:
        return len(self._offers)


def all_records(snapshot: StoreSnapshot) -> list[TaskRecord]:
    return [rec for cluster in snapshot.clusters.values() for rec in cluster.tasks.values()]


def placement_context(records: Iterable[TaskRecord], max_nodes_per_agent: int) -> PlacementContext:
    """Where nodes hold reservations: every record but those whose agent is gone for good."""
    return PlacementContext.from_records(
        (r for r in records if r.state not in GONE_STATES), max_nodes_per_agent
    )


def referenced_keys(snapshot: StoreSnapshot) -> frozenset[ReservationKey] | None:
    """Reservation keys some record refers to; None (no cleanup at all) unless the snapshot is exact,
    so a reservation is never destroyed on the strength of a partial read."""
    if not snapshot.exact:
        return None
    keys = {reservation_key(rec) for rec in all_records(snapshot)}
    return frozenset(k for k in keys if k is not None)


class Interest(enum.Enum):
    REVIVE = "revive"
    SUPPRESS = "suppress"
    NONE = "none"


@dataclass(frozen=True)
class OfferInterest:
    """Whether the framework wants offers: it suppresses with nothing to do and revives on new work."""

    suppressed: bool | None  # None: unknown (just subscribed)
    pending: frozenset[str]  # keys of the launches waiting for an offer
    last_revive: float  # when offers were last revived (or suppressed)
    # The last revive was a sweep for orphaned reservations, not for work.
    sweeping: bool = False

    def decide(
        self,
        pending: frozenset[str],
        now: float,
        revive_every: float,
        sweep_every: float = math.inf,
        sweep_window: float = SWEEP_WINDOW_S,
    ) -> Interest:
        """REVIVE, SUPPRESS or nothing. Suppressed, no offer comes, so reservations orphaned
        meanwhile (a node forgotten, a failed uninstall) would stay until the next work: every
        ``sweep_every`` the framework revives without work, holds the offers for
        ``sweep_window`` so each agent's reaches the cleanup, then suppresses again."""
        if not pending:
            if self.suppressed is True:
                return Interest.REVIVE if now - self.last_revive >= sweep_every else Interest.NONE
            if self.sweeping and now - self.last_revive < sweep_window:
                return Interest.NONE
            return Interest.SUPPRESS
        if self.suppressed is not False or pending - self.pending:
            return Interest.REVIVE
        # Work still unplaced: filters of earlier declines may hide the offer it needs.
        if now - self.last_revive >= revive_every:
            return Interest.REVIVE
        return Interest.NONE
