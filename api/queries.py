"""Reads: plain functions from the store and the scheduler's views to response bodies.

Nothing here writes. Unknown clusters and nodes raise NotFound; a stored document that cannot be
read raises CorruptRecord naming it (never skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from framework.store.base import Store, Target
from framework.views import ZOOKEEPER_CONNECTED, SchedulerView
from model.cluster import CLUSTER_NAME_RE, ClusterSpec, InvalidSpec, parse_spec
from model.errors import CorruptRecord, NotFound
from model.node import NodeHealth, is_node_name, is_seed, node_index
from model.operations import UNINSTALL
from model.records import TaskRecord
from plans.cassandra.seeds import current_health, local_seeds, replacing_nodes
from plans.model import Plan
from plans.render import render_plan
from plans.status import plan_status

# Fetches a node's live status from its sidecar (``GET /status``); raises on failure.
SidecarStatus = Callable[[TaskRecord], Mapping[str, Any]]

LIVE_FIELDS = ("host_id", "data_center", "rack", "load", "tokens", "version")


def health(view: SchedulerView) -> dict[str, Any]:
    zk = view.zookeeper_state()
    return {
        "status": "ok" if zk == ZOOKEEPER_CONNECTED else "degraded",
        "leader": view.is_leader(),
        "mesos": view.mesos_state(),
        "zookeeper": zk,
    }


def require_target(store: Store, cluster: str) -> Target:
    if not CLUSTER_NAME_RE.match(cluster):
        raise NotFound(f"cluster {cluster!r} not found (cluster names look like 'demo' or 'prod-1')")
    target = store.get_target_versioned(cluster)
    if target is None:
        raise NotFound(f"cluster {cluster!r} not found")
    return target


def spec_of(cluster: str, target: Target) -> ClusterSpec:
    try:
        return parse_spec(target.spec)
    except InvalidSpec as exc:
        raise CorruptRecord(f"target config {target.config_id} of cluster {cluster!r}: {exc}") from None


def list_clusters(store: Store) -> list[str]:
    return sorted(store.list_clusters())


def storage_ports_in_use(store: Store, but: str) -> dict[int, str]:
    """The storage ports other clusters share (named in their specs or held by their nodes), each
    with the cluster that uses it."""
    out: dict[int, str] = {}
    for other in store.list_clusters():
        if other == but:
            continue
        target = store.get_target_versioned(other)
        if target is not None:
            for port in spec_of(other, target).fixed_storage_ports.values():
                out.setdefault(port, other)
        for rec in store.get_tasks(other).values():
            for name in ("storage", "ssl_storage"):
                if name in rec.ports:
                    out.setdefault(rec.ports[name], other)
    return out


def offer_waits(view: SchedulerView, cluster: str) -> list[dict[str, Any]]:
    require_target(view.store, cluster)
    return [w.to_json() for w in view.offer_waits(cluster)]


def cluster_status(plans: Mapping[str, Plan], uninstalling: bool) -> str:
    if uninstalling:
        return "UNINSTALLING"
    deploy = plans.get("deploy")
    if deploy is None:
        return "PENDING"
    status = plan_status(deploy).value
    if status == "COMPLETE":
        recovery = plans.get("recovery")
        if recovery is not None and plan_status(recovery).value != "COMPLETE":
            return "RECOVERING"
        return "RUNNING"
    if status in ("ERROR", "WAITING"):
        return status
    return "DEPLOYING" if status != "PENDING" else "PENDING"


def cluster_info(view: SchedulerView, cluster: str) -> dict[str, Any]:
    store = view.store
    target = require_target(store, cluster)
    spec = spec_of(cluster, target)
    tasks = store.get_tasks(cluster)
    plans = view.plans(cluster)
    uninstalling = UNINSTALL in store.get_intents(cluster)
    return {
        "name": cluster,
        "spec": spec.to_json(),
        "config_id": target.config_id,
        "status": cluster_status(plans, uninstalling),
        "nodes": spec.nodes,
        "nodes_running": sum(1 for r in tasks.values() if r.state == "TASK_RUNNING"),
        "plans": {name: plan_status(p).value for name, p in sorted(plans.items())},
    }


def plan_names(view: SchedulerView, cluster: str) -> list[str]:
    require_target(view.store, cluster)
    return sorted(view.plans(cluster))


def require_plan(view: SchedulerView, cluster: str, plan: str) -> Plan:
    require_target(view.store, cluster)
    found = view.plans(cluster).get(plan)
    if found is None:
        raise NotFound(f"cluster {cluster!r} has no plan {plan!r}")
    return found


def plan_json(view: SchedulerView, cluster: str, plan: str) -> dict[str, Any]:
    return render_plan(require_plan(view, cluster, plan))


def node_info(record: TaskRecord, health: NodeHealth | None) -> dict[str, Any]:
    return {
        "name": record.node,
        "task_id": record.task_id,
        "agent_id": record.agent_id,
        "hostname": record.hostname,
        "state": record.state,
        "mode": health.mode if health is not None else "UNKNOWN",
        "ports": record.ports,
    }


def _sorted_records(tasks: Mapping[str, TaskRecord]) -> list[TaskRecord]:
    return sorted(
        (r for n, r in tasks.items() if is_node_name(n)),
        key=lambda r: node_index(r.node),
    )


def list_nodes(view: SchedulerView, cluster: str) -> list[dict[str, Any]]:
    require_target(view.store, cluster)
    tasks = view.store.get_tasks(cluster)
    health_by_node = view.node_health(cluster)
    return [node_info(r, current_health(health_by_node, r)) for r in _sorted_records(tasks)]


def require_node(store: Store, cluster: str, spec: ClusterSpec, node: str) -> TaskRecord | None:
    """The node's record; None for a node of the spec not launched yet; NotFound otherwise."""
    if not is_node_name(node):
        raise NotFound(f"cluster {cluster!r} has no node {node!r} (nodes are named node-0, node-1, ...)")
    found = store.get_task(cluster, node)
    if found is not None:
        return found[0]
    if node_index(node) < spec.nodes:
        return None
    raise NotFound(f"cluster {cluster!r} has no node {node!r}: it has {spec.nodes} node(s)")


