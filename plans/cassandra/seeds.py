"""Which addresses a cluster's nodes (and its peer datacenters) use as seeds: pure.

The API's seeds endpoint serves them to the sidecars, and the reconciler sends them to peer
datacenters; both read them from here so they can never disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from model.cluster import ClusterSpec
from model.node import NodeHealth, is_node_name, node_index, seed_nodes
from model.records import TaskRecord
from plans.actions import EXTRA_REPLACE_ADDRESS


def current_health(health_by_node: Mapping[str, NodeHealth], record: TaskRecord) -> NodeHealth | None:
    """The node's health, unless it was observed on another launch than the recorded task."""
    h = health_by_node.get(record.node)
    if h is None or (h.task_id is not None and h.task_id != record.task_id):
        return None
    return h


def seed_address(record: TaskRecord) -> str | None:
    """``ip:storage_port``: nodes of one host differ only by port, so the port is part of a seed."""
    if record.hostname is None:
        return None
    port = record.ports.get("storage")
    return f"{record.hostname}:{port}" if port else record.hostname


def replacing_nodes(tasks: Mapping[str, TaskRecord], health_by_node: Mapping[str, NodeHealth]) -> set[str]:
    """Nodes launched to replace a dead one and not UN + CQL-ready yet: while they bootstrap they
    are no seed (a seed never bootstraps, and a replacement listing itself would not replace)."""
    out = set()
    for node, record in tasks.items():
        if record.extra.get(EXTRA_REPLACE_ADDRESS):
            h = current_health(health_by_node, record)
            if h is None or not h.is_ready:
                out.add(node)
    return out


def local_seeds(
    spec: ClusterSpec, tasks: Mapping[str, TaskRecord], replacing: Collection[str] = ()
) -> list[str]:
    """The seeds' addresses, but not of nodes being replaced. When that leaves none (the only seed
    is being replaced), the other running nodes stand in, so a bootstrapping node has contacts."""
    out = []
    for node in seed_nodes(spec):
        record = tasks.get(node)
        address = seed_address(record) if record is not None and node not in replacing else None
        if address is not None:
            out.append(address)
    if not out and replacing:
        for node in sorted((n for n in tasks if is_node_name(n) and n not in replacing), key=node_index):
            record = tasks[node]
            address = seed_address(record) if record.state == "TASK_RUNNING" else None
            if address is not None:
                out.append(address)
    return out
