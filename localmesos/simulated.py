"""In-process simulated agents for scale runs: tasks are records, not processes.

A task goes TASK_STARTING → TASK_RUNNING (each update waits for the previous one's
acknowledgement, like a real agent's status update stream) and stays running until killed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from localmesos import resources as res
from localmesos.jsonmap import b64encode, id_of

if TYPE_CHECKING:
    from localmesos.master.master import Master

JsonDict = dict[str, object]
StreamKey = tuple[str, str]  # (framework_id, task_id)


class SimulatedAgentLink:
    simulated = True

    def __init__(self, master: Master, clock: Callable[[], float] = time.time) -> None:
        self._master = master
        self._clock = clock
        self.agent_id = ""
        self.tasks: dict[StreamKey, str] = {}  # latest state
        self.kill_states: dict[str, bool] = {}  # framework_id -> TASK_KILLING_STATE
        self.streams: dict[StreamKey, deque[JsonDict]] = {}
        self.checkpointed: list[dict[str, object]] = []

    def send(self, op: str, body: dict[str, object]) -> None:
        handler = getattr(self, f"_on_{op}", None)
        if handler is not None:
            # Never re-enter the master while it is processing a call.
            asyncio.get_running_loop().call_soon(handler, body)

    async def ping(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        self.streams.clear()

    # -- protocol handlers

    def _status(self, fid: str, tid: str, state: str, message: str | None = None) -> None:
        status: dict[str, object] = {
            "task_id": {"value": tid},
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "agent_id": {"value": self.agent_id},
            "executor_id": {"value": tid},
            "timestamp": self._clock(),
            "uuid": b64encode(uuid.uuid4().bytes),
        }
        if message is not None:
            status["message"] = message
        self.tasks[(fid, tid)] = state
        queue = self.streams.setdefault((fid, tid), deque())
        queue.append(status)
        if len(queue) == 1:
            self._deliver(fid, status)

    def _deliver(self, fid: str, status: JsonDict) -> None:
        self._master.status_update(self.agent_id, fid, dict(status))

    def _on_run_task(self, body: dict[str, object]) -> None:
        fid = id_of(body.get("framework_id")) or ""
        task = body.get("task")
        assert isinstance(task, dict)
        tid = id_of(task.get("task_id")) or ""
        info = body.get("framework_info")
        caps = {c.get("type") for c in (info.get("capabilities") or [])} if isinstance(info, dict) else set()
        self.kill_states[fid] = "TASK_KILLING_STATE" in caps
        self._status(fid, tid, "TASK_STARTING")
        self._status(fid, tid, "TASK_RUNNING")

    def _on_kill_task(self, body: dict[str, object]) -> None:
        fid = id_of(body.get("framework_id")) or ""
        tid = id_of(body.get("task_id")) or ""
        state = self.tasks.get((fid, tid))
        if state is None or state in ("TASK_KILLED", "TASK_FINISHED", "TASK_FAILED"):
            return
        if self.kill_states.get(fid):
            self._status(fid, tid, "TASK_KILLING")
        self._status(fid, tid, "TASK_KILLED", "Command terminated with signal Terminated")

    def _on_acknowledge(self, body: dict[str, object]) -> None:
        key = (id_of(body.get("framework_id")) or "", id_of(body.get("task_id")) or "")
        queue = self.streams.get(key)
        if not queue or queue[0].get("uuid") != body.get("uuid"):
            return
        queue.popleft()
        if queue:
            self._deliver(key[0], queue[0])
        elif self.tasks.get(key) in ("TASK_KILLED", "TASK_FINISHED", "TASK_FAILED"):
            del self.streams[key]
            del self.tasks[key]

    def _on_shutdown_framework(self, body: dict[str, object]) -> None:
        fid = id_of(body.get("framework_id")) or ""
        for key in [k for k in self.tasks if k[0] == fid]:
            self.tasks.pop(key, None)
            self.streams.pop(key, None)

    def _on_checkpoint_resources(self, body: dict[str, object]) -> None:
        items = body.get("resources")
        self.checkpointed = list(items) if isinstance(items, list) else []

    def resend_unacknowledged(self) -> None:
        """The agent's status update retry: resend the head of every stream."""
        for (fid, _), queue in list(self.streams.items()):
            if queue:
                self._deliver(fid, queue[0])


def start(master: Master, count: int, resource_text: str) -> list[SimulatedAgentLink]:
    """Register `count` simulated agents with the master."""
    resources = res.parse_text(resource_text)
    links = []
    for i in range(count):
        link = SimulatedAgentLink(master, master.clock)
        body = {
            "agent_id": None,
            "hostname": f"sim-agent-{i}",
            "ip": f"127.2.{i // 250}.{i % 250 + 1}",
            "port": 5051,
            "resources": resources,
            "checkpointed_resources": [],
            "tasks": [],
        }
        agent = master.register_agent(body, link)
        link.agent_id = agent.id
        links.append(link)
    return links


async def retry_loop(links: list[SimulatedAgentLink], interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        for link in links:
            link.resend_unacknowledged()
