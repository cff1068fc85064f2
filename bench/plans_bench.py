"""Plan engine speed: one reconciler cycle's pure work for clusters of growing size.

For each cluster size and situation, builds every plan of the cluster (deploy + recovery via
``plans.cassandra.catalog.build_plans``), picks the cycle's work (``plans.coordinator.next_work``)
and renders the deploy plan as the API does. Prints one row per case: median and p99 of the
whole cycle in milliseconds, and blocks per second.

Situations: ``new`` (nothing launched: every node needs a LaunchNode with initial tokens),
``running`` (every node UN), ``rolling`` (a config update over a running cluster, one node
failed).

    .venv/bin/python bench/plans_bench.py [--sizes 3,100,1000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Mapping

from model.cluster import config_id, node_config_id, parse_spec
from model.intents import PlanIntents
from model.node import NodeHealth
from model.records import TaskRecord
from plans.cassandra.catalog import build_plans
from plans.cassandra.state import ClusterState
from plans.coordinator import next_work
from plans.render import render_plan

READY = NodeHealth("NORMAL", True)


def _record(node: str, cfg: str, node_cfg: str, genesis: int, state: str) -> TaskRecord:
    tid = f"bench__{node}__1"
    return TaskRecord(
        "bench",
        node,
        {"task_id": {"value": tid}, "agent_id": {"value": f"agent-{node}"}},
        {"state": state},
        1,
        {"config_id": cfg, "node_config": node_cfg, "genesis_nodes": genesis, "bootstrap": False},
    )


def situation(size: int, kind: str) -> ClusterState:
    spec = parse_spec({"nodes": size, "seeds": min(3, size)})
    records: dict[str, TaskRecord] = {}
    health: Mapping[str, NodeHealth] = {}
    if kind != "new":
        old = (
            spec
            if kind == "running"
            else parse_spec({**spec.to_json(), "cassandra_yaml": {"concurrent_reads": 8}})
        )
        for i in range(size):
            state = "TASK_FAILED" if kind == "rolling" and i == size - 1 else "TASK_RUNNING"
            records[f"node-{i}"] = _record(f"node-{i}", config_id(old), node_config_id(old), size, state)
        health = {n: READY for n in records}
    return ClusterState("bench", spec, config_id(spec), records, health)


def cycle(state: ClusterState, intents: Mapping[str, PlanIntents]) -> int:
    plans = build_plans(state, intents)
    next_work(plans)
    render_plan(plans[0])
    return sum(len(p.blocks) for plan in plans for p in plan.phases)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="3,100,1000")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    print(f"{'nodes':>6} {'situation':>9} {'blocks':>7} {'median ms':>10} {'p99 ms':>8} {'blocks/s':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        for kind in ("new", "running", "rolling"):
            state = situation(size, kind)
            times = []
            blocks = 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                blocks = cycle(state, {})
                times.append(time.perf_counter() - t0)
            times.sort()
            med = statistics.median(times)
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            ms = f"{med * 1000:>10.2f} {p99 * 1000:>8.2f}"
            print(f"{size:>6} {kind:>9} {blocks:>7} {ms} {blocks / med:>10.0f}")


if __name__ == "__main__":
    main()
