"""The master: frameworks, offers, tasks and agents (reference §2-§5, §7.7).

Everything here is synchronous state manipulation; the HTTP layer (http.py) and the agent links
(agents.py, simulated.py) do the I/O. Timers go through the injected event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from localmesos.jsonmap import id_of
from localmesos.master import agent_lifecycle, events
from localmesos.master.allocator import FilterKey, Grant, RefuseFilter, allocate, refuse_seconds
from localmesos.master.state import (
    MAX_COMPLETED_FRAMEWORKS,
    VERSION,
    Agent,
    AgentLink,
    EventSink,
    Framework,
    JsonDict,
    MasterConfig,
    Offer,
    Task,
    is_terminal,
)
from localmesos.resources import Resources

log = logging.getLogger("localmesos.master")


class SubscribeError(Exception):
    """FrameworkInfo rejected: sent as an ERROR event, then the stream closes."""


class Master:
    def __init__(self, config: MasterConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.id = str(uuid.uuid4())
        self.start_time = clock()
        self.port = config.port
        self.frameworks: dict[str, Framework] = {}
        self.completed_frameworks: deque[Framework] = deque(maxlen=MAX_COMPLETED_FRAMEWORKS)
        self.removed_framework_ids: set[str] = set()
        self.agents: dict[str, Agent] = {}
        self.unreachable_agents: dict[str, Agent] = {}
        self.recovered_agent_ids: set[str] = set()  # admitted before a master restart, not yet back
        self.offers: dict[str, Offer] = {}
        self.filters: dict[FilterKey, RefuseFilter] = {}
        self._framework_seq = itertools.count()
        self._offer_seq = itertools.count()
        self._agent_seq = itertools.count()
        self._wake = asyncio.Event()
        self.allocation_runs = 0
        self.allocation_run_ms = 0.0
        self.allocation_offers = 0
        self.on_registry_change: Callable[[], None] = lambda: None
        self.on_agent_removed: Callable[[Agent], None] = lambda agent: None
        # Operator event stream subscribers: called with (event type, object).
        self.observers: list[Callable[[str, Any], None]] = []

    # ------------------------------------------------------------------ helpers

    def master_info(self) -> JsonDict:
        return events.master_info(self.id, self.config.hostname, self.port, VERSION)

    def send(self, framework: Framework, event: JsonDict) -> None:
        if framework.sink is not None and framework.connected:
            framework.sink.send(event)

    def notify(self, kind: str, obj: Any) -> None:
        for observer in list(self.observers):
            observer(kind, obj)

    def request_allocation(self) -> None:
        self._wake.set()

    def find_task(self, framework: Framework, task_id: str) -> Task | None:
        return framework.tasks.get(task_id) or framework.unreachable_tasks.get(task_id)

    def new_agent_id(self) -> str:
        return f"{self.id}-S{next(self._agent_seq)}"

    # ------------------------------------------------------------------ frameworks

    def subscribe(self, call: JsonDict, sink: EventSink) -> Framework:
        """SUBSCRIBE after HTTP-level checks; raises SubscribeError (ERROR event text)."""
        from localmesos.master.validation import framework_error

        sub = call["subscribe"]
        info = dict(sub["framework_info"])
        suppressed = list(sub.get("suppressed_roles") or [])
        err = framework_error(info, suppressed)
        if err:
            raise SubscribeError(err)
        now = self.clock()
        fid = id_of(info.get("id"))
        if fid is not None and fid in self.removed_framework_ids:
            raise SubscribeError("Framework has been removed")
        framework = self.frameworks.get(fid) if fid is not None else None
        added = False
        if framework is not None:
            if framework.principal != info.get("principal") and not framework.recovered:
                raise SubscribeError("Changing framework's principal is not allowed.")
            if framework.sink is not None and framework.connected:
                framework.sink.send(events.error("Framework failed over"))
                framework.sink.close()
            if framework.failover_timer is not None:
                framework.failover_timer.cancel()
                framework.failover_timer = None
            for offer_id in list(framework.offers):
                self.remove_offer(offer_id)  # no RESCIND on failover
            # user/checkpoint cannot change on re-subscribe
            info["user"] = framework.info.get("user", info["user"])
            if "checkpoint" in framework.info:
                info["checkpoint"] = framework.info["checkpoint"]
            framework.info = info
            framework.reregistered_time = now
            framework.recovered = False
        else:
            if fid is None:
                fid = f"{self.id}-{next(self._framework_seq):04d}"
            info["id"] = {"value": fid}
            framework = Framework(id=fid, info=info, registered_time=now)
            self.frameworks[fid] = framework
            added = True
        framework.info["id"] = {"value": framework.id}
        framework.suppressed = set(suppressed)
        framework.offer_constraints = sub.get("offer_constraints")
        self._clear_filters(framework, set(framework.roles) - framework.suppressed)
        framework.sink = sink
        framework.connected = True
        framework.active = True
        framework.unregistered_time = None
        sink.send(events.subscribed(framework.id, self.config.heartbeat_interval, self.master_info()))
        sink.send(events.heartbeat())
        self.notify("FRAMEWORK_ADDED" if added else "FRAMEWORK_UPDATED", framework)
        self.request_allocation()
        return framework

    def disconnected(self, framework: Framework, sink: EventSink) -> None:
        """The subscription connection closed (§5.4)."""
        if framework.sink is not sink or framework.id not in self.frameworks:
            return
        framework.sink = None
        framework.connected = False
        framework.active = False
        framework.unregistered_time = self.clock()
        for offer_id in list(framework.offers):
            self.remove_offer(offer_id)
        timeout = float(framework.info.get("failover_timeout") or 0.0)
        loop = asyncio.get_running_loop()
        framework.failover_timer = loop.call_later(max(timeout, 0.0), self._failover_expired, framework.id)
        self.notify("FRAMEWORK_UPDATED", framework)

    def _failover_expired(self, framework_id: str) -> None:
        framework = self.frameworks.get(framework_id)
        if framework is not None and not framework.connected:
            self.remove_framework(framework)

    def remove_framework(self, framework: Framework) -> None:
        """TEARDOWN or failover timeout (§5.4/§5.5): tasks killed, reservations kept."""
        now = self.clock()
        if framework.failover_timer is not None:
            framework.failover_timer.cancel()
        for offer_id in list(framework.offers):
            self.remove_offer(offer_id)
        agent_ids = set()
        for task in list(framework.tasks.values()) + list(framework.unreachable_tasks.values()):
            agent_ids.add(task.agent_id)
            if not is_terminal(task.state):
                status = events.master_status(
                    task.task_id,
                    "TASK_KILLED",
                    "REASON_FRAMEWORK_REMOVED",
                    f"Framework {framework.id} removed",
                    now,
                    task.agent_id,
                )
                task.record(status)
                task.state = "TASK_KILLED"
            self._release(task)
            framework.completed_tasks.append(task)
        framework.tasks.clear()
        framework.unreachable_tasks.clear()
        for agent_id in agent_ids:
            agent = self.agents.get(agent_id)
            if agent is not None:
                agent.link.send("shutdown_framework", {"framework_id": {"value": framework.id}})
        if framework.sink is not None:
            framework.sink.close()
        framework.sink = None
        framework.connected = False
        framework.active = False
        framework.unregistered_time = now
        self.frameworks.pop(framework.id, None)
        self.completed_frameworks.append(framework)
        self.removed_framework_ids.add(framework.id)
        self.notify("FRAMEWORK_REMOVED", framework)
        for key in [k for k in self.filters if k[0] == framework.id]:
            del self.filters[key]

    def update_framework(self, framework: Framework, body: JsonDict) -> str | None:
        """UPDATE_FRAMEWORK; returns a 400 text or None."""
        from localmesos.master.validation import framework_error

        info = dict(body["framework_info"])
        suppressed = list(body.get("suppressed_roles") or [])
        err = framework_error(info, suppressed)
        if err:
            return f"Supplied FrameworkInfo is not valid: {err}"
        if info.get("user") != framework.info.get("user"):
            return "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported"
        if bool(info.get("checkpoint", False)) != bool(framework.info.get("checkpoint", False)):
            return "FrameworkInfo update is not valid: Updating 'FrameworkInfo.checkpoint' is unsupported"
        if info.get("principal") != framework.info.get("principal"):
            return "Changing framework's principal is not allowed."
        old_roles = set(framework.roles)
        framework.info = info
        removed = old_roles - set(framework.roles)
        for offer_id in list(framework.offers):
            if self.offers[offer_id].role in removed:
                self.rescind(offer_id)
        unsuppressed = framework.suppressed - set(suppressed)
        framework.suppressed = set(suppressed)
        framework.offer_constraints = body.get("offer_constraints")
        self._clear_filters(framework, unsuppressed)
        self.request_allocation()
        return None

    def _clear_filters(self, framework: Framework, roles: set[str]) -> None:
        for key in [k for k in self.filters if k[0] == framework.id and k[1] in roles]:
            del self.filters[key]

    def revive(self, framework: Framework, roles: list[str]) -> None:
        targets = set(roles) if roles else set(framework.roles)
        if not targets <= set(framework.roles):
            log.warning("Dropping REVIVE of framework %s: roles %s are not subscribed", framework.id, targets)
            return
        framework.suppressed -= targets
        self._clear_filters(framework, targets)
        self.request_allocation()

    def suppress(self, framework: Framework, roles: list[str]) -> None:
        targets = set(roles) if roles else set(framework.roles)
        if not targets <= set(framework.roles):
            log.warning(
                "Dropping SUPPRESS of framework %s: roles %s are not subscribed", framework.id, targets
            )
            return
        framework.suppressed |= targets

    # ------------------------------------------------------------------ offers

    def allocate_now(self) -> int:
        """One allocation cycle; returns the number of offers made."""
        now = self.clock()
        for key in [k for k, f in self.filters.items() if f.expires <= now]:
            del self.filters[key]
        grants = allocate(self.agents.values(), self.frameworks.values(), self.filters, now)
        by_framework: dict[str, list[JsonDict]] = {}
        for grant in grants:
            offer = self._make_offer(grant)
            framework = self.frameworks[grant.framework_id]
            agent = self.agents[grant.agent_id]
            by_framework.setdefault(framework.id, []).append(events.offer_json(offer, framework, agent))
        for fid, items in by_framework.items():
            self.send(self.frameworks[fid], events.offers(items))
        return len(grants)

    def _make_offer(self, grant: Grant) -> Offer:
        offer_id = f"{self.id}-O{next(self._offer_seq)}"
        allocated = grant.resources.allocated_to(grant.role)
        offer = Offer(offer_id, grant.framework_id, grant.agent_id, grant.role, allocated, grant.resources)
        self.offers[offer_id] = offer
        self.frameworks[grant.framework_id].offers.add(offer_id)
        agent = self.agents[grant.agent_id]
        agent.offers.add(offer_id)
        agent.offered = agent.offered + grant.resources
        return offer

    def remove_offer(self, offer_id: str) -> Offer | None:
        """Drop an offer and give its resources back (no filter)."""
        offer = self.offers.pop(offer_id, None)
        if offer is None:
            return None
        framework = self.frameworks.get(offer.framework_id)
        if framework is not None:
            framework.offers.discard(offer_id)
        agent = self.agents.get(offer.agent_id)
        if agent is not None:
            agent.offers.discard(offer_id)
            agent.offered = agent.offered - offer.plain
        # Recovered resources wait for the next batch allocation, as in Mesos.
        return offer

    def rescind(self, offer_id: str) -> None:
        offer = self.remove_offer(offer_id)
        if offer is not None:
            framework = self.frameworks.get(offer.framework_id)
            if framework is not None:
                self.send(framework, events.rescind(offer_id))

    def add_filter(
        self, framework: Framework, role: str, agent_id: str, resources: Resources, filters: JsonDict | None
    ) -> None:
        seconds = refuse_seconds(filters)
        if seconds <= 0 or not resources:
            return
        seconds = max(seconds, self.config.allocation_interval)
        key = (framework.id, role, agent_id)
        self.filters[key] = RefuseFilter(self.clock() + seconds, resources)

    def decline(self, framework: Framework, offer_ids: list[str], filters: JsonDict | None) -> None:
        for offer_id in offer_ids:
            offer = self.offers.get(offer_id)
            if offer is None or offer.framework_id != framework.id:
                continue  # unknown or expired offers are silently ignored
            self.remove_offer(offer_id)
            self.add_filter(framework, offer.role, offer.agent_id, offer.plain, filters)

    async def allocation_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.config.allocation_interval)
            self._wake.clear()
            try:
                started = time.perf_counter()
                made = self.allocate_now()
                self.allocation_run_ms = (time.perf_counter() - started) * 1000
                self.allocation_runs += 1
                self.allocation_offers = made
            except Exception:  # keep allocating even if one cycle hits a bug
                log.exception("allocation cycle failed")
            # Batch: at most one cycle per short tick even under a storm of triggers.
            await asyncio.sleep(min(0.05, self.config.allocation_interval))

    # ------------------------------------------------------------------ tasks

    def add_task(self, framework: Framework, agent: Agent, task: Task) -> None:
        framework.tasks[task.task_id] = task
        agent.tasks.add((framework.id, task.task_id))
        agent.used = agent.used + task.resources
        framework.cpus_in_use += task.resources.scalar("cpus")
        self.notify("TASK_ADDED", task)

    def _release(self, task: Task) -> None:
        """A task reached a terminal state: its resources go back to the allocator."""
        agent = self.agents.get(task.agent_id) or self.unreachable_agents.get(task.agent_id)
        if agent is not None and (task.framework_id, task.task_id) in agent.tasks:
            agent.tasks.discard((task.framework_id, task.task_id))
            agent.used = agent.used - task.resources
            framework = self.frameworks.get(task.framework_id)
            if framework is not None:
                framework.cpus_in_use = max(0.0, framework.cpus_in_use - task.resources.scalar("cpus"))

    def send_master_update(self, framework: Framework, status: JsonDict) -> None:
        self.send(framework, events.update(status))

    def status_update(
        self, agent_id: str, framework_id: str, status: JsonDict, latest_state: str | None = None
    ) -> None:
        """An update from an agent (with uuid): record it and forward it if the framework is connected.

        `latest_state` is the task's newest state on the agent, which may be ahead of the update in
        flight; like Mesos, the master releases resources as soon as that one is terminal (§4.3).
        """
        framework = self.frameworks.get(framework_id)
        if framework is None:
            agent = self.agents.get(agent_id)
            if agent is not None and framework_id in self.removed_framework_ids:
                # The framework is gone for good: its tasks must not linger on the agent.
                agent.link.send("shutdown_framework", {"framework_id": {"value": framework_id}})
            return
        task_id = id_of(status.get("task_id")) or ""
        task = framework.tasks.get(task_id)
        if task is None and task_id in framework.unreachable_tasks:
            task = framework.unreachable_tasks.pop(task_id)
            framework.tasks[task_id] = task
        status = dict(status)
        status.setdefault("agent_id", {"value": agent_id})
        if task is not None:
            was_terminal = is_terminal(task.state)
            task.state = latest_state or status["state"]
            task.record(status)
            if is_terminal(task.state) and not was_terminal:
                self._release(task)
            if framework.connected:
                task.status_update_state = status["state"]
                task.status_update_uuid = status.get("uuid")
            self.notify("TASK_UPDATED", task)
        self.send(framework, events.update(status))

    def acknowledge(self, framework: Framework, body: JsonDict) -> None:
        agent_id = id_of(body["agent_id"]) or ""
        task_id = id_of(body["task_id"]) or ""
        agent = self.agents.get(agent_id)
        if agent is None or not agent.connected:
            log.warning("Dropping acknowledgement for unknown or disconnected agent %s", agent_id)
            return
        agent.link.send(
            "acknowledge",
            {"framework_id": {"value": framework.id}, "task_id": {"value": task_id}, "uuid": body["uuid"]},
        )
        task = framework.tasks.get(task_id)
        if task is not None and is_terminal(task.state) and task.status_update_uuid == body["uuid"]:
            del framework.tasks[task_id]
            framework.completed_tasks.append(task)

    def kill(self, framework: Framework, body: JsonDict) -> None:
        task_id = id_of(body["task_id"]) or ""
        agent_id = id_of(body.get("agent_id"))
        task = framework.tasks.get(task_id)
        if task is None:
            # Unknown (or on an unreachable agent): Mesos answers with explicit reconciliation.
            self.reconcile(
                framework,
                [{"task_id": body["task_id"], **({"agent_id": body["agent_id"]} if agent_id else {})}],
            )
            return
        if agent_id is not None and agent_id != task.agent_id:
            log.warning(
                "Ignoring KILL of task %s: agent %s does not match %s", task_id, agent_id, task.agent_id
            )
            return
        agent = self.agents.get(task.agent_id)
        if agent is None or not agent.connected:
            return
        agent.link.send(
            "kill_task",
            {
                "framework_id": {"value": framework.id},
                "task_id": {"value": task_id},
                "kill_policy": body.get("kill_policy"),
            },
        )

    def reconcile(self, framework: Framework, tasks: list[JsonDict]) -> None:
        now = self.clock()
        pa = framework.partition_aware
        if not tasks:
            for task in list(framework.tasks.values()) + list(framework.unreachable_tasks.values()):
                self.send(framework, events.update(self._reconcile_known(task, now)))
            return
        for item in tasks:
            task_id = id_of(item.get("task_id")) or ""
            agent_id = id_of(item.get("agent_id"))
            known = self.find_task(framework, task_id)
            if known is not None:
                self.send(framework, events.update(self._reconcile_known(known, now)))
                continue
            if (agent_id is None and self.recovered_agent_ids) or agent_id in self.recovered_agent_ids:
                continue  # the agent may still come back with it: no answer yet
            extra: JsonDict = {}
            if agent_id is not None and agent_id in self.agents:
                state, message = "TASK_GONE", "Reconciliation: Task is unknown to the agent"
            elif agent_id is not None and agent_id in self.unreachable_agents:
                state, message = "TASK_UNREACHABLE", "Reconciliation: Task is unreachable"
                when = self.unreachable_agents[agent_id].unreachable_time or now
                extra["unreachable_time"] = {"nanoseconds": int(when * 1e9)}
            else:
                state, message = "TASK_UNKNOWN", "Reconciliation: Task is unknown"
            if not pa:
                state, extra = "TASK_LOST", {}
            self.send(
                framework,
                events.update(
                    events.master_status(
                        task_id, state, "REASON_RECONCILIATION", message, now, agent_id, extra
                    )
                ),
            )

    def _reconcile_known(self, task: Task, now: float) -> JsonDict:
        framework = self.frameworks[task.framework_id]
        if task.task_id in framework.unreachable_tasks:
            pa = framework.partition_aware
            when = task.unreachable_time or now
            return events.master_status(
                task.task_id,
                "TASK_UNREACHABLE" if pa else "TASK_LOST",
                "REASON_RECONCILIATION",
                "Reconciliation: Task is unreachable",
                now,
                task.agent_id,
                {"unreachable_time": {"nanoseconds": int(when * 1e9)}} if pa else {},
            )
        state = task.status_update_state or task.state
        extra: JsonDict = {}
        latest = task.latest_status or {}
        for key in ("healthy", "check_status", "container_status", "executor_id"):
            if key in latest:
                extra[key] = latest[key]
        return events.master_status(
            task.task_id,
            state,
            "REASON_RECONCILIATION",
            "Reconciliation: Latest task state",
            now,
            task.agent_id,
            extra,
        )

    # ------------------------------------------------------------------ agents

    def register_agent(self, body: JsonDict, link: AgentLink) -> Agent:
        """Register or re-register an agent (internal protocol)."""
        return agent_lifecycle.register(self, body, link)

    def mark_unreachable(self, agent: Agent, message: str = "health check timed out") -> None:
        """Missed pings (§7.7): TASK_UNREACHABLE/TASK_LOST, FAILURE, offers rescinded."""
        agent_lifecycle.mark_unreachable(self, agent, message)

    def forget_recovered_agents(self) -> None:
        """`--agent_reregister_timeout` passed: agents that did not come back are no longer waited for."""
        if self.recovered_agent_ids:
            log.warning("agents %s did not re-register in time", sorted(self.recovered_agent_ids))
            self.recovered_agent_ids.clear()
            self.on_registry_change()

    def checkpoint(self, agent: Agent) -> None:
        agent.link.send("checkpoint_resources", {"resources": agent.checkpointed})

    def task_role(self, task_resources: list[JsonDict], default: str) -> str:
        for r in task_resources:
            role = (r.get("allocation_info") or {}).get("role")
            if role:
                return str(role)
        return default

    def describe(self) -> dict[str, Any]:
        return {"frameworks": len(self.frameworks), "agents": len(self.agents), "offers": len(self.offers)}
