"""The master's in-memory state: frameworks, agents, tasks, offers (mutable records)."""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from localmesos.resources import Resources

JsonDict = dict[str, Any]

TERMINAL_STATES = frozenset(
    {
        "TASK_FINISHED",
        "TASK_FAILED",
        "TASK_KILLED",
        "TASK_ERROR",
        "TASK_LOST",
        "TASK_DROPPED",
        "TASK_GONE",
        "TASK_GONE_BY_OPERATOR",
    }
)
MAX_COMPLETED_TASKS = 1000
MAX_COMPLETED_FRAMEWORKS = 50
VERSION = "1.11.0"


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES


@dataclass(frozen=True)
class MasterConfig:
    port: int = 5050
    work_dir: str = "."
    hostname: str = "127.0.0.1"
    allocation_interval: float = 1.0
    heartbeat_interval: float = 15.0
    agent_ping_timeout: float = 15.0
    max_agent_ping_timeouts: int = 5
    agent_reregister_timeout: float = 600.0
    simulated_agents: int = 0
    simulated_resources: str = "cpus:4;mem:8192;disk:65536;ports:[31000-32000]"
    ready_file: str | None = None


class EventSink(Protocol):
    """One open subscription stream of a framework."""

    stream_id: str

    def send(self, event: JsonDict) -> None: ...

    def close(self) -> None: ...


class AgentLink(Protocol):
    """How the master reaches one agent (HTTP for process agents, direct calls for simulated ones)."""

    simulated: bool

    def send(self, op: str, body: JsonDict) -> None: ...

    async def ping(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


@dataclass
class Task:
    framework_id: str
    agent_id: str
    info: JsonDict  # TaskInfo as launched (post-refinement resources with allocation_info)
    role: str
    resources: Resources  # without allocation_info, for agent accounting
    state: str = "TASK_STAGING"
    statuses: list[JsonDict] = field(default_factory=list)
    status_update_state: str | None = None
    status_update_uuid: str | None = None  # base64
    unreachable_time: float | None = None

    def record(self, status: JsonDict) -> None:
        """Keep the status history like Mesos: a repeat of the latest state replaces it."""
        if self.statuses and self.statuses[-1].get("state") == status.get("state"):
            self.statuses[-1] = status
        else:
            self.statuses.append(status)

    @property
    def task_id(self) -> str:
        return str(self.info["task_id"]["value"])

    @property
    def latest_status(self) -> JsonDict | None:
        return self.statuses[-1] if self.statuses else None


@dataclass
class Offer:
    id: str
    framework_id: str
    agent_id: str
    role: str
    resources: Resources  # with allocation_info
    plain: Resources  # without allocation_info


@dataclass
class Framework:
    id: str
    info: JsonDict
    registered_time: float
    sink: EventSink | None = None
    connected: bool = False
    active: bool = False
    recovered: bool = False
    suppressed: set[str] = field(default_factory=set)
    reregistered_time: float | None = None
    unregistered_time: float | None = None
    tasks: dict[str, Task] = field(default_factory=dict)
    unreachable_tasks: dict[str, Task] = field(default_factory=dict)
    completed_tasks: collections.deque[Task] = field(
        default_factory=lambda: collections.deque(maxlen=MAX_COMPLETED_TASKS)
    )
    offers: set[str] = field(default_factory=set)
    failover_timer: Any = None
    offer_constraints: JsonDict | None = None

    cpus_in_use: float = 0.0  # of its live tasks; the allocator's fairness key
    _caps: tuple[JsonDict, frozenset[str]] | None = None

    @property
    def capabilities(self) -> frozenset[str]:
        cached = self._caps
        if cached is not None and cached[0] is self.info:
            return cached[1]
        caps = frozenset(c.get("type", "") for c in self.info.get("capabilities") or [])
        self._caps = (self.info, caps)
        return caps

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def roles(self) -> list[str]:
        if self.has("MULTI_ROLE"):
            return list(self.info.get("roles") or [])
        return [self.info.get("role") or "*"]

    @property
    def principal(self) -> str | None:
        p = self.info.get("principal")
        return p if isinstance(p, str) else None

    @property
    def partition_aware(self) -> bool:
        return self.has("PARTITION_AWARE")


@dataclass
class Agent:
    id: str
    hostname: str
    ip: str
    port: int
    configured: list[JsonDict]  # unreserved totals as the agent reported them
    total: Resources
    link: AgentLink
    attributes: list[JsonDict] = field(default_factory=list)
    domain: JsonDict | None = None
    registered_time: float = 0.0
    reregistered_time: float | None = None
    connected: bool = True
    unreachable_time: float | None = None
    missed_pings: int = 0
    used: Resources = field(default_factory=Resources)
    offered: Resources = field(default_factory=Resources)
    tasks: set[tuple[str, str]] = field(default_factory=set)  # (framework_id, task_id)
    offers: set[str] = field(default_factory=set)

    @property
    def checkpointed(self) -> list[JsonDict]:
        return [r for r in self.total.to_json() if r.get("reservations") and _is_checkpointed(r)]

    _available: tuple[Resources, Resources, Resources, Resources] | None = None

    def available(self) -> Resources:
        # Cached on the (immutable) operands: most agents do not change between allocation cycles.
        cached = self._available
        if cached is not None:
            total, used, offered, result = cached
            if total is self.total and used is self.used and offered is self.offered:
                return result
        result = self.total - self.used - self.offered
        self._available = (self.total, self.used, self.offered, result)
        return result

    @property
    def pid(self) -> str:
        return f"slave(1)@{self.ip}:{self.port}"

    def info_json(self) -> JsonDict:
        info: JsonDict = {
            "hostname": self.hostname,
            "port": self.port,
            "resources": self.configured,
            "id": {"value": self.id},
        }
        if self.attributes:
            info["attributes"] = self.attributes
        if self.domain:
            info["domain"] = self.domain
        return info


def _is_checkpointed(resource: JsonDict) -> bool:
    stack = resource.get("reservations") or []
    return any(r.get("type") == "DYNAMIC" for r in stack) or "persistence" in (resource.get("disk") or {})


Clock = Callable[[], float]
