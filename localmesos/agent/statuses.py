"""TaskStatus messages the agent and its command executor emit (reference §4.1, §4.2, §7.2)."""

from __future__ import annotations

import base64
import os
import signal
import time
import uuid
from typing import Any

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


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES


def new_uuid() -> str:
    """16 random bytes of an RFC-4122 v4 UUID, base64 as in Mesos' JSON (the master rejects non-UUID acks)."""
    return base64.b64encode(uuid.uuid4().bytes).decode("ascii")


def make_status(
    *,
    task_id: str,
    agent_id: str,
    state: str,
    source: str,
    message: str | None = None,
    reason: str | None = None,
    executor_id: str | None = None,
    container_status: dict[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "task_id": {"value": task_id},
        "state": state,
        "source": source,
        "agent_id": {"value": agent_id},
        "timestamp": time.time() if now is None else now,
        "uuid": new_uuid(),
    }
    if message is not None:
        status["message"] = message
    if reason is not None:
        status["reason"] = reason
    if executor_id is not None:
        status["executor_id"] = {"value": executor_id}
    if container_status is not None:
        status["container_status"] = container_status
    return status


def exit_message(wait_status: int) -> str:
    """The command executor's wording (`src/common/status_utils.hpp` WSTRINGIFY)."""
    if os.WIFEXITED(wait_status):
        return f"Command exited with status {os.WEXITSTATUS(wait_status)}"
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        text = signal.strsignal(sig) or f"Unknown signal {sig}"
        core = " (core dumped)" if os.WCOREDUMP(wait_status) else ""
        return f"Command terminated with signal {text}{core}"
    return f"Command exited with unexpected wait status {wait_status}"


def terminal_state(wait_status: int, kill_requested: bool) -> str:
    if kill_requested:
        return "TASK_KILLED"
    if os.WIFEXITED(wait_status) and os.WEXITSTATUS(wait_status) == 0:
        return "TASK_FINISHED"
    return "TASK_FAILED"


def duration_seconds(duration: Any) -> float | None:
    """DurationInfo `{"nanoseconds": N}` (number or numeric string) as seconds; None when unset/bad."""
    if not isinstance(duration, dict) or "nanoseconds" not in duration:
        return None
    try:
        return int(duration["nanoseconds"]) / 1e9
    except (TypeError, ValueError):
        return None


DEFAULT_KILL_GRACE = 3.0


def kill_grace(call_policy: dict[str, Any] | None, task: dict[str, Any]) -> float:
    """Grace = KILL call's kill_policy > TaskInfo.kill_policy > 3 s (reference §7.6)."""
    for policy in (call_policy, task.get("kill_policy")):
        if isinstance(policy, dict):
            grace = duration_seconds(policy.get("grace_period"))
            if grace is not None:
                return max(0.0, grace)
    return DEFAULT_KILL_GRACE
