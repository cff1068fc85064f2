"""Status aggregation: every rule of plans/status.py, as a table, plus monotonicity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.model import PROGRESS_ORDER, Status
from plans.status import aggregate_status

P, R, SG, SD, C, W, E = (
    Status.PENDING,
    Status.PREPARED,
    Status.STARTING,
    Status.STARTED,
    Status.COMPLETE,
    Status.WAITING,
    Status.ERROR,
)

# (children, interrupted, has_errors, expected, why)
TABLE = [
    # rule 1: errors win over everything
    ([C, C], False, True, E, "parent errors, children complete"),
    ([], False, True, E, "parent errors, no children"),
    ([P, E], False, False, E, "a child in error"),
    ([C, E, SD], True, False, E, "child error beats interrupt"),
    ([W, E], False, False, E, "child error beats waiting child"),
    # rule 2: complete
    ([], False, False, C, "no children"),
    ([C], False, False, C, "single complete child"),
    ([C, C, C], False, False, C, "all complete"),
    ([C, C], True, False, C, "complete even when interrupted: nothing left to pause"),
    # rule 3: interrupted parent
    ([P, P], True, False, W, "interrupted, not started"),
    ([SD, P], True, False, W, "interrupted while running"),
    ([C, P], True, False, W, "interrupted between blocks"),
    # rule 4: waiting children and nothing running
    ([W], False, False, W, "only child waiting"),
    ([C, W, W], False, False, W, "canary complete, rest held"),
    ([P, W], False, False, W, "pending and waiting"),
    # rule 5: all pending
    ([P], False, False, P, "single pending"),
    ([P, P, P], False, False, P, "all pending"),
    # rule 6: least advanced, pending/waiting counted as prepared
    ([C, P], False, False, R, "serial between blocks"),
    ([R, C], False, False, R, "waiting for an offer"),
    ([SG, C], False, False, SG, "one starting"),
    ([SD, C], False, False, SD, "one started"),
    ([SD, SG], False, False, SG, "least advanced of running"),
    ([SD, SG, R], False, False, R, "least advanced of three"),
    ([SD, P], False, False, R, "pending counts as prepared once work began"),
    ([SD, W], False, False, R, "waiting child next to a running one"),
    ([SD, SD], False, False, SD, "all started"),
    ([SG], False, False, SG, "single starting"),
]


@pytest.mark.parametrize(
    ("children", "interrupted", "errors", "expected", "why"), TABLE, ids=[t[4] for t in TABLE]
)
def test_aggregation_table(
    children: list[Status], interrupted: bool, errors: bool, expected: Status, why: str
) -> None:
    assert aggregate_status(children, interrupted=interrupted, has_errors=errors) is expected, why


def test_table_reaches_every_status() -> None:
    assert {row[3] for row in TABLE} == set(Status)


progress = st.sampled_from(list(PROGRESS_ORDER))


@settings(deadline=None)  # wall-clock deadlines flake on a loaded machine
@given(st.lists(progress, min_size=1, max_size=6), st.data())
def test_aggregation_is_monotone(children: list[Status], data: st.DataObject) -> None:
    """A child moving forward never moves its parent backward."""
    i = data.draw(st.integers(0, len(children) - 1))
    ahead = [s for s in PROGRESS_ORDER if PROGRESS_ORDER[s] >= PROGRESS_ORDER[children[i]]]
    advanced = list(children)
    advanced[i] = data.draw(st.sampled_from(ahead))
    before = aggregate_status(children)
    after = aggregate_status(advanced)
    assert PROGRESS_ORDER[after] >= PROGRESS_ORDER[before]


@settings(deadline=None)  # wall-clock deadlines flake on a loaded machine
@given(st.lists(st.sampled_from(list(Status)), max_size=6), st.booleans())
def test_aggregation_is_order_independent(children: list[Status], interrupted: bool) -> None:
    assert aggregate_status(children, interrupted=interrupted) is aggregate_status(
        list(reversed(children)), interrupted=interrupted
    )