def node_detail(
    view: SchedulerView, cluster: str, node: str, sidecar_status: SidecarStatus | None
) -> dict[str, Any]:
    store = view.store
    spec = spec_of(cluster, require_target(store, cluster))
    record = require_node(store, cluster, spec, node)
    if record is None:
        raise NotFound(f"node {node} of cluster {cluster!r} has not been launched yet")
    health = current_health(view.node_health(cluster), record)
    out = node_info(record, health)
    out.update(
        cql_ready=bool(health is not None and health.cql_ready),
        launch_count=record.launch_count,
        seed=is_seed(spec, node),
        live=False,
        live_error=None,
        **dict.fromkeys(LIVE_FIELDS),
    )
    if sidecar_status is None:
        out["live_error"] = "live status is not available from this server"
        return out
    if record.state != "TASK_RUNNING":
        out["live_error"] = f"the node's task is {record.state}"
        return out
    try:
        live = sidecar_status(record)
    except Exception as exc:  # the sidecar is another process on another host: any failure is "not live"
        out["live_error"] = f"{type(exc).__name__}: {exc}"[:500]
        return out
    out["live"] = True
    for key in LIVE_FIELDS:
        value = live.get(key)
        if key == "tokens":
            out[key] = value if isinstance(value, int) and not isinstance(value, bool) else None
        else:
            out[key] = str(value) if value is not None else None
    if isinstance(live.get("mode"), str):
        out["mode"] = live["mode"]
    return out


def peer_seeds(cluster: str, peers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for dc, info in sorted(peers.items()):
        seeds = info.get("seeds", [])
        if not isinstance(seeds, list) or not all(isinstance(s, str) for s in seeds):
            raise CorruptRecord(
                f"peer datacenter {dc!r} of cluster {cluster!r}: 'seeds' is not a list of strings"
            )
        out.extend(s for s in seeds if s not in out)
    return out


def seeds(view: SchedulerView, cluster: str, node: str | None) -> dict[str, Any]:
    """Local seeds first, then the peers'. ``isSeed`` is exact for ``node``; without a node it says
    whether the asker must start as the first seed (no seed has an address yet)."""
    store = view.store
    spec = spec_of(cluster, require_target(store, cluster))
    tasks = store.get_tasks(cluster)
    replacing = replacing_nodes(tasks, view.node_health(cluster))
    local = local_seeds(spec, tasks, replacing)
    remote = [s for s in peer_seeds(cluster, store.get_peers(cluster)) if s not in local]
    if node is not None:
        if not is_node_name(node) or (node_index(node) >= spec.nodes and node not in tasks):
            raise NotFound(f"cluster {cluster!r} has no node {node!r}: it has {spec.nodes} node(s)")
        seed = is_seed(spec, node) and node not in replacing
    else:
        seed = not local
    return {"isSeed": seed, "seeds": local + remote}


def connection(view: SchedulerView, cluster: str) -> dict[str, Any]:
    """``ip:native_port`` of every node whose task runs and whose sidecar says CQL answers."""
    require_target(view.store, cluster)
    tasks = view.store.get_tasks(cluster)
    health_by_node = view.node_health(cluster)
    address = []
    for record in _sorted_records(tasks):
        h = current_health(health_by_node, record)
        port = record.ports.get("native_transport")
        if record.state == "TASK_RUNNING" and h is not None and h.cql_ready and record.hostname and port:
            address.append(f"{record.hostname}:{port}")
    return {"address": address, "dns": []}


def datacenter(view: SchedulerView, cluster: str, url: str) -> dict[str, Any]:
    store = view.store
    spec = spec_of(cluster, require_target(store, cluster))
    return {"data_center": spec.data_center, "url": url, "seeds": local_seeds(spec, store.get_tasks(cluster))}
