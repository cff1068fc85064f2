"""Answers of the hot reads (GET cluster, plan, nodes), kept until anything they derive from changes.

Polling is how people and scripts follow a deploy (the web page, ``--wait``, dashboards), and
each of these answers costs dozens of ZooKeeper reads and a plan build. An answer is reused while

- no write happened under the store root (the store's watch bumps a version; a mutation made
  through this API bumps it at once, so the API reads its own writes),
- the node health the scheduler holds in memory is the same, and
- it is younger than ``max_age`` (other in-memory scheduler state, e.g. "reconciled").

A write by another process shows once its ZooKeeper watch arrives (milliseconds).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from framework.store.base import Store

GATES = 64


@dataclass(frozen=True)
class _Entry:
    version: int
    fingerprint: Hashable
    at: float
    body: bytes


class ReadCache:
    def __init__(self, max_age: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._version = 0
        self._entries: dict[Hashable, _Entry] = {}
        # One computation per key at a time: after an invalidation, concurrent polls of the same
        # answer wait for the first one instead of all reading the store at once.
        # A fixed set of gates, shared by hash: memory stays bounded whatever names are asked for.
        self._gates = tuple(threading.Lock() for _ in range(GATES))
        self._unsubscribe: Callable[[], None] | None = None

    def follow(self, store: Store) -> None:
        """Invalidate on every change under the store root (and on availability changes)."""
        self._unsubscribe = store.watch(self.invalidate)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def invalidate(self) -> None:
        with self._lock:
            self._version += 1
            self._entries.clear()

    def _fresh(self, key: Hashable, fingerprint: Hashable) -> tuple[int, bytes | None]:
        with self._lock:
            version = self._version  # read before computing: a write meanwhile makes the result stale
            entry = self._entries.get(key)
        if (
            entry is not None
            and entry.version == version
            and entry.fingerprint == fingerprint
            and self._clock() - entry.at < self._max_age
        ):
            return version, entry.body
        return version, None

    def peek(self, key: Hashable, fingerprint: Hashable) -> bytes | None:
        """The cached answer if fresh, without ever blocking: safe on the event loop."""
        if self._max_age <= 0:
            return None
        return self._fresh(key, fingerprint)[1]

    async def answer(self, key: Hashable, fingerprint: Hashable, compute: Callable[[], Any]) -> Response:
        """A JSON response: from memory on the event loop when fresh, else computed in a worker
        thread (store reads block). Hits skip the thread pool, which matters under load."""
        body = self.peek(key, fingerprint)
        if body is None:
            body = await run_in_threadpool(self.get, key, fingerprint, compute)
        return Response(body, media_type="application/json")

    def get(self, key: Hashable, fingerprint: Hashable, compute: Callable[[], Any]) -> bytes:
        """The JSON of ``compute()``, reused while fresh. Errors are raised, never kept."""
        if self._max_age <= 0:
            return encode(compute())
        _, body = self._fresh(key, fingerprint)
        if body is not None:
            return body
        with self._gates[hash(key) % GATES]:
            version, body = self._fresh(key, fingerprint)  # computed meanwhile by another request?
            if body is not None:
                return body
            now = self._clock()
            body = encode(compute())
            with self._lock:
                if self._version == version:
                    self._entries[key] = _Entry(version, fingerprint, now, body)
            return body


def encode(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
