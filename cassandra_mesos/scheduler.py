"""The scheduler process's composition root: store, leader election, service and the API, one loop.

``cassandra-mesos scheduler --config FILE`` runs ``serve(load_config(FILE))``: it connects to
ZooKeeper, contends for leadership (only the leader subscribes to Mesos), and serves the REST
API with uvicorn in the same event loop. SIGTERM/SIGINT stop it cleanly: the API stops, the
instance resigns (a standby takes over at once) and the ZooKeeper session is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from framework.config import SchedulerConfig
from framework.service import SchedulerService
from framework.store.leader import LeaderElection
from framework.store.zookeeper import ZooKeeperStore

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: this process decides how to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _app(service: SchedulerService, config: SchedulerConfig) -> Any | None:
    try:
        from api.app import create_app
    except ImportError:  # a build without the API: the scheduler still runs
        log.warning("api.app.create_app is not available: serving no API")
        return None
    return create_app(service, token=config.api.token, public_url=config.api.advertised_url)


def _bound_port(server: uvicorn.Server) -> int | None:
    for srv in getattr(server, "servers", []):
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    return None


async def serve(config: SchedulerConfig) -> None:
    zk = config.zookeeper
    store = await asyncio.to_thread(
        ZooKeeperStore, zk.hosts, zk.store_root, session_timeout=zk.session_timeout_s
    )
    identifier = f"{socket.gethostname()}:{os.getpid()}:{config.api.port}"
    service = SchedulerService(config, store, LeaderElection(store.client, store.leader_path, identifier))
    app = _app(service, config)
    server = (
        _Server(uvicorn.Config(app, host=config.api.host, port=config.api.port, log_level="warning"))
        if app is not None
        else None
    )

    loop = asyncio.get_running_loop()

    def stop() -> None:
        service.stop()
        if server is not None:
            server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)

    service_task = asyncio.create_task(service.run(), name="scheduler-service")
    server_task = asyncio.create_task(server.serve(), name="api") if server is not None else None
    try:
        if server is not None and server_task is not None:
            while not server.started and not server_task.done():
                await asyncio.sleep(0.05)
            port = _bound_port(server)
            if port is not None:
                service.set_scheduler_url(config.scheduler_url(port))
                log.info("API listening on http://%s:%d", config.api.host, port)
        await service_task
    finally:
        stop()
        if server_task is not None:
            with contextlib.suppress(Exception):
                await server_task
        if not service_task.done():
            service_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await service_task
        await asyncio.to_thread(store.close)


def run(config: SchedulerConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(config))
