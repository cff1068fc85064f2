"""Full cycle on real agent processes: RESERVE → CREATE → LAUNCH (writes into the volume) → kill →
relaunch on the same reservation and volume (data still there) → DESTROY → UNRESERVE."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.localmesos.master.rawhttp import Subscription, scalar, subscribe

pytestmark = pytest.mark.localmesos

DYN = {"type": "DYNAMIC", "role": "db", "principal": "tp"}


def reserved(name: str, value: float) -> dict[str, Any]:
    return scalar(name, value, reservations=[copy.deepcopy(DYN)])


VOLUME = {
    **reserved("disk", 64),
    "disk": {
        "persistence": {"id": "vol-1", "principal": "tp"},
        "volume": {"mode": "RW", "container_path": "data"},
    },
}
RES = [reserved("cpus", 0.5), reserved("mem", 64)]


def task(task_id: str, agent: dict[str, str], command: str) -> dict[str, Any]:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": agent,
        "resources": [*RES, VOLUME],
        "command": {"shell": True, "value": command},
    }


async def final_state(
    sub: Subscription, task_id: str, wanted: set[str], timeout: float = 30
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = (await sub.next("UPDATE", deadline - asyncio.get_running_loop().time()))["update"]["status"]
        await sub.ack(status)
        if status["task_id"]["value"] == task_id and status["state"] in wanted:
            return status
        assert status["state"] in ("TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"), status


async def offer_with(
    sub: Subscription, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for offer in await sub.offers(timeout=deadline - asyncio.get_running_loop().time()):
            if predicate(offer):
                return offer
            await sub.call(
                {"type": "DECLINE", "decline": {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 0}}}
            )


def has_volume(offer: dict[str, Any]) -> bool:
    return any("persistence" in (r.get("disk") or {}) for r in offer["resources"])


async def test_reserve_create_launch_relaunch_destroy_unreserve_on_process_agent(localmesos_factory) -> None:
    lm = localmesos_factory(agents=1)
    agent_dir = lm.agents[0].work_dir
    sub = await subscribe(lm.master_url + "/api/v1/scheduler")
    try:
        offer = await sub.offers(timeout=20)
        agent = offer[0]["agent_id"]
        await sub.call(
            {
                "type": "ACCEPT",
                "accept": {
                    "offer_ids": [offer[0]["id"]],
                    "operations": [
                        {"type": "RESERVE", "reserve": {"resources": [*RES, reserved("disk", 64)]}},
                        {"type": "CREATE", "create": {"volumes": [VOLUME]}},
                        {
                            "type": "LAUNCH",
                            "launch": {
                                "task_infos": [
                                    task("writer", agent, "echo kept > data/marker && exec sleep 600")
                                ]
                            },
                        },
                    ],
                    "filters": {"refuse_seconds": 0},
                },
            }
        )
        await final_state(sub, "writer", {"TASK_RUNNING"})
        volume_dir = agent_dir / "volumes" / "roles" / "db" / "vol-1"
        assert (volume_dir / "marker").read_text() == "kept\n"
        await sub.call({"type": "KILL", "kill": {"task_id": {"value": "writer"}, "agent_id": agent}})
        await final_state(sub, "writer", {"TASK_KILLED"})

        offer = await offer_with(sub, has_volume)
        await sub.call(
            {
                "type": "ACCEPT",
                "accept": {
                    "offer_ids": [offer["id"]],
                    "operations": [
                        {
                            "type": "LAUNCH",
                            "launch": {
                                "task_infos": [task("reader", agent, 'test "$(cat data/marker)" = kept')]
                            },
                        },
                    ],
                    "filters": {"refuse_seconds": 0},
                },
            }
        )
        status = await final_state(sub, "reader", {"TASK_FINISHED", "TASK_FAILED"})
        assert status["state"] == "TASK_FINISHED", status

        offer = await offer_with(sub, has_volume)
        await sub.call(
            {
                "type": "ACCEPT",
                "accept": {
                    "offer_ids": [offer["id"]],
                    "operations": [
                        {"type": "DESTROY", "destroy": {"volumes": [VOLUME]}},
                        {"type": "UNRESERVE", "unreserve": {"resources": [*RES, reserved("disk", 64)]}},
                    ],
                    "filters": {"refuse_seconds": 0},
                },
            }
        )
        await offer_with(sub, lambda o: not any(r.get("reservations") for r in o["resources"]))
        slave = lm.state()["slaves"][0]
        assert slave["reserved_resources"] == {}
        assert slave["unreserved_resources"]["cpus"] == 4.0
        for _ in range(100):
            if not volume_dir.exists():
                break
            await asyncio.sleep(0.1)
        assert not volume_dir.exists()
    finally:
        await sub.close()


async def test_supervisor_simulated_mode_offers_every_simulated_agent(localmesos_factory) -> None:
    lm = localmesos_factory(agents=3, simulated=True)
    sub = await subscribe(lm.master_url + "/api/v1/scheduler")
    try:
        offers = await sub.offers(timeout=20)
        assert len({o["agent_id"]["value"] for o in offers}) == 3
        assert lm.state()["activated_slaves"] == 3
    finally:
        await sub.close()
