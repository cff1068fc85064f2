"""Exchanging seeds with the framework instances of a cluster's other datacenters.

Each instance runs one datacenter of a cluster; the spec's ``peers`` are the other instances'
API base URLs. An exchange PUTs this datacenter's ``{"data_center", "url", "seeds"}`` to the
peer's ``/v1/clusters/<c>/datacenter`` (the peer stores it and serves those seeds to its nodes)
and GETs the peer's own, which is stored here for this instance's seeds endpoint. The reconciler
exchanges with every peer when due: at once, then every ``PEER_REFRESH_S`` (seeds change as
nodes are replaced; every ``PEER_RETRY_EMPTY_S`` while either side has no seed yet), and after a
failure with a growing backoff, never in a busy loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from model.errors import CassandraMesosError

log = logging.getLogger(__name__)

PEER_REFRESH_S = 60.0
# While either side has no seed yet (its nodes are still being placed), exchange again soon.
PEER_RETRY_EMPTY_S = 5.0
BACKOFF_MIN_S = 2.0
BACKOFF_MAX_S = 60.0
EXCHANGE_TIMEOUT_S = 5.0
_DC_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class PeerExchangeFailed(CassandraMesosError):
    """A peer could not be reached, refused, or answered something that is not a datacenter."""


@dataclass(frozen=True)
class PeerDatacenter:
    data_center: str
    url: str
    seeds: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"data_center": self.data_center, "url": self.url, "seeds": list(self.seeds)}


def datacenter_url(base: str, cluster: str) -> str:
    return f"{base.rstrip('/')}/v1/clusters/{cluster}/datacenter"


def _peer_of(body: Any, url: str) -> PeerDatacenter:
    if not isinstance(body, Mapping):
        raise PeerExchangeFailed(f"GET {url}: not a JSON object")
    dc, their_url, seeds = body.get("data_center"), body.get("url"), body.get("seeds")
    if not isinstance(dc, str) or not _DC_RE.match(dc):
        raise PeerExchangeFailed(f"GET {url}: 'data_center' is missing or not a datacenter name")
    if (
        not isinstance(their_url, str)
        or not isinstance(seeds, list)
        or not all(isinstance(s, str) for s in seeds)
    ):
        raise PeerExchangeFailed(f"GET {url}: 'url' and 'seeds' (a list of strings) are required")
    return PeerDatacenter(dc, their_url, tuple(seeds))


async def exchange(
    client: httpx.AsyncClient, cluster: str, peer_base: str, ours: PeerDatacenter, token: str | None
) -> PeerDatacenter:
    """Register ``ours`` with the peer, then read the peer's datacenter."""
    url = datacenter_url(peer_base, cluster)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        put = await client.put(url, json=ours.to_json(), headers=headers, timeout=EXCHANGE_TIMEOUT_S)
        if put.status_code != 204:
            raise PeerExchangeFailed(f"PUT {url}: {put.status_code} {_message(put)}")
        got = await client.get(url, timeout=EXCHANGE_TIMEOUT_S)
        if got.status_code != 200:
            raise PeerExchangeFailed(f"GET {url}: {got.status_code} {_message(got)}")
        body = got.json()
    except httpx.HTTPError as exc:
        raise PeerExchangeFailed(f"{url}: {type(exc).__name__}: {exc}") from None
    except ValueError:
        raise PeerExchangeFailed(f"GET {url}: not JSON") from None
    peer = _peer_of(body, url)
    if peer.data_center == ours.data_center:
        raise PeerExchangeFailed(
            f"{url} runs datacenter {peer.data_center!r} too: each peer must run its own"
        )
    return peer


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", ""))[:200] if isinstance(body, Mapping) else ""


@dataclass
class PeerSchedule:
    """When each (cluster, peer URL) is due, and which exchanges succeeded since the start."""

    next_try: dict[tuple[str, str], float]
    backoff: dict[tuple[str, str], float]
    synced: dict[str, set[str]]

    @classmethod
    def empty(cls) -> PeerSchedule:
        return cls({}, {}, {})

    def due(self, cluster: str, peers: Sequence[str], now: float) -> list[str]:
        return [p for p in peers if now >= self.next_try.get((cluster, p), 0.0)]

    def succeeded(self, cluster: str, peer: str, now: float, seeds_known: bool = True) -> None:
        """``seeds_known``: both sides had seeds; if not, the next exchange comes soon."""
        self.synced.setdefault(cluster, set()).add(peer)
        self.backoff.pop((cluster, peer), None)
        self.next_try[(cluster, peer)] = now + (PEER_REFRESH_S if seeds_known else PEER_RETRY_EMPTY_S)

    def failed(self, cluster: str, peer: str, now: float) -> float:
        wait = min(BACKOFF_MAX_S, max(BACKOFF_MIN_S, 2 * self.backoff.get((cluster, peer), 0.0)))
        self.backoff[(cluster, peer)] = wait
        self.next_try[(cluster, peer)] = now + wait
        return wait

    def synced_peers(self) -> dict[str, frozenset[str]]:
        return {c: frozenset(urls) for c, urls in self.synced.items()}
