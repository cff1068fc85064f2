"""Wording and states of command-task updates (Mesos `status_utils.hpp`, command executor)."""

from __future__ import annotations

import base64
import signal
import uuid

from localmesos.agent.statuses import exit_message, kill_grace, make_status, terminal_state


def _exited(code: int) -> int:
    return code << 8


def test_exit_status_messages_and_states() -> None:
    assert exit_message(_exited(0)) == "Command exited with status 0"
    assert terminal_state(_exited(0), kill_requested=False) == "TASK_FINISHED"
    assert exit_message(_exited(3)) == "Command exited with status 3"
    assert terminal_state(_exited(3), kill_requested=False) == "TASK_FAILED"
    assert exit_message(signal.SIGKILL) == "Command terminated with signal Killed"
    assert terminal_state(signal.SIGTERM, kill_requested=False) == "TASK_FAILED"
    # A requested kill is TASK_KILLED however the command ended.
    assert terminal_state(_exited(0), kill_requested=True) == "TASK_KILLED"


def test_kill_grace_prefers_call_then_task_then_three_seconds() -> None:
    task = {"kill_policy": {"grace_period": {"nanoseconds": 2_000_000_000}}}
    assert kill_grace({"grace_period": {"nanoseconds": "500000000"}}, task) == 0.5
    assert kill_grace(None, task) == 2.0
    assert kill_grace(None, {}) == 3.0


def test_update_uuid_is_a_base64_rfc4122_v4_uuid() -> None:
    status = make_status(task_id="t", agent_id="a", state="TASK_RUNNING", source="SOURCE_EXECUTOR")
    raw = base64.b64decode(status["uuid"])
    assert len(raw) == 16 and uuid.UUID(bytes=raw).version == 4
    assert status["task_id"] == {"value": "t"} and status["agent_id"] == {"value": "a"}
