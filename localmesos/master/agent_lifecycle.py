"""Agents joining and leaving the master: (re-)registration, task adoption, unreachability (§7.7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localmesos import resources as res
from localmesos.jsonmap import id_of
from localmesos.master import events
from localmesos.master.state import Agent, AgentLink, Framework, JsonDict, Task, is_terminal
from localmesos.resources import Resources

if TYPE_CHECKING:
    from localmesos.master.master import Master


def register(master: Master, body: JsonDict, link: AgentLink) -> Agent:
    """Register or re-register an agent (internal protocol)."""
    now = master.clock()
    agent_id = id_of(body.get("agent_id"))
    known = agent_id is not None and (
        agent_id in master.agents
        or agent_id in master.unreachable_agents
        or agent_id in master.recovered_agent_ids
    )
    if agent_id is None or not known:
        agent_id = agent_id or master.new_agent_id()
    old = master.agents.pop(agent_id, None) or master.unreachable_agents.pop(agent_id, None)
    was_unreachable = old is not None and not old.connected
    if old is not None:
        for offer_id in list(old.offers):
            master.rescind(offer_id)
        if old.link is not link:
            old.link.close()
    configured = res.validate_and_upgrade(body.get("resources") or [])
    checkpointed = res.validate_and_upgrade(body.get("checkpointed_resources") or [])
    bases = [_unreserved_base(r) for r in checkpointed]
    total = Resources(configured) - bases + checkpointed
    agent = Agent(
        id=agent_id,
        hostname=str(body.get("hostname") or body.get("ip") or "localhost"),
        ip=str(body.get("ip") or "127.0.0.1"),
        port=int(body.get("port") or 5051),
        configured=configured,
        total=total,
        link=link,
        attributes=list(body.get("attributes") or []),
        domain=body.get("domain"),
        registered_time=old.registered_time if old else now,
        reregistered_time=now if (old is not None or known) else None,
    )
    master.agents[agent_id] = agent
    master.recovered_agent_ids.discard(agent_id)
    master.notify("AGENT_ADDED", agent)
    _adopt_tasks(master, agent, body.get("tasks") or [], was_unreachable, now)
    master.on_registry_change()
    master.request_allocation()
    return agent


def _adopt_tasks(
    master: Master, agent: Agent, reported: list[JsonDict], was_unreachable: bool, now: float
) -> None:
    # Forget what we believed ran there; the agent's report is the truth.
    believed: dict[tuple[str, str], Task] = {}
    for fw in master.frameworks.values():
        for tasks in (fw.tasks, fw.unreachable_tasks):
            for tid in [t for t, task in tasks.items() if task.agent_id == agent.id]:
                believed[(fw.id, tid)] = tasks.pop(tid)
    for item in reported:
        fid = id_of(item.get("framework_id")) or ""
        info = item.get("task") or {}
        tid = id_of(info.get("task_id")) or ""
        framework = master.frameworks.get(fid)
        if framework is None:
            if fid in master.removed_framework_ids:
                agent.link.send("shutdown_framework", {"framework_id": {"value": fid}})
                continue
            fw_info = dict(item.get("framework_info") or {"user": "", "name": ""})
            fw_info["id"] = {"value": fid}
            framework = Framework(id=fid, info=fw_info, registered_time=now, recovered=True)
            # MESOS-4659: no failover timer for a framework known only from agents; if its
            # scheduler never comes back, its tasks keep running orphaned, as on Mesos.
            master.frameworks[fid] = framework
        status = item.get("status")
        resources = res.validate_and_upgrade(info.get("resources") or [])
        role = master.task_role(resources, framework.roles[0] if framework.roles else "*")
        task = believed.pop((fid, tid), None)
        if task is None:
            task = Task(
                framework_id=fid,
                agent_id=agent.id,
                info=info,
                role=str(role),
                resources=Resources(res.strip_allocation(r) for r in resources),
            )
        task.state = str(item.get("state") or (status or {}).get("state") or "TASK_STAGING")
        task.unreachable_time = None
        if status:
            task.record(status)
        if is_terminal(task.state):
            framework.tasks[tid] = task
        else:
            master.add_task(framework, agent, task)
        if was_unreachable:
            master.send(
                framework,
                events.update(
                    events.master_status(
                        tid,
                        task.state,
                        "REASON_AGENT_REREGISTERED",
                        "Unreachable agent re-reregistered",
                        now,
                        agent.id,
                    )
                ),
            )
    for task in believed.values():
        framework = master.frameworks.get(task.framework_id)
        if framework is None:
            continue
        if is_terminal(task.state):
            framework.tasks.setdefault(task.task_id, task)
            continue
        # Launched here, yet the agent does not know it (e.g. the host died): tell the framework.
        state = "TASK_DROPPED" if framework.partition_aware else "TASK_LOST"
        status = events.master_status(
            task.task_id, state, "REASON_RECONCILIATION", "Task is unknown to the agent", now, agent.id
        )
        task.state = state
        task.record(status)
        framework.completed_tasks.append(task)
        master.send(framework, events.update(status))
        master.notify("TASK_UPDATED", task)


def mark_unreachable(master: Master, agent: Agent, message: str) -> None:
    """Missed pings (§7.7): TASK_UNREACHABLE/TASK_LOST, FAILURE, offers rescinded."""
    now = master.clock()
    master.agents.pop(agent.id, None)
    agent.connected = False
    agent.unreachable_time = now
    master.unreachable_agents[agent.id] = agent
    for offer_id in list(agent.offers):
        master.rescind(offer_id)
    agent.offered = Resources()
    for fid, tid in list(agent.tasks):
        framework = master.frameworks.get(fid)
        task = framework.tasks.pop(tid, None) if framework else None
        if framework is None or task is None:
            continue
        task.state = "TASK_UNREACHABLE"
        task.unreachable_time = now
        framework.unreachable_tasks[tid] = task
        state = "TASK_UNREACHABLE" if framework.partition_aware else "TASK_LOST"
        extra = {"unreachable_time": {"nanoseconds": int(now * 1e9)}} if framework.partition_aware else {}
        status = events.master_status(tid, state, "REASON_AGENT_REMOVED", message, now, agent.id, extra)
        task.record(status)
        master.send(framework, events.update(status))
        master.notify("TASK_UPDATED", task)
    for framework in master.frameworks.values():
        master.send(framework, events.failure(agent.id))
    master.notify("AGENT_REMOVED", agent)
    master.on_agent_removed(agent)
    master.on_registry_change()


def _unreserved_base(resource: JsonDict) -> JsonDict:
    base = res.strip_volume(resource)
    base.pop("reservations", None)
    return base
