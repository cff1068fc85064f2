"""Calls without visible effect still answer like Mesos; invalid volume/reservation operations."""

from __future__ import annotations

import pytest

from tests.localmesos.master.rawhttp import framework_info, new_uuid_b64, scalar, subscribe
from tests.localmesos.master.test_offers_and_operations import (
    accept,
    has_volume,
    offer_where,
    reserved,
    volume,
)

AGENT = {"value": "some-agent"}


@pytest.mark.parametrize(
    "call",
    [
        {"type": "SHUTDOWN", "shutdown": {"executor_id": {"value": "e"}, "agent_id": AGENT}},
        {"type": "MESSAGE", "message": {"agent_id": AGENT, "executor_id": {"value": "e"}, "data": "aGk="}},
        {"type": "REQUEST", "request": {"requests": [{"agent_id": AGENT}]}},
        {"type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {"inverse_offer_ids": [{"value": "i"}]}},
        {"type": "DECLINE_INVERSE_OFFERS", "decline_inverse_offers": {"inverse_offer_ids": [{"value": "i"}]}},
        {"type": "RECONCILE_OPERATIONS", "reconcile_operations": {"operations": []}},
        {
            "type": "ACKNOWLEDGE_OPERATION_STATUS",
            "acknowledge_operation_status": {
                "agent_id": AGENT,
                "uuid": new_uuid_b64(),
                "operation_id": {"value": "op"},
            },
        },
        {"type": "DECLINE", "decline": {"offer_ids": [{"value": "unknown"}]}},
        {
            "type": "ACKNOWLEDGE",
            "acknowledge": {"agent_id": AGENT, "task_id": {"value": "t"}, "uuid": new_uuid_b64()},
        },
        {"type": "REVIVE", "revive": {"roles": ["not-mine"]}},
        {"type": "SUPPRESS"},
    ],
)
async def test_calls_answer_202(master, call) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        assert await sub.call(call) == (202, "")
        assert await sub.call({"type": "REVIVE"}) == (202, "")  # and the master keeps serving the framework
    finally:
        await sub.close()


async def test_ack_of_operation_status_needs_agent_id(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        code, text = await sub.call(
            {
                "type": "ACKNOWLEDGE_OPERATION_STATUS",
                "acknowledge_operation_status": {"uuid": new_uuid_b64(), "operation_id": {"value": "op"}},
            }
        )
        assert (code, text) == (400, "Failed to validate scheduler::Call: Expecting 'agent_id' to be present")
    finally:
        await sub.close()


async def test_invalid_volume_and_reservation_operations(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        offer = (await sub.offers())[0]
        agent = offer["agent_id"]["value"]
        await accept(
            sub,
            offer,
            [
                {"type": "RESERVE", "reserve": {"resources": [reserved("disk", 2048), reserved("cpus", 1)]}},
                {"type": "CREATE", "create": {"volumes": [volume()]}},
                {"type": "CREATE", "id": {"value": "dup"}, "create": {"volumes": [volume()]}},
                {
                    "type": "UNRESERVE",
                    "id": {"value": "unreserve-volume"},
                    "unreserve": {"resources": [volume()]},
                },
                {
                    "type": "RESERVE",
                    "id": {"value": "star"},
                    "reserve": {
                        "resources": [
                            scalar(
                                "mem", 1, reservations=[{"type": "DYNAMIC", "role": "*", "principal": "tp"}]
                            )
                        ]
                    },
                },
                {
                    "type": "RESERVE",
                    "id": {"value": "too-much"},
                    "reserve": {"resources": [reserved("cpus", 100)]},
                },
                {
                    "type": "CREATE",
                    "id": {"value": "ro"},
                    "create": {
                        "volumes": [
                            {
                                **volume("v-ro"),
                                "disk": {
                                    "persistence": {"id": "v-ro", "principal": "tp"},
                                    "volume": {"mode": "RO", "container_path": "d"},
                                },
                            }
                        ]
                    },
                },
                {
                    "type": "CREATE",
                    "id": {"value": "no-principal"},
                    "create": {
                        "volumes": [
                            {
                                **volume("v-np"),
                                "disk": {
                                    "persistence": {"id": "v-np"},
                                    "volume": {"mode": "RW", "container_path": "d"},
                                },
                            }
                        ]
                    },
                },
                {
                    "type": "UNRESERVE",
                    "id": {"value": "unreserve-unreserved"},
                    "unreserve": {"resources": [scalar("cpus", 1)]},
                },
                {
                    "type": "LAUNCH",
                    "launch": {
                        "task_infos": [
                            {
                                "name": "t",
                                "task_id": {"value": "t"},
                                "agent_id": {"value": agent},
                                "resources": [volume()],
                                "command": {"value": "sleep 100"},
                            }
                        ]
                    },
                },
            ],
            refuse_seconds=0,
        )
        got: dict[str, str] = {}
        while len(got) < 7:
            status = (await sub.next("UPDATE_OPERATION_STATUS"))["update_operation_status"]["status"]
            assert status["state"] == "OPERATION_ERROR", status
            got[status["operation_id"]["value"]] = status["message"]
        assert got["dup"].startswith("Persistence ID 'vol-1' is not unique")
        assert got["unreserve-volume"].startswith("A dynamically reserved persistent volume ")
        assert (
            "cannot be unreserved directly. Please destroy the persistent volume first"
            in got["unreserve-volume"]
        )
        assert got["star"].startswith(
            "Operation attempted with invalid resources: Invalid resources: Resource "
        )
        assert got["star"].endswith(
            'is invalid: Invalid reservation: role "*" cannot be reserved; on agent ' + agent
        )
        assert " does not contain " in got["too-much"]
        assert got["ro"].startswith("Not a persistent volume: Read-only persistent volume not supported")
        assert got["no-principal"].startswith(
            "Create volume operation attempted by principal 'tp', but there is a "
            "volume in the operation with no principal set in 'disk.persistence'"
        )
        assert got["unreserve-unreserved"].startswith(
            "Resource cpus(allocated: db):1 is not dynamically reserved"
        )
        # The volume is in use by t: DESTROY must fail even with an offer of it (there is none while t runs).
        status = (await sub.next("UPDATE"))["update"]["status"]
        assert status["task_id"]["value"] == "t"
    finally:
        await sub.close()


async def test_destroy_of_unknown_volume_is_reported(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        offer = (await sub.offers())[0]
        await accept(
            sub,
            offer,
            [
                {"type": "RESERVE", "reserve": {"resources": [reserved("disk", 1024)]}},
                {"type": "CREATE", "create": {"volumes": [volume()]}},
            ],
            refuse_seconds=0,
        )
        offer = await offer_where(sub, has_volume)
        await accept(
            sub, offer, [{"type": "DESTROY", "id": {"value": "x"}, "destroy": {"volumes": [volume("nope")]}}]
        )
        status = (await sub.next("UPDATE_OPERATION_STATUS"))["update_operation_status"]["status"]
        assert status["message"].startswith("Persistent volumes not found")
    finally:
        await sub.close()


async def test_task_killing_state_only_with_the_capability(master) -> None:
    caps = [{"type": "MULTI_ROLE"}, {"type": "TASK_KILLING_STATE"}]
    sub = await subscribe(master.scheduler_url, info=framework_info(capabilities=caps))
    try:
        offer = (await sub.offers())[0]
        task = {
            "name": "t",
            "task_id": {"value": "t"},
            "agent_id": offer["agent_id"],
            "resources": [scalar("cpus", 1)],
            "command": {"value": "sleep 100"},
        }
        await accept(sub, offer, [{"type": "LAUNCH", "launch": {"task_infos": [task]}}])
        states = []
        while "TASK_KILLED" not in states:
            status = (await sub.next("UPDATE"))["update"]["status"]
            states.append(status["state"])
            await sub.ack(status)
            if status["state"] == "TASK_RUNNING":
                await sub.call({"type": "KILL", "kill": {"task_id": {"value": "t"}}})
        assert states == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED"]
    finally:
        await sub.close()


async def test_launch_group_runs_every_task(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        offer = (await sub.offers())[0]
        agent = offer["agent_id"]
        tasks = [
            {
                "name": n,
                "task_id": {"value": n},
                "agent_id": agent,
                "resources": [scalar("cpus", 0.5)],
                "command": {"value": "sleep 100"},
            }
            for n in ("g1", "g2")
        ]
        executor = {"type": "DEFAULT", "executor_id": {"value": "ex"}, "resources": [scalar("cpus", 0.1)]}
        await accept(
            sub,
            offer,
            [
                {
                    "type": "LAUNCH_GROUP",
                    "launch_group": {"executor": executor, "task_group": {"tasks": tasks}},
                }
            ],
        )
        running = set()
        while running != {"g1", "g2"}:
            status = (await sub.next("UPDATE"))["update"]["status"]
            await sub.ack(status)
            if status["state"] == "TASK_RUNNING":
                running.add(status["task_id"]["value"])
    finally:
        await sub.close()


async def test_task_validation_order_and_texts(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        offer = (await sub.offers())[0]
        agent = offer["agent_id"]

        def t(tid: str, **extra: object) -> dict:
            return {
                "name": tid,
                "task_id": {"value": tid},
                "agent_id": agent,
                "resources": [scalar("cpus", 0.1)],
                "command": {"value": "true"},
                **extra,
            }

        tasks = [
            t("env", command={"value": "true", "environment": {"variables": [{"name": "X"}]}}),
            t("hc", health_check={"delay_seconds": 1.0}),
            t("kp", kill_policy={"grace_period": {"nanoseconds": -1}}),
            t("both", executor={"executor_id": {"value": "e"}, "command": {"value": "x"}}),
            t("none-and-bad-agent", agent_id={"value": "x"}, resources=[]),
        ]
        await accept(sub, offer, [{"type": "LAUNCH", "launch": {"task_infos": tasks}}])
        got = {}
        while len(got) < len(tasks):
            status = (await sub.next("UPDATE"))["update"]["status"]
            got[status["task_id"]["value"]] = status["message"]
        assert got == {
            "env": "Task's `CommandInfo` is invalid: "
            "Environment variable 'X' of type 'VALUE' must have a value set",
            "hc": "Task uses invalid health check: HealthCheck must specify 'type'",
            "kp": "Task's 'kill_policy.grace_period' must be non-negative",
            "both": "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present",
            "none-and-bad-agent": f"Task uses invalid agent x while agent {agent['value']} is expected",
        }
    finally:
        await sub.close()
