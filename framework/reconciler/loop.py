"""The reconciler's cycle: store snapshot -> plans per cluster -> next work -> Mesos calls.

Level-triggered: every cycle rebuilds every plan from one consistent store snapshot plus what
was observed (sidecar health, reconciliation); nothing decided in an earlier cycle is trusted.
Watches, API calls and Mesos events only wake the loop. Persist before acting: a task record is
stored before the ACCEPT that launches it, a status update before it is acknowledged.

Until every known task has answered the explicit reconciliation that follows a subscription,
the loop launches and kills nothing (no duplicate launches after a failover or restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

from framework.mesos.errors import MesosError
from framework.mesos.events import event_type, offers_of, rescinded_offer_id, status_of
from framework.offers.cleanup import cluster_release_operations
from framework.offers.evaluate import Fit, plan_offers, view_offer
from framework.offers.requirements import NodeRequirements
from framework.reconciler import jobs
from framework.reconciler.cluster_plans import ClusterPlans, build_all_plans
from framework.reconciler.datacenters import (
    PeerDatacenter,
    PeerExchangeFailed,
    PeerSchedule,
    datacenter_url,
    exchange,
)
from framework.reconciler.health import PROBE_CONCURRENCY, carry_mode, probe_all, targets
from framework.reconciler.launch import NodeCommand, build_launch, cluster_wide_ports, requirements
from framework.reconciler.offers import (
    Interest,
    OfferBook,
    OfferInterest,
    all_records,
    placement_context,
    referenced_keys,
)
from framework.reconciler.updates import Outcome, already_recorded, store_update, task_id_of
from framework.store.base import Store, StoreSnapshot
from framework.views import OfferWait
from model.errors import CassandraMesosError, InvalidInput
from model.node import NodeHealth
from model.records import ACTIVE_STATES, TaskRecord
from plans.actions import (
    DeleteIntent,
    ForgetCluster,
    KillNode,
    LaunchNode,
    OfferCleanup,
    RecordJobResult,
    ReleaseNode,
    StartJob,
    StopJob,
)
from plans.cassandra import uninstall
from plans.cassandra.seeds import local_seeds, replacing_nodes
from plans.coordinator import next_work

log = logging.getLogger(__name__)

Json = dict[str, Any]
T = TypeVar("T")
# Launches in flight at once within one cycle (each: one ZooKeeper write, then one ACCEPT).
LAUNCH_CONCURRENCY = 8
# A sidecar is asked again to start or stop the same job at most this often.
JOB_CALL_RETRY_S = 5.0
MaintenanceAction = StartJob | RecordJobResult | StopJob | OfferCleanup


class MesosActions(Protocol):
    """The calls the reconciler makes; ``framework.mesos.driver.MesosDriver`` has them all."""

    @property
    def is_subscribed(self) -> bool: ...

    async def accept(
        self,
        offer_ids: Sequence[str],
        operations: Sequence[Mapping[str, Any]],
        refuse_seconds: float | None = None,
    ) -> None: ...

    async def decline(self, offer_ids: Sequence[str], refuse_seconds: float = ...) -> None: ...

    async def revive(self, roles: Sequence[str] = ()) -> None: ...

    async def suppress(self, roles: Sequence[str] = ()) -> None: ...

    async def kill(
        self, task_id: str, agent_id: str | None = None, grace_seconds: float | None = None
    ) -> None: ...

    async def reconcile(self, tasks: Sequence[tuple[str, str | None]] = ()) -> None: ...


@dataclass(frozen=True)
class ReconcilerSettings:
    role: str
    principal: str | None
    refuse_seconds: float = 120.0
    # Declines of offers held back by a failed store write: short, the work is still there.
    retry_refuse_seconds: float = 1.0
    reconcile_interval_s: float = 600.0
    reconcile_retry_s: float = 10.0
    cycle_interval_s: float = 5.0
    health_interval_s: float = 5.0
    health_timeout_s: float = 2.0
    kill_retry_s: float = 30.0
    revive_every_s: float = 30.0
    # With nothing to launch, offers are revived this often to clean orphaned reservations.
    orphan_sweep_s: float = 900.0
    coalesce_s: float = 0.1
    # Agent attribute naming the rack (else the fault domain's zone).
    rack_attribute: str = "rack"
    max_nodes_per_agent: int = 1
    # Bearer token for the peer datacenters' APIs (instances of one cluster share the API token).
    peer_token: str | None = None


class Reconciler:
    """One leadership term's reconciler: bind a driver, hand it ``on_event``, then ``run()``."""

    def __init__(
        self,
        store: Store,
        settings: ReconcilerSettings,
        command: NodeCommand,
        *,
        clock: Callable[[], float] = time.monotonic,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._settings = settings
        self.command = command
        self._clock = clock
        self._new_id = new_id
        self._mesos: MesosActions | None = None
        self._store_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store")
        self._plan_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plans")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._health_due = asyncio.Event()
        self._health_soon: set[str] = set()
        # task id -> uuid of its latest update stored in this term.
        self._stored: dict[str, str] = {}
        self._book = OfferBook()
        self._health: dict[str, dict[str, NodeHealth]] = {}
        self._snapshot: StoreSnapshot | None = None
        self._plans: dict[str, ClusterPlans] = {}
        self._subscribed = False
        # task id -> agent id of tasks the explicit reconciliation still waits for; None: not sent yet.
        self._pending_reconcile: dict[str, str] | None = None
        self._reconcile_sent = 0.0
        self._implicit_sent = 0.0
        self._reconciled = False
        self._interest = OfferInterest(None, frozenset(), 0.0)
        self._kills: dict[str, float] = {}
        # "start|stop/<task id>/<job id>" -> when its sidecar was last asked to start or stop it.
        self._job_calls: dict[str, float] = {}
        self._peers = PeerSchedule.empty()
        # (cluster, node) of a wanted launch -> (since, last weighed or None, why offers did not fit)
        self._waits: dict[tuple[str, str], tuple[float, float | None, tuple[str, ...]]] = {}
        self.cycles = 0
        self.launched: list[str] = []

    async def _in_store_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """kazoo is synchronous. Store calls get threads of their own: sharing the default
        executor with DNS lookups of unreachable sidecars once starved status updates for seconds."""
        return await asyncio.get_running_loop().run_in_executor(self._store_threads, fn, *args)

    def bind(self, mesos: MesosActions) -> None:
        self._mesos = mesos

    # ---- views --------------------------------------------------------------------------------

    @property
    def reconciled(self) -> bool:
        return self._reconciled

    @property
    def snapshot(self) -> StoreSnapshot | None:
        return self._snapshot

    def cluster_plans(self, cluster: str) -> ClusterPlans | None:
        return self._plans.get(cluster)

    def health(self, cluster: str) -> Mapping[str, NodeHealth]:
        return dict(self._health.get(cluster, {}))

    def offer_waits(self, cluster: str) -> list[OfferWait]:
        now = self._clock()
        return [
            OfferWait(node, now - since, None if at is None else now - at, reasons)
            for (c, node), (since, at, reasons) in sorted(self._waits.items())
            if c == cluster
        ]

    def synced_peers(self, cluster: str) -> frozenset[str]:
        """Peer URLs a datacenter exchange of ``cluster`` succeeded with in this term."""
        return self._peers.synced_peers().get(cluster, frozenset())

    def wake(self) -> None:
        """Ask for a cycle soon; safe from any thread."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # loop closed: nothing left to wake
                loop.call_soon_threadsafe(self._wake.set)

    # ---- driver callbacks ---------------------------------------------------------------------

    async def framework_id(self) -> str | None:
        return await self._in_store_thread(self._store.get_framework_id)

    async def on_subscribed(self, framework_id: str) -> None:
        # Stored before anything else happens: a restarted scheduler fails over to the same id.
        await self._in_store_thread(self._store.set_framework_id, framework_id)

    async def on_event(self, event: Json) -> None:
        kind = event_type(event)
        if kind == "SUBSCRIBED":
            self._book.clear()  # offers die with the old subscription
            self._subscribed = True
            self._pending_reconcile = None
            self._reconciled = False
            self._stored.clear()
            self._interest = OfferInterest(None, frozenset(), 0.0)
            self._kills.clear()
        elif kind == "OFFERS":
            self._book.add(offers_of(event))
        elif kind == "RESCIND":
            oid = rescinded_offer_id(event)
            if oid is not None:
                self._book.rescind(oid)
        elif kind == "UPDATE":
            await self._on_update(status_of(event))
        elif kind in ("FAILURE", "ERROR"):
            log.warning("Mesos %s event: %s", kind, event)
        else:
            return
        self.wake()

    async def _on_update(self, status: Json) -> None:
        tid = task_id_of(status)
        uuid_ = status.get("uuid")
        state = str(status.get("state", ""))
        if already_recorded(self._snapshot, status) or (uuid_ and self._stored.get(tid) == uuid_):
            # A reconciliation answer the store holds, or a resent copy of an update already
            # stored (agents resend until acknowledged): acknowledge without writing again.
            outcome = Outcome.UNCHANGED
        else:
            # Raises when the store is unavailable: the driver then does not acknowledge.
            outcome = await self._in_store_thread(store_update, self._store, status)
            if outcome is Outcome.STORED and uuid_:
                self._stored[tid] = str(uuid_)
        log.log(
            logging.DEBUG if outcome is Outcome.UNCHANGED else logging.INFO,
            "task %s: %s (%s)",
            tid,
            state,
            outcome.value,
        )
        pending = self._pending_reconcile
        if pending is not None and pending.pop(tid, None) is not None and not pending:
            self._reconciled = True
            log.info("reconciliation complete")
        if state == "TASK_RUNNING":
            self._health_soon.add(tid)
            self._health_due.set()
        if outcome is Outcome.STALE and state in ACTIVE_STATES:
            # A task that is not its node's current one (an older launch): never two of a node.
            agent = (status.get("agent_id") or {}).get("value")
            await self._kill(tid, agent, "not the node's current task")

    # ---- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        health = asyncio.create_task(self._health_loop(), name="sidecar-health")
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._settings.cycle_interval_s):
                        await self._wake.wait()
                # A burst of events (hundreds of updates after a launch wave) makes one cycle,
                # not hundreds: each cycle reads and plans everything.
                await asyncio.sleep(self._settings.coalesce_s)
                self._wake.clear()
                if not self._can_act():
                    continue
                try:
                    await self.cycle()
                except (CassandraMesosError, httpx.HTTPError) as exc:
                    log.warning("reconciler cycle stopped early: %s", exc)
                    await asyncio.sleep(0.5)
                except Exception:
                    log.exception("reconciler cycle failed")
                    await asyncio.sleep(1.0)
        finally:
            health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await health
            self._store_threads.shutdown(wait=False, cancel_futures=True)
            self._plan_thread.shutdown(wait=False, cancel_futures=True)

    def _can_act(self) -> bool:
        mesos = self._mesos
        return mesos is not None and self._subscribed and mesos.is_subscribed and self._store.is_writable()

    async def cycle(self) -> None:
        mesos = self._mesos
        assert mesos is not None
        snapshot = await self._in_store_thread(self._store.snapshot)
        self._snapshot = snapshot
        self.cycles += 1
        records = all_records(snapshot)
        now = self._clock()
        await self._reconcile(mesos, records, now)

        # Pure but CPU-heavy with many nodes: off the event loop, so events keep flowing meanwhile.
        self._plans = await asyncio.get_running_loop().run_in_executor(
            self._plan_thread,
            build_all_plans,
            snapshot,
            dict(self._health),
            self._reconciled,
            self._peers.synced_peers(),
        )

        launches: list[tuple[ClusterPlans, LaunchNode]] = []
        kills: list[tuple[ClusterPlans, KillNode]] = []
        releases: list[tuple[ClusterPlans, ReleaseNode]] = []
        forgets: list[ClusterPlans] = []
        finished: list[tuple[ClusterPlans, DeleteIntent]] = []
        maintenance: list[tuple[ClusterPlans, MaintenanceAction]] = []
        for cp in self._plans.values():
            maintenance.extend((cp, h) for h in cp.housekeeping)
            for work in next_work(cp.ordered()):
                act = work.action
                if isinstance(act, StartJob | RecordJobResult):
                    maintenance.append((cp, act))
                elif isinstance(act, LaunchNode):
                    launches.append((cp, act))
                elif isinstance(act, KillNode):
                    kills.append((cp, act))
                elif isinstance(act, ReleaseNode):
                    releases.append((cp, act))
                elif isinstance(act, ForgetCluster):
                    forgets.append(cp)
                elif isinstance(act, DeleteIntent):
                    finished.append((cp, act))
                # Reconcile and SyncDatacenter blocks only wait: explicit reconciliation and the
                # peer exchange (_sync_peers) run for every cluster whatever the plans say.
        if not self._reconciled:
            # Offers stay held: they are used once every known task has answered.
            return
        for cp, kill in kills:
            rec = cp.state.records.get(kill.node)
            if rec is not None and rec.task_id == kill.task_id:
                await self._kill(kill.task_id, rec.agent_id, kill.reason)
        for cp, done in finished:
            log.info("cluster %s: %s complete, deleting its request", cp.cluster, done.plan)
            await self._in_store_thread(self._store.delete_intent, cp.cluster, done.plan)
        if maintenance:
            await self._maintenance(maintenance)
        await self._sync_peers(now)
        for cp in forgets:
            log.info("cluster %s: uninstalled, deleting it from the store", cp.cluster)
            await self._in_store_thread(self._store.delete_cluster, cp.cluster)
        waiting: list[tuple[ClusterPlans, ReleaseNode]] = []
        for cp, rel in releases:
            if rel.await_offer:
                waiting.append((cp, rel))
            else:
                log.info("cluster %s: forgetting %s (agent %s is gone)", cp.cluster, rel.node, rel.agent_id)
                await self._in_store_thread(self._store.delete_task, cp.cluster, rel.node)
        await self._offers(mesos, snapshot, records, launches, now, waiting)

    # ---- maintenance jobs (cleanup, repair) ---------------------------------------------------

    async def _maintenance(self, actions: Sequence[tuple[ClusterPlans, MaintenanceAction]]) -> None:
        now = self._clock()
        async with httpx.AsyncClient() as client:
            for cp, act in actions:
                if isinstance(act, RecordJobResult):
                    await self._in_store_thread(jobs.record_result, self._store, cp.cluster, act)
                elif isinstance(act, OfferCleanup):
                    await self._in_store_thread(
                        jobs.store_cleanup_offer, self._store, cp.cluster, act, time.time()
                    )
                else:
                    record = cp.state.records.get(act.node)
                    key = (
                        f"start/{act.task_id}/{act.job.id}"
                        if isinstance(act, StartJob)
                        else f"stop/{act.task_id}/{act.job_id}"
                    )
                    if record is None or now - self._job_calls.get(key, -float("inf")) < JOB_CALL_RETRY_S:
                        continue
                    self._job_calls[key] = now
                    if isinstance(act, StartJob):
                        done = await jobs.start_job(client, cp.cluster, record, act)
                    else:
                        done = await jobs.stop_job(client, cp.cluster, record, act)
                    if done:
                        # Look again soon: the block moves on when the health poll sees the job.
                        self._health_soon.add(record.task_id)
                        self._health_due.set()
        # Forget old call times (tasks and jobs come and go).
        self._job_calls = {k: t for k, t in self._job_calls.items() if now - t < 10 * JOB_CALL_RETRY_S}

    # ---- peer datacenters ---------------------------------------------------------------------

    async def _sync_peers(self, now: float) -> None:
        work: list[tuple[str, str, PeerDatacenter]] = []
        for cp in self._plans.values():
            if uninstall.PLAN in cp.plans:
                continue
            due = self._peers.due(cp.cluster, cp.spec.peers, now)
            if due:
                records = cp.state.records
                seeds = local_seeds(cp.spec, records, replacing_nodes(records, cp.state.health))
                ours = PeerDatacenter(
                    cp.spec.data_center, datacenter_url(self.command.scheduler_url, cp.cluster), tuple(seeds)
                )
                work.extend((cp.cluster, peer, ours) for peer in due)
        if not work:
            return
        async with httpx.AsyncClient() as client:
            results = await asyncio.gather(
                *(exchange(client, c, peer, ours, self._settings.peer_token) for c, peer, ours in work),
                return_exceptions=True,
            )
        for (cluster, peer, ours), result in zip(work, results, strict=True):
            if isinstance(result, PeerDatacenter):
                try:
                    await self._in_store_thread(
                        self._store.put_peer, cluster, result.data_center, result.to_json()
                    )
                except CassandraMesosError as exc:
                    log.warning("cluster %s: storing peer %s failed: %s", cluster, peer, exc)
                    self._peers.failed(cluster, peer, now)
                    continue
                if peer not in self._peers.synced.get(cluster, set()):
                    log.info("cluster %s: exchanged seeds with %s (%s)", cluster, peer, result.data_center)
                self._peers.succeeded(cluster, peer, now, bool(ours.seeds and result.seeds))
            elif isinstance(result, PeerExchangeFailed):
                wait = self._peers.failed(cluster, peer, now)
                log.warning(
                    "cluster %s: datacenter exchange failed (next try in %.0f s): %s", cluster, wait, result
                )
            elif isinstance(result, BaseException):
                raise result

    # ---- reconciliation -----------------------------------------------------------------------

    async def _reconcile(self, mesos: MesosActions, records: list[TaskRecord], now: float) -> None:
        if self._pending_reconcile is None:
            # Explicit reconciliation of every known live task after each subscription. Terminal
            # records are left alone: Mesos may have forgotten them and would answer TASK_GONE.
            self._pending_reconcile = {r.task_id: r.agent_id for r in records if not r.is_terminal}
            self._reconcile_sent = -float("inf")
            if not self._pending_reconcile:
                self._reconciled = True
        pending = self._pending_reconcile
        if pending and now - self._reconcile_sent >= self._settings.reconcile_retry_s:
            log.info("explicit reconciliation of %d task(s)", len(pending))
            self._reconcile_sent = now
            await mesos.reconcile(list(pending.items()))
        if self._reconciled and now - self._implicit_sent >= self._settings.reconcile_interval_s:
            self._implicit_sent = now
            await mesos.reconcile([])

    # ---- kills --------------------------------------------------------------------------------

    async def _kill(self, task_id: str, agent_id: str | None, reason: str) -> None:
        mesos = self._mesos
        now = self._clock()
        if mesos is None or now - self._kills.get(task_id, -float("inf")) < self._settings.kill_retry_s:
            return
        self._kills[task_id] = now
        log.info("killing %s: %s", task_id, reason)
        try:
            await mesos.kill(task_id, agent_id)
        except MesosError as exc:
            self._kills.pop(task_id, None)
            log.warning("KILL %s failed (will retry): %s", task_id, exc)

    # ---- offers -------------------------------------------------------------------------------

    async def _offers(
        self,
        mesos: MesosActions,
        snapshot: StoreSnapshot,
        records: list[TaskRecord],
        launches: list[tuple[ClusterPlans, LaunchNode]],
        now: float,
        releases: Sequence[tuple[ClusterPlans, ReleaseNode]] = (),
    ) -> None:
        settings = self._settings
        wanted: dict[tuple[str, str], tuple[ClusterPlans, LaunchNode, NodeRequirements]] = {}
        pending_keys: set[str] = set()
        # Each cluster's shared storage ports: the spec's, or those its placed nodes hold.
        every = {c.cluster: c for c in self._plans.values()} | {cp.cluster: cp for cp, _ in launches}
        shared_ports = {
            c.cluster: c.spec.fixed_storage_ports or cluster_wide_ports(c.state.records.values())
            for c in every.values()
        }
        for cp, act in launches:
            record = cp.state.records.get(act.node)
            try:
                req = requirements(
                    cp.spec,
                    cp.cluster,
                    act,
                    record,
                    settings.role,
                    settings.principal,
                    self._new_id(),
                    shared_ports[cp.cluster],
                    frozenset(
                        p for c, ports in shared_ports.items() if c != cp.cluster for p in ports.values()
                    ),
                )
            except InvalidInput as exc:
                log.error("cannot launch %s/%s: %s", cp.cluster, act.node, exc)
                continue
            wanted[(cp.cluster, act.node)] = (cp, act, req)
            count = record.launch_count if record is not None else 0
            pending_keys.add(f"{cp.cluster}/{act.node}/{count}")

        pending_keys.update(f"release/{cp.cluster}/{rel.node}" for cp, rel in releases)
        self._waits = {k: w for k, w in self._waits.items() if k in wanted}
        for key in wanted:
            self._waits.setdefault(key, (now, None, ()))

        offers = self._book.take()
        answered: set[str] = set()
        try:
            if releases and offers:
                answered.update(await self._release(mesos, offers, releases))
                offers = [o for o in offers if str(o["id"]["value"]) not in answered]
            if offers:
                result = plan_offers(
                    [view_offer(o, settings.rack_attribute) for o in offers],
                    [w[2] for w in wanted.values()],
                    placement_context(records, settings.max_nodes_per_agent),
                    referenced_keys(snapshot),
                    settings.role,
                )
                # Launches touch distinct nodes and offers: store-then-ACCEPT runs for several at once.
                gate = asyncio.Semaphore(LAUNCH_CONCURRENCY)

                async def launch(fit: Fit) -> None:
                    cp, act, req = wanted[(fit.node.cluster, fit.node.node)]
                    async with gate:
                        launched = await self._launch(mesos, snapshot, cp, act, req, fit)
                    if launched:
                        rec = cp.state.records.get(act.node)
                        pending_keys.discard(f"{cp.cluster}/{act.node}/{rec.launch_count if rec else 0}")

                answered.update(fit.offer_id for fit in result.fits)  # each launch answers its offer
                for fit in result.fits:
                    self._waits.pop((fit.node.cluster, fit.node.node), None)
                for unplaced, why in result.waiting.items():
                    node_key = (unplaced.cluster, unplaced.node)
                    self._waits[node_key] = (self._waits.get(node_key, (now,))[0], now, why)
                await asyncio.gather(*(launch(fit) for fit in result.fits))
                for offer_id, ops in result.cleanups.items():
                    log.info("offer %s: destroying and unreserving orphaned resources", offer_id)
                    answered.add(offer_id)
                    await mesos.accept([offer_id], ops, settings.refuse_seconds)
                if result.declines:
                    answered.update(result.declines)
                    await mesos.decline(list(result.declines), settings.refuse_seconds)
        except BaseException:
            # An offer nobody answers stays allocated to us: keep the rest for the next cycle.
            self._book.add(o for o in offers if str(o["id"]["value"]) not in answered)
            raise

        pending = frozenset(pending_keys)
        sweep_every = settings.orphan_sweep_s if settings.orphan_sweep_s > 0 else math.inf
        decision = self._interest.decide(pending, now, settings.revive_every_s, sweep_every)
        if decision is Interest.REVIVE:
            if pending:
                log.info("reviving offers for %d pending launch(es)", len(pending))
            else:
                log.info("reviving offers for a sweep of orphaned reservations")
            await mesos.revive([settings.role])
            self._interest = OfferInterest(False, pending, now, sweeping=not pending)
        elif decision is Interest.SUPPRESS:
            log.info("nothing to launch: suppressing offers")
            await mesos.suppress([settings.role])
            self._interest = OfferInterest(True, pending, now)  # the sweep clock starts now
        else:
            self._interest = OfferInterest(self._interest.suppressed, pending, self._interest.last_revive)

    async def _release(
        self,
        mesos: MesosActions,
        offers: list[Json],
        releases: Sequence[tuple[ClusterPlans, ReleaseNode]],
    ) -> set[str]:
        """Uninstall: DESTROY and UNRESERVE what the offers of the released nodes' agents hold for
        their clusters, then forget the nodes. Returns the offers it accepted."""
        by_agent: dict[str, list[tuple[ClusterPlans, ReleaseNode]]] = {}
        for cp, rel in releases:
            by_agent.setdefault(rel.agent_id, []).append((cp, rel))
        offers_by_agent: dict[str, list[Json]] = {}
        for offer in offers:
            offers_by_agent.setdefault(str(offer["agent_id"]["value"]), []).append(offer)
        accepted: set[str] = set()
        for agent, wanted in by_agent.items():
            agent_offers = offers_by_agent.get(agent)
            if not agent_offers:
                continue
            clusters = sorted({cp.cluster for cp, _ in wanted})
            ids: list[str] = []
            ops: list[Json] = []
            for offer in agent_offers:
                offer_ops = [
                    op for c in clusters for op in cluster_release_operations(offer, self._settings.role, c)
                ]
                if offer_ops:
                    ids.append(str(offer["id"]["value"]))
                    ops.extend(offer_ops)
            if ops:
                log.info("agent %s: destroying volumes and unreserving for uninstall of %s", agent, clusters)
                # Filter 0: what is left of the offers comes back at once.
                await mesos.accept(ids, ops, 0.0)
                accepted.update(ids)
            for cp, rel in wanted:
                log.info("cluster %s: %s released", cp.cluster, rel.node)
                await self._in_store_thread(self._store.delete_task, cp.cluster, rel.node)
        return accepted

    async def _launch(
        self,
        mesos: MesosActions,
        snapshot: StoreSnapshot,
        cp: ClusterPlans,
        act: LaunchNode,
        req: NodeRequirements,
        fit: Fit,
    ) -> bool:
        stored = snapshot.clusters[cp.cluster]
        record = stored.tasks.get(act.node)
        prior = (record, stored.task_versions[act.node]) if record is not None else None
        try:
            launch = build_launch(cp.spec, cp.cluster, act, fit, req, prior, self.command, self._new_id())
        except InvalidInput as exc:
            log.error("cannot launch %s/%s: %s", cp.cluster, act.node, exc)
            await mesos.decline([fit.offer_id], self._settings.refuse_seconds)
            return False
        try:
            # Persist before acting: the record names the task before Mesos ever sees it.
            await self._in_store_thread(self._store.put_task, launch.record, launch.expected_version)
        except CassandraMesosError as exc:
            log.warning("not launching %s: storing its record failed: %s", launch.record.task_id, exc)
            await mesos.decline([fit.offer_id], self._settings.retry_refuse_seconds)
            return False
        how = "in place" if fit.relaunch_in_place else "reserving and creating its volume"
        log.info("launching %s on %s (%s)", launch.record.task_id, fit.hostname, how)
        try:
            # Filter 0: what the launch leaves of the offer comes back at once for other pending nodes.
            await mesos.accept([launch.offer_id], launch.operations, 0.0)
        except MesosError as exc:
            # The record says "launched"; ask Mesos about the task so an unknown one is forgotten.
            log.warning("ACCEPT for %s failed: %s", launch.record.task_id, exc)
            with contextlib.suppress(MesosError):
                await mesos.reconcile([(launch.record.task_id, fit.agent_id)])
            return False
        self.launched.append(launch.record.task_id)
        return True

    # ---- sidecar health -----------------------------------------------------------------------

    async def _health_loop(self) -> None:
        """A sweep of every running node each ``health_interval_s``; in between, only the nodes
        just reported TASK_RUNNING (a sweep per update would probe 1,000 nodes per update)."""
        interval = self._settings.health_interval_s
        next_sweep = 0.0
        limits = httpx.Limits(
            max_connections=2 * PROBE_CONCURRENCY, max_keepalive_connections=PROBE_CONCURRENCY
        )
        async with httpx.AsyncClient(timeout=self._settings.health_timeout_s, limits=limits) as client:
            while True:
                snapshot = self._snapshot
                if snapshot is not None and self._subscribed:
                    sweep = self._clock() >= next_sweep
                    if sweep:
                        next_sweep = self._clock() + interval
                    soon, self._health_soon = self._health_soon, set()
                    nodes = targets(all_records(snapshot), None if sweep else soon)
                    results = await probe_all(client, nodes)
                    fresh = {} if sweep else {c: dict(h) for c, h in self._health.items()}
                    for (cluster, node), health in results.items():
                        previous = self._health.get(cluster, {}).get(node)
                        fresh.setdefault(cluster, {})[node] = carry_mode(previous, health)
                    if fresh != self._health:
                        self._health = fresh
                        self.wake()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.05, min(interval, next_sweep - self._clock()))):
                        await self._health_due.wait()
                self._health_due.clear()
