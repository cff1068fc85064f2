"""Offers, ACCEPT operations, task lifecycle and reconciliation over raw HTTP (reference §2-§5)."""

from __future__ import annotations

import asyncio
import copy

import aiohttp
import pytest

from tests.localmesos.master.rawhttp import Subscription, framework_info, scalar, subscribe

DYN = {
    "type": "DYNAMIC",
    "role": "db",
    "principal": "tp",
    "labels": {"labels": [{"key": "owner", "value": "n0"}]},
}


def reserved(name: str, value: float) -> dict:
    return scalar(name, value, reservations=[copy.deepcopy(DYN)])


def volume(pid: str = "vol-1", size: float = 1024, path: str = "data") -> dict:
    return {
        **reserved("disk", size),
        "disk": {
            "persistence": {"id": pid, "principal": "tp"},
            "volume": {"mode": "RW", "container_path": path},
        },
    }


def task(task_id: str, agent_id: str, resources: list[dict], **extra: object) -> dict:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "resources": resources,
        "command": {"shell": True, "value": "sleep 1000"},
        **extra,
    }


async def accept(sub: Subscription, offer: dict, operations: list[dict], **filters: float) -> None:
    body: dict = {"offer_ids": [offer["id"]], "operations": operations}
    if filters:
        body["filters"] = filters
    assert await sub.call({"type": "ACCEPT", "accept": body}) == (202, "")


async def update(sub: Subscription, timeout: float = 5.0) -> dict:
    return (await sub.next("UPDATE", timeout))["update"]["status"]


async def running(sub: Subscription, task_id: str) -> dict:
    """Acknowledge updates until `task_id` is TASK_RUNNING."""
    while True:
        status = await update(sub)
        await sub.ack(status)
        if status["task_id"]["value"] == task_id and status["state"] == "TASK_RUNNING":
            return status


async def offer_where(sub: Subscription, predicate, timeout: float = 5.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for offer in await sub.offers(timeout=max(0.1, deadline - asyncio.get_running_loop().time())):
            if predicate(offer):
                return offer
            assert await sub.call(
                {"type": "DECLINE", "decline": {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 0}}}
            ) == (202, "")


def has_volume(offer: dict, pid: str = "vol-1") -> bool:
    return any((r.get("disk") or {}).get("persistence", {}).get("id") == pid for r in offer["resources"])


@pytest.fixture
async def sub(master):
    s = await subscribe(master.scheduler_url)
    try:
        yield s
    finally:
        await s.close()


async def test_offers_use_post_refinement_format_with_allocation_info(sub) -> None:
    offers = await sub.offers()
    assert len(offers) == 2
    for offer in offers:
        assert offer["allocation_info"] == {"role": "db"}
        assert offer["framework_id"]["value"] == sub.framework_id
        assert offer["url"]["path"] == "/slave(1)"
        for r in offer["resources"]:
            assert r["allocation_info"] == {"role": "db"} and "role" not in r and "reservations" not in r


async def test_old_style_framework_gets_role_star_and_no_allocation_info(master) -> None:
    info = framework_info(capabilities=[], role="*")
    info.pop("roles")
    s = await subscribe(master.scheduler_url, info=info)
    try:
        offer = (await s.offers())[0]
        assert "allocation_info" not in offer
        assert all(r["role"] == "*" and "allocation_info" not in r for r in offer["resources"])
    finally:
        await s.close()


