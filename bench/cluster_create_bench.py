"""Cluster creation through the whole framework, against bare Cassandra and the published anchors.

    .venv/bin/python bench/cluster_create_bench.py [--part a|b|all] [--rounds 1]

(a) One node launched through the framework (PUT of a 1-node cluster -> offer -> RESERVE, CREATE,
    LAUNCH on localmesos -> sidecar -> Cassandra) until it answers CQL and until its deploy block is
    COMPLETE (UN + CQL ready), against a bare start of the same node: the NodeConfig the
    framework gave the task is read back from the sidecar's environment, and bare_start of
    bench/sidecar_bench.py runs ``java`` with exactly what the sidecar renders for it. Ratio =
    framework / bare, measured in the same run.
(b) A 3-node cluster (the `up` demo spec: 512 MB heaps, 16 balanced initial tokens): time from
    PUT to each node's block COMPLETE and to the deploy plan COMPLETE, per node.

Each stack is a fresh ZooKeeper + localmesos (3 agents) + scheduler process (`LocalStack`, as
`cassandra-mesos up`); its start-up is not counted. At most 3 Cassandra JVMs run at once.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sidecar_bench import bare_start, cql_ready, tree_cpu_s  # noqa: E402

import jvm  # noqa: E402
from cassandra_mesos.up import LocalStack, demo_spec  # noqa: E402
from model.node_config import NodeConfig  # noqa: E402
from tests.e2e.realnodes import e2e_settings, node_config, sandbox_of, sidecar_process  # noqa: E402

# Published anchors (/work/shared/reference/performance-anchors.md §1, §2).
ANCHORS = (
    ("Uber on Mesos (highscalability 2016)", "about 1 node per minute (target 30 s)"),
    ("old cassandra-mesos framework (#98)", "120 s per node (100 nodes ~ 3.5 h)"),
    ("cass-operator docs", "several minutes per node"),
    ("Cassandra 4.0 test image, later nodes (ecchronos#569)", "~47 s per joining node"),
)


def _get(stack: LocalStack, path: str) -> Any:
    r = stack.api("GET", path, timeout=20)
    return r.json() if r.status_code == 200 else None


def _blocks(plan: Any) -> dict[str, str]:
    if not isinstance(plan, dict):
        return {}
    return {b["name"]: b["status"] for p in plan.get("phases", []) for b in p.get("blocks", [])}


def create(stack: LocalStack, cluster: str, nodes: int, timeout: float = 900.0) -> dict[str, Any]:
    """PUT a cluster and poll (0.25 s) until deployed; returns seconds from the PUT per milestone."""
    r = stack.api("PUT", f"/v1/clusters/{cluster}", demo_spec(nodes))
    r.raise_for_status()
    t0 = time.monotonic()
    done: dict[str, float] = {}
    cql: dict[str, float] = {}
    cpu: dict[str, float] = {}
    running: dict[str, float] = {}
    total: float | None = None
    while total is None:
        now = time.monotonic() - t0
        if now > timeout:
            raise RuntimeError(f"{cluster} not deployed after {timeout:.0f}s")
        plan = _get(stack, f"/v1/clusters/{cluster}/plans/deploy")
        for name, status in _blocks(plan).items():
            if name.startswith("node-") and status == "COMPLETE":
                done.setdefault(name, now)
        for node in _get(stack, f"/v1/clusters/{cluster}/nodes") or []:
            name, ports = node["name"], node.get("ports") or {}
            if node.get("state") == "TASK_RUNNING":
                running.setdefault(name, time.monotonic() - t0)
            if (
                name not in cql
                and ports.get("native_transport")
                and cql_ready(node["hostname"], int(ports["native_transport"]))
            ):
                cql[name] = time.monotonic() - t0
                # CPU of the node's tree (sidecar + JVM) until CQL: the load-robust number.
                cpu[name] = tree_cpu_s(sidecar_process(sandbox_of(stack, node["task_id"])).pid)
        if isinstance(plan, dict) and plan.get("status") == "COMPLETE" and len(done) == nodes:
            total = now
        time.sleep(0.25)
    return {"complete": done, "cql": cql, "cpu": cpu, "running": running, "total": total}


def part_a(work: Path, round_no: int) -> tuple[float, float, float, float, float, float]:
    """Framework PUT -> CQL, PUT -> block COMPLETE, node CPU-s; bare start -> CQL, its CPU-s;
    framework PUT -> TASK_RUNNING."""
    with LocalStack(e2e_settings(work / f"a-{round_no}")) as stack:
        result = create(stack, "bench", 1)
        record = _get(stack, "/v1/clusters/bench/nodes")[0]
        config: NodeConfig = node_config(sandbox_of(stack, record["task_id"]))
    sandbox = work / f"bare-{round_no}"
    sandbox.mkdir(parents=True)
    bare, bare_cpu = bare_start(config, sandbox)
    fw = (result["cql"]["node-0"], result["complete"]["node-0"], result["cpu"]["node-0"])
    return (*fw, bare, bare_cpu, result["running"]["node-0"])


def part_b(work: Path, round_no: int) -> dict[str, Any]:
    with LocalStack(e2e_settings(work / f"b-{round_no}")) as stack:
        return create(stack, "demo", 3)


def machine() -> str:
    return (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} cpus, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"Cassandra {jvm.CASSANDRA_VERSION}, heap 512 MB, load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["a", "b", "all"], default="all")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    print(f"machine: {machine()}")
    if args.part in ("a", "all"):
        runs = [part_a(work, i) for i in range(args.rounds)]
        fw_cql = statistics.median(r[0] for r in runs)
        fw_done = statistics.median(r[1] for r in runs)
        fw_cpu = statistics.median(r[2] for r in runs)
        bare = statistics.median(r[3] for r in runs)
        bare_cpu = statistics.median(r[4] for r in runs)
        print(f"{'(a) measure':<58} {'value':>10}")
        print(f"{'bare Cassandra, the sidecar rendered config: start -> CQL':<58} {bare:>8.1f} s")
        running = statistics.median(r[5] for r in runs)
        print(f"{'through the framework: PUT -> TASK_RUNNING (offer, reserve)':<58} {running:>8.1f} s")
        print(f"{'through the framework: PUT -> offer -> ... -> CQL answers':<58} {fw_cql:>8.1f} s")
        print(f"{'through the framework: PUT -> block COMPLETE (UN + CQL)':<58} {fw_done:>8.1f} s")
        print(f"{'ratio framework (CQL) / bare':<58} {fw_cql / bare:>10.2f}")
        print(f"{'ratio framework (block COMPLETE) / bare':<58} {fw_done / bare:>10.2f}")
        print(f"{'CPU of the node until CQL: bare JVM':<58} {bare_cpu:>8.1f} s")
        print(f"{'CPU of the node until CQL: sidecar + JVM (framework)':<58} {fw_cpu:>8.1f} s")
        print(f"{'ratio CPU framework / bare':<58} {fw_cpu / bare_cpu:>10.2f}")
        for r in runs:
            print(
                f"    run: framework CQL {r[0]:.1f} s, COMPLETE {r[1]:.1f} s, {r[2]:.1f} CPU-s; "
                f"bare {r[3]:.1f} s, {r[4]:.1f} CPU-s"
            )
    if args.part in ("b", "all"):
        for i in range(args.rounds):
            res = part_b(work, i)
            print(
                f"(b) 3-node cluster, round {i + 1}: PUT -> deploy COMPLETE {res['total']:.1f} s "
                f"({res['total'] / 3:.1f} s per node)"
            )
            for node in sorted(res["complete"]):
                print(
                    f"    {node}: TASK_RUNNING {res['running'].get(node, float('nan')):6.1f} s, "
                    f"CQL answers {res['cql'].get(node, float('nan')):6.1f} s, "
                    f"block COMPLETE {res['complete'][node]:6.1f} s"
                )
        print("    published anchors:")
        for who, figure in ANCHORS:
            print(f"      {who:<55} {figure}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
