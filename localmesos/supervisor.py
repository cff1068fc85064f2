"""`localmesos run`: the master and N agents as processes, the admin API, clean teardown.

See docs/localmesos.md ("Processes", "Admin API"). Everything runs from one asyncio loop; child
processes log to `W/logs/`. On SIGINT/SIGTERM every agent, every task process group and the
master are stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from localmesos.admin import admin_app
from localmesos.agent.checkpoint import read_json_or, write_json
from localmesos.agent.reaper import kill_agent_tasks

log = logging.getLogger("localmesos.supervisor")

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
AGENT_PORT = 5051


class SupervisorError(Exception):
    """A localmesos process did not start or stop as asked; the message says which and why."""


@dataclass(frozen=True)
class RunConfig:
    work_dir: Path
    port: int = 5050
    agents: int = 1
    ip_base: str = "127.0.1."
    agent_resources: str = "cpus:4;mem:8192;disk:65536;ports:[31000-32000]"
    attributes: tuple[str, ...] = ()
    # Once per agent, overriding agent_resources: distinct port ranges keep ports bound on the
    # shared 127.0.0.1 (Cassandra's local JMX) from colliding between agents.
    per_agent_resources: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # Mesos --domain JSON, once for all agents or once per agent
    simulated: bool = False
    admin_port: int = 0
    allocation_interval: float | None = None
    heartbeat_interval: float | None = None
    agent_ping_timeout: float = 15.0
    max_agent_ping_timeouts: int = 5
    status_update_retry: float | None = None
    stop_with_parent: bool = False  # the harness: if the test process dies, take everything down
    executor_environment: str | None = None  # JSON object, the agents' --executor-environment-variables

    def agent_attributes(self, index: int) -> str:
        if not self.attributes:
            return ""
        if len(self.attributes) == 1:
            return self.attributes[0]
        return self.attributes[index]

    def agent_resources_of(self, index: int) -> str:
        return self.per_agent_resources[index] if self.per_agent_resources else self.agent_resources

    def agent_domain(self, index: int) -> str | None:
        if not self.domains:
            return None
        return self.domains[0] if len(self.domains) == 1 else self.domains[index]

    def validate(self) -> None:
        if self.domains and len(self.domains) not in (1, self.agents):
            raise SupervisorError(
                f"--domain given {len(self.domains)} times for {self.agents} agents "
                "(give it once for all agents, or once per agent)"
            )
        if self.agents < 0:
            raise SupervisorError(f"--agents must be >= 0, got {self.agents}")
        if self.per_agent_resources and len(self.per_agent_resources) != self.agents:
            raise SupervisorError(
                f"--agent-resources given {len(self.per_agent_resources)} times for {self.agents} agents "
                "(give it once for all agents, or once per agent)"
            )
        if self.attributes and len(self.attributes) not in (1, self.agents):
            raise SupervisorError(
                f"--attributes given {len(self.attributes)} times for {self.agents} agents "
                "(give it once for all agents, or once per agent)"
            )
        parts = self.ip_base.split(".")
        if len(parts) != 4 or parts[0] != "127" or parts[3] != "" or not all(p.isdigit() for p in parts[1:3]):
            raise SupervisorError(f"--ip-base must look like '127.X.Y.', got {self.ip_base!r}")
        if self.agents > 254:
            raise SupervisorError(f"at most 254 agents per --ip-base, got {self.agents}")
        if self.agent_ping_timeout <= 0 or self.max_agent_ping_timeouts < 1:
            raise SupervisorError("--agent-ping-timeout must be > 0 and --max-agent-ping-timeouts >= 1")


@dataclass
class Child:
    name: str
    argv: list[str]
    log_file: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, close_fds=True
            )
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if proc.poll() is None:
            log.warning("%s ignored signal %d for %.0fs; killing it", self.name, sig, timeout)
            proc.kill()
            await asyncio.to_thread(proc.wait)
        log.info("%s stopped (exit %s)", self.name, proc.returncode)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class AgentSlot:
    index: int
    ip: str
    port: int
    work_dir: Path
    child: Child
    agent_id: str | None = None


async def wait_ready_file(child: Child, ready: Path, timeout: float = START_TIMEOUT) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            data = read_json_or(ready, None)
            if isinstance(data, dict):
                return data
        if not child.running:
            raise SupervisorError(f"{child.name} exited before it was ready:\n{child.log_tail()}")
        await asyncio.sleep(0.05)
    raise SupervisorError(f"{child.name} was not ready within {timeout:.0f}s:\n{child.log_tail()}")


@dataclass
class Supervisor:
    config: RunConfig
    master: Child | None = None
    master_port: int = 0
    agents: list[AgentSlot] = field(default_factory=list)
    admin_url: str = ""
    session: aiohttp.ClientSession | None = None

    @property
    def work_dir(self) -> Path:
        return self.config.work_dir

    @property
    def master_url(self) -> str:
        return f"http://127.0.0.1:{self.master_port}"

    # ------------------------------------------------------------------ master

    def _master_argv(self, port: int) -> list[str]:
        c = self.config
        argv = [
            sys.executable,
            "-m",
            "localmesos.master",
            "--port",
            str(port),
            "--work-dir",
            str(self.work_dir / "master"),
            "--hostname",
            "127.0.0.1",
            "--agent-ping-timeout",
            str(c.agent_ping_timeout),
            "--max-agent-ping-timeouts",
            str(c.max_agent_ping_timeouts),
            "--ready-file",
            str(self.work_dir / "master" / "ready.json"),
        ]
        if c.allocation_interval is not None:
            argv += ["--allocation-interval", str(c.allocation_interval)]
        if c.heartbeat_interval is not None:
            argv += ["--heartbeat-interval", str(c.heartbeat_interval)]
        if c.simulated:
            argv += ["--simulated-agents", str(c.agents), "--simulated-resources", c.agent_resources]
        return argv

    async def start_master(self) -> None:
        port = self.master_port or self.config.port
        ready = self.work_dir / "master" / "ready.json"
        ready.unlink(missing_ok=True)
        ready.parent.mkdir(parents=True, exist_ok=True)
        self.master = Child("master", self._master_argv(port), self.work_dir / "logs" / "master.log")
        self.master.spawn()
        self.master_port = int((await wait_ready_file(self.master, ready))["port"])

    async def restart_master(self) -> None:
        if self.master is not None:
            await self.master.stop()
        await self.start_master()
        self.write_info()

    # ------------------------------------------------------------------ agents

    def _make_slot(self, index: int) -> AgentSlot:
        c = self.config
        ip = f"{c.ip_base}{index + 1}"
        work_dir = self.work_dir / "agents" / str(index)
        argv = [
            sys.executable,
            "-m",
            "localmesos.agent",
            "--master",
            self.master_url,
            "--ip",
            ip,
            "--port",
            str(AGENT_PORT),
            "--work-dir",
            str(work_dir),
            "--resources",
            c.agent_resources_of(index),
            "--attributes",
            c.agent_attributes(index),
            "--master-ping-timeout",
            str(c.agent_ping_timeout * c.max_agent_ping_timeouts),
            "--ready-file",
            str(work_dir / "ready.json"),
        ]
        if c.status_update_retry is not None:
            argv += ["--status-update-retry", str(c.status_update_retry)]
        domain = c.agent_domain(index)
        if domain is not None:
            argv += ["--domain", domain]
        if c.executor_environment is not None:
            argv += ["--executor-environment-variables", c.executor_environment]
        child = Child(f"agent {index} ({ip})", argv, self.work_dir / "logs" / f"agent-{index}.log")
        return AgentSlot(index, ip, AGENT_PORT, work_dir, child)

    def slot(self, index: int) -> AgentSlot:
        if not 0 <= index < len(self.agents):
            raise web.HTTPNotFound(text=f"no agent {index} (there are {len(self.agents)})")
        return self.agents[index]

    async def start_agent(self, index: int) -> None:
        slot = self.slot(index)
        if slot.child.running:
            return
        ready = slot.work_dir / "ready.json"
        ready.unlink(missing_ok=True)
        slot.child.spawn()
        slot.agent_id = (await wait_ready_file(slot.child, ready)).get("agent_id")
        self.write_info()

    async def stop_agent(self, index: int) -> None:
        await self.slot(index).child.stop()
        self.write_info()

    async def kill_agent(self, index: int) -> None:
        slot = self.slot(index)
        await slot.child.stop(signal.SIGKILL)
        n = kill_agent_tasks(slot.work_dir)
        log.info("agent %d killed with %d task processes", index, n)
        self.write_info()

    async def restart_agent(self, index: int) -> None:
        await self.stop_agent(index)
        await self.start_agent(index)

    async def partition_agent(self, index: int) -> None:
        await self._agent_call(index, "partition")

    async def heal_agent(self, index: int) -> None:
        await self._agent_call(index, "heal")

    async def _agent_call(self, index: int, action: str) -> None:
        slot = self.slot(index)
        if not slot.child.running:
            raise web.HTTPConflict(text=f"agent {index} is not running")
        assert self.session is not None
        url = f"http://{slot.ip}:{slot.port}/localmesos/{action}"
        async with self.session.post(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
            if resp.status != 200:
                raise web.HTTPBadGateway(text=f"agent {index} answered {resp.status} to {action}")

    # ------------------------------------------------------------------ info file and admin API

    def info(self) -> dict[str, Any]:
        return {
            "master": self.master_url,
            "admin": self.admin_url,
            "agents": [
                {
                    "index": s.index,
                    "ip": s.ip,
                    "port": s.port,
                    "work_dir": str(s.work_dir),
                    "pid": s.child.proc.pid if s.child.proc else None,
                    "agent_id": s.agent_id,
                }
                for s in self.agents
            ],
        }

    def write_info(self) -> None:
        if self.admin_url:
            write_json(self.work_dir / "localmesos.json", self.info())

    # ------------------------------------------------------------------ whole run

    async def shutdown(self) -> None:
        for slot in self.agents:
            await slot.child.stop()
            kill_agent_tasks(slot.work_dir)
        if self.master is not None:
            await self.master.stop()

    async def run(self, stop: asyncio.Event) -> None:
        self.config.validate()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "localmesos.json").unlink(missing_ok=True)
        self.session = aiohttp.ClientSession()
        runner = web.AppRunner(admin_app(self), access_log=None, handle_signals=False)
        try:
            await self.start_master()
            if not self.config.simulated:
                self.agents = [self._make_slot(i) for i in range(self.config.agents)]
                await asyncio.gather(*(self.start_agent(i) for i in range(len(self.agents))))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", self.config.admin_port)
            await site.start()
            server = getattr(site, "_server", None)
            port = server.sockets[0].getsockname()[1] if server is not None else self.config.admin_port
            self.admin_url = f"http://127.0.0.1:{port}"
            self.write_info()
            log.info(
                "localmesos up: master %s, admin %s, %d agents",
                self.master_url,
                self.admin_url,
                len(self.agents),
            )
            await stop.wait()
        finally:
            log.info("stopping localmesos")
            await self.shutdown()
            await runner.cleanup()
            await self.session.close()
            (self.work_dir / "localmesos.json").unlink(missing_ok=True)


async def _watch_parent(stop: asyncio.Event, parent: int) -> None:
    # Reparenting means the process that started us died (e.g. a test runner killed on timeout).
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    log.warning("parent process %d is gone; stopping", parent)
    stop.set()


async def run_supervisor(config: RunConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(_watch_parent(stop, os.getppid())) if config.stop_with_parent else None
    try:
        await Supervisor(config).run(stop)
    finally:
        if watcher is not None:
            watcher.cancel()


def read_info(work_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(work_dir) / "localmesos.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise SupervisorError(
            f"{path} not found: is `localmesos run --work-dir {work_dir}` running?"
        ) from None