async def test_reserve_create_launch_kill_relaunch_destroy_unreserve(sub) -> None:
    offer = (await sub.offers())[0]
    agent = offer["agent_id"]["value"]
    res = [reserved("cpus", 1), reserved("mem", 256)]
    await accept(
        sub,
        offer,
        [
            {"type": "RESERVE", "reserve": {"resources": [*res, reserved("disk", 1024)]}},
            {"type": "CREATE", "create": {"volumes": [volume()]}},
            {"type": "LAUNCH", "launch": {"task_infos": [task("t1", agent, [*res, volume()])]}},
        ],
        refuse_seconds=0,
    )
    status = await update(sub)
    assert (status["state"], status["source"], status["task_id"]["value"]) == (
        "TASK_STARTING",
        "SOURCE_EXECUTOR",
        "t1",
    )
    await sub.ack(status)
    await running(sub, "t1")
    # While t1 runs, the volume is never offered.
    offer = await offer_where(sub, lambda o: o["agent_id"]["value"] == agent)
    assert not has_volume(offer)
    assert await sub.call({"type": "DECLINE", "decline": {"offer_ids": [offer["id"]]}}) == (202, "")
    assert await sub.call(
        {"type": "KILL", "kill": {"task_id": {"value": "t1"}, "agent_id": {"value": agent}}}
    ) == (202, "")
    killed = await update(sub)
    assert killed["state"] == "TASK_KILLED"
    await sub.ack(killed)
    # The reservation and volume come back, with labels and principal as reserved.
    offer = await offer_where(sub, has_volume)
    vol = next(r for r in offer["resources"] if "disk" in r)
    assert vol["reservations"] == [DYN] and vol["disk"]["persistence"] == {"id": "vol-1", "principal": "tp"}
    cpus = [r for r in offer["resources"] if r["name"] == "cpus" and r.get("reservations")]
    assert cpus[0]["scalar"]["value"] == 1.0
    await accept(
        sub,
        offer,
        [{"type": "LAUNCH", "launch": {"task_infos": [task("t2", agent, [*res, volume(path="other")])]}}],
    )
    await running(sub, "t2")
    await sub.call({"type": "KILL", "kill": {"task_id": {"value": "t2"}}})
    await sub.ack(await update(sub))
    offer = await offer_where(sub, has_volume)
    await accept(
        sub,
        offer,
        [
            {"type": "DESTROY", "destroy": {"volumes": [volume()]}},
            {"type": "UNRESERVE", "unreserve": {"resources": [*res, reserved("disk", 1024)]}},
        ],
    )
    offer = await offer_where(sub, lambda o: o["agent_id"]["value"] == agent)
    assert not any(r.get("reservations") for r in offer["resources"])
    assert {r["name"]: r.get("scalar", {}).get("value") for r in offer["resources"]}["cpus"] == 4.0


async def test_operations_with_ids_get_operation_status(sub) -> None:
    offer = (await sub.offers())[0]
    await accept(
        sub,
        offer,
        [
            {"type": "RESERVE", "id": {"value": "op-ok"}, "reserve": {"resources": [reserved("cpus", 1)]}},
            {
                "type": "CREATE",
                "id": {"value": "op-bad"},
                "create": {
                    "volumes": [
                        {
                            **scalar("disk", 10),
                            "disk": {
                                "persistence": {"id": "v", "principal": "tp"},
                                "volume": {"mode": "RW", "container_path": "d"},
                            },
                        }
                    ]
                },
            },
            {
                "type": "RESERVE",
                "id": {"value": "op-principal"},
                "reserve": {
                    "resources": [
                        scalar(
                            "mem", 10, reservations=[{"type": "DYNAMIC", "role": "db", "principal": "other"}]
                        )
                    ]
                },
            },
        ],
    )
    got = {}
    for _ in range(3):
        status = (await sub.next("UPDATE_OPERATION_STATUS"))["update_operation_status"]["status"]
        got[status["operation_id"]["value"]] = status
    assert got["op-ok"]["state"] == "OPERATION_FINISHED" and "uuid" in got["op-ok"]
    assert got["op-bad"]["state"] == "OPERATION_ERROR" and "uuid" not in got["op-bad"]
    assert "Persistent volumes cannot be created from unreserved resources" in got["op-bad"]["message"]
    assert got["op-principal"]["message"].startswith(
        "A reserve operation was attempted by authenticated principal 'tp', which does not match a reserved "
        "resource in the request with principal 'other'"
    )


async def test_invalid_offer_drops_tasks_and_errors_operations(sub) -> None:
    await sub.offers()
    bad = {"value": "no-such-offer"}
    assert await sub.call(
        {
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [bad],
                "operations": [
                    {"type": "LAUNCH", "launch": {"task_infos": [task("t", "a", [scalar("cpus", 1)])]}},
                    {
                        "type": "RESERVE",
                        "id": {"value": "op"},
                        "reserve": {"resources": [reserved("cpus", 1)]},
                    },
                ],
            },
        }
    ) == (202, "")
    status = await update(sub)
    assert status["state"] == "TASK_DROPPED"
    assert status["source"] == "SOURCE_MASTER" and status["reason"] == "REASON_INVALID_OFFERS"
    assert status["message"] == "Task launched with invalid offers: Offer no-such-offer is no longer valid"
    assert "uuid" not in status
    op = (await sub.next("UPDATE_OPERATION_STATUS"))["update_operation_status"]["status"]
    assert op["message"] == "Operation attempted with invalid offers: Offer no-such-offer is no longer valid"
    assert await sub.call({"type": "ACCEPT", "accept": {"operations": []}}) == (202, "")


