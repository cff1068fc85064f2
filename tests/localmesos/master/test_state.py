"""Task records of the master's state."""

from __future__ import annotations

from localmesos.master.state import Task
from localmesos.resources import Resources


def test_task_status_history_replaces_repeats_of_the_latest_state() -> None:
    task = Task(
        framework_id="f", agent_id="a", info={"task_id": {"value": "t"}}, role="r", resources=Resources()
    )
    for state, n in (("TASK_STARTING", 1), ("TASK_RUNNING", 2), ("TASK_RUNNING", 3), ("TASK_KILLED", 4)):
        task.record({"state": state, "n": n})
    assert [(s["state"], s["n"]) for s in task.statuses] == [
        ("TASK_STARTING", 1),
        ("TASK_RUNNING", 3),
        ("TASK_KILLED", 4),
    ]
