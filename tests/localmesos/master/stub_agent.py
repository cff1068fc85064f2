"""A scripted agent speaking the internal protocol of docs/localmesos.md, for master-side tests."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web


class StubAgent:
    """Records what the master sends; answers pings unless partitioned."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.partitioned = False
        self.port = 0
        self.agent_id: str | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/internal/{op}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        op = request.match_info["op"]
        if self.partitioned:
            return web.Response(status=503)
        body = await request.json()
        if op != "ping":
            self.log.append((op, body))
            await self.received.put((op, body))
        return web.json_response({})

    async def next(self, op: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            got, body = await asyncio.wait_for(
                self.received.get(), deadline - asyncio.get_running_loop().time()
            )
            if got == op:
                return body

    async def register(
        self,
        master_base: str,
        resources: list[dict[str, Any]],
        tasks: list[dict[str, Any]] = (),
        checkpointed: list[dict[str, Any]] = (),
    ) -> str:
        body = {
            "agent_id": {"value": self.agent_id} if self.agent_id else None,
            "hostname": "stub",
            "ip": "127.0.0.1",
            "port": self.port,
            "resources": resources,
            "checkpointed_resources": list(checkpointed),
            "attributes": [],
            "domain": None,
            "tasks": list(tasks),
        }
        async with (
            aiohttp.ClientSession() as s,
            s.post(master_base + "/internal/agents/register", json=body) as r,
        ):
            assert r.status == 200, await r.text()
            self.agent_id = (await r.json())["agent_id"]["value"]
        return self.agent_id

    async def status(
        self, master_base: str, framework_id: str, status: dict[str, Any], latest_state: str | None = None
    ) -> int:
        body: dict[str, Any] = {"framework_id": {"value": framework_id}, "status": status}
        if latest_state is not None:
            body["latest_state"] = latest_state
        url = f"{master_base}/internal/agents/{self.agent_id}/status"
        async with aiohttp.ClientSession() as s, s.post(url, json=body) as r:
            return r.status
