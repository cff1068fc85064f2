"""Call builders produce exactly the JSON the Mesos 1.11 master parses (reference §2)."""

from __future__ import annotations

import pytest

from framework.mesos import calls
from framework.mesos.calls import FrameworkInfoSpec
from model.errors import InvalidInput

INFO = FrameworkInfoSpec(
    name="cassandra",
    user="cassandra",
    roles=("cassandra-role",),
    principal="cassandra-principal",
    webui_url="http://sched:9000/",
)


def test_first_subscribe_has_no_framework_id_and_the_capabilities() -> None:
    call = calls.subscribe(INFO, None)
    assert "framework_id" not in call
    info = call["subscribe"]["framework_info"]
    assert "id" not in info
    assert info["failover_timeout"] == 604800.0
    assert info["checkpoint"] is True
    assert info["roles"] == ["cassandra-role"]
    assert info["principal"] == "cassandra-principal"
    assert info["webui_url"] == "http://sched:9000/"
    assert {c["type"] for c in info["capabilities"]} == {
        "MULTI_ROLE",
        "RESERVATION_REFINEMENT",
        "PARTITION_AWARE",
    }
    assert "role" not in info  # must not be set with MULTI_ROLE


def test_resubscribe_carries_the_id_twice() -> None:
    call = calls.subscribe(INFO, "fw-1")
    assert call["framework_id"] == {"value": "fw-1"}
    assert call["subscribe"]["framework_info"]["id"] == {"value": "fw-1"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"roles": ()}, "at least one role"),
        ({"roles": ("a", "a")}, "duplicates"),
        ({"roles": ("*",)}, "'\\*'"),
        ({"failover_timeout": float("inf")}, "failover_timeout"),
        ({"failover_timeout": -1.0}, "failover_timeout"),
        ({"user": ""}, "user"),
    ],
)
def test_invalid_framework_info_is_refused_with_a_clear_message(kwargs: dict, message: str) -> None:
    base = {"name": "c", "user": "u", "roles": ("r",)}
    with pytest.raises(InvalidInput, match=message):
        FrameworkInfoSpec(**{**base, **kwargs})


def test_implicit_reconcile_sends_an_empty_reconcile_object() -> None:
    assert calls.reconcile("fw") == {"framework_id": {"value": "fw"}, "type": "RECONCILE", "reconcile": {}}


def test_explicit_reconcile_lists_tasks_with_agents() -> None:
    call = calls.reconcile("fw", [("t1", "a1"), ("t2", None)])
    assert call["reconcile"]["tasks"] == [
        {"task_id": {"value": "t1"}, "agent_id": {"value": "a1"}},
        {"task_id": {"value": "t2"}},
    ]


def test_revive_uses_roles_list_not_role() -> None:
    assert calls.revive("fw", ["r"])["revive"] == {"roles": ["r"]}
    assert calls.suppress("fw")["suppress"] == {}


def test_decline_and_accept_carry_filters() -> None:
    d = calls.decline("fw", ["o1", "o2"], 3600)
    assert d["decline"] == {
        "offer_ids": [{"value": "o1"}, {"value": "o2"}],
        "filters": {"refuse_seconds": 3600.0},
    }
    a = calls.accept("fw", ["o1"], [{"type": "LAUNCH", "launch": {"task_infos": []}}])
    assert "filters" not in a["accept"]
    with pytest.raises(InvalidInput):
        calls.accept("fw", [], [])


def test_kill_grace_is_in_nanoseconds() -> None:
    call = calls.kill("fw", "t", "a", grace_seconds=2.5)
    assert call["kill"]["kill_policy"] == {"grace_period": {"nanoseconds": 2_500_000_000}}


def test_acknowledge_echoes_the_uuid_and_refuses_a_missing_one() -> None:
    uuid = "nD6Y7X0pTzqj4u8I3Xo2Vw=="
    call = calls.acknowledge("fw", "agent", "task", uuid)
    assert call["acknowledge"] == {"agent_id": {"value": "agent"}, "task_id": {"value": "task"}, "uuid": uuid}
    with pytest.raises(InvalidInput, match="without uuid"):
        calls.acknowledge("fw", "agent", "task", "")
    with pytest.raises(InvalidInput, match="16 bytes"):
        calls.acknowledge("fw", "agent", "task", "AAAA")


def test_teardown_has_no_body_and_message_is_base64() -> None:
    assert calls.teardown("fw") == {"framework_id": {"value": "fw"}, "type": "TEARDOWN"}
    assert calls.message("fw", "a", "e", b"hi")["message"]["data"] == "aGk="
