"""ACCEPT processing (reference §3.10): operations applied in order against the offered resources."""

from __future__ import annotations

import logging
from collections.abc import Container
from typing import TYPE_CHECKING

from localmesos import resources as res
from localmesos.jsonmap import id_of
from localmesos.master import events
from localmesos.master.state import Agent, Framework, JsonDict, Offer, Task
from localmesos.master.validation import task_command_error, task_error, task_resources_error
from localmesos.resources import ResourceError, Resources

if TYPE_CHECKING:
    from localmesos.master.master import Master

log = logging.getLogger("localmesos.master.accept")


class OperationDropped(Exception):
    """An operation failed validation; it is skipped (OPERATION_ERROR if it has an id)."""


def _offers_error(master: Master, framework: Framework, offer_ids: list[str]) -> str | None:
    if not offer_ids:
        return "No offers specified"
    seen: set[str] = set()
    role = agent = None
    for oid in offer_ids:
        if oid in seen:
            return f"Duplicate offer {oid} in offer list"
        seen.add(oid)
        offer = master.offers.get(oid)
        if offer is None:
            return f"Offer {oid} is no longer valid"
        if offer.framework_id != framework.id:
            return (
                f"Offer {oid} has invalid framework {offer.framework_id} "
                f"while framework {framework.id} is expected"
            )
        if role is not None and offer.role != role:
            return f"Aggregated offers must be allocated to the same role. Offer {oid} uses role {offer.role} but another is allocated to role {role}"  # noqa: E501
        if agent is not None and offer.agent_id != agent:
            return f"Aggregated offers must belong to one single agent. Offer {oid} uses agent {offer.agent_id} and agent {agent}"  # noqa: E501
        role, agent = offer.role, offer.agent_id
    return None


def accept(master: Master, framework: Framework, body: JsonDict) -> None:
    offer_ids = [id_of(o) or "" for o in body.get("offer_ids") or []]
    operations: list[JsonDict] = list(body.get("operations") or [])
    error = _offers_error(master, framework, offer_ids)
    offers: list[Offer] = []
    for oid in offer_ids:
        offer = master.offers.get(oid)
        if offer is not None and offer.framework_id == framework.id:
            master.remove_offer(oid)
            offers.append(offer)
    if error is not None:
        _drop_all(master, framework, operations, error)
        return
    agent = master.agents.get(offers[0].agent_id)
    if agent is None or not agent.connected:
        _drop_all(
            master, framework, operations, "Agent is not registered", lost_reason="REASON_AGENT_REMOVED"
        )
        return
    role = offers[0].role
    offered = Resources()
    for offer in offers:
        offered = offered + offer.resources
    state = _Accept(master, framework, agent, role, offered)
    for op in operations:
        state.apply(op)
    state.finish(body.get("filters"))


def _drop_all(
    master: Master,
    framework: Framework,
    operations: list[JsonDict],
    error: str,
    lost_reason: str = "REASON_INVALID_OFFERS",
) -> None:
    now = master.clock()
    state = "TASK_DROPPED" if framework.partition_aware else "TASK_LOST"
    for op in operations:
        tasks = _launch_tasks(op)
        if tasks is not None:
            for task in tasks:
                message = f"Task launched with invalid offers: {error}"
                if lost_reason != "REASON_INVALID_OFFERS":
                    message = "Agent removed"
                master.send_master_update(
                    framework,
                    events.master_status(
                        id_of(task.get("task_id")) or "",
                        state,
                        lost_reason,
                        message,
                        now,
                        id_of(task.get("agent_id")),
                    ),
                )
        elif op.get("id") is not None:
            master.send(
                framework,
                events.operation_status(
                    id_of(op["id"]) or "",
                    "OPERATION_ERROR",
                    f"Operation attempted with invalid offers: {error}",
                ),
            )
        else:
            log.warning("Dropping %s operation from framework %s: %s", op.get("type"), framework.id, error)


def _launch_tasks(op: JsonDict) -> list[JsonDict] | None:
    if op.get("type") == "LAUNCH":
        return list((op.get("launch") or {}).get("task_infos") or [])
    if op.get("type") == "LAUNCH_GROUP":
        return list(((op.get("launch_group") or {}).get("task_group") or {}).get("tasks") or [])
    return None


