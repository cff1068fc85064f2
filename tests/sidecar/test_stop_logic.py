"""How the kill grace period is spent, and which exit code the task reports."""

from __future__ import annotations

import pytest

from sidecar.cassandra_process import StopBudget, task_exit_code


@pytest.mark.parametrize(
    ("returncode", "stop_requested", "drained", "expected"),
    [
        (-15, True, True, 0),  # we drained and SIGTERMed it: a clean stop
        (143, True, False, 0),
        (0, True, True, 0),
        (-9, True, True, 0),  # drained (data flushed) but had to be killed
        (-9, True, False, 137),  # killed without a drain
        (1, True, False, 1),  # failed during the stop
        (0, False, False, 0),  # exited on its own successfully (e.g. nodetool stopdaemon)
        (1, False, False, 1),  # startup failure: Cassandra's own code
        (3, False, False, 3),
        (-15, False, False, 143),  # someone else SIGTERMed it: shell convention
        (-9, False, False, 137),  # OOM killer
        (None, True, True, 137),
    ],
)
def test_task_exit_code(returncode: int | None, stop_requested: bool, drained: bool, expected: int) -> None:
    assert task_exit_code(returncode, stop_requested, drained) == expected


@pytest.mark.parametrize("grace", [3.0, 10.0, 60.0, 120.0, 600.0])
def test_budget_fits_in_the_grace_period_with_margin(grace: float) -> None:
    b = StopBudget.for_grace(grace)
    assert b.drain_s > 0 and b.term_s > 0
    assert b.drain_s + b.term_s <= grace - min(1.0, grace * 0.5) + 1e-9
    assert b.drain_s >= b.term_s  # draining is the part that protects data
