"""The master's side of the internal agent protocol, and agent loss (reference §7.7)."""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from tests.localmesos.master.rawhttp import (
    framework_info,
    new_uuid_b64,
    scalar,
    start_master,
    stop_master,
    subscribe,
)
from tests.localmesos.master.stub_agent import StubAgent

RESOURCES = [
    scalar("cpus", 2),
    scalar("mem", 1024),
    scalar("disk", 4096),
    {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31010}]}},
]


@pytest.fixture
async def env(tmp_path):
    m = await start_master(tmp_path, agent_ping_timeout=0.1, max_agent_ping_timeouts=3)
    agent = StubAgent()
    await agent.start()
    try:
        yield m, agent
    finally:
        await agent.stop()
        await stop_master(m)


def running_status(task_id: str, agent_id: str, state: str = "TASK_RUNNING") -> dict:
    return {
        "task_id": {"value": task_id},
        "state": state,
        "source": "SOURCE_EXECUTOR",
        "agent_id": {"value": agent_id},
        "timestamp": time.time(),
        "uuid": new_uuid_b64(),
    }


async def launch(sub, agent: StubAgent, task_id: str) -> dict:
    offer = (await sub.offers())[0]
    assert offer["agent_id"]["value"] == agent.agent_id
    task = {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": offer["agent_id"],
        "resources": [scalar("cpus", 1)],
        "command": {"value": "true"},
        "kill_policy": {"grace_period": {"nanoseconds": 1000000000}},
    }
    assert await sub.call(
        {
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
                "filters": {"refuse_seconds": 0},
            },
        }
    ) == (202, "")
    return await agent.next("run_task")


async def offer_of_cpus(sub, cpus: float) -> None:
    """Wait for an offer of exactly `cpus` cpus (an offer of earlier leftovers may come first)."""
    seen = 0.0
    while seen != cpus:
        offer = (await sub.offers())[0]
        seen = sum(r["scalar"]["value"] for r in offer["resources"] if r["name"] == "cpus")
        await sub.call(
            {"type": "DECLINE", "decline": {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 0}}}
        )


async def test_launch_status_ack_kill_and_teardown_reach_the_agent(env) -> None:
    m, agent = env
    agent_id = await agent.register(m.base, RESOURCES)
    sub = await subscribe(m.scheduler_url)
    try:
        run = await launch(sub, agent, "t1")
        assert run["framework_id"]["value"] == sub.framework_id
        assert run["framework_info"]["name"] == "conformance"
        assert run["task"]["resources"] == [scalar("cpus", 1.0, allocation_info={"role": "db"})]
        status = running_status("t1", agent_id)
        assert await agent.status(m.base, sub.framework_id, status) == 200
        update = (await sub.next("UPDATE"))["update"]["status"]
        assert update["uuid"] == status["uuid"] and update["state"] == "TASK_RUNNING"
        await sub.ack(update)
        ack = await agent.next("acknowledge")
        assert ack == {
            "framework_id": {"value": sub.framework_id},
            "task_id": {"value": "t1"},
            "uuid": status["uuid"],
        }
        await sub.call(
            {
                "type": "KILL",
                "kill": {"task_id": {"value": "t1"}, "kill_policy": {"grace_period": {"nanoseconds": 5}}},
            }
        )
        kill = await agent.next("kill_task")
        assert kill["task_id"] == {"value": "t1"} and kill["kill_policy"] == {
            "grace_period": {"nanoseconds": 5}
        }
        assert await sub.call({"type": "TEARDOWN"}) == (202, "")
        assert (await agent.next("shutdown_framework"))["framework_id"] == {"value": sub.framework_id}
    finally:
        await sub.close()


