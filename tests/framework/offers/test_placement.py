"""Placement rules (Marathon-style constraints) against agent facts, and in offer evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from framework.offers.evaluate import MAX_WAIT_REASONS, Fit, NoFit, PlacementContext, evaluate, plan_offers
from framework.offers.placement import agent_facts, violation
from framework.offers.requirements import NodeRequirements
from model.cluster import parse_placement
from model.records import TaskRecord
from tests.framework.offers.offer_factory import offer
from tests.framework.offers.test_evaluate import req as evaluate_req


def test_agent_facts_are_hostname_attributes_and_fault_domain() -> None:
    o = offer("a1", rack="r1", zone="z1")
    o["attributes"] += [
        {"name": "ssd", "type": "SCALAR", "scalar": {"value": 2.0}},
        {"name": "tags", "type": "SET", "set": {"item": ["x", "y"]}},
        {"name": "slots", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 3}]}},
    ]
    assert agent_facts(o) == {
        "hostname": "a1.example",
        "rack": "r1",
        "zone": "z1",
        "region": "eu",
        "ssd": "2",
        "tags": "{x,y}",
        "slots": "[1-3]",
    }


AGENT = {"hostname": "h1", "rack": "r1"}


@pytest.mark.parametrize(
    ("rules", "others", "broken"),
    [
        ("hostname:UNIQUE", [{"hostname": "h2"}], None),
        ("hostname:UNIQUE", [{"hostname": "h1"}], "another node of the cluster is on hostname 'h1'"),
        ("rack:CLUSTER:r1", [], None),
        ("rack:IS:r2", [], "rack is 'r1', not 'r2'"),
        ("hostname:LIKE:h[0-9]", [], None),
        ("hostname:LIKE:h", [], "does not match 'h'"),  # the whole value must match
        ("hostname:UNLIKE:h1", [], "matches 'h1'"),
        ("zone:UNLIKE:z1", [], None),  # an agent without the field is never like anything
        ("zone:LIKE:z1", [], "the agent has no 'zone'"),
        ("zone:UNIQUE", [], "the agent has no 'zone'"),
        ("rack:MAX_PER:2", [{"rack": "r1"}], None),
        ("rack:MAX_PER:2", [{"rack": "r1"}, {"rack": "r1"}, {"rack": "r2"}], "'r1' already holds 2 node(s)"),
        # GROUP_BY: the least used value first.
        ("rack:GROUP_BY", [{"rack": "r2"}], None),
        ("rack:GROUP_BY", [{"rack": "r1"}, {"rack": "r2"}], None),
        ("rack:GROUP_BY", [{"rack": "r1"}, {"rack": "r2"}, {"rack": "r1"}], "another value holds 1"),
        # With the number of values, values not seen yet count as empty.
        ("rack:GROUP_BY:3", [{"rack": "r1"}, {"rack": "r2"}], "another value holds 0"),
        ("rack:GROUP_BY:2", [{"rack": "r1"}, {"rack": "r2"}], None),
        ("hostname:UNIQUE,rack:IS:r2", [{"hostname": "h2"}], "placement rack:IS:r2"),
    ],
)
def test_rules(rules: str, others: list[dict[str, str]], broken: str | None) -> None:
    got = violation(parse_placement(rules), AGENT, others)
    if broken is None:
        assert got is None
    else:
        assert got is not None and broken in got, got


def req(node: str, placement: str, **kw: Any) -> NodeRequirements:
    return evaluate_req(node, mem=1024, disk=1024, placement=parse_placement(placement), **kw)


def test_group_by_rack_spreads_a_batch_over_the_racks() -> None:
    offers = [
        offer(f"a{i}", f"o{i}", rack=rack) for i, rack in enumerate(["r1", "r1", "r1", "r2", "r2", "r3"])
    ]
    nodes = [req(f"node-{i}", "hostname:UNIQUE,rack:GROUP_BY:3") for i in range(3)]
    plan = plan_offers(offers, nodes, PlacementContext({}, 1))
    racks = sorted(f.facts["rack"] for f in plan.fits)
    assert racks == ["r1", "r2", "r3"]
    assert "rack:GROUP_BY:3" in plan.reasons["o1"]


def test_rules_count_the_nodes_already_placed_but_not_the_node_itself() -> None:
    placed = [
        TaskRecord("c1", "node-0", {"task_id": {"value": "t0"}, "agent_id": {"value": "a0"}},
                   extra={"agent": {"hostname": "a0.example", "rack": "r1"}}),
        TaskRecord("c1", "node-1", {"task_id": {"value": "t1"}, "agent_id": {"value": "a1"}},
                   extra={"hostname": "a1.example"}),  # an older record: the hostname only
    ]  # fmt: skip
    ctx = PlacementContext.from_records(placed)
    rule = "hostname:UNIQUE,rack:MAX_PER:1"
    refused = evaluate(offer("a5", rack="r1"), req("node-2", rule), ctx)
    assert isinstance(refused, NoFit) and "rack:MAX_PER:1" in refused.reason
    assert isinstance(evaluate(offer("a5", rack="r2"), req("node-2", rule), ctx), Fit)
    # A replacement of node-0 does not count node-0 against itself.
    assert isinstance(evaluate(offer("a5", rack="r1"), req("node-0", rule), ctx), Fit)
    # The hostname of an old record still counts for UNIQUE.
    same_host = offer("a9", rack="r3")
    same_host["hostname"] = "a1.example"
    refused = evaluate(same_host, req("node-2", rule), ctx)
    assert isinstance(refused, NoFit) and "hostname 'a1.example'" in refused.reason


def test_a_relaunch_in_place_ignores_the_rules() -> None:
    # The node holds its reservation there already: rules only decide where new nodes go.
    placed = [TaskRecord("c1", "node-1", {"task_id": {"value": "t1"}, "agent_id": {"value": "a1"}},
                         extra={"agent": {"hostname": "a1.example", "rack": "r1"}})]  # fmt: skip
    ctx = PlacementContext.from_records(placed)
    fit = evaluate(offer("a1", rack="r1"), req("node-1", "rack:IS:r9", agent_id="a1"), ctx)
    assert isinstance(fit, NoFit) and "placement" not in fit.reason  # refused for its volume only


def test_a_node_left_unplaced_gets_the_reason_of_every_offer_weighed() -> None:
    offers = [offer("a1", "o1", rack="r1"), offer("a2", "o2", rack="r2", mem=512)]
    nodes = [req("node-0", "rack:IS:r2")]
    plan = plan_offers(offers, nodes, PlacementContext({}, 1))
    assert plan.fits == ()
    (key,) = plan.waiting
    assert key.node == "node-0"
    assert plan.waiting[key][0] == "a1.example: node-0 of c1: placement rack:IS:r2: rack is 'r1', not 'r2'"
    assert plan.waiting[key][1].startswith("a2.example: ") and "mem" in plan.waiting[key][1]
    # A node pinned to its agent (its volume is there) waits for that agent's offer.
    pinned = plan_offers([offer("a1", "o1")], [req("node-1", "", agent_id="a9")], PlacementContext({}, 1))
    assert list(pinned.waiting.values()) == [("no offer from agent a9",)]


def test_reasons_kept_per_unplaced_node_are_capped() -> None:
    offers = [offer(f"a{i}", f"o{i}", rack="r1") for i in range(MAX_WAIT_REASONS + 15)]
    plan = plan_offers(offers, [req("node-0", "rack:IS:r2")], PlacementContext({}, 1))
    (reasons,) = plan.waiting.values()
    assert len(reasons) == MAX_WAIT_REASONS and len(plan.declines) == MAX_WAIT_REASONS + 15
