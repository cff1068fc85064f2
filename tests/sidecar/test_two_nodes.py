"""Two real nodes through their sidecars: seeds from the scheduler join them, seed changes are reloaded."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

import jvm
from sidecar.config import NodePaths
from sidecar.nodetool import Nodetool
from tests.sidecar.harness import SeedsServer, node_config, run_sidecar, wait_until

pytestmark = pytest.mark.cassandra


def _ring(sc) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = sc.get("/status")
    return {m["address"]: m["state"] for m in r.json()["ring"]} if r.status_code == 200 else {}


def test_second_node_joins_through_seeds_and_seed_changes_are_reloaded(tmp_path: Path) -> None:
    seeds = SeedsServer()
    try:
        n0 = node_config(seeds.url, node="node-0", token="-9223372036854775808")
        n1 = node_config(seeds.url, node="node-1", token="0")
        a0 = f"{n0.listen_address}:{n0.ports.storage}"
        a1 = f"{n1.listen_address}:{n1.ports.storage}"
        # The scheduler's view on a fresh cluster: node-0 is the seed, node-1 is told about it.
        seeds.set("node-0", is_seed=True, seeds=[])
        seeds.set("node-1", is_seed=False, seeds=[a0])

        with run_sidecar(n0, tmp_path / "n0") as s0:
            s0.wait_ready()
            with run_sidecar(n1, tmp_path / "n1") as s1:
                s1.wait_ready()
                both = {a0: "UN", a1: "UN"}
                wait_until("both nodes UN from node-0", lambda: _ring(s0) == both, 60)
                wait_until("both nodes UN from node-1", lambda: _ring(s1) == both, 60)
                yaml1 = (tmp_path / "n1" / "cassandra-conf" / "cassandra.yaml").read_text()
                assert f"- seeds: {a0}\n" in yaml1

                # The scheduler now also lists node-1: node-0's sidecar rewrites its yaml and
                # runs `nodetool reloadseeds`, so Cassandra's live seed list changes.
                seeds.set("node-0", is_seed=True, seeds=[a1])
                paths = NodePaths.for_sandbox(n0, tmp_path / "n0", jvm.cassandra_lib(), jvm.find_java17())
                nodetool = Nodetool(paths, n0.ports.jmx)
                wait_until(
                    "node-0 to reload seeds",
                    lambda: a1 in asyncio.run(nodetool.run("-pp", "getseeds")),
                    60,
                    interval=1.0,
                )
                assert "seeds now" in s0.output()
                assert a1 in paths.cassandra_yaml.read_text()

                s1.proc.send_signal(signal.SIGTERM)
                assert s1.proc.wait(timeout=n1.kill_grace_period_s) == 0
            # A cleanly stopped node announces its shutdown and node-0 sees it down at once; its
            # /status may serve a settled answer for a while (sidecar.http.STATUS_TTL_S).
            wait_until("node-1 DN from node-0", lambda: _ring(s0) == {a0: "UN", a1: "DN"}, 75)
            s0.proc.send_signal(signal.SIGTERM)
            assert s0.proc.wait(timeout=n0.kill_grace_period_s) == 0
    finally:
        seeds.close()
