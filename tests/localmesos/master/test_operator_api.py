"""Operator API v1, legacy state and health over raw HTTP (reference §6)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.localmesos.master.rawhttp import JSON, scalar, subscribe


async def op(master, body: dict, headers: dict | None = None) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(master.base + "/api/v1", data=json.dumps(body), headers=headers or JSON) as r,
    ):
        text = await r.text()
        return r.status, (json.loads(text) if r.content_type == "application/json" else text)


async def test_get_health_version_and_flags(master) -> None:
    assert await op(master, {"type": "GET_HEALTH"}) == (
        200,
        {"type": "GET_HEALTH", "get_health": {"healthy": True}},
    )
    _, body = await op(master, {"type": "GET_VERSION"})
    assert body["get_version"]["version_info"]["version"] == "1.11.0"
    _, body = await op(master, {"type": "GET_FLAGS"})
    assert {"name": "allocation_interval", "value": "0.1secs"} in body["get_flags"]["flags"]


async def test_get_state_shows_agents_frameworks_tasks_in_endpoint_format(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        offer = (await sub.offers())[0]
        cpus = scalar("cpus", 1, reservations=[{"type": "DYNAMIC", "role": "db", "principal": "tp"}])
        task = {
            "name": "t",
            "task_id": {"value": "t"},
            "agent_id": offer["agent_id"],
            "resources": [cpus],
            "command": {"value": "sleep 1"},
        }
        await sub.call(
            {
                "type": "ACCEPT",
                "accept": {
                    "offer_ids": [offer["id"]],
                    "operations": [
                        {"type": "RESERVE", "reserve": {"resources": [cpus]}},
                        {"type": "LAUNCH", "launch": {"task_infos": [task]}},
                    ],
                },
            }
        )
        await sub.next("UPDATE")
        code, body = await op(master, {"type": "GET_STATE"})
        assert code == 200
        state = body["get_state"]
        agents = state["get_agents"]["agents"]
        assert len(agents) == 2 and all(a["active"] and a["version"] == "1.11.0" for a in agents)
        mine = next(a for a in agents if a["agent_info"]["id"] == offer["agent_id"])
        reserved = next(r for r in mine["total_resources"] if r.get("reservations"))
        assert reserved["role"] == "db" and reserved["reservation"] == {"principal": "tp"}
        frameworks = state["get_frameworks"]["frameworks"]
        assert [f["framework_info"]["id"]["value"] for f in frameworks] == [sub.framework_id]
        assert frameworks[0]["active"] and frameworks[0]["connected"]
        tasks = state["get_tasks"]["tasks"]
        assert [(t["task_id"]["value"], t["framework_id"]["value"]) for t in tasks] == [
            ("t", sub.framework_id)
        ]
        code, body = await op(master, {"type": "GET_TASKS"})
        assert body["get_tasks"]["tasks"][0]["agent_id"] == offer["agent_id"]
    finally:
        await sub.close()


async def test_operator_teardown_removes_framework(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        call = {"type": "TEARDOWN", "teardown": {"framework_id": {"value": sub.framework_id}}}
        assert (await op(master, call))[0] == 200
        await sub.closed()
        _, body = await op(master, {"type": "GET_FRAMEWORKS"})
        assert [
            f["framework_info"]["id"]["value"] for f in body["get_frameworks"]["completed_frameworks"]
        ] == [sub.framework_id]
    finally:
        await sub.close()


@pytest.mark.parametrize(
    ("body", "headers", "status", "text"),
    [
        (
            {"type": "GET_STATE"},
            {"Content-Type": "text/plain"},
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        ),
        (
            {"type": "GET_STATE"},
            {**JSON, "Accept": "text/html"},
            406,
            "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
        ),
        (
            {"type": "TEARDOWN"},
            JSON,
            400,
            "Failed to validate master::Call: Expecting 'teardown' to be present",
        ),
        (
            {"type": "GET_STATE", "teardown": {"framework_id": "x"}},
            JSON,
            400,
            "Failed to convert JSON into Call protobuf: Not expecting a JSON string for field 'framework_id'",
        ),
    ],
)
async def test_operator_errors(master, body, headers, status, text) -> None:
    assert await op(master, body, headers) == (status, text)


async def test_legacy_state_and_health(master) -> None:
    async with aiohttp.ClientSession() as s:
        for path in ("/master/state", "/state"):
            async with s.get(master.base + path) as r:
                state = await r.json()
            assert state["version"] == "1.11.0" and state["activated_slaves"] == 2
            assert state["slaves"][0]["resources"] == {
                "cpus": 4.0,
                "gpus": 0.0,
                "mem": 8192.0,
                "disk": 65536.0,
                "ports": "[31000-32000]",
            }
            assert state["leader"] == state["pid"]
        async with s.get(master.base + "/health") as r:
            assert r.status == 200


async def test_legacy_slaves_frameworks_tasks_and_teardown(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(master.base + "/master/slaves") as r:
                slaves = (await r.json())["slaves"]
            assert len(slaves) == 2 and slaves[0]["unreserved_resources_full"][0]["role"] == "*"
            async with s.get(master.base + "/master/frameworks") as r:
                assert [f["id"] for f in (await r.json())["frameworks"]] == [sub.framework_id]
            async with s.get(master.base + "/master/tasks") as r:
                assert (await r.json()) == {"tasks": []}
            async with s.post(master.base + "/master/teardown", data={"frameworkId": "nope"}) as r:
                assert (r.status, await r.text()) == (400, "No framework found with specified ID: nope")
            async with s.post(master.base + "/master/teardown", data={"frameworkId": sub.framework_id}) as r:
                assert r.status == 200
        await sub.closed()
    finally:
        await sub.close()


async def test_operator_reserve_create_destroy_unreserve(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        agent_id = (await sub.offers())[0]["agent_id"]
        dyn = [{"type": "DYNAMIC", "role": "db", "principal": "ops"}]
        disk = scalar("disk", 512, reservations=dyn)
        vol = {
            **disk,
            "disk": {
                "persistence": {"id": "ops-vol", "principal": "ops"},
                "volume": {"mode": "RW", "container_path": "data"},
            },
        }
        calls = [
            (
                {
                    "type": "RESERVE_RESOURCES",
                    "reserve_resources": {"agent_id": agent_id, "resources": [disk]},
                },
                202,
            ),
            (
                {
                    "type": "RESERVE_RESOURCES",
                    "reserve_resources": {
                        "agent_id": agent_id,
                        "resources": [scalar("cpus", 64, reservations=dyn)],
                    },
                },
                409,
            ),
            ({"type": "CREATE_VOLUMES", "create_volumes": {"agent_id": agent_id, "volumes": [vol]}}, 202),
            (
                {
                    "type": "UNRESERVE_RESOURCES",
                    "unreserve_resources": {"agent_id": agent_id, "resources": [vol]},
                },
                400,
            ),
        ]
        for body, status in calls:
            assert (await op(master, body))[0] == status, body
        offer = None
        while offer is None or offer["agent_id"] != agent_id:
            offer = (await sub.offers())[0]
        assert any(
            (r.get("disk") or {}).get("persistence", {}).get("id") == "ops-vol" for r in offer["resources"]
        )
        for body in (
            {"type": "DESTROY_VOLUMES", "destroy_volumes": {"agent_id": agent_id, "volumes": [vol]}},
            {
                "type": "UNRESERVE_RESOURCES",
                "unreserve_resources": {"agent_id": agent_id, "resources": [disk]},
            },
        ):
            assert (await op(master, body))[0] == 202, body
        _, state = await op(master, {"type": "GET_AGENTS"})
        agent = next(a for a in state["get_agents"]["agents"] if a["agent_info"]["id"] == agent_id)
        assert not any(r.get("reservations") for r in agent["total_resources"])
    finally:
        await sub.close()


async def test_operator_event_stream(master) -> None:
    from tests.localmesos.master.rawhttp import RecordIO

    async with aiohttp.ClientSession() as s:
        resp = await s.post(master.base + "/api/v1", data=json.dumps({"type": "SUBSCRIBE"}), headers=JSON)
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
        decoder = RecordIO()
        seen: list[dict] = []

        async def until(kind: str) -> dict:
            while True:
                for e in seen:
                    if e["type"] == kind:
                        seen.remove(e)
                        return e
                chunk = await asyncio.wait_for(resp.content.readany(), 5)
                seen.extend(json.loads(r) for r in decoder.feed(chunk))

        subscribed = await until("SUBSCRIBED")
        assert len(subscribed["subscribed"]["get_state"]["get_agents"]["agents"]) == 2
        await until("HEARTBEAT")
        sub = await subscribe(master.scheduler_url)
        try:
            added = await until("FRAMEWORK_ADDED")
            assert added["framework_added"]["framework"]["framework_info"]["id"]["value"] == sub.framework_id
            offer = (await sub.offers())[0]
            task = {
                "name": "t",
                "task_id": {"value": "t"},
                "agent_id": offer["agent_id"],
                "resources": [scalar("cpus", 1)],
                "command": {"value": "sleep 1"},
            }
            await sub.call(
                {
                    "type": "ACCEPT",
                    "accept": {
                        "offer_ids": [offer["id"]],
                        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
                    },
                }
            )
            assert (await until("TASK_ADDED"))["task_added"]["task"]["task_id"] == {"value": "t"}
            updated = await until("TASK_UPDATED")
            assert updated["task_updated"]["state"] == "TASK_STARTING"
            await sub.call({"type": "TEARDOWN"})
            removed = await until("FRAMEWORK_REMOVED")
            assert removed["framework_removed"]["framework_info"]["id"]["value"] == sub.framework_id
        finally:
            await sub.close()
            resp.close()


async def test_metrics_in_the_operator_api_and_the_snapshot(master) -> None:
    _, body = await op(master, {"type": "GET_METRICS"})
    named = {m["name"]: m["value"] for m in body["get_metrics"]["metrics"]}
    assert named["master/slaves_active"] == 2.0 and named["master/elected"] == 1.0
    async with aiohttp.ClientSession() as s, s.get(master.base + "/metrics/snapshot") as r:
        assert (await r.json())["master/slaves_active"] == 2
    for call in ("GET_QUOTA", "GET_WEIGHTS", "GET_MAINTENANCE_STATUS", "GET_LOGGING_LEVEL"):
        code, body = await op(master, {"type": call})
        assert code == 200 and body["type"] == call
    assert (await op(master, {"type": "DRAIN_AGENT"}))[0] == 501
