"""Running the real sidecar (and through it real Cassandra) as a process in tests.

The scheduler's seeds endpoint is the only stand-in: a tiny HTTP server in the test process whose
answer per node the test sets. Every sidecar runs in its own session and is SIGKILLed with its
Cassandra (found through the pidfile) when the test ends, whatever happened.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from model.node_config import DEV_CASSANDRA_YAML, FAST_START_JVM_OPTIONS, NodeConfig
from sidecar.http import CqlProbe, SidecarState, StatusSource
from sidecar.jobs import JobRunner
from sidecar.node_status import NodetoolStatusReader
from sidecar.nodetool import Nodetool

ROOT = Path(__file__).resolve().parents[2]


def random_loopback() -> str:
    return f"127.{random.randint(2, 254)}.{random.randint(0, 255)}.{random.randint(2, 254)}"


def free_ports(ip: str, n: int) -> list[int]:
    """n distinct ports that are free on ip right now (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((ip, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll check() until it returns something truthy; fail with the last error/value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
            last = value
        except Exception as e:  # the condition may throw while the node is coming up
            last = f"{type(e).__name__}: {e}"
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last}")


class SeedsServer:
    """Stand-in for the scheduler's GET /v1/clusters/{c}/seeds?node=..."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                node = parse_qs(url.query).get("node", [""])[0]
                server.requests.append(self.path)
                status, body = server.answers.get(node, (404, {"message": f"unknown node {node}"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def set(self, node: str, is_seed: bool, seeds: list[str], status: int = 200) -> None:
        self.answers[node] = (status, {"isSeed": is_seed, "seeds": seeds})

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def node_config(
    seeds_url: str,
    node: str = "node-0",
    cluster: str = "it",
    token: str = "0",
    **overrides: Any,
) -> NodeConfig:
    ip = random_loopback()
    storage, ssl, native, sidecar = free_ports(ip, 4)
    # JMX always binds 127.0.0.1, whatever the node's address (reference §3.4).
    jmx = next(p for p in free_ports("127.0.0.1", 5) if p not in (storage, ssl, native, sidecar))
    fields: dict[str, Any] = {
        "cluster": cluster,
        "node": node,
        "config_id": "cfg-1",
        "scheduler_url": seeds_url,
        "data_center": "dc-it",
        "rack": "rack-a",
        "listen_address": ip,
        "ports": {
            "storage": storage,
            "ssl_storage": ssl,
            "native_transport": native,
            "jmx": jmx,
            "sidecar": sidecar,
        },
        "volume_path": "volume",
        "heap_mb": 512,
        "num_tokens": 1,
        "initial_token": token,
        "auto_bootstrap": False,
        "cassandra_yaml": dict(DEV_CASSANDRA_YAML),
        "jvm_options": FAST_START_JVM_OPTIONS,
        "kill_grace_period_s": 60.0,
        "seeds_poll_interval_s": 1.0,
        "seeds_wait_s": 60.0,
    }
    fields.update(overrides)
    return NodeConfig.model_validate(fields)


@dataclass
class SidecarProc:
    config: NodeConfig
    sandbox: Path
    proc: subprocess.Popen[bytes]
    log: Path
    cassandra_pids: set[int] = field(default_factory=set)

    @property
    def api(self) -> str:
        return f"http://{self.config.listen_address}:{self.config.ports.sidecar}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.api + path, timeout=30.0)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def remember_cassandra_pid(self) -> int | None:
        pidfile = self.sandbox / "cassandra.pid"
        with suppress(OSError, ValueError):
            pid = int(pidfile.read_text().strip())
            self.cassandra_pids.add(pid)
            return pid
        return None

    def wait_ready(self, timeout: float = 120.0) -> dict[str, Any]:
        def ready() -> Any:
            if self.proc.poll() is not None:
                raise AssertionError(f"sidecar exited {self.proc.returncode}:\n{self.output()[-3000:]}")
            self.remember_cassandra_pid()
            r = self.get("/ready")
            return r.json() if r.status_code == 200 else None

        return wait_until(f"{self.config.node} /ready", ready, timeout)

    def kill(self) -> None:
        self.remember_cassandra_pid()
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in self.cassandra_pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


@contextmanager
def run_sidecar(config: NodeConfig, sandbox: Path) -> Iterator[SidecarProc]:
    sandbox.mkdir(parents=True, exist_ok=True)
    log = sandbox / "sidecar.out"
    env = {**os.environ, **config.to_env(), "MESOS_SANDBOX": str(sandbox)}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sidecar"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    sc = SidecarProc(config, sandbox, proc, log)
    try:
        yield sc
    finally:
        sc.kill()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited for our purposes.
    with suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return False


def running_state(
    node: NodeConfig, nodetool: Nodetool, probe: CqlProbe, jobs: JobRunner | None = None
) -> SidecarState:
    """What the HTTP handlers read for a running node, with injected nodetool and CQL probe."""
    return SidecarState(
        node=node,
        process_alive=lambda: True,
        process_pid=lambda: 1,
        probe=probe,
        status=StatusSource(node, NodetoolStatusReader(nodetool)),
        jobs=jobs or JobRunner(nodetool),
        phase="running",
    )
