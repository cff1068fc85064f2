"""Operator intents survive a store round trip; malformed documents are refused, not guessed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.errors import CorruptRecord
from model.intents import PlanIntents

ids = st.frozensets(st.uuids().map(str), max_size=4)
intents = st.builds(
    PlanIntents,
    plan=st.sampled_from(["deploy", "recovery", "repair"]),
    interrupted=st.booleans(),
    interrupted_phases=ids,
    interrupted_blocks=ids,
    forced_complete=ids,
    restarts=st.dictionaries(st.uuids().map(str), st.integers(0, 10**6), max_size=4),
    canary_continued=ids,
    parameters=st.dictionaries(
        st.sampled_from(["nodes", "key_spaces"]), st.lists(st.text(max_size=5), max_size=3)
    ),
)


@settings(deadline=None)  # wall-clock deadlines flake on a loaded machine
@given(intents)
def test_round_trip_through_json(value: PlanIntents) -> None:
    text = json.dumps(value.to_json())
    assert PlanIntents.from_json(json.loads(text)) == value


def test_a_missing_document_field_takes_its_default() -> None:
    assert PlanIntents.from_json({"plan": "deploy"}) == PlanIntents("deploy")


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ([], "expected a JSON object"),
        ({}, "'plan' must be"),
        ({"plan": "deploy", "schema": 99}, "unknown schema version 99"),
        ({"plan": "deploy", "interrupted": "yes"}, "'interrupted' must be a boolean"),
        ({"plan": "deploy", "forced_complete": "abc"}, "'forced_complete' must be a list"),
        ({"plan": "deploy", "interrupted_phases": [1]}, "'interrupted_phases' must be a list"),
        ({"plan": "deploy", "restarts": {"a": "1"}}, "'restarts' must map"),
        ({"plan": "deploy", "restarts": {"a": True}}, "'restarts' must map"),
        ({"plan": "deploy", "parameters": []}, "'parameters' must be an object"),
    ],
)
def test_malformed_documents_are_corrupt(doc: Any, match: str) -> None:
    with pytest.raises(CorruptRecord, match=match):
        PlanIntents.from_json(doc, where="/clusters/demo/intents/deploy")
