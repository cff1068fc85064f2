"""Process entry: flags, registry recovery, HTTP server, allocation and liveness loops."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from localmesos import simulated
from localmesos.master import registry
from localmesos.master.agents import liveness_loop
from localmesos.master.http import make_app
from localmesos.master.master import Master
from localmesos.master.state import MasterConfig
from localmesos.resources import ResourceError, parse_text

log = logging.getLogger("localmesos.master")

SIMULATED_RETRY_SECONDS = 10.0


def parse_args(argv: Sequence[str] | None = None) -> MasterConfig:
    p = argparse.ArgumentParser(prog="localmesos master", description="localmesos master (Mesos 1.11 API)")
    p.add_argument("--port", type=int, default=5050, help="0 = ephemeral")
    p.add_argument("--work-dir", required=True)
    p.add_argument("--hostname", default="127.0.0.1")
    p.add_argument("--allocation-interval", type=float, default=1.0)
    p.add_argument("--heartbeat-interval", type=float, default=15.0)
    p.add_argument("--agent-ping-timeout", type=float, default=15.0)
    p.add_argument("--max-agent-ping-timeouts", type=int, default=5)
    p.add_argument(
        "--agent-reregister-timeout",
        type=float,
        default=600.0,
        help="seconds a recovered agent has to re-register after a master restart",
    )
    p.add_argument("--simulated-agents", type=int, default=0)
    p.add_argument("--simulated-resources", default=MasterConfig.simulated_resources)
    p.add_argument("--ready-file", default=None)
    a = p.parse_args(argv)
    for name in (
        "allocation_interval",
        "heartbeat_interval",
        "agent_ping_timeout",
        "agent_reregister_timeout",
    ):
        if getattr(a, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if a.max_agent_ping_timeouts < 1 or a.simulated_agents < 0 or not 0 <= a.port < 65536:
        p.error("--max-agent-ping-timeouts must be >= 1, --simulated-agents >= 0, --port in 0..65535")
    try:
        parse_text(a.simulated_resources)
    except ResourceError as exc:
        p.error(f"--simulated-resources: {exc}")
    return MasterConfig(
        port=a.port,
        work_dir=a.work_dir,
        hostname=a.hostname,
        allocation_interval=a.allocation_interval,
        heartbeat_interval=a.heartbeat_interval,
        agent_ping_timeout=a.agent_ping_timeout,
        max_agent_ping_timeouts=a.max_agent_ping_timeouts,
        agent_reregister_timeout=a.agent_reregister_timeout,
        simulated_agents=a.simulated_agents,
        simulated_resources=a.simulated_resources,
        ready_file=a.ready_file,
    )


def _wire_registry(master: Master, path: Path) -> None:
    previous = registry.load(path)
    master.recovered_agent_ids = {a["id"] for a in previous}

    def save() -> None:
        agents = [
            {"id": a.id, "hostname": a.hostname, "ip": a.ip, "port": a.port}
            for a in list(master.agents.values()) + list(master.unreachable_agents.values())
            if not a.link.simulated
        ]
        agents += [{"id": i} for i in sorted(master.recovered_agent_ids)]
        registry.save(path, agents)

    master.on_registry_change = save


async def run_master(config: MasterConfig, stop: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set (or the task is cancelled)."""
    work_dir = Path(config.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    master = Master(config)
    _wire_registry(master, work_dir / "registry.json")
    # Streams never finish on their own: do not wait the default minute for them on shutdown.
    runner = web.AppRunner(make_app(master), handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, config.hostname, config.port, reuse_address=True)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    master.port = sockets[0].getsockname()[1] if sockets else config.port
    loops = [asyncio.create_task(master.allocation_loop()), asyncio.create_task(liveness_loop(master))]
    asyncio.get_running_loop().call_later(config.agent_reregister_timeout, master.forget_recovered_agents)
    if config.simulated_agents:
        links = simulated.start(master, config.simulated_agents, config.simulated_resources)
        loops.append(asyncio.create_task(simulated.retry_loop(links, SIMULATED_RETRY_SECONDS)))
    if config.ready_file:
        ready = Path(config.ready_file)
        tmp = ready.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": master.port, "id": master.id}))
        tmp.replace(ready)
    log.info("master %s listening on %s:%d", master.id, config.hostname, master.port)
    try:
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        for agent in list(master.agents.values()):
            agent.link.close()
        for framework in list(master.frameworks.values()):
            if framework.sink is not None:
                framework.sink.close()
        with contextlib.suppress(Exception):
            await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    config = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    # Thousands of long-lived task records make full collections expensive; collect less often.
    gc.set_threshold(50_000, 20, 100)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_master(config, stop)

    try:
        asyncio.run(serve())
    except OSError as exc:
        raise SystemExit(f"localmesos master: {exc}") from exc
