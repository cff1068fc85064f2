"""``SchedulerService``: leader election -> Mesos driver -> reconciler, and the views the API reads.

Only the elected instance subscribes to Mesos. Leadership is tied to the ZooKeeper session
(``framework.store.leader``): when the session is suspended or lost the term ends at once -
driver stopped, reconciler stopped, nothing mutates - and the instance contends again once
ZooKeeper is back; the new term re-subscribes with the stored framework id and reconciles
before it launches anything. Tasks keep running meanwhile (the framework's failover timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from framework.config import SchedulerConfig
from framework.mesos.calls import FrameworkInfoSpec
from framework.mesos.driver import MesosDriver
from framework.mesos.errors import FrameworkRemoved, MesosCallError, SubscriptionEnded
from framework.reconciler.cluster_plans import build_cluster_plans
from framework.reconciler.launch import NodeCommand
from framework.reconciler.loop import Reconciler, ReconcilerSettings
from framework.store.base import ClusterState as StoredCluster
from framework.store.base import Store
from framework.views import (
    MESOS_DISCONNECTED,
    MESOS_STANDBY,
    MESOS_SUBSCRIBED,
    MESOS_SUBSCRIBING,
    ZOOKEEPER_CONNECTED,
    ZOOKEEPER_SUSPENDED,
    OfferWait,
)
from model.node import NodeHealth
from plans.model import Plan

log = logging.getLogger(__name__)


class Election(Protocol):
    """``framework.store.leader.LeaderElection``'s shape; callbacks run on the election's thread."""

    def start(self, on_elected: Callable[[], None], on_lost: Callable[[], None]) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def is_leader(self) -> bool: ...


@dataclass
class _Term:
    """One leadership term: a driver and a reconciler that live and die together."""

    driver: MesosDriver
    reconciler: Reconciler
    task: asyncio.Task[None]


def reconciler_settings(config: SchedulerConfig) -> ReconcilerSettings:
    t = config.timing
    return ReconcilerSettings(
        role=config.framework.role,
        principal=config.framework.principal,
        refuse_seconds=t.refuse_seconds,
        reconcile_interval_s=t.reconcile_interval_s,
        reconcile_retry_s=t.reconcile_retry_s,
        cycle_interval_s=t.cycle_interval_s,
        health_interval_s=t.health_interval_s,
        health_timeout_s=t.health_timeout_s,
        kill_retry_s=t.kill_retry_s,
        orphan_sweep_s=t.orphan_sweep_s,
        max_nodes_per_agent=config.max_nodes_per_agent,
        rack_attribute=config.rack_attribute,
        peer_token=config.api.token,
    )


def framework_info(config: SchedulerConfig) -> FrameworkInfoSpec:
    f = config.framework
    return FrameworkInfoSpec(
        name=f.name,
        user=f.user,
        roles=(f.role,),
        principal=f.principal,
        failover_timeout=f.failover_timeout_s,
        webui_url=f.webui_url,
    )


class SchedulerService:
    """Implements ``framework.views.SchedulerView``; ``await run()`` until ``stop()``."""

    def __init__(self, config: SchedulerConfig, store: Store, election: Election) -> None:
        self.config = config
        self._store = store
        self._election = election
        self._scheduler_url = config.scheduler_url()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._leadership = asyncio.Event()
        self._stopping = False
        self._term: _Term | None = None
        self._last_health: dict[str, Mapping[str, NodeHealth]] = {}
        self.terms = 0

    # ---- SchedulerView ------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self._store

    def wake(self) -> None:
        term = self._term
        if term is not None:
            term.reconciler.wake()

    def is_leader(self) -> bool:
        return self._election.is_leader()

    def mesos_state(self) -> str:
        term = self._term
        if term is None:
            return MESOS_STANDBY
        if term.driver.is_subscribed:
            return MESOS_SUBSCRIBED
        return MESOS_SUBSCRIBING if term.driver.subscriptions == 0 else MESOS_DISCONNECTED

    def zookeeper_state(self) -> str:
        return ZOOKEEPER_CONNECTED if self._store.is_writable() else ZOOKEEPER_SUSPENDED

    def node_health(self, cluster: str) -> Mapping[str, NodeHealth]:
        term = self._term
        return term.reconciler.health(cluster) if term is not None else {}

    def offer_waits(self, cluster: str) -> list[OfferWait]:
        term = self._term
        return term.reconciler.offer_waits(cluster) if term is not None else []

    def plans(self, cluster: str) -> dict[str, Plan]:
        """Built from a fresh read of the cluster (so an intent just written shows at once) plus
        the reconciler's observations. Reads the store: call it from a worker thread."""
        target = self._store.get_target_versioned(cluster)
        if target is None:
            return {}
        stored = StoredCluster(
            name=cluster,
            target=target,
            tasks=self._store.get_tasks(cluster),
            intents=self._store.get_intents(cluster),
        )
        term = self._term
        reconciled = term is not None and term.reconciler.reconciled
        synced = term.reconciler.synced_peers(cluster) if term is not None else frozenset()
        built = build_cluster_plans(stored, self.node_health(cluster), reconciled, synced)
        return dict(built.plans) if built is not None else {}

    # ---- composition ----------------------------------------------------------------------------

    @property
    def reconciler(self) -> Reconciler | None:
        term = self._term
        return term.reconciler if term is not None else None

    @property
    def driver(self) -> MesosDriver | None:
        term = self._term
        return term.driver if term is not None else None

    def set_scheduler_url(self, url: str) -> None:
        """The API's URL as nodes reach it (known once the server bound its port)."""
        self._scheduler_url = url.rstrip("/")

    def _command(self) -> NodeCommand:
        n = self.config.node
        return NodeCommand(
            command=n.command,
            scheduler_url=self._scheduler_url,
            uris=n.uris,
            environment=dict(n.environment),
            cassandra_lib=n.cassandra_lib,
            java_home=n.java_home,
            kill_grace_period_s=n.kill_grace_period_s,
            jvm_options=n.jvm_options,
        )

    def _signal(self) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._leadership.set)

    async def run(self) -> None:
        """Contend for leadership and lead while elected, until ``stop()``."""
        self._loop = asyncio.get_running_loop()
        unwatch = self._store.watch(self.wake)
        self._election.start(self._signal, self._signal)
        try:
            while not self._stopping:
                await self._leadership.wait()
                self._leadership.clear()
                leading = self._election.is_leader() and self._store.is_writable()
                if leading and self._term is None:
                    self._start_term()
                elif not leading and self._term is not None:
                    await self._end_term("leadership lost")
        finally:
            unwatch()
            await self._end_term("stopping")
            await asyncio.to_thread(self._election.stop)

    def stop(self) -> None:
        self._stopping = True
        self._leadership.set()

    def _start_term(self) -> None:
        self.terms += 1
        log.info("elected leader (term %d): subscribing to Mesos", self.terms)
        reconciler = Reconciler(self._store, reconciler_settings(self.config), self._command())
        driver = self._new_driver(reconciler)
        task = asyncio.create_task(self._lead(driver, reconciler), name=f"term-{self.terms}")
        self._term = _Term(driver, reconciler, task)

    async def _lead(self, driver: MesosDriver, reconciler: Reconciler) -> None:
        loop_task = asyncio.create_task(reconciler.run(), name="reconciler")
        try:
            while True:
                try:
                    await driver.run()
                    return
                except (FrameworkRemoved, MesosCallError) as exc:
                    # Retrying cannot help: the id was torn down, or the master refuses us.
                    log.error("Mesos refused this framework for good: %s", exc)
                    return
                except SubscriptionEnded as exc:
                    log.warning("Mesos ended the subscription (%s); subscribing again", exc)
                except Exception:
                    log.exception("Mesos driver failed; subscribing again")
                await asyncio.sleep(self.config.timing.driver_backoff_max_s)
                driver = self._replace_driver(driver, reconciler)
        finally:
            loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop_task

    def _new_driver(self, reconciler: Reconciler) -> MesosDriver:
        t = self.config.timing
        driver = MesosDriver(
            self.config.masters,
            framework_info(self.config),
            reconciler.on_event,
            reconciler.framework_id,
            reconciler.on_subscribed,
            backoff_initial=t.driver_backoff_initial_s,
            backoff_max=t.driver_backoff_max_s,
        )
        reconciler.bind(driver)
        return driver

    def _replace_driver(self, old: MesosDriver, reconciler: Reconciler) -> MesosDriver:
        driver = self._new_driver(reconciler)
        if self._term is not None and self._term.driver is old:
            self._term = _Term(driver, reconciler, self._term.task)
        return driver

    async def _end_term(self, why: str) -> None:
        term, self._term = self._term, None
        if term is None:
            return
        log.warning("ending leadership term: %s", why)
        term.driver.stop()
        term.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await term.task
