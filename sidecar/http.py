"""The sidecar's HTTP API on the node's reserved sidecar port.

- ``GET /health``: the Cassandra process is alive (200) or not (503).
- ``GET /ready``: CQL answers on the node's own address and native port (cassandra-driver).
- ``GET /status``: the node as nodetool would show it: mode, host id, datacenter, rack, load,
  tokens, and its view of the ring (``UN``/``DN``...), read over JMX (``sidecar.node_status``).
- ``GET /v1/jobs``, ``POST /v1/jobs`` (a ``model.maintenance.Job``), ``GET|DELETE /v1/jobs/{id}``:
  the maintenance jobs (cleanup, repair) the scheduler runs here, one at a time
  (``sidecar.jobs``). 201 started, 200 already known, 409 another job runs or Cassandra does not,
  400 a malformed job, 404 an unknown id; DELETE stops a running job.

/status is cached briefly: 5 s while the node is NORMAL and sees the whole ring UN, 1 s while
anything is in motion. Read through the nodetool fallback (three JVMs, ~1.2 CPU-seconds each)
it is cached 30 s and 5 s. ``age_s`` says how old the answer is and ``source`` where it came
from; a stop clears the cache so DRAINING/DRAINED show at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from model.errors import Conflict, InvalidInput
from model.maintenance import Job
from model.node_config import NodeConfig
from sidecar.jobs import JobRunner
from sidecar.node_status import NodeView, StatusReader, StatusUnavailable
from sidecar.nodetool import RingMember

log = logging.getLogger(__name__)

# (settled, changing) cache lifetimes per source: a JMX read costs almost nothing.
STATUS_TTL_S = {"jmx": (5.0, 1.0), "nodetool": (30.0, 5.0)}


def status_ttl(status: dict[str, Any]) -> float:
    """How long a /status answer may be served again: long only when nothing is changing."""
    ring = status.get("ring") or []
    settled = status.get("mode") == "NORMAL" and all(m.get("state") == "UN" for m in ring)
    stable, changing = STATUS_TTL_S.get(status.get("source", "nodetool"), STATUS_TTL_S["nodetool"])
    return stable if settled else changing


@dataclass(frozen=True)
class Readiness:
    ready: bool
    detail: str
    version: str | None = None


class CqlProbe:
    """One long-lived driver session to this node only; rebuilt after any failure."""

    def __init__(self, address: str, port: int, timeout_s: float = 5.0) -> None:
        self._address = address
        self._port = port
        self._timeout = timeout_s
        self._cluster: Any = None
        self._session: Any = None
        self._lock = asyncio.Lock()

    def _connect(self) -> None:
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import WhiteListRoundRobinPolicy

        profile = ExecutionProfile(
            load_balancing_policy=WhiteListRoundRobinPolicy([self._address]), request_timeout=self._timeout
        )
        self._cluster = Cluster(
            contact_points=[self._address],
            port=self._port,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            protocol_version=5,
            connect_timeout=self._timeout,
            control_connection_timeout=self._timeout,
            schema_metadata_enabled=False,
            token_metadata_enabled=False,
        )
        self._session = self._cluster.connect()

    def _query(self) -> Readiness:
        from cassandra import AuthenticationFailed
        from cassandra.cluster import NoHostAvailable

        try:
            if self._session is None:
                self._connect()
            row = self._session.execute(
                "SELECT release_version FROM system.local", timeout=self._timeout
            ).one()
            return Readiness(True, "CQL answers", str(row.release_version))
        except NoHostAvailable as e:
            self._close()
            if any(isinstance(err, AuthenticationFailed) for err in e.errors.values()):
                # The server speaks CQL and asks for credentials: it is ready for clients.
                return Readiness(True, "CQL answers (authentication required)")
            return Readiness(False, f"CQL not answering: {_first_error(e)}")
        except Exception as e:  # any driver failure means "not ready", never a 500
            self._close()
            return Readiness(False, f"CQL not answering: {type(e).__name__}: {e}")

    def _close(self) -> None:
        cluster, self._cluster, self._session = self._cluster, None, None
        if cluster is not None:
            try:
                cluster.shutdown()
            except Exception as e:
                log.debug("driver shutdown: %s", e)

    async def check(self) -> Readiness:
        async with self._lock:
            return await asyncio.to_thread(self._query)

    def _run(self, statement: str, timeout: float) -> list[dict[str, Any]]:
        try:
            if self._session is None:
                self._connect()
            return [row._asdict() for row in self._session.execute(statement, timeout=timeout)]
        except Exception:
            self._close()
            raise

    async def execute(self, statement: str, timeout: float) -> list[dict[str, Any]]:
        """Run one statement on this node (schema of a backup); rows as dicts. Raises on failure."""
        async with self._lock:
            return await asyncio.to_thread(self._run, statement, timeout)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._close)


def _first_error(e: Exception) -> str:
    errors = getattr(e, "errors", None) or {}
    for err in errors.values():
        return f"{type(err).__name__}: {err}"
    return str(e)


class StatusSource:
    """``/status`` from a ``StatusReader``, cached per ``status_ttl``."""

    def __init__(self, node: NodeConfig, reader: StatusReader, clock: Callable[[], float] = time.monotonic):
        self._node = node
        self._reader = reader
        self._clock = clock
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> dict[str, Any]:
        async with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < status_ttl(self._cached[1]):
                return {**self._cached[1], "age_s": round(now - self._cached[0], 1)}
            status = self._body(await self._reader.read())
            self._cached = (self._clock(), status)
            return {**status, "age_s": 0.0}

    def _body(self, view: NodeView) -> dict[str, Any]:
        return {
            "cluster": self._node.cluster,
            "node": self._node.node,
            "config_id": self._node.config_id,
            "source": view.source,
            "mode": view.mode,
            "host_id": view.host_id,
            "data_center": view.data_center,
            "rack": view.rack,
            "load": view.load,
            "tokens": view.tokens,
            "gossip_running": view.gossip_running,
            "native_transport_running": view.native_transport_running,
            "uptime_s": view.uptime_s,
            "heap_used_mb": view.heap_used_mb,
            "heap_total_mb": view.heap_total_mb,
            "endpoint": f"{self._node.listen_address}:{self._node.ports.storage}",
            "ring": [ring_entry(m) for m in view.ring],
        }

    async def close(self) -> None:
        await self._reader.close()

    def invalidate(self) -> None:
        self._cached = None


def ring_entry(m: RingMember) -> dict[str, Any]:
    entry = asdict(m)
    del entry["status"]
    entry["state"] = m.code  # "UN", "DN", "UJ"...
    return entry


@dataclass
class SidecarState:
    """What the handlers read; filled in by main as the node comes up."""

    node: NodeConfig
    process_alive: Callable[[], bool]
    process_pid: Callable[[], int | None]
    probe: CqlProbe
    status: StatusSource
    jobs: JobRunner
    phase: str = "starting"  # starting -> waiting-for-seeds -> running -> stopping -> stopped
    version: str | None = None


def build_app(state: SidecarState) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        alive = state.process_alive()
        body = {"alive": alive, "pid": state.process_pid(), "phase": state.phase}
        return web.json_response(body, status=200 if alive else 503)

    async def ready(_: web.Request) -> web.Response:
        if not state.process_alive():
            return web.json_response(
                {"ready": False, "detail": f"Cassandra is not running ({state.phase})"}, status=503
            )
        r = await state.probe.check()
        if r.version:
            state.version = r.version
        body = {"ready": r.ready, "detail": r.detail, "version": r.version}
        return web.json_response(body, status=200 if r.ready else 503)

    async def status(_: web.Request) -> web.Response:
        if not state.process_alive():
            return web.json_response(
                {"message": f"Cassandra is not running ({state.phase})", "phase": state.phase},
                status=503,
            )
        try:
            body = dict(await state.status.get())
        except StatusUnavailable as e:
            return web.json_response({"message": str(e), "phase": state.phase}, status=503)
        except ValueError as e:
            return web.json_response({"message": f"unexpected nodetool output: {e}"}, status=502)
        body["version"] = state.version
        body["phase"] = state.phase
        return web.json_response(body)

    async def list_jobs(_: web.Request) -> web.Response:
        return web.json_response([j.to_json() for j in state.jobs.list()])

    async def start_job(request: web.Request) -> web.Response:
        try:
            job = Job.from_json(await request.json())
        except (ValueError, InvalidInput) as e:
            return web.json_response({"message": f"bad job: {e}"}, status=400)
        try:
            status, started = state.jobs.start(job)
        except Conflict as e:
            return web.json_response({"message": str(e)}, status=409)
        return web.json_response(status.to_json(), status=201 if started else 200)

    async def get_job(request: web.Request) -> web.Response:
        status = state.jobs.get(request.match_info["job_id"])
        if status is None:
            return web.json_response({"message": "no such job on this node"}, status=404)
        return web.json_response(status.to_json())

    async def stop_job(request: web.Request) -> web.Response:
        status = await state.jobs.stop(request.match_info["job_id"])
        if status is None:
            return web.json_response({"message": "no such job on this node"}, status=404)
        return web.json_response(status.to_json())

    app = web.Application()
    app.router.add_get("/v1/jobs", list_jobs)
    app.router.add_post("/v1/jobs", start_job)
    app.router.add_get("/v1/jobs/{job_id}", get_job)
    app.router.add_delete("/v1/jobs/{job_id}", stop_job)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/status", status)
    return app


async def serve(app: web.Application, host: str, port: int) -> Callable[[], Awaitable[None]]:
    """Start serving; returns the coroutine function that stops the server."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner.cleanup
