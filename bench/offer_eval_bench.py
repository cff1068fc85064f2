"""Offer evaluation speed: 2,000 simulated agents, 500 nodes across 20 clusters.

Evaluation is pure, so offers are built synthetically in the shape a MULTI_ROLE +
RESERVATION_REFINEMENT framework receives them. Prints one table row per scenario:
offers and nodes per batch, median batch time, time per offer and decisions per second.

    .venv/bin/python bench/offer_eval_bench.py [--agents 2000] [--clusters 20]
        [--nodes-per-cluster 25] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from framework.mesos import resources as rs
from framework.offers.evaluate import evaluate, plan_offers, view_offer
from framework.offers.requirements import CASSANDRA_PORT_NAMES, CLUSTER_WIDE_PORT_NAMES, NodeRequirements

ROLE = "cassandra"
PRINCIPAL = "cassandra"


def make_offer(i: int, reserved: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": {"value": f"master-O{i}"},
        "framework_id": {"value": "fw"},
        "agent_id": {"value": f"master-S{i}"},
        "hostname": f"10.0.{i // 250}.{i % 250}",
        "allocation_info": {"role": ROLE},
        "resources": [
            rs.scalar("cpus", 16, ROLE),
            rs.scalar("mem", 65536, ROLE),
            rs.scalar("disk", 1_000_000, ROLE),
            rs.ranges("ports", [(31000, 32000)], ROLE),
            *(reserved or []),
        ],
        "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": f"rack{i % 3}"}}],
    }


def make_nodes(clusters: int, per_cluster: int, pinned: bool) -> list[NodeRequirements]:
    nodes = []
    for c in range(clusters):
        for n in range(per_cluster):
            i = c * per_cluster + n
            nodes.append(
                NodeRequirements(
                    cluster=f"c{c}",
                    node=f"node-{n}",
                    role=ROLE,
                    principal=PRINCIPAL,
                    cpus=2,
                    mem=8192,
                    disk=50_000,
                    resource_id=f"r{i}",
                    persistence_id=f"c{c}-node-{n}",
                    agent_id=f"master-S{i}" if pinned else None,
                    # As the reconciler asks: the storage ports are shared by the cluster's nodes.
                    shared_port_names=() if pinned else CLUSTER_WIDE_PORT_NAMES,
                )
            )
    return nodes


def held_by(req: NodeRequirements) -> list[dict[str, Any]]:
    """Reservations and volume of a node whose task ended, as offered again."""
    resv = rs.dynamic_reservation(ROLE, PRINCIPAL, req.reservation_labels())
    disk = rs.scalar("disk", req.disk, ROLE, [resv])
    return [
        rs.scalar("cpus", req.cpus, ROLE, [resv]),
        rs.scalar("mem", req.mem, ROLE, [resv]),
        rs.with_volume(disk, req.persistence_id, PRINCIPAL, "data"),
        rs.ranges("ports", [(31000, 31000 + len(CASSANDRA_PORT_NAMES) - 1)], ROLE, [resv]),
    ]


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--nodes-per-cluster", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    total_nodes = args.clusters * args.nodes_per_cluster

    fresh_offers = [make_offer(i) for i in range(args.agents)]
    new_nodes = make_nodes(args.clusters, args.nodes_per_cluster, pinned=False)
    pinned_nodes = make_nodes(args.clusters, args.nodes_per_cluster, pinned=True)
    relaunch_offers = [
        make_offer(i, held_by(pinned_nodes[i]) if i < total_nodes else None) for i in range(args.agents)
    ]
    referenced = frozenset(n.key for n in pinned_nodes)
    orphan_offers = [
        make_offer(i, held_by(pinned_nodes[i]) if i < total_nodes else None) for i in range(args.agents)
    ]
    half_referenced = frozenset(list(referenced)[: total_nodes // 2])
    one = new_nodes[0]

    def deploy() -> None:
        plan = plan_offers(fresh_offers, new_nodes)
        assert len(plan.fits) == min(total_nodes, args.agents), len(plan.fits)

    def relaunch() -> None:
        plan = plan_offers(relaunch_offers, pinned_nodes)
        assert len(plan.fits) == total_nodes and all(f.relaunch_in_place for f in plan.fits)

    def idle() -> None:
        plan = plan_offers(relaunch_offers, [], referenced=referenced, role=ROLE)
        assert not plan.fits and not plan.cleanups

    def cleanup() -> None:
        plan = plan_offers(orphan_offers, [], referenced=half_referenced, role=ROLE)
        assert len(plan.cleanups) == total_nodes - len(half_referenced)

    def single() -> None:
        for o in fresh_offers:
            evaluate(o, one)

    def parse_only() -> None:
        for o in fresh_offers:
            view_offer(o)

    rows = [
        ("deploy: 500 new nodes x 2000 fresh offers", deploy),
        ("relaunch in place: 500 nodes, their offers", relaunch),
        ("idle: 2000 offers, none needed, 500 referenced", idle),
        ("cleanup: 2000 offers, 250 orphaned nodes", cleanup),
        ("evaluate(): one node x each offer", single),
        ("view_offer(): parse each offer", parse_only),
    ]
    print(
        f"offer evaluation: {args.agents} agents, {total_nodes} nodes in {args.clusters} clusters, "
        f"median of {args.repeat}"
    )
    header = f"{'scenario':<48} {'offers':>7} {'batch ms':>9} {'us/offer':>9} {'decisions/s':>12}"
    print(header)
    print("-" * len(header))
    for name, fn in rows:
        seconds = median_seconds(fn, args.repeat)
        n = len(fresh_offers)
        print(f"{name:<48} {n:>7} {seconds * 1e3:>9.1f} {seconds / n * 1e6:>9.1f} {n / seconds:>12,.0f}")


if __name__ == "__main__":
    main()
