"""Task records: what the scheduler launched for a node, and the latest status Mesos reported.

A record is keyed by node name (``node-<i>``) within a cluster and survives relaunches: the
TaskInfo of the newest launch (its resources carry the node's reservations and volume) and the
newest TaskStatus, both in the Mesos v1 JSON mapping. Records are written *before* the ACCEPT
that launches the task, so a record without status means "launch sent, nothing heard yet".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from model.errors import CorruptRecord

TERMINAL_STATES = frozenset(
    {
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_KILLED",
        "TASK_LOST",
        "TASK_ERROR",
        "TASK_DROPPED",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
        "TASK_UNKNOWN",
    }
)
ACTIVE_STATES = frozenset({"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"})

# Keys of TaskRecord.extra written by the reconciler at launch (plans.actions adds its own).
EXTRA_HOSTNAME = "hostname"  # the agent's hostname from the offer: the node's listen address
EXTRA_PORTS = "ports"  # {"storage", "ssl_storage", "native_transport", "jmx", "sidecar"} -> port
EXTRA_AGENT_FACTS = "agent"  # the agent's hostname, attributes and fault domain, for placement rules


@dataclass(frozen=True)
class TaskRecord:
    cluster: str
    node: str
    task_info: Mapping[str, Any]
    status: Mapping[str, Any] | None = None
    # Monotonic per node: bumps on every launch so stale status updates of older tasks are ignored.
    launch_count: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return str(self.task_info["task_id"]["value"])

    @property
    def agent_id(self) -> str:
        return str(self.task_info["agent_id"]["value"])

    @property
    def hostname(self) -> str | None:
        value = self.extra.get(EXTRA_HOSTNAME)
        return str(value) if value else None

    @property
    def agent_facts(self) -> dict[str, str]:
        """What placement rules can name about the node's agent; records written before the
        facts were kept know the hostname only."""
        value = self.extra.get(EXTRA_AGENT_FACTS)
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        return {"hostname": self.hostname} if self.hostname else {}

    @property
    def ports(self) -> dict[str, int]:
        value = self.extra.get(EXTRA_PORTS)
        if not isinstance(value, Mapping):
            return {}
        return {str(k): int(v) for k, v in value.items()}

    @property
    def state(self) -> str:
        """Latest known state; TASK_STAGING until Mesos reports anything."""
        if self.status is None:
            return "TASK_STAGING"
        return str(self.status["state"])

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def with_status(self, status: Mapping[str, Any]) -> TaskRecord:
        return TaskRecord(
            self.cluster, self.node, self.task_info, dict(status), self.launch_count, self.extra
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "node": self.node,
            "task_info": dict(self.task_info),
            "status": dict(self.status) if self.status is not None else None,
            "launch_count": self.launch_count,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "task record") -> TaskRecord:
        if not isinstance(data, Mapping):
            raise CorruptRecord(f"{where}: expected a JSON object, got {type(data).__name__}")
        try:
            task_info = data["task_info"]
            rec = cls(
                cluster=str(data["cluster"]),
                node=str(data["node"]),
                task_info=task_info,
                status=data.get("status"),
                launch_count=int(data.get("launch_count", 1)),
                extra=data.get("extra") or {},
            )
            rec.task_id  # noqa: B018 - validates the TaskInfo shape now, not at first use
            rec.agent_id  # noqa: B018
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptRecord(f"{where}: missing or malformed field {exc}") from exc
        if rec.status is not None and not isinstance(rec.status, Mapping):
            raise CorruptRecord(f"{where}: status must be an object")
        return rec
