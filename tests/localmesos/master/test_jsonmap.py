"""The JSON mapping checks of reference §1.2."""

from __future__ import annotations

import uuid

import pytest

from localmesos import jsonmap
from localmesos.jsonmap import ConversionError


def parse(value: object) -> dict:
    return jsonmap.parse_message(value, "scheduler.Call")


def test_string_id_is_rejected_with_stout_text() -> None:
    with pytest.raises(ConversionError, match="Not expecting a JSON string for field 'framework_id'"):
        parse({"type": "TEARDOWN", "framework_id": "abc"})


def test_missing_required_fields_lists_paths() -> None:
    with pytest.raises(ConversionError) as err:
        parse({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "x"}}})
    assert str(err.value) == "Missing required fields: subscribe.framework_info.user"


def test_missing_required_in_repeated_elements() -> None:
    call = {
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [{"value": "o"}],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{}]}}],
        },
    }
    with pytest.raises(ConversionError) as err:
        parse(call)
    assert str(err.value) == (
        "Missing required fields: accept.operations[0].launch.task_infos[0].name, "
        "accept.operations[0].launch.task_infos[0].task_id, "
        "accept.operations[0].launch.task_infos[0].agent_id"
    )


def test_unknown_keys_ignored_and_unknown_optional_enum_dropped() -> None:
    out = parse({"type": "NOPE", "whatever": 1, "framework_id": {"value": "f", "x": 2}})
    assert out == {"framework_id": {"value": "f"}}


def test_unknown_required_enum_fails() -> None:
    call = {
        "type": "ACCEPT",
        "accept": {
            "operations": [
                {
                    "type": "RESERVE",
                    "reserve": {"resources": [{"name": "cpus", "type": "WIDE", "scalar": {"value": 1}}]},
                }
            ]
        },
    }
    with pytest.raises(ConversionError, match="Failed to find enum for 'WIDE'"):
        parse(call)


def test_null_means_unset_and_empty_object_means_present() -> None:
    assert parse({"type": "RECONCILE", "reconcile": {}, "kill": None}) == {
        "type": "RECONCILE",
        "reconcile": {},
    }


def test_numbers_accept_numeric_strings() -> None:
    out = parse({"type": "DECLINE", "decline": {"filters": {"refuse_seconds": "5"}}})
    assert out["decline"]["filters"]["refuse_seconds"] == 5.0


def test_wrong_kinds() -> None:
    with pytest.raises(ConversionError, match="Not expecting a JSON number for field 'name'"):
        parse({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": 3}}})
    with pytest.raises(ConversionError, match="Not expecting a JSON object for field 'offer_ids'"):
        parse({"type": "DECLINE", "decline": {"offer_ids": {"value": "x"}}})
    with pytest.raises(ConversionError, match="Expecting a JSON object"):
        parse([1, 2])


def test_bytes_must_be_base64() -> None:
    with pytest.raises(ConversionError, match="base64"):
        parse(
            {
                "type": "ACKNOWLEDGE",
                "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "***"},
            }
        )


def test_uuid_bytes_check() -> None:
    assert jsonmap.is_valid_uuid_bytes(uuid.uuid4().bytes)
    assert not jsonmap.is_valid_uuid_bytes(b"\x00" * 16)
    assert not jsonmap.is_valid_uuid_bytes(b"short")
