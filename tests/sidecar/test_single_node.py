"""One real node through the sidecar: ready, CQL rows, /status, SIGTERM drain, restart on the same volume."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import WhiteListRoundRobinPolicy

from tests.sidecar.harness import SeedsServer, alive, node_config, run_sidecar, wait_until

pytestmark = pytest.mark.cassandra


def _session(ip: str, port: int):  # type: ignore[no-untyped-def]
    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([ip]))
    cluster = Cluster([ip], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile}, protocol_version=5)
    return cluster, cluster.connect()


def test_node_serves_cql_reports_status_drains_on_sigterm_and_keeps_data(tmp_path: Path) -> None:
    seeds = SeedsServer()
    try:
        seeds.set("node-0", is_seed=True, seeds=[])
        config = node_config(seeds.url)
        ip, native = config.listen_address, config.ports.native_transport
        sandbox = tmp_path / "sandbox"

        with run_sidecar(config, sandbox) as sc:
            ready = sc.wait_ready()
            assert ready["version"] == "5.0.8"
            assert sc.get("/health").json()["alive"] is True
            assert any("/v1/clusters/it/seeds?node=node-0" in r for r in seeds.requests)

            cluster, session = _session(ip, native)
            try:
                session.execute(
                    "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc-it': 1}"
                )
                session.execute("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
                for k in range(100):
                    session.execute("INSERT INTO ks.t (k, v) VALUES (%s, %s)", (k, f"v{k}"))
                rows = {r.k: r.v for r in session.execute("SELECT k, v FROM ks.t")}
                assert rows == {k: f"v{k}" for k in range(100)}
            finally:
                cluster.shutdown()

            status = sc.get("/status")
            assert status.status_code == 200, status.text
            body = status.json()
            assert body["mode"] == "NORMAL"
            assert body["source"] == "jmx"  # the resident reader, not nodetool JVMs
            assert (body["data_center"], body["rack"]) == ("dc-it", "rack-a")
            assert body["tokens"] == 1
            me = f"{ip}:{config.ports.storage}"
            assert [(m["address"], m["state"], m["data_center"], m["rack"]) for m in body["ring"]] == [
                (me, "UN", "dc-it", "rack-a")
            ]
            host_id = body["host_id"]

            # Data, commitlog, hints and saved caches are on the volume, not elsewhere in the sandbox.
            volume = sandbox / "volume"
            assert {p.name for p in volume.iterdir()} >= {"data", "commitlog", "hints", "saved_caches"}
            assert any((volume / "data" / "ks").iterdir())

            jvm_pid = sc.remember_cassandra_pid()
            assert jvm_pid is not None and alive(jvm_pid)
            helpers = [c for c in psutil.Process(sc.proc.pid).children() if "JmxStatus" in c.cmdline()]
            assert len(helpers) == 1, helpers  # one resident status reader, whatever the number of reads
            assert "-cp" in helpers[0].cmdline()  # compiled once into the sandbox, not run from source
            started = time.monotonic()
            sc.proc.send_signal(signal.SIGTERM)
            code = sc.proc.wait(timeout=config.kill_grace_period_s)
            took = time.monotonic() - started
            out = sc.output()
            assert code == 0, out[-3000:]
            assert took < config.kill_grace_period_s
            assert "drained=True" in out, out[-3000:]
            assert not alive(jvm_pid)
            assert not alive(helpers[0].pid), "the status helper outlived its sidecar"
            # A drained node has flushed everything: the commit log needs no replay on restart.
            assert "DRAINED" in (sandbox / "logs" / "system.log").read_text()

        # Same sandbox and volume: a relaunch of the task on its reservation.
        with run_sidecar(config, sandbox) as sc:
            sc.wait_ready()
            cluster, session = _session(ip, native)
            try:
                rows = {r.k: r.v for r in session.execute("SELECT k, v FROM ks.t")}
                assert rows == {k: f"v{k}" for k in range(100)}
            finally:
                cluster.shutdown()
            body = wait_until("/status after restart", lambda: sc.get("/status").json(), 60)
            assert body["host_id"] == host_id
            sc.proc.send_signal(signal.SIGTERM)
            assert sc.proc.wait(timeout=config.kill_grace_period_s) == 0
    finally:
        seeds.close()
