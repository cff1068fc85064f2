"""Placement rules and offer waits with a real scheduler against localmesos (racks r1, r2, r3)."""

from __future__ import annotations

import pytest

from localmesos.harness import LocalMesos
from plans.render import render_plan
from tests.scheduler.harness import CLUSTER, SMALL_NODE, InProcessScheduler, eventually

pytestmark = [pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(120)]


async def test_a_node_no_agent_may_take_waits_and_says_which_rule_refuses_each_agent(
    scheduler: InProcessScheduler, mesos: LocalMesos
) -> None:
    store, service = scheduler.store, scheduler.service
    assert store is not None and service is not None
    # Three nodes, one per host, but only racks r1 and r2 allowed: the third node has nowhere to go.
    store.put_config(
        CLUSTER, {"nodes": 3, "seeds": 1, "placement": "hostname:UNIQUE,rack:LIKE:r[12]", **SMALL_NODE}, None
    )
    service.wake()

    def placed_two_and_one_waits() -> bool:
        tasks = store.get_tasks(CLUSTER)
        waits = service.offer_waits(CLUSTER)
        return len(tasks) == 2 and any(w.reasons for w in waits)

    await eventually(
        "two nodes placed and the third waiting with reasons", placed_two_and_one_waits, timeout=60
    )
    records = store.get_tasks(CLUSTER)
    assert sorted(r.agent_facts["rack"] for r in records.values()) == ["r1", "r2"]
    (wait,) = service.offer_waits(CLUSTER)
    assert wait.node == "node-2" and wait.checked_s_ago is not None
    text = "\n".join(wait.reasons)
    # The agent in rack r3 is refused by the rack rule, the others by UNIQUE hostname.
    assert "placement rack:LIKE:r[12]: rack 'r3' does not match 'r[12]'" in text, text
    assert "placement hostname:UNIQUE" in text or "already hosts" in text, text
    plan = render_plan(service.plans(CLUSTER)["deploy"])
    assert plan["status"] != "COMPLETE"

    # Allow r3: the waiting node is placed there and nothing waits any more.
    spec = {"nodes": 3, "seeds": 1, "placement": "hostname:UNIQUE,rack:GROUP_BY:3", **SMALL_NODE}
    target = store.get_target_versioned(CLUSTER)
    assert target is not None
    store.put_config(CLUSTER, spec, target.version)
    service.wake()

    def all_placed() -> bool:
        return len(store.get_tasks(CLUSTER)) == 3 and service.offer_waits(CLUSTER) == []

    await eventually("the third node placed on rack r3", all_placed, timeout=60)
    assert sorted(r.agent_facts["rack"] for r in store.get_tasks(CLUSTER).values()) == ["r1", "r2", "r3"]
