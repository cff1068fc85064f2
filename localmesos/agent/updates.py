"""Status update streams (reference §4.3): per task, only the oldest unacknowledged update is in
flight; it is resent after `retry`, doubling up to `retry_max`, until acknowledged.

The unacknowledged updates themselves live in each `TaskRecord.pending` (checkpointed); this
only keeps the retry timers, which start afresh after an agent restart or a re-registration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localmesos.agent.records import TaskRecord


@dataclass(frozen=True)
class RetryTimer:
    uuid: str
    next_at: float
    backoff: float


class UpdateStreams:
    def __init__(self, retry: float, retry_max: float) -> None:
        self.retry = retry
        self.retry_max = retry_max
        self.timers: dict[tuple[str, str], RetryTimer] = {}

    def due(self, records: Iterable[TaskRecord], now: float) -> list[tuple[TaskRecord, dict[str, Any], bool]]:
        """The head updates to send now, as (record, update, is_retry); arms their next retry."""
        out: list[tuple[TaskRecord, dict[str, Any], bool]] = []
        for record in records:
            if not record.pending or record.silent:
                self.timers.pop(record.key, None)
                continue
            head = record.pending[0]
            timer = self.timers.get(record.key)
            if timer is None or timer.uuid != head["uuid"]:
                self.timers[record.key] = RetryTimer(head["uuid"], now + self.retry, self.retry)
                out.append((record, head, False))
            elif now >= timer.next_at:
                backoff = min(timer.backoff * 2, self.retry_max)
                self.timers[record.key] = RetryTimer(head["uuid"], now + backoff, backoff)
                out.append((record, head, True))
        return out

    def next_retry_at(self) -> float | None:
        """When the earliest armed retry is due (None when nothing is in flight)."""
        return min((t.next_at for t in self.timers.values()), default=None)

    def acknowledge(self, record: TaskRecord, uuid: Any) -> bool:
        """Drop the head update if `uuid` is its uuid (a stale or duplicate ack changes nothing)."""
        if not record.pending or record.pending[0]["uuid"] != uuid:
            return False
        record.pending.pop(0)
        self.timers.pop(record.key, None)
        return True

    def forget(self, key: tuple[str, str]) -> None:
        self.timers.pop(key, None)

    def resend_all(self) -> None:
        """After (re-)registering: the master may have missed anything in flight, send heads now."""
        self.timers.clear()
