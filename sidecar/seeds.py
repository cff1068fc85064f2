"""Seeds from the scheduler: fetched before Cassandra starts, then re-polled while it runs.

``GET {scheduler_url}/v1/clusters/{cluster}/seeds?node={node}`` answers
``{"isSeed": bool, "seeds": ["ip" or "ip:port", ...]}`` (docs/API.md). A change is written into
cassandra.yaml (SimpleSeedProvider re-reads the file) and applied with ``nodetool reloadseeds``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from model.errors import CassandraMesosError
from sidecar.config import Seeds

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class SeedsUnavailable(CassandraMesosError):
    """The scheduler did not give this node a usable seed list in time."""


def parse_seeds(body: Any) -> Seeds:
    """Validate the scheduler's answer; ValueError names what is wrong."""
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    is_seed = body.get("isSeed")
    seeds = body.get("seeds")
    if not isinstance(is_seed, bool):
        raise ValueError("'isSeed' must be true or false")
    if not isinstance(seeds, list) or not all(isinstance(s, str) and s.strip() for s in seeds):
        raise ValueError("'seeds' must be a list of non-empty strings")
    return Seeds(is_seed=is_seed, seeds=tuple(s.strip() for s in seeds))


def usable(seeds: Seeds) -> bool:
    """Cassandra refuses to start with no seed at all; a non-seed needs somebody to ask."""
    return seeds.is_seed or bool(seeds.seeds)


class SeedsClient:
    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self._url = url
        self._client = client

    async def fetch(self) -> Seeds:
        """One request. Raises SeedsUnavailable with the reason."""
        try:
            resp = await self._client.get(self._url, timeout=10.0)
        except httpx.HTTPError as e:
            raise SeedsUnavailable(f"GET {self._url}: {type(e).__name__}: {e}") from None
        if resp.status_code != 200:
            raise SeedsUnavailable(f"GET {self._url}: HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            return parse_seeds(resp.json())
        except ValueError as e:
            raise SeedsUnavailable(f"GET {self._url}: bad answer: {e}") from None

    async def fetch_usable(
        self,
        deadline_s: float,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        first_delay_s: float = 0.5,
        max_delay_s: float = 10.0,
    ) -> Seeds:
        """Retry with exponential backoff until the answer is usable or the deadline passes."""
        start = clock()
        delay = first_delay_s
        last = "no answer yet"
        while True:
            try:
                seeds = await self.fetch()
                if usable(seeds):
                    return seeds
                last = "not a seed and no seeds known yet"
            except SeedsUnavailable as e:
                last = str(e)
            remaining = deadline_s - (clock() - start)
            if remaining <= 0:
                raise SeedsUnavailable(f"no usable seeds after {deadline_s:.0f} s: {last}")
            log.info("seeds not available yet (%s); retrying in %.1f s", last, delay)
            await sleep(min(delay, remaining))
            delay = min(delay * 2, max_delay_s)


async def watch_seeds(
    client: SeedsClient,
    current: Seeds,
    apply: Callable[[Seeds], Awaitable[None]],
    interval_s: float,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Re-poll forever; call ``apply`` when the usable answer differs from what is applied.

    A failed poll or a failed apply is logged and retried at the next interval: a scheduler
    failover must not take the node down.
    """
    while True:
        await sleep(interval_s)
        try:
            seeds = await client.fetch()
        except SeedsUnavailable as e:
            log.warning("seed poll failed: %s", e)
            continue
        if seeds == current or not usable(seeds):
            continue
        try:
            await apply(seeds)
        except Exception as e:  # keep polling whatever a reload does
            log.warning("applying seeds %s failed: %s", seeds, e)
            continue
        current = seeds