async def test_reserve_checkpoints_resources_on_the_agent(env) -> None:
    m, agent = env
    await agent.register(m.base, RESOURCES)
    sub = await subscribe(m.scheduler_url)
    try:
        offer = (await sub.offers())[0]
        res = scalar("disk", 100, reservations=[{"type": "DYNAMIC", "role": "db", "principal": "tp"}])
        vol = {
            **res,
            "disk": {
                "persistence": {"id": "v1", "principal": "tp"},
                "volume": {"mode": "RW", "container_path": "data"},
            },
        }
        await sub.call(
            {
                "type": "ACCEPT",
                "accept": {
                    "offer_ids": [offer["id"]],
                    "operations": [
                        {"type": "RESERVE", "reserve": {"resources": [res]}},
                        {"type": "CREATE", "create": {"volumes": [vol]}},
                    ],
                },
            }
        )
        checkpoint = await agent.next("checkpoint_resources")
        assert checkpoint == {"resources": [vol]}
    finally:
        await sub.close()


async def test_checkpointed_resources_from_registration_are_offered(env) -> None:
    m, agent = env
    res = scalar("disk", 100, reservations=[{"type": "DYNAMIC", "role": "db", "principal": "tp"}])
    await agent.register(m.base, RESOURCES, checkpointed=[res])
    sub = await subscribe(m.scheduler_url)
    try:
        offer = (await sub.offers())[0]
        disks = sorted(
            (r["scalar"]["value"], bool(r.get("reservations")))
            for r in offer["resources"]
            if r["name"] == "disk"
        )
        assert disks == [(100.0, True), (3996.0, False)]
    finally:
        await sub.close()


