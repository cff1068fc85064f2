"""Stored shapes of node replace and uninstall requests (model/operations.py) as the reconciler reads them."""

from __future__ import annotations

import pytest

from model.errors import CorruptRecord
from model.intents import PlanIntents
from model.operations import NodeReplace, Uninstall, operation_of


def test_requests_round_trip_through_plan_intents() -> None:
    replace = NodeReplace("node-2", 1.5, "c__node-2__u1", "agent-7", "10.0.0.7")
    stored = PlanIntents.from_json(replace.to_intents().to_json())
    assert stored.plan == "replace-node-2"
    assert operation_of(stored) == replace
    uninstall = Uninstall(2.0)
    assert operation_of(PlanIntents.from_json(uninstall.to_intents().to_json())) == uninstall
    assert operation_of(PlanIntents(plan="deploy")) is None


@pytest.mark.parametrize(
    "parameters",
    [
        {"operation": "replace", "node": "nodeX", "requested_at": 1},
        {"operation": "replace", "node": "node-1", "requested_at": "soon"},
        {"operation": "replace", "node": "node-1", "requested_at": 1, "old_hostname": 5},
        {"operation": "uninstall", "requested_at": True},
    ],
)
def test_malformed_requests_are_corrupt_records_naming_the_plan(parameters: dict) -> None:
    with pytest.raises(CorruptRecord, match="intents of plan p"):
        operation_of(PlanIntents(plan="p", parameters=parameters))
