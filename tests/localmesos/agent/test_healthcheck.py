"""Health check decisions (Mesos HealthChecker) and probes against real sockets and commands."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from localmesos.agent.healthcheck import HealthPolicy, HealthReport, HealthSpec, probe


def test_grace_period_hides_early_failures_then_failures_count_to_a_kill() -> None:
    policy = HealthPolicy(HealthSpec("TCP", grace_period=10, consecutive_failures=2), started_at=0)
    assert policy.failure(now=5) is None  # still starting up
    assert policy.success() == HealthReport(healthy=True, kill_task=False)
    assert policy.success() is None  # healthy again and again: no news
    assert policy.failure(now=6) == HealthReport(healthy=False, kill_task=False)
    assert policy.success() == HealthReport(healthy=True, kill_task=False)  # recovered
    assert policy.failure(now=7) == HealthReport(healthy=False, kill_task=False)
    assert policy.failure(now=8) == HealthReport(healthy=False, kill_task=True)


def test_failures_after_the_grace_period_count_even_without_a_success() -> None:
    policy = HealthPolicy(HealthSpec("TCP", grace_period=1, consecutive_failures=1), started_at=0)
    assert policy.failure(now=2) == HealthReport(healthy=False, kill_task=True)


def test_spec_from_task_fills_mesos_defaults_and_legacy_type() -> None:
    spec = HealthSpec.from_task({"command": {"value": "true"}})
    assert spec is not None and spec.kind == "COMMAND"
    assert (spec.delay, spec.interval, spec.timeout, spec.consecutive_failures, spec.grace_period) == (
        15.0,
        10.0,
        20.0,
        3,
        10.0,
    )
    assert HealthSpec.from_task({"type": "HTTP", "http": {"port": 8080, "path": "/ok"}}) == HealthSpec(
        "HTTP", port=8080, path="/ok"
    )
    assert HealthSpec.from_task(None) is None


@pytest.fixture
def http_server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_probes(http_server: int, tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    assert probe(HealthSpec("HTTP", port=http_server, path="/ok", timeout=2), "127.0.0.1", env, str(tmp_path))
    assert not probe(
        HealthSpec("HTTP", port=http_server, path="/bad", timeout=2), "127.0.0.1", env, str(tmp_path)
    )
    assert probe(HealthSpec("TCP", port=http_server, timeout=2), "127.0.0.1", env, str(tmp_path))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    assert not probe(HealthSpec("TCP", port=closed_port, timeout=2), "127.0.0.1", env, str(tmp_path))
    (tmp_path / "flag").touch()
    assert probe(HealthSpec("COMMAND", command={"value": "test -e flag"}, timeout=2), "x", env, str(tmp_path))
    assert not probe(HealthSpec("COMMAND", command={"value": "exit 1"}, timeout=2), "x", env, str(tmp_path))