@pytest.mark.parametrize("partition_aware", [True, False])
async def test_agent_that_misses_pings_is_unreachable_and_comes_back(env, partition_aware) -> None:
    m, agent = env
    agent_id = await agent.register(m.base, RESOURCES)
    caps = [{"type": "MULTI_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]
    if partition_aware:
        caps.append({"type": "PARTITION_AWARE"})
    sub = await subscribe(m.scheduler_url, info=framework_info(capabilities=caps))
    try:
        run = await launch(sub, agent, "t1")
        status = running_status("t1", agent_id)
        await agent.status(m.base, sub.framework_id, status)
        await sub.ack((await sub.next("UPDATE"))["update"]["status"])
        offer = (await sub.offers())[0]  # an outstanding offer gets rescinded
        agent.partitioned = True
        lost = (await sub.next("UPDATE"))["update"]["status"]
        assert lost["state"] == ("TASK_UNREACHABLE" if partition_aware else "TASK_LOST")
        assert (lost["reason"], lost["source"]) == ("REASON_AGENT_REMOVED", "SOURCE_MASTER")
        assert ("unreachable_time" in lost) == partition_aware
        failure = await sub.next("FAILURE")
        assert failure == {"type": "FAILURE", "failure": {"agent_id": {"value": agent_id}}}
        assert {"type": "RESCIND", "rescind": {"offer_id": offer["id"]}} in sub.skipped
        # KILL of an unreachable task is answered like an explicit reconciliation.
        await sub.call({"type": "KILL", "kill": {"task_id": {"value": "t1"}}})
        reply = (await sub.next("UPDATE"))["update"]["status"]
        assert (reply["state"], reply["reason"], reply["message"]) == (
            "TASK_UNREACHABLE" if partition_aware else "TASK_LOST",
            "REASON_RECONCILIATION",
            "Reconciliation: Task is unreachable",
        )
        assert await agent.status(m.base, sub.framework_id, running_status("t1", agent_id)) == 409
        agent.partitioned = False
        await agent.register(
            m.base,
            RESOURCES,
            tasks=[
                {
                    "framework_id": {"value": sub.framework_id},
                    "framework_info": framework_info(),
                    "task": run["task"],
                    "state": "TASK_RUNNING",
                    "status": status,
                }
            ],
        )
        back = (await sub.next("UPDATE"))["update"]["status"]
        assert (back["state"], back["reason"]) == ("TASK_RUNNING", "REASON_AGENT_REREGISTERED")
        assert back["message"] == "Unreachable agent re-reregistered"
    finally:
        await sub.close()


async def test_bad_registration_is_a_clear_400(env) -> None:
    import aiohttp

    m, _ = env
    async with aiohttp.ClientSession() as s:
        async with s.post(m.base + "/internal/agents/register", data="nope") as r:
            assert r.status == 400 and "not JSON" in (await r.json())["error"]
        async with s.post(
            m.base + "/internal/agents/register",
            json={"ip": "127.0.0.1", "port": 1, "resources": [scalar("cpus", -1)]},
        ) as r:
            assert r.status == 400
            assert "Invalid scalar resource: value <= 0" in (await r.json())["error"]
        async with s.post(m.base + "/internal/agents/x/status", json={"status": {}}) as r:
            assert r.status == 409


async def test_registry_records_admitted_agents(env, tmp_path) -> None:
    m, agent = env
    agent_id = await agent.register(m.base, RESOURCES)
    data = json.loads((tmp_path / "master" / "registry.json").read_text())
    assert [a["id"] for a in data["agents"]] == [agent_id]


async def test_task_the_reregistering_agent_does_not_know_is_dropped(env) -> None:
    m, agent = env
    await agent.register(m.base, RESOURCES)
    sub = await subscribe(m.scheduler_url)
    try:
        await launch(sub, agent, "t1")
        await agent.register(m.base, RESOURCES, tasks=[])  # e.g. the host rebooted
        status = (await sub.next("UPDATE"))["update"]["status"]
        assert (status["task_id"]["value"], status["state"], status["source"]) == (
            "t1",
            "TASK_DROPPED",
            "SOURCE_MASTER",
        )
        assert status["message"] == "Task is unknown to the agent"
        await offer_of_cpus(sub, 2.0)
    finally:
        await sub.close()


async def test_resources_come_back_when_latest_state_is_terminal_before_acks(env) -> None:
    m, agent = env
    agent_id = await agent.register(m.base, RESOURCES)
    sub = await subscribe(m.scheduler_url)
    try:
        await launch(sub, agent, "t1")
        # The task already finished on the agent, but TASK_RUNNING is still the update in flight.
        await agent.status(
            m.base, sub.framework_id, running_status("t1", agent_id), latest_state="TASK_FINISHED"
        )
        update = (await sub.next("UPDATE"))["update"]["status"]
        assert update["state"] == "TASK_RUNNING"
        await offer_of_cpus(sub, 2.0)
        await sub.call({"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "t1"}}]}})
        reply = (await sub.next("UPDATE"))["update"]["status"]
        assert reply["state"] == "TASK_RUNNING"  # the last *forwarded* state, as Mesos answers
    finally:
        await sub.close()


async def test_recovered_agents_get_no_reconcile_answer_until_their_reregister_timeout(tmp_path) -> None:
    import aiohttp

    (tmp_path / "master").mkdir()
    (tmp_path / "master" / "registry.json").write_text(json.dumps({"agents": [{"id": "old-agent"}]}))
    m = await start_master(tmp_path, agent_reregister_timeout=1.0)
    try:
        async with aiohttp.ClientSession() as s, s.get(m.base + "/master/state") as r:
            assert (await r.json())["recovered_slaves"] == [{"id": "old-agent"}]
        sub = await subscribe(m.scheduler_url)
        try:
            call = {
                "type": "RECONCILE",
                "reconcile": {"tasks": [{"task_id": {"value": "t"}, "agent_id": {"value": "old-agent"}}]},
            }
            reply = None
            while reply is None:
                assert await sub.call(call) == (202, "")
                with contextlib.suppress(TimeoutError):
                    reply = (await sub.next("UPDATE", timeout=0.3))["update"]["status"]
            async with aiohttp.ClientSession() as s, s.get(m.base + "/master/state") as r:
                assert (await r.json())["recovered_slaves"] == []  # no answer while it was recovering
            assert (reply["state"], reply["message"]) == ("TASK_UNKNOWN", "Reconciliation: Task is unknown")
        finally:
            await sub.close()
    finally:
        await stop_master(m)
