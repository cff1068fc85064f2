"""The supervisor's admin API (fault controls; not part of Mesos) and a small client for it.

Routes are listed in docs/localmesos.md ("Admin API"). `AdminClient` is what `localmesos ctl`
and the test harness call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
from aiohttp import web

if TYPE_CHECKING:
    from localmesos.supervisor import Supervisor

AGENT_ACTIONS = ("stop", "start", "restart", "kill", "partition", "heal")


class AdminError(Exception):
    """The admin API refused a request or could not be reached; the message says why."""


def admin_app(sup: Supervisor) -> web.Application:
    from localmesos.supervisor import SupervisorError

    actions: dict[str, Callable[[int], Awaitable[None]]] = {
        "stop": sup.stop_agent,
        "start": sup.start_agent,
        "restart": sup.restart_agent,
        "kill": sup.kill_agent,
        "partition": sup.partition_agent,
        "heal": sup.heal_agent,
    }

    async def agent_action(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in actions:
            raise web.HTTPNotFound(
                text=f"unknown agent action {action!r} (one of {', '.join(AGENT_ACTIONS)})"
            )
        try:
            index = int(request.match_info["index"])
        except ValueError:
            raise web.HTTPNotFound(text="agent index must be an integer") from None
        try:
            await actions[action](index)
        except SupervisorError as e:
            raise web.HTTPInternalServerError(text=str(e)) from e
        except aiohttp.ClientError as e:
            raise web.HTTPBadGateway(text=f"agent {index} unreachable: {e}") from e
        return web.json_response({"ok": True})

    async def master_restart(request: web.Request) -> web.Response:
        try:
            await sup.restart_master()
        except SupervisorError as e:
            raise web.HTTPInternalServerError(text=str(e)) from e
        return web.json_response({"ok": True})

    async def state(request: web.Request) -> web.Response:
        info = sup.info()
        for entry, slot in zip(info["agents"], sup.agents, strict=True):
            entry["running"] = slot.child.running
        info["master_running"] = sup.master is not None and sup.master.running
        return web.json_response(info)

    app = web.Application()
    app.add_routes(
        [
            web.post("/admin/agents/{index}/{action}", agent_action),
            web.post("/admin/master/restart", master_restart),
            web.get("/admin/state", state),
        ]
    )
    return app


class AdminClient:
    """Synchronous client of the admin API (`localmesos ctl`, the harness)."""

    def __init__(self, url: str, timeout: float = 90.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str) -> Any:
        try:
            resp = httpx.request(method, self.url + path, timeout=self.timeout)
        except httpx.HTTPError as e:
            raise AdminError(f"admin API at {self.url} unreachable: {e}") from e
        if resp.status_code != 200:
            raise AdminError(f"{method} {path} failed: {resp.status_code} {resp.text.strip()}")
        return resp.json()

    def agent(self, action: str, index: int) -> None:
        if action not in AGENT_ACTIONS:
            raise AdminError(f"unknown agent action {action!r} (one of {', '.join(AGENT_ACTIONS)})")
        self._call("POST", f"/admin/agents/{index}/{action}")

    def restart_master(self) -> None:
        self._call("POST", "/admin/master/restart")

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "/admin/state"))
