"""The sidecar as a process, before any JVM: bad config, no seeds, stop while waiting for seeds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from model.node_config import ENV_VAR
from tests.sidecar.harness import ROOT, SeedsServer, node_config, run_sidecar, wait_until


def _run(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidecar"],
        cwd=ROOT,
        env={**os.environ, **env, "MESOS_SANDBOX": str(cwd)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bad_config_exits_2_naming_the_field(tmp_path: Path) -> None:
    r = _run({ENV_VAR: '{"cluster": "c", "node": "n0"}'}, tmp_path)
    assert r.returncode == 2
    assert "node: must be node-<i>" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_config_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    r = subprocess.run(
        [sys.executable, "-m", "sidecar"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "CM_NODE_CONFIG is not set" in r.stderr


def test_missing_cassandra_lib_exits_2(tmp_path: Path) -> None:
    config = node_config("http://127.0.0.1:1", cassandra_lib="apache-cassandra-5.0.8/lib")
    r = _run(config.to_env(), tmp_path)
    assert r.returncode == 2
    assert "cassandra_lib 'apache-cassandra-5.0.8/lib'" in r.stderr
    assert "Traceback" not in r.stderr


def test_no_usable_seeds_in_time_exits_75_with_the_reason(tmp_path: Path) -> None:
    seeds = SeedsServer()
    try:
        seeds.set("node-0", is_seed=False, seeds=[])
        config = node_config(seeds.url, seeds_wait_s=2.0)
        r = _run(config.to_env(), tmp_path)
        assert r.returncode == 75, r.stderr
        assert "no usable seeds after 2 s: not a seed and no seeds known yet" in r.stderr
        assert not (tmp_path / "cassandra-conf" / "cassandra.yaml").exists()
    finally:
        seeds.close()


def test_sigterm_while_waiting_for_seeds_ends_cleanly(tmp_path: Path) -> None:
    seeds = SeedsServer()
    try:
        seeds.set("node-0", is_seed=False, seeds=[], status=503)
        config = node_config(seeds.url)
        with run_sidecar(config, tmp_path) as sc:

            def health() -> httpx.Response | None:
                try:
                    return sc.get("/health")
                except httpx.HTTPError:
                    return None

            r = wait_until("sidecar API", health, 30)
            assert r.status_code == 503
            assert r.json() == {"alive": False, "pid": None, "phase": "waiting-for-seeds"}
            assert sc.get("/ready").status_code == 503
            assert sc.get("/status").json()["phase"] == "waiting-for-seeds"
            sc.proc.send_signal(signal.SIGTERM)
            assert sc.proc.wait(timeout=30) == 0
    finally:
        seeds.close()


def test_java_home_of_a_newer_jdk_is_refused(tmp_path: Path) -> None:
    jdk25 = Path("/usr/lib/jvm/temurin-25-jdk-amd64")
    home = jdk25 if jdk25.exists() else tmp_path / "fake-jdk"
    if not jdk25.exists():  # a stand-in java that reports version 25 the way the JDK does
        (home / "bin").mkdir(parents=True)
        (home / "bin" / "java").write_text("#!/bin/sh\necho 'openjdk version \"25\" 2025-09-16' >&2\n")
        (home / "bin" / "java").chmod(0o755)
    config = node_config("http://127.0.0.1:1", java_home=str(home))
    r = _run(config.to_env(), tmp_path)
    assert r.returncode == 2
    assert "is Java 25: Cassandra 5.0 needs Java 17" in r.stderr


@pytest.mark.cassandra
def test_cassandra_failing_to_start_ends_the_task_with_its_exit_code(tmp_path: Path) -> None:
    seeds = SeedsServer()
    try:
        seeds.set("node-0", is_seed=True, seeds=[])
        # Cassandra rejects unknown yaml keys at start-up (reference §2.5).
        config = node_config(seeds.url, cassandra_yaml={"no_such_setting": 1})
        r = _run(config.to_env(), tmp_path)
        assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
        assert "Invalid yaml" in r.stdout and "no_such_setting" in r.stdout
        assert "Cassandra exited on its own with 3: task exit 3" in r.stderr
    finally:
        seeds.close()


def test_sidecar_port_taken_exits_71_with_the_reason(tmp_path: Path) -> None:
    config = node_config("http://127.0.0.1:1")
    with socket.socket() as taken:
        taken.bind((config.listen_address, config.ports.sidecar))
        taken.listen()
        r = _run(config.to_env(), tmp_path)
    assert r.returncode == 71
    assert f"cannot serve the sidecar API on {config.listen_address}:{config.ports.sidecar}" in r.stderr
    assert "Traceback" not in r.stderr
