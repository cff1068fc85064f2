"""Answers of the hot reads (GET cluster, plan, nodes, seeds, connection), kept while still true.

Polling is how people and scripts follow a deploy (the web page, ``--wait``, dashboards, every
node's seed poll), and each answer costs dozens of ZooKeeper reads and a plan build. An answer
is *fresh* while

- no write happened under the store root since it was computed (the store's watch bumps a
  version),
- the node health the scheduler holds in memory is the same, and
- it is younger than ``max_age`` (other in-memory scheduler state, e.g. "reconciled").

A request that finds no fresh answer computes it, one computation per answer at a time. While
one is under way, concurrent requests get the previous answer if it is at most ``max_stale``
old, instead of queueing behind the computation: during a deploy the reconciler writes many
times a second, and without this every write would stall every poller.

Read-your-writes: a change made through this API (``invalidate(hard=True)``) makes every older
answer unusable, stale or not, so the next read shows it. A write by the reconciler shows as
soon as its ZooKeeper watch arrives and one request recomputes (milliseconds).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from framework.store.base import Store

log = logging.getLogger(__name__)

# Computations are serialized per answer through a fixed set of gates shared by hash, so memory
# stays bounded whatever names clients ask for.
GATES = 64


@dataclass(frozen=True)
class _Entry:
    version: int
    fingerprint: Hashable
    at: float
    body: bytes


class ReadCache:
    def __init__(
        self, max_age: float = 1.0, max_stale: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age = max_age
        self._max_stale = max_stale
        self._clock = clock
        self._lock = threading.Lock()
        self._version = 0
        self._hard_floor = 0  # entries computed before this version are never served
        self._entries: dict[Hashable, _Entry] = {}
        self._gates = tuple(threading.Lock() for _ in range(GATES))
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def enabled(self) -> bool:
        return self._max_age > 0

    def follow(self, store: Store) -> None:
        """Mark answers stale on every change under the store root (and on availability changes).

        Without a watch the cache could not see writes: if it cannot be set, caching is off."""
        try:
            self._unsubscribe = store.watch(self.invalidate)
        except Exception as exc:  # any failure here must not keep the API from starting
            log.warning("read cache off: cannot watch the store (%s: %s)", type(exc).__name__, exc)
            self._max_age = 0

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def invalidate(self, hard: bool = False) -> None:
        """Something changed. ``hard``: the change was made through this API; never serve older."""
        with self._lock:
            self._version += 1
            if hard:
                self._hard_floor = self._version
                self._entries.clear()

    def invalidate_hard(self) -> None:
        self.invalidate(hard=True)

    def _lookup(self, key: Hashable, fingerprint: Hashable) -> tuple[int, bytes | None, bytes | None]:
        """(current version, fresh body or None, usable stale body or None)."""
        with self._lock:
            version, floor = self._version, self._hard_floor
            entry = self._entries.get(key)
        if entry is None or entry.version < floor:
            return version, None, None
        age = self._clock() - entry.at
        if entry.version == version and entry.fingerprint == fingerprint and age < self._max_age:
            return version, entry.body, entry.body
        return version, None, entry.body if age < self._max_stale else None

    def _gate(self, key: Hashable) -> threading.Lock:
        return self._gates[hash(key) % GATES]

    def peek(self, key: Hashable, fingerprint: Hashable) -> bytes | None:
        """A fresh answer, or a stale one while another request computes: never blocks."""
        if not self.enabled:
            return None
        _, fresh, stale = self._lookup(key, fingerprint)
        if fresh is not None:
            return fresh
        return stale if stale is not None and self._gate(key).locked() else None

    async def answer(self, key: Hashable, fingerprint: Hashable, compute: Callable[[], Any]) -> Response:
        """A JSON response: from memory on the event loop when possible, else computed in a
        worker thread (store reads block)."""
        body = self.peek(key, fingerprint)
        if body is None:
            body = await run_in_threadpool(self.get, key, fingerprint, compute)
        return Response(body, media_type="application/json")

    def get(self, key: Hashable, fingerprint: Hashable, compute: Callable[[], Any]) -> bytes:
        """The JSON of ``compute()``, reused as described above. Errors are raised, never kept."""
        if not self.enabled:
            return encode(compute())
        _, fresh, stale = self._lookup(key, fingerprint)
        if fresh is not None:
            return fresh
        gate = self._gate(key)
        if not gate.acquire(blocking=stale is None):
            assert stale is not None
            return stale  # someone is computing it; the previous answer will do meanwhile
        try:
            version, fresh, _ = self._lookup(key, fingerprint)  # computed while we waited?
            if fresh is not None:
                return fresh
            now = self._clock()
            body = encode(compute())
            with self._lock:
                # If a store write landed meanwhile, the entry is kept under its older version:
                # usable as a stale answer, never as a fresh one. After an API write, not at all.
                if version >= self._hard_floor:
                    self._entries[key] = _Entry(version, fingerprint, now, body)
            return body
        finally:
            gate.release()


def encode(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