async def test_task_errors(sub) -> None:
    offer = (await sub.offers())[0]
    agent = offer["agent_id"]["value"]
    await accept(
        sub,
        offer,
        [
            {
                "type": "LAUNCH",
                "launch": {
                    "task_infos": [
                        task("dup", agent, [scalar("cpus", 0.5)]),
                        task("dup", agent, [scalar("cpus", 0.5)]),
                        task("big", agent, [scalar("cpus", 100)]),
                        task("none", agent, []),
                        task("wrong-agent", "elsewhere", [scalar("cpus", 0.1)]),
                        task("bad/id", agent, [scalar("cpus", 0.1)]),
                    ]
                },
            },
            {
                "type": "LAUNCH",
                "id": {"value": "x"},
                "launch": {"task_infos": [task("withid", agent, [scalar("cpus", 1)])]},
            },
        ],
    )
    errors = {}
    while len(errors) < 6:
        status = await update(sub)
        if status["state"] == "TASK_ERROR":
            errors[status["task_id"]["value"]] = status
        else:
            await sub.ack(status)
    assert errors["dup"]["message"] == "Task has duplicate ID: dup"
    assert errors["dup"]["reason"] == "REASON_TASK_INVALID" and errors["dup"]["source"] == "SOURCE_MASTER"
    assert errors["big"]["message"].startswith(
        "Total resources cpus(allocated: db):100 required by task and its executor is more than available "
    )
    assert errors["none"]["message"] == "Task uses no resources"
    assert (
        errors["wrong-agent"]["message"]
        == f"Task uses invalid agent elsewhere while agent {agent} is expected"
    )
    assert errors["bad/id"]["message"] == "'bad/id' contains invalid characters"
    assert errors["withid"]["message"] == "The `id` field cannot be set on LAUNCH operations"


async def test_decline_filter_and_revive(sub) -> None:
    offers = await sub.offers()
    assert await sub.call(
        {
            "type": "DECLINE",
            "decline": {"offer_ids": [o["id"] for o in offers], "filters": {"refuse_seconds": 3600}},
        }
    ) == (202, "")
    with pytest.raises(TimeoutError):
        await sub.offers(timeout=0.6)
    assert await sub.call({"type": "REVIVE", "revive": {"roles": ["db"]}}) == (202, "")
    assert len(await sub.offers()) == 2


async def test_suppress_stops_offers_until_revive(sub) -> None:
    offers = await sub.offers()
    assert await sub.call({"type": "SUPPRESS", "suppress": {"roles": ["db"]}}) == (202, "")
    assert await sub.call(
        {
            "type": "DECLINE",
            "decline": {"offer_ids": [o["id"] for o in offers], "filters": {"refuse_seconds": 0}},
        }
    ) == (202, "")
    with pytest.raises(TimeoutError):
        await sub.offers(timeout=0.6)
    assert await sub.call({"type": "REVIVE"}) == (202, "")
    assert len(await sub.offers()) == 2


async def test_kill_of_unknown_task_and_reconciliation(sub) -> None:
    offer = (await sub.offers())[0]
    agent = offer["agent_id"]["value"]
    assert await sub.call({"type": "KILL", "kill": {"task_id": {"value": "ghost"}}}) == (202, "")
    status = await update(sub)
    assert (status["state"], status["reason"], status["message"]) == (
        "TASK_UNKNOWN",
        "REASON_RECONCILIATION",
        "Reconciliation: Task is unknown",
    )
    await accept(
        sub, offer, [{"type": "LAUNCH", "launch": {"task_infos": [task("t", agent, [scalar("cpus", 1)])]}}]
    )
    await running(sub, "t")
    assert await sub.call(
        {
            "type": "RECONCILE",
            "reconcile": {
                "tasks": [
                    {"task_id": {"value": "t"}},
                    {"task_id": {"value": "gone"}, "agent_id": {"value": agent}},
                ]
            },
        }
    ) == (202, "")
    replies = {s["task_id"]["value"]: s for s in [await update(sub), await update(sub)]}
    assert replies["t"]["state"] == "TASK_RUNNING" and replies["t"]["reason"] == "REASON_RECONCILIATION"
    assert "uuid" not in replies["t"]
    assert replies["gone"]["state"] == "TASK_GONE"
    assert replies["gone"]["message"] == "Reconciliation: Task is unknown to the agent"
    assert await sub.call({"type": "RECONCILE", "reconcile": {}}) == (202, "")
    implicit = await update(sub)
    assert (implicit["task_id"]["value"], implicit["state"]) == ("t", "TASK_RUNNING")


