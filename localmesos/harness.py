"""`LocalMesos`: a whole localmesos (master + agents) for one test, torn down even when the test fails.

    with LocalMesos(tmp_path, agents=3, attributes=["rack:r1", "rack:r2", "rack:r3"]) as lm:
        lm.master_url; lm.agents; lm.kill_agent(1); lm.state()

It runs `localmesos run` as a subprocess in its own process group with a random loopback
ip-base, so concurrent runs never collide. On exit it asks the supervisor to stop, then kills
the whole group and any task process group left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from localmesos.admin import AdminClient
from localmesos.agent.checkpoint import read_json_or
from localmesos.agent.reaper import kill_agent_tasks

DEFAULT_AGENT_RESOURCES = "cpus:4;mem:8192;disk:65536;ports:[31000-32000]"


class HarnessError(Exception):
    """localmesos did not come up; the message carries the end of the supervisor log."""


@dataclass(frozen=True)
class AgentHandle:
    index: int
    ip: str
    port: int
    work_dir: Path

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"


def random_ip_base(rng: random.Random | None = None) -> str:
    r = rng or random.SystemRandom()
    # Second octet >= 2 keeps clear of 127.0.x (localhost and the default 127.0.1.).
    return f"127.{r.randint(2, 254)}.{r.randint(0, 255)}."


class LocalMesos:
    def __init__(
        self,
        work_dir: str | os.PathLike[str],
        agents: int = 1,
        agent_resources: str | list[str] = DEFAULT_AGENT_RESOURCES,
        attributes: list[str] | None = None,
        allocation_interval: float | None = 0.2,
        heartbeat_interval: float | None = 1.0,
        agent_ping_timeout: float = 0.5,
        max_agent_ping_timeouts: int = 3,
        status_update_retry: float | None = 0.5,
        simulated: bool = False,
        executor_environment: dict[str, str] | None = None,
        domains: list[dict[str, Any]] | None = None,
        ip_base: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.work_dir = Path(work_dir).resolve() / "localmesos"
        self.ip_base = ip_base or random_ip_base()
        self.startup_timeout = startup_timeout
        argv = [
            sys.executable,
            "-m",
            "localmesos",
            "run",
            "--work-dir",
            str(self.work_dir),
            "--port",
            "0",
            "--agents",
            str(agents),
            "--ip-base",
            self.ip_base,
            "--agent-ping-timeout",
            str(agent_ping_timeout),
            "--max-agent-ping-timeouts",
            str(max_agent_ping_timeouts),
            "--stop-with-parent",
        ]
        # A list gives each agent its own resources (e.g. distinct port ranges).
        for resources in [agent_resources] if isinstance(agent_resources, str) else agent_resources:
            argv += ["--agent-resources", resources]
        for attrs in attributes or []:
            argv += ["--attributes", attrs]
        if allocation_interval is not None:
            argv += ["--allocation-interval", str(allocation_interval)]
        if heartbeat_interval is not None:
            argv += ["--heartbeat-interval", str(heartbeat_interval)]
        if status_update_retry is not None:
            argv += ["--status-update-retry", str(status_update_retry)]
        if simulated:
            argv.append("--simulated")
        for domain in domains or []:  # one per agent, or one for all
            argv += ["--domain", json.dumps(domain)]
        if executor_environment is not None:
            argv += ["--executor-environment-variables", json.dumps(executor_environment)]
        self.argv = argv
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.admin: AdminClient | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def log_file(self) -> Path:
        return self.work_dir / "logs" / "supervisor.log"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> LocalMesos:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        info_file = self.work_dir / "localmesos.json"
        info_file.unlink(missing_ok=True)
        with open(self.log_file, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + self.startup_timeout
            while not isinstance(info := read_json_or(info_file, None), dict):
                if self.proc.poll() is not None:
                    raise HarnessError(
                        f"localmesos run exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise HarnessError(
                        f"localmesos did not start within {self.startup_timeout:.0f}s:\n{self.log_tail()}"
                    )
                time.sleep(0.05)
            self.info = info
            self.admin = AdminClient(info["admin"])
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            # The supervisor stops agents, task process groups and the master in order.
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        # Task processes live in their own sessions: kill whatever the supervisor could not.
        agents_dir = self.work_dir / "agents"
        if agents_dir.is_dir():
            for agent_dir in agents_dir.iterdir():
                kill_agent_tasks(agent_dir)
        self.proc = None

    # ------------------------------------------------------------------ what tests use

    @property
    def master_url(self) -> str:
        return str(self.info["master"])

    @property
    def admin_url(self) -> str:
        return str(self.info["admin"])

    @property
    def agents(self) -> list[AgentHandle]:
        return [AgentHandle(a["index"], a["ip"], a["port"], Path(a["work_dir"])) for a in self.info["agents"]]

    def _admin(self) -> AdminClient:
        if self.admin is None:
            raise HarnessError("localmesos is not running (use it as a context manager)")
        return self.admin

    def stop_agent(self, i: int) -> None:
        self._admin().agent("stop", i)

    def start_agent(self, i: int) -> None:
        self._admin().agent("start", i)

    def restart_agent(self, i: int) -> None:
        self._admin().agent("restart", i)

    def kill_agent(self, i: int) -> None:
        self._admin().agent("kill", i)

    def partition_agent(self, i: int) -> None:
        self._admin().agent("partition", i)

    def heal_agent(self, i: int) -> None:
        self._admin().agent("heal", i)

    def restart_master(self) -> None:
        self._admin().restart_master()

    def admin_state(self) -> dict[str, Any]:
        return self._admin().state()

    def state(self) -> dict[str, Any]:
        """GET /master/state of the master, as a dict."""
        resp = httpx.get(f"{self.master_url}/master/state", timeout=10)
        resp.raise_for_status()
        return dict(resp.json())
