"""Prometheus metrics: request counts and latencies, plus what the scheduler sees, read at scrape time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from framework.views import SchedulerView
from model.errors import CassandraMesosError
from plans.status import plan_status

log = logging.getLogger(__name__)


class SchedulerCollector(Collector):
    def __init__(self, view: SchedulerView) -> None:
        self._view = view

    def collect(self) -> Iterator[Metric]:
        view = self._view
        leader = GaugeMetricFamily("cassandra_mesos_leader", "1 while this instance is the leader")
        leader.add_metric([], 1.0 if view.is_leader() else 0.0)
        yield leader
        clusters = GaugeMetricFamily("cassandra_mesos_clusters", "clusters in the store")
        nodes = GaugeMetricFamily("cassandra_mesos_nodes", "nodes by task state", labels=["cluster", "state"])
        plans = GaugeMetricFamily(
            "cassandra_mesos_plan_status",
            "1 for the current status of each plan",
            labels=["cluster", "plan", "status"],
        )
        ready = GaugeMetricFamily(
            "cassandra_mesos_node_ready",
            "1 while the node's sidecar says NORMAL and CQL answers, 0 otherwise (alert on 0)",
            labels=["cluster", "node"],
        )
        waiting = GaugeMetricFamily(
            "cassandra_mesos_nodes_waiting_for_offers",
            "nodes the scheduler wants to launch and no offer fits (GET /v1/clusters/{c}/offers)",
            labels=["cluster"],
        )
        try:
            names = view.store.list_clusters()
            clusters.add_metric([], float(len(names)))
            for cluster in sorted(names):
                counts: dict[str, int] = {}
                records = view.store.get_tasks(cluster)
                for record in records.values():
                    counts[record.state] = counts.get(record.state, 0) + 1
                for state, n in sorted(counts.items()):
                    nodes.add_metric([cluster, state], float(n))
                health = view.node_health(cluster)
                for node in sorted(records):
                    h = health.get(node)
                    ready.add_metric([cluster, node], 1.0 if h is not None and h.is_ready else 0.0)
                waiting.add_metric([cluster], float(len(view.offer_waits(cluster))))
                for name, plan in sorted(view.plans(cluster).items()):
                    plans.add_metric([cluster, name, plan_status(plan).value], 1.0)
        except CassandraMesosError as exc:
            # A scrape during a store outage still answers, with what it could read.
            log.warning("metrics: store not readable: %s", exc)
        yield clusters
        yield nodes
        yield plans
        yield ready
        yield waiting


def install_metrics(app: FastAPI, view: SchedulerView) -> CollectorRegistry:
    registry = CollectorRegistry()
    requests = Counter(
        "cassandra_mesos_api_requests", "API requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "cassandra_mesos_api_request_seconds",
        "API request latency",
        ["method", "route"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
    )
    registry.register(SchedulerCollector(view))

    app.add_middleware(_Observe, requests=requests, latency=latency)
    return registry


class _Observe:
    """Counts and times every request by route template (a plain ASGI middleware: cheap)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self._app = app
        self._requests = requests
        self._latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observe_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, observe_send)
        finally:
            # The route template, not the path: cluster and node names must not explode the labels.
            name = getattr(scope.get("route"), "path", "unmatched")
            self._requests.labels(scope["method"], name, str(status)).inc()
            self._latency.labels(scope["method"], name).observe(time.perf_counter() - start)