async def test_reservations_and_volumes_survive_teardown(master, sub) -> None:
    offer = (await sub.offers())[0]
    agent = offer["agent_id"]["value"]
    await accept(
        sub,
        offer,
        [
            {"type": "RESERVE", "reserve": {"resources": [reserved("disk", 1024)]}},
            {"type": "CREATE", "create": {"volumes": [volume()]}},
        ],
    )
    await offer_where(sub, has_volume)
    assert await sub.call({"type": "TEARDOWN"}) == (202, "")
    other = await subscribe(master.scheduler_url)
    try:
        offer = await offer_where(other, has_volume)
        assert offer["agent_id"]["value"] == agent
    finally:
        await other.close()


async def test_pre_refinement_framework_sees_role_and_reservation(master) -> None:
    info = framework_info(capabilities=[{"type": "MULTI_ROLE"}])
    s = await subscribe(master.scheduler_url, info=info)
    try:
        offer = (await s.offers())[0]
        await accept(
            s,
            offer,
            [
                {
                    "type": "RESERVE",
                    "reserve": {"resources": [scalar("cpus", 1, role="db", reservation={"principal": "tp"})]},
                }
            ],
        )
        offer = await offer_where(s, lambda o: any(r.get("role") == "db" for r in o["resources"]))
        cpus = next(r for r in offer["resources"] if r.get("role") == "db")
        assert cpus["reservation"] == {"principal": "tp"} and "reservations" not in cpus
        assert all(r["role"] in ("db", "*") for r in offer["resources"])
    finally:
        await s.close()


async def test_framework_removed_after_failover_timeout(master) -> None:
    s = await subscribe(master.scheduler_url, info=framework_info(failover_timeout=0.2))
    offer = (await s.offers())[0]
    await accept(
        s,
        offer,
        [
            {
                "type": "LAUNCH",
                "launch": {"task_infos": [task("t", offer["agent_id"]["value"], [scalar("cpus", 1)])]},
            }
        ],
    )
    await running(s, "t")
    fid = s.framework_id
    await s.close()
    state: dict = {}
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            async with http.get(master.base + "/master/state") as r:
                state = await r.json()
            if any(f["id"] == fid for f in state["completed_frameworks"]):
                break
            await asyncio.sleep(0.05)
    done = next(f for f in state["completed_frameworks"] if f["id"] == fid)
    assert [t["state"] for t in done["completed_tasks"]] == ["TASK_KILLED"]
    again = await subscribe(master.scheduler_url, framework_id=fid)
    try:
        assert again.skipped == [{"type": "ERROR", "error": {"message": "Framework has been removed"}}]
    finally:
        await again.close()


async def test_update_framework_changes_roles(sub) -> None:
    await sub.offers()
    info = framework_info(roles=["db", "other"], id={"value": sub.framework_id})
    call = {"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": info}}
    assert await sub.call(call) == (200, "")
    info["user"] = "someone-else"
    code, text = await sub.call(call)
    assert code == 400 and text.startswith("FrameworkInfo update is not valid: Updating 'FrameworkInfo.user'")


async def test_persistence_ids_are_unique_per_role_not_per_agent(master) -> None:
    """Two roles may each hold a volume vol-1 on one agent (§3.6); a second in the same role is refused."""

    async def create(role: str, expect: str) -> str:
        s = await subscribe(master.scheduler_url, framework_info(roles=[role]))
        try:
            dyn = {**copy.deepcopy(DYN), "role": role}
            disk = scalar("disk", 512, reservations=[dyn])
            vol = {
                **disk,
                "disk": {
                    "persistence": {"id": "vol-1", "principal": "tp"},
                    "volume": {"mode": "RW", "container_path": "data"},
                },
            }
            offer = (await s.offers())[0]
            await accept(
                s,
                offer,
                [
                    {"type": "RESERVE", "reserve": {"resources": [disk]}},
                    {"type": "CREATE", "id": {"value": f"create-{role}"}, "create": {"volumes": [vol]}},
                ],
                refuse_seconds=0,
            )
            status = (await s.next("UPDATE_OPERATION_STATUS"))["update_operation_status"]["status"]
            assert status["state"] == expect, status
            return str(offer["agent_id"]["value"])
        finally:
            await s.close()

    agent = await create("db", "OPERATION_FINISHED")
    assert await create("other", "OPERATION_FINISHED") == agent
    assert await create("db", "OPERATION_ERROR") == agent  # vol-1 exists in role db already
