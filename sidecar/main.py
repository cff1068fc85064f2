"""The command of every node task: ``python -m sidecar`` (``cassandra-mesos sidecar``).

Reads the NodeConfig from ``CM_NODE_CONFIG``, waits for usable seeds, renders the configuration,
starts Cassandra, serves the HTTP API, applies seed changes, and on SIGTERM drains and stops the
node within the kill grace period. The exit code is Cassandra's outcome (see task_exit_code).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from model.errors import InvalidInput
from model.node_config import NodeConfig
from sidecar.backups import Backups
from sidecar.cassandra_process import CassandraProcess, task_exit_code
from sidecar.config import (
    JMX_STATUS_SOURCE,
    NodePaths,
    Seeds,
    dump_yaml,
    jmx_status_command,
    jvm_command,
    render,
)
from sidecar.config import cassandra_yaml as yaml_of
from sidecar.files import prepare_dirs, write_atomically, write_config
from sidecar.http import CqlProbe, SidecarState, StatusSource, build_app, serve
from sidecar.jobs import JobRunner
from sidecar.node_status import JmxStatusReader, NodetoolStatusReader, compile_jmx_status
from sidecar.nodetool import Nodetool
from sidecar.runtime import resolve_cassandra_lib, resolve_java
from sidecar.seeds import SeedsClient, SeedsUnavailable, watch_seeds

log = logging.getLogger("sidecar")

EXIT_BAD_CONFIG = 2
EXIT_NO_SEEDS = 75  # EX_TEMPFAIL: a relaunch may succeed; 3 is Cassandra's own start-up failure
EXIT_NO_API = 71  # EX_OSERR


class Sidecar:
    def __init__(self, node: NodeConfig, paths: NodePaths) -> None:
        self.node = node
        self.paths = paths
        self.nodetool = Nodetool(paths, node.ports.jmx)
        self.process = CassandraProcess(jvm_command(node, paths), paths.sandbox, self.nodetool)
        # The schema of backups gets a session of its own: a slow DDL must not hold up /ready.
        self.schema_cql = CqlProbe(node.listen_address, node.ports.native_transport)
        self.state = SidecarState(
            node=node,
            process_alive=lambda: self.process.alive,
            process_pid=lambda: self.process.pid,
            probe=CqlProbe(node.listen_address, node.ports.native_transport),
            status=StatusSource(
                node,
                JmxStatusReader(self._jmx_status_command, NodetoolStatusReader(self.nodetool)),
            ),
            jobs=JobRunner(
                self.nodetool,
                self._why_no_jobs,
                Backups(
                    self.nodetool,
                    node.node,
                    paths.data,
                    paths.volume / "restore-staging",
                    self.schema_cql.execute,
                ),
            ),
        )
        self.applied_seeds: Seeds | None = None

    def _jmx_status_command(self) -> tuple[str, ...]:
        classes = compile_jmx_status(self.paths.java, JMX_STATUS_SOURCE, self.paths.tmp / "jmx-status")
        return jmx_status_command(self.paths, self.node.ports.jmx, classes)

    def _why_no_jobs(self) -> str | None:
        if not self.process.alive or self.state.phase != "running":
            return f"Cassandra is not running ({self.state.phase})"
        return None

    async def apply_seeds(self, seeds: Seeds) -> None:
        """Rewrite the seeds in cassandra.yaml (SimpleSeedProvider re-reads it) and reload them."""
        write_atomically(self.paths.cassandra_yaml, dump_yaml(yaml_of(self.node, seeds, self.paths)))
        answer = await self.nodetool.reloadseeds()
        log.info("seeds now %s: %s", seeds, answer)
        self.applied_seeds = seeds

    async def run(self, stop: asyncio.Event, seeds_client: SeedsClient) -> int:
        node = self.node
        prepare_dirs(self.paths)
        try:
            stop_server = await serve(build_app(self.state), node.listen_address, node.ports.sidecar)
        except OSError as e:
            # Port taken or listen_address not an address of this agent: nothing can work.
            log.error("cannot serve the sidecar API on %s:%d: %s", node.listen_address, node.ports.sidecar, e)
            return EXIT_NO_API
        log.info("sidecar API on http://%s:%d", node.listen_address, node.ports.sidecar)
        watcher: asyncio.Task[None] | None = None
        try:
            self.state.phase = "waiting-for-seeds"
            fetch = asyncio.ensure_future(seeds_client.fetch_usable(node.seeds_wait_s, time.monotonic))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not fetch.done():
                fetch.cancel()
                log.info("stopped before Cassandra started")
                return 0
            try:
                seeds = fetch.result()
            except SeedsUnavailable as e:
                log.error("%s", e)
                return EXIT_NO_SEEDS
            rendered = render(node, seeds, self.paths)
            write_config(rendered, self.paths)
            self.applied_seeds = seeds
            log.info("seeds %s; config %s written to %s", seeds, node.config_id, self.paths.conf)
            await self.process.start()
            # bin/cassandra writes the pidfile, not the JVM (which only deletes it on exit).
            write_atomically(self.paths.pidfile, f"{self.process.pid}\n")
            self.state.phase = "running"
            watcher = asyncio.ensure_future(
                watch_seeds(seeds_client, seeds, self.apply_seeds, node.seeds_poll_interval_s)
            )
            exited = asyncio.ensure_future(self.process.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if exited.done():
                stopped.cancel()
                code = task_exit_code(exited.result(), stop_requested=False, drained=False)
                log.error("Cassandra exited on its own with %s: task exit %d", exited.result(), code)
                return code
            exited.cancel()
            self.state.phase = "stopping"
            await self.state.jobs.close()
            self.state.status.invalidate()
            watcher.cancel()
            log.info("SIGTERM: draining and stopping Cassandra (grace %.0f s)", node.kill_grace_period_s)
            result = await self.process.stop(node.kill_grace_period_s)
            code = task_exit_code(result.returncode, stop_requested=True, drained=result.drained)
            log.info(
                "Cassandra stopped: exit %s, drained=%s, killed=%s; task exit %d",
                result.returncode,
                result.drained,
                result.killed,
                code,
            )
            return code
        finally:
            self.state.phase = "stopped"
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if self.process.alive:  # an exception above: never leave the JVM behind
                await self.process.stop(min(node.kill_grace_period_s, 30.0))
            await self.state.probe.close()
            await self.schema_cql.close()
            await self.state.status.close()
            await stop_server()


async def run_node(node: NodeConfig, env: Mapping[str, str]) -> int:
    sandbox = Path(env.get("MESOS_SANDBOX") or os.getcwd()).resolve()
    paths = NodePaths.for_sandbox(
        node, sandbox, resolve_cassandra_lib(node, sandbox), resolve_java(node, sandbox)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with httpx.AsyncClient() as client:
        return await Sidecar(node, paths).run(stop, SeedsClient(node.seeds_url, client))


def main(env: Mapping[str, str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s sidecar %(levelname)s %(message)s"
    )
    logging.getLogger("cassandra").setLevel(logging.CRITICAL)  # probe failures while starting are expected
    logging.getLogger("httpx").setLevel(logging.WARNING)
    env = os.environ if env is None else env
    try:
        node = NodeConfig.from_env(env)
        return asyncio.run(run_node(node, env))
    except InvalidInput as e:
        print(f"sidecar: {e}", file=sys.stderr)
        return EXIT_BAD_CONFIG


if __name__ == "__main__":
    sys.exit(main())