class _Either:
    """Membership in either of two containers."""

    def __init__(self, first: Container[str], second: Container[str]) -> None:
        self.first, self.second = first, second

    def __contains__(self, item: object) -> bool:
        return item in self.first or item in self.second


class _Accept:
    """The running state of one ACCEPT: what remains of the offer, what was converted."""

    def __init__(
        self, master: Master, framework: Framework, agent: Agent, role: str, offered: Resources
    ) -> None:
        self.master = master
        self.framework = framework
        self.agent = agent
        self.role = role
        self.original = offered
        self.remaining = offered
        self.launched_ids: set[str] = set()
        self.checkpoint_changed = False

    # -- helpers

    def _inject(self, resources: list[JsonDict]) -> list[JsonDict]:
        out = []
        for r in resources:
            r = dict(r)
            r.setdefault("allocation_info", {"role": self.role})
            out.append(r)
        return out

    def _upgrade(self, resources: list[JsonDict]) -> list[JsonDict]:
        try:
            return res.validate_and_upgrade(self._inject(resources))
        except ResourceError as exc:
            raise OperationDropped(f"Operation attempted with invalid resources: {exc}") from exc

    def _consume(self, consumed: list[JsonDict], produced: list[JsonDict]) -> None:
        try:
            self.remaining = self.remaining.subtract(consumed)
        except ResourceError as exc:
            raise OperationDropped(str(exc)) from exc
        self.remaining = self.remaining + produced
        plain_consumed = [res.strip_allocation(r) for r in consumed]
        plain_produced = [res.strip_allocation(r) for r in produced]
        self.agent.total = self.agent.total.subtract(plain_consumed) + plain_produced
        self.checkpoint_changed = True

    def _check_allocation_role(self, resources: list[JsonDict]) -> None:
        for r in resources:
            alloc = (r.get("allocation_info") or {}).get("role")
            if alloc != self.role:
                raise OperationDropped(
                    f"A reserve operation was attempted for a resource allocated to role '{alloc}', "
                    f"but the offer is allocated to role '{self.role}'"
                )

    # -- operations

    def apply(self, op: JsonDict) -> None:
        kind = op.get("type")
        if kind in ("LAUNCH", "LAUNCH_GROUP"):
            self._launch(op)
            return
        handler = {
            "RESERVE": self._reserve,
            "UNRESERVE": self._unreserve,
            "CREATE": self._create,
            "DESTROY": self._destroy,
        }.get(str(kind))
        op_id = id_of(op.get("id"))
        try:
            if handler is None:
                raise OperationDropped(f"Unsupported operation type {kind}")
            converted = handler(op)
        except OperationDropped as exc:
            message = f"{exc}; on agent {self.agent.id}"
            if op_id is not None:
                self.master.send(self.framework, events.operation_status(op_id, "OPERATION_ERROR", message))
            else:
                log.warning("Dropping %s operation from framework %s: %s", kind, self.framework.id, message)
            return
        if op_id is not None:
            self.master.send(
                self.framework,
                events.operation_status(
                    op_id, "OPERATION_FINISHED", agent_id=self.agent.id, converted=converted
                ),
            )

    def _reserve(self, op: JsonDict) -> list[JsonDict]:
        body = op.get("reserve") or {}
        if body.get("source"):
            raise OperationDropped("Reservation updates are not yet implemented for the scheduler API.")
        targets = self._upgrade(body.get("resources") or [])
        principal = self.framework.principal
        for r in targets:
            stack = r.get("reservations") or []
            if not stack or stack[-1].get("type") != "DYNAMIC":
                raise OperationDropped(
                    f"Invalid resources: Resource {res.describe(r)} is not dynamically reserved"
                )
            last = stack[-1]
            if principal is not None:
                if "principal" not in last:
                    raise OperationDropped(
                        f"A reserve operation was attempted by principal '{principal}', but there is a "
                        "reserved resource in the request with no principal set"
                    )
                if last["principal"] != principal:
                    raise OperationDropped(
                        f"A reserve operation was attempted by authenticated principal '{principal}', which "
                        "does not match a reserved resource in the request with principal "
                        f"'{last['principal']}'"
                    )
            alloc = (r.get("allocation_info") or {}).get("role")
            if alloc != last["role"]:
                raise OperationDropped(
                    f"A reserve operation was attempted for a resource with role '{last['role']}', but the "
                    f"resource was allocated to role '{alloc}'"
                )
            if alloc not in self.framework.roles:
                raise OperationDropped(
                    f"A reserve operation was attempted for a resource allocated to role '{alloc}', but the "
                    f"framework only has roles '{{{', '.join(self.framework.roles)}}}'"
                )
            if "revocable" in r:
                raise OperationDropped(
                    "Invalid reservation resources: revocable resources cannot be reserved"
                )
        self._check_allocation_role(targets)
        consumed = [res.pop_reservation(r) for r in targets]
        self._consume(consumed, targets)
        return [res.strip_allocation(r) for r in targets]

    def _unreserve(self, op: JsonDict) -> list[JsonDict]:
        targets = self._upgrade((op.get("unreserve") or {}).get("resources") or [])
        for r in targets:
            if not res.is_dynamic(r):
                raise OperationDropped(f"Resource {res.describe(r)} is not dynamically reserved")
            if res.is_persistent_volume(r):
                raise OperationDropped(
                    f"A dynamically reserved persistent volume {res.describe(r)} "
                    "cannot be unreserved directly. "
                    "Please destroy the persistent volume first then unreserve the resource"
                )
        produced = [res.pop_reservation(r) for r in targets]
        self._consume(targets, produced)
        return [res.strip_allocation(r) for r in produced]

    def _create(self, op: JsonDict) -> list[JsonDict]:
        volumes = self._upgrade((op.get("create") or {}).get("volumes") or [])
        principal = self.framework.principal
        # Mesos requires persistence ids to be unique per role on an agent, not agent-wide (§3.6).
        existing = {
            (res.reservation_role(r), res.persistence_id(r))
            for r in self.agent.total.to_json()
            if res.is_persistent_volume(r)
        }
        seen: set[tuple[str, str | None]] = set()
        for v in volumes:
            disk = v.get("disk")
            prefix = "Invalid resources: Invalid DiskInfo: "
            if not disk:
                raise OperationDropped(
                    f"Not a persistent volume: Resource {res.describe(v)} does not have DiskInfo"
                )
            if "persistence" not in disk:
                raise OperationDropped(prefix + "Non-persistent volume not supported")
            if not res.is_reserved(v):
                raise OperationDropped(
                    prefix + "Persistent volumes cannot be created from unreserved resources"
                )
            if "volume" not in disk:
                raise OperationDropped(prefix + "Expecting 'volume' to be set for persistent volume")
            if disk["volume"].get("host_path"):
                raise OperationDropped(prefix + "Expecting 'host_path' to be unset for persistent volume")
            from localmesos.master.validation import id_error

            pid = str(disk["persistence"]["id"])
            err = id_error(pid)
            if err:
                raise OperationDropped(prefix + f"Invalid persistence ID for persistent volume: {err}")
            if disk["volume"].get("mode") != "RW":
                raise OperationDropped("Not a persistent volume: Read-only persistent volume not supported")
            role = res.reservation_role(v)
            if (role, pid) in existing or (role, pid) in seen:
                raise OperationDropped(f"Persistence ID '{pid}' is not unique")
            seen.add((role, pid))
            if "shared" in v and not self.framework.has("SHARED_RESOURCES"):
                raise OperationDropped(
                    f"Create volume operation for '{res.describe(v)}' has been attempted by framework "
                    f"'{self.framework.id}' with no SHARED_RESOURCES capability"
                )
            vol_principal = disk["persistence"].get("principal")
            if principal is not None:
                if vol_principal is None:
                    raise OperationDropped(
                        f"Create volume operation attempted by principal '{principal}', "
                        "but there is a volume "
                        "in the operation with no principal set in 'disk.persistence'"
                    )
                if vol_principal != principal:
                    raise OperationDropped(
                        "Create volume operation attempted by authenticated principal "
                        f"'{principal}', which does "
                        f"not match a volume in the operation with principal '{vol_principal}' set in "
                        "'disk.persistence'"
                    )
            del role
        consumed = [res.strip_volume(v) for v in volumes]
        self._consume(consumed, volumes)
        return [res.strip_allocation(v) for v in volumes]

    def _destroy(self, op: JsonDict) -> list[JsonDict]:
        volumes = self._upgrade((op.get("destroy") or {}).get("volumes") or [])
        for v in volumes:
            disk = v.get("disk")
            if not disk:
                raise OperationDropped(
                    f"Not a persistent volume: Resource {res.describe(v)} does not have DiskInfo"
                )
            if "persistence" not in disk:
                raise OperationDropped("Not a persistent volume: 'persistence' is not set in DiskInfo")
        plain = [res.strip_allocation(v) for v in volumes]
        if not self.agent.total.contains(plain):
            raise OperationDropped("Persistent volumes not found")
        if not (self.agent.total - self.agent.used).contains(plain):
            raise OperationDropped("Persistent volumes in use")
        produced = [res.strip_volume(v) for v in volumes]
        self._consume(volumes, produced)
        return [res.strip_allocation(r) for r in produced]

    def _launch(self, op: JsonDict) -> None:
        now = self.master.clock()
        tasks = _launch_tasks(op) or []
        if op.get("id") is not None:
            for t in tasks:
                self._task_error(t, "The `id` field cannot be set on LAUNCH operations", now)
            return
        executor = (
            (op.get("launch_group") or {}).get("executor") if op.get("type") == "LAUNCH_GROUP" else None
        )
        for t in tasks:
            self._launch_one(t, now, executor)

    def _task_error(
        self, task: JsonDict, message: str, now: float, reason: str = "REASON_TASK_INVALID"
    ) -> None:
        self.master.send_master_update(
            self.framework,
            events.master_status(
                id_of(task.get("task_id")) or "", "TASK_ERROR", reason, message, now, self.agent.id
            ),
        )

    def _launch_one(self, task: JsonDict, now: float, group_executor: JsonDict | None) -> None:
        reason = "REASON_TASK_GROUP_INVALID" if group_executor is not None else "REASON_TASK_INVALID"
        known = _Either(
            self.framework.tasks, self.launched_ids
        )  # no copy: frameworks hold thousands of tasks
        check = task
        if group_executor is not None:
            # Tasks of a group run under the group's executor; validate them as command tasks.
            check = {k: v for k, v in task.items() if k != "executor"}
            check.setdefault("command", {})
        err = task_error(check, self.agent.id, known, self.framework.unreachable_tasks)
        if err:
            self._task_error(task, err, now, reason)
            return
        try:
            resources = res.validate_and_upgrade(self._inject(task.get("resources") or []))
        except ResourceError as exc:
            self._task_error(task, f"Task uses invalid resources: {exc}", now, reason)
            return
        err = task_resources_error(resources) or task_command_error(check)
        if err:
            self._task_error(task, err, now, reason)
            return
        executor_resources: list[JsonDict] = []
        executor = task.get("executor")
        if executor is not None and group_executor is None:
            try:
                executor_resources = res.validate_and_upgrade(self._inject(executor.get("resources") or []))
            except ResourceError as exc:
                self._task_error(task, f"Executor uses invalid resources: {exc}", now, reason)
                return
        needed = resources + executor_resources
        if not self.remaining.contains(needed):
            self._task_error(
                task,
                f"Total resources {res.describe_all(needed)} required by task and its executor "
                f"is more than available {self.remaining}",
                now,
                reason,
            )
            return
        self.remaining = self.remaining.subtract(needed)
        launched = dict(task)
        launched["resources"] = resources
        tid = id_of(task["task_id"]) or ""
        self.launched_ids.add(tid)
        record = Task(
            framework_id=self.framework.id,
            agent_id=self.agent.id,
            info=launched,
            role=self.role,
            resources=Resources(res.strip_allocation(r) for r in needed),
        )
        self.master.add_task(self.framework, self.agent, record)
        if self.checkpoint_changed:
            self.master.checkpoint(self.agent)  # volumes must exist before the task starts
            self.checkpoint_changed = False
        self.agent.link.send(
            "run_task",
            {
                "framework_id": {"value": self.framework.id},
                "framework_info": self.framework.info,
                "task": launched,
            },
        )

    def finish(self, filters: JsonDict | None) -> None:
        if self.checkpoint_changed:
            self.master.checkpoint(self.agent)
        # Untouched offered resources are declined with the filter; converted ones come back unfiltered.
        plain = self.remaining.common(self.original).allocated_to(None)
        self.master.add_filter(self.framework, self.role, self.agent.id, plain, filters)
