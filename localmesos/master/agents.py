"""The master's side of the internal agent protocol (docs/localmesos.md): links and liveness."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from localmesos.master.master import Master
from localmesos.master.state import JsonDict

log = logging.getLogger("localmesos.master.agents")

SEND_ATTEMPTS = 3


class HttpAgentLink:
    """Messages to one process agent, delivered in order by one worker task."""

    simulated = False

    def __init__(self, session: aiohttp.ClientSession, ip: str, port: int) -> None:
        self._session = session
        self._base = f"http://{ip}:{port}/internal/"
        self._queue: asyncio.Queue[tuple[str, JsonDict]] = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._run())

    def send(self, op: str, body: JsonDict) -> None:
        self._queue.put_nowait((op, body))

    async def _run(self) -> None:
        while True:
            op, body = await self._queue.get()
            for attempt in range(SEND_ATTEMPTS):
                try:
                    async with self._session.post(
                        self._base + op, json=body, timeout=aiohttp.ClientTimeout(total=10)
                    ) as resp:
                        if resp.status < 500:
                            if resp.status >= 400:
                                log.warning("agent %s rejected %s: %s", self._base, op, await resp.text())
                            break
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    log.info("sending %s to %s failed (attempt %d): %s", op, self._base, attempt + 1, exc)
                await asyncio.sleep(0.2 * (attempt + 1))

    async def ping(self, timeout: float) -> bool:
        try:
            async with self._session.post(
                self._base + "ping", json={}, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False

    def close(self) -> None:
        self._worker.cancel()


async def liveness_loop(master: Master) -> None:
    """Ping every process agent each `agent_ping_timeout`; too many misses ⇒ unreachable (§7.7)."""
    config = master.config
    loop = asyncio.get_running_loop()
    tick = loop.time()
    while True:
        # A fixed period, whatever the pings take: agents expect one within their own timeout.
        tick = max(tick + config.agent_ping_timeout, loop.time())
        await asyncio.sleep(max(0.0, tick - loop.time()))
        agents = [a for a in master.agents.values() if not a.link.simulated]
        results = await asyncio.gather(*(a.link.ping(config.agent_ping_timeout * 0.9) for a in agents))
        for agent, ok in zip(agents, results, strict=True):
            if master.agents.get(agent.id) is not agent:
                continue  # re-registered or removed meanwhile
            if ok:
                agent.missed_pings = 0
                continue
            agent.missed_pings += 1
            if agent.missed_pings >= config.max_agent_ping_timeouts:
                log.warning("agent %s missed %d pings: unreachable", agent.id, agent.missed_pings)
                with contextlib.suppress(Exception):
                    agent.link.close()
                master.mark_unreachable(agent)
