"""Task health checks run by the command executor (Mesos `TaskInfo.health_check`, v1).

`HealthPolicy` is the decision (Mesos' HealthChecker): failures inside the grace period before
the first success are ignored; the first success, and the first after failures, report
healthy; every counted failure reports unhealthy and asks for a kill after
`consecutive_failures` in a row. `probe` runs one COMMAND, HTTP or TCP check. HTTP and TCP
checks go to the agent's IP (tasks bind there in localmesos, not on 127.0.0.1).
"""

from __future__ import annotations

import http.client
import socket
import subprocess
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HealthSpec:
    kind: str  # COMMAND | HTTP | TCP
    delay: float = 15.0
    interval: float = 10.0
    timeout: float = 20.0
    consecutive_failures: int = 3
    grace_period: float = 10.0
    command: dict[str, Any] | None = None
    port: int = 0
    path: str = "/"
    scheme: str = "http"

    @classmethod
    def from_task(cls, check: dict[str, Any] | None) -> HealthSpec | None:
        if not isinstance(check, dict):
            return None
        kind = check.get("type") or ("COMMAND" if "command" in check else "HTTP" if "http" in check else None)
        if kind not in ("COMMAND", "HTTP", "TCP"):
            return None
        http_ = check.get("http") or {}
        tcp = check.get("tcp") or {}
        return cls(
            kind=kind,
            delay=float(check.get("delay_seconds", 15.0)),
            interval=float(check.get("interval_seconds", 10.0)),
            timeout=float(check.get("timeout_seconds", 20.0)),
            consecutive_failures=int(check.get("consecutive_failures", 3)),
            grace_period=float(check.get("grace_period_seconds", 10.0)),
            command=check.get("command"),
            port=int((http_ if kind == "HTTP" else tcp).get("port", 0)),
            path=str(http_.get("path", "/")),
            scheme=str(http_.get("scheme", "http")),
        )


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    kill_task: bool


class HealthPolicy:
    def __init__(self, spec: HealthSpec, started_at: float) -> None:
        self.spec = spec
        self.started_at = started_at
        self.initializing = True
        self.failures = 0

    def success(self) -> HealthReport | None:
        report = HealthReport(True, False) if self.initializing or self.failures > 0 else None
        self.initializing = False
        self.failures = 0
        return report

    def failure(self, now: float) -> HealthReport | None:
        if self.initializing and now - self.started_at < self.spec.grace_period:
            return None
        self.failures += 1
        return HealthReport(False, self.failures >= self.spec.consecutive_failures)


def probe(spec: HealthSpec, host: str, env: dict[str, str], cwd: str) -> bool:
    """Run one check; True when healthy. Never raises."""
    try:
        if spec.kind == "COMMAND":
            command = spec.command or {}
            if command.get("shell", True):
                argv = ["/bin/sh", "-c", str(command.get("value", ""))]
            else:
                argv = [str(a) for a in command.get("arguments") or [command.get("value", "")]]
            env2 = dict(env)
            for var in (command.get("environment") or {}).get("variables") or []:
                env2[str(var.get("name"))] = str(var.get("value", ""))
            done = subprocess.run(
                argv, env=env2, cwd=cwd, capture_output=True, timeout=spec.timeout, check=False
            )
            return done.returncode == 0
        if spec.kind == "HTTP":
            conn_cls = http.client.HTTPSConnection if spec.scheme == "https" else http.client.HTTPConnection
            conn = conn_cls(host, spec.port, timeout=spec.timeout)
            try:
                conn.request("GET", spec.path)
                # Mesos treats 2xx and 3xx as healthy.
                return 200 <= conn.getresponse().status < 400
            finally:
                conn.close()
        with socket.create_connection((host, spec.port), timeout=spec.timeout):
            return True
    except (OSError, subprocess.SubprocessError, http.client.HTTPException):
        return False
