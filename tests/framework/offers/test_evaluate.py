"""Offer evaluation: what a node gets from an offer, or why not (table tests)."""

from __future__ import annotations

from typing import Any

import pytest

from framework.mesos import resources as rs
from framework.offers.evaluate import Fit, NoFit, PlacementContext, evaluate, plan_offers, rack_of
from framework.offers.requirements import NodeRequirements, ReservationKey
from model.errors import InvalidInput
from model.records import TaskRecord
from tests.framework.offers.offer_factory import PRINCIPAL, ROLE, node_reservations, offer


def req(node: str = "node-0", cluster: str = "c1", **kw: Any) -> NodeRequirements:
    base: dict[str, Any] = dict(
        cluster=cluster,
        node=node,
        role=ROLE,
        principal=PRINCIPAL,
        cpus=1,
        mem=2048,
        disk=4096,
        resource_id=f"{cluster}-{node}-r",
        persistence_id=f"{cluster}-{node}-data",
    )
    return NodeRequirements(**{**base, **kw})


def ops_of(fit: Fit) -> list[dict[str, Any]]:
    return fit.operations({"name": "n", "task_id": {"value": "t"}, "command": {"value": "true"}})


def test_first_launch_reserves_creates_and_launches_in_one_accept() -> None:
    fit = evaluate(offer(), req())
    assert isinstance(fit, Fit)
    ops = ops_of(fit)
    assert [o["type"] for o in ops] == ["RESERVE", "CREATE", "LAUNCH"]
    reserved = ops[0]["reserve"]["resources"]
    assert {r["name"] for r in reserved} == {"cpus", "mem", "disk", "ports"}
    for r in reserved:
        assert r["allocation_info"] == {"role": ROLE}
        (resv,) = r["reservations"]
        assert resv["type"] == "DYNAMIC" and resv["role"] == ROLE and resv["principal"] == PRINCIPAL
        assert rs.labels_of(resv) == {"cluster": "c1", "node": "node-0", "resource_id": "c1-node-0-r"}
    (volume,) = ops[1]["create"]["volumes"]
    assert volume["disk"]["persistence"] == {"id": "c1-node-0-data", "principal": PRINCIPAL}
    assert volume["disk"]["volume"] == {"mode": "RW", "container_path": "data"}
    (task,) = ops[2]["launch"]["task_infos"]
    assert task["agent_id"] == {"value": "agent-1"}
    assert volume in task["resources"]
    assert "id" not in ops[2]
    assert not fit.relaunch_in_place


def test_ports_are_the_lowest_offered_in_name_order() -> None:
    fit = evaluate(offer(ports=[(31010, 31011), (31000, 31002)]), req())
    assert isinstance(fit, Fit)
    assert fit.ports == {
        "storage": 31000,
        "ssl_storage": 31001,
        "native_transport": 31002,
        "jmx": 31010,
        "sidecar": 31011,
    }
    (ports_res,) = [r for r in fit.task_resources if r["name"] == "ports"]
    assert rs.ranges_of(ports_res) == [(31000, 31002), (31010, 31011)]


def test_known_ports_of_a_node_are_kept() -> None:
    mine = {"storage": 31500, "ssl_storage": 31501, "native_transport": 31502, "jmx": 31503, "sidecar": 31600}
    fit = evaluate(offer(), req(ports=mine))
    assert isinstance(fit, Fit) and fit.ports == mine
    miss = evaluate(offer(ports=[(31000, 31100)]), req(ports=mine))
    assert isinstance(miss, NoFit) and "31500" in miss.reason


def test_a_new_node_takes_the_clusters_storage_ports_and_the_rest_freely() -> None:
    shared = ("storage", "ssl_storage")
    fixed = {"storage": 31001, "ssl_storage": 31003}
    fit = evaluate(offer(ports=[(31000, 31010)]), req(shared_port_names=shared, fixed_ports=fixed))
    assert isinstance(fit, Fit)
    assert fit.ports == {**fixed, "native_transport": 31000, "jmx": 31002, "sidecar": 31004}
    taken = evaluate(offer(ports=[(31002, 31100)]), req(shared_port_names=shared, fixed_ports=fixed))
    assert isinstance(taken, NoFit) and "cluster's ports [31001]" in taken.reason


def test_the_first_node_placed_in_a_batch_fixes_the_shared_ports_of_its_cluster() -> None:
    shared = ("storage", "ssl_storage")
    offers = [
        offer("agent-1", "o1", ports=[(31000, 31100)]),
        offer("agent-2", "o2", ports=[(31050, 31098)]),
        offer("agent-3", "o3", ports=[(30990, 31010), (31099, 31100)]),
    ]
    nodes = [req(f"node-{i}", shared_port_names=shared) for i in range(3)]
    plan = plan_offers(offers, nodes, PlacementContext({}, 1))
    by_node = {f.node.node: f for f in plan.fits}
    # Shared ports come from the top of the offer (where localmesos agents share a block), the
    # node's own ports from the bottom.
    assert by_node["node-0"].ports == {
        "storage": 31099,
        "ssl_storage": 31100,
        "native_transport": 31000,
        "jmx": 31001,
        "sidecar": 31002,
    }
    # agent-2 does not offer 31099-31100: no node of c1 fits there; agent-3 does.
    assert set(by_node) == {"node-0", "node-1"} and by_node["node-1"].agent_id == "agent-3"
    second = by_node["node-1"].ports
    assert second["storage"] == 31099 and second["native_transport"] == 30990
    assert "o2" in plan.declines and "31099" in plan.reasons["o2"]


def test_a_first_node_leaves_the_shared_ports_of_other_clusters_alone() -> None:
    shared = ("storage", "ssl_storage")
    # Cluster c1 already shares 31099/31100 on its nodes: c2 takes the next highest pair, so that
    # both clusters can have a node on every agent.
    fit = evaluate(
        offer(ports=[(31000, 31100)]),
        req(cluster="c2", shared_port_names=shared, shared_ports_taken=frozenset({31099, 31100})),
    )
    assert isinstance(fit, Fit)
    assert (fit.ports["storage"], fit.ports["ssl_storage"]) == (31097, 31098)


def test_first_nodes_of_two_clusters_in_one_batch_take_different_shared_ports() -> None:
    shared = ("storage", "ssl_storage")
    offers = [offer(f"agent-{i}", f"o{i}", ports=[(31000, 31100)]) for i in range(4)]
    nodes = [req(f"node-{i}", cluster=c, shared_port_names=shared) for c in ("c1", "c2") for i in range(2)]
    plan = plan_offers(offers, nodes, PlacementContext({}, 1))
    pairs = {(f.node.cluster, f.node.node): (f.ports["storage"], f.ports["ssl_storage"]) for f in plan.fits}
    assert pairs == {
        ("c1", "node-0"): (31099, 31100),
        ("c1", "node-1"): (31099, 31100),
        ("c2", "node-0"): (31097, 31098),
        ("c2", "node-1"): (31097, 31098),
    }


def test_requirements_refuse_fixed_ports_that_are_not_port_names() -> None:
    with pytest.raises(InvalidInput, match="not among the port names"):
        req(fixed_ports={"gossip": 7000})


def test_without_ports_splits_ranges_around_the_removed_ports() -> None:
    assert rs.without_ports([(31000, 31005)], [31000, 31003]) == [(31001, 31002), (31004, 31005)]
    assert rs.without_ports([(1, 65535)], []) == [(1, 65535)]
    assert rs.take_top_ports([(31000, 31005), (32000, 32000)], 3) == [31004, 31005, 32000]
    assert rs.take_top_ports([(31000, 31000)], 2) is None


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"cpus": 0.5}, "cpus: need 1, offered 0.5"),
        ({"mem": 1000}, "mem: need 2048"),
        ({"disk": 10}, "disk: need 4096"),
        ({"ports": [(31000, 31003)]}, "ports: need 5, offered 4"),
        ({"ports": []}, "ports: need 5, offered 0"),
        ({"role": "other"}, "allocated to role 'other'"),
    ],
)
def test_offers_that_do_not_fit_say_why(kwargs: dict[str, Any], needle: str) -> None:
    decision = evaluate(offer(**kwargs), req())
    assert isinstance(decision, NoFit)
    assert needle in decision.reason


def test_all_shortfalls_are_reported_together() -> None:
    decision = evaluate(offer(cpus=0.1, mem=1), req())
    assert isinstance(decision, NoFit)
    assert "cpus" in decision.reason and "mem" in decision.reason


def test_relaunch_in_place_launches_on_the_reservations_and_volume_as_offered() -> None:
    ports = [31000, 31001, 31002, 31003, 31004]
    held = node_reservations("c1", "node-0", "c1-node-0-r", "c1-node-0-data", ports=ports)
    o = offer(reserved=held, ports=[(31005, 32000)])
    fit = evaluate(o, req(agent_id="agent-1"))
    assert isinstance(fit, Fit)
    assert fit.relaunch_in_place
    assert [op["type"] for op in ops_of(fit)] == ["LAUNCH"]
    assert list(fit.task_resources) == held
    assert fit.ports == dict(
        zip(("storage", "ssl_storage", "native_transport", "jmx", "sidecar"), ports, strict=True)
    )


def _scalars(resources: list[dict[str, Any]]) -> dict[str, float]:
    return {
        r["name"]: rs.scalar_value(r) for r in resources if r.get("type") == "SCALAR" and not r.get("disk")
    }


@pytest.mark.parametrize(
    ("cpus", "mem", "unreserve", "reserve"),
    [
        (1.0, 2048, {}, {}),  # unchanged: the reservation as offered
        (0.5, 2048, {"cpus": 0.5}, {}),  # smaller: the surplus is unreserved
        (1.5, 3072, {}, {"cpus": 0.5, "mem": 1024}),  # larger: the extra is reserved
        (1.2, 1024, {"mem": 1024}, {"cpus": 0.2}),  # both at once
    ],
)
def test_relaunch_in_place_resizes_cpus_and_mem_on_the_same_agent_with_the_same_labels(
    cpus: float, mem: float, unreserve: dict[str, float], reserve: dict[str, float]
) -> None:
    ports = [31000, 31001, 31002, 31003, 31004]
    held = node_reservations("c1", "node-0", "c1-node-0-r", "c1-node-0-data", ports=ports)
    fit = evaluate(offer(reserved=held, cpus=4, mem=8192), req(agent_id="agent-1", cpus=cpus, mem=mem))
    assert isinstance(fit, Fit)
    ops = ops_of(fit)
    expected = (["UNRESERVE"] if unreserve else []) + (["RESERVE"] if reserve else []) + ["LAUNCH"]
    assert [op["type"] for op in ops] == expected
    by_type = {op["type"]: op for op in ops}
    if unreserve:
        assert _scalars(by_type["UNRESERVE"]["unreserve"]["resources"]) == pytest.approx(unreserve)
    if reserve:
        assert _scalars(by_type["RESERVE"]["reserve"]["resources"]) == pytest.approx(reserve)
    # Every resized resource keeps the node's labels: relaunches and cleanup still find it.
    for op in ops[:-1]:
        for r in op[op["type"].lower()]["resources"]:
            assert rs.reservation_labels(r)["resource_id"] == "c1-node-0-r"
    assert _scalars(list(fit.task_resources)) == pytest.approx({"cpus": cpus, "mem": mem})


def test_relaunch_that_needs_more_cpus_than_the_agent_has_free_says_so() -> None:
    held = node_reservations(
        "c1", "node-0", "c1-node-0-r", "c1-node-0-data", ports=[31000, 31001, 31002, 31003, 31004]
    )
    decision = evaluate(offer(reserved=held, cpus=0.1), req(agent_id="agent-1", cpus=2))
    assert isinstance(decision, NoFit) and "cpus: need 1 more than the 1 reserved" in decision.reason


def test_relaunch_ignores_reservations_of_other_nodes_and_other_resource_ids() -> None:
    other_node = node_reservations(
        "c1", "node-1", "c1-node-1-r", "c1-node-1-data", ports=[31000, 31001, 31002, 31003, 31004]
    )
    old_life = node_reservations(
        "c1", "node-0", "OLD", "c1-node-0-data", ports=[31005, 31006, 31007, 31008, 31009]
    )
    o = offer(reserved=other_node + old_life, ports=[])
    decision = evaluate(o, req(agent_id="agent-1"))
    assert isinstance(decision, NoFit)
    assert "volume c1-node-0-data" in decision.reason


def test_relaunch_needs_the_exact_persistence_id() -> None:
    held = node_reservations(
        "c1", "node-0", "c1-node-0-r", "another-volume", ports=[31000, 31001, 31002, 31003, 31004]
    )
    decision = evaluate(offer(reserved=held), req(agent_id="agent-1"))
    # The labelled plain resources are there but the volume is another one: never create a new one here.
    assert isinstance(decision, NoFit)
    assert "volume c1-node-0-data" in decision.reason


def test_relaunch_only_on_its_agent() -> None:
    decision = evaluate(offer(agent="agent-2"), req(agent_id="agent-1"))
    assert isinstance(decision, NoFit) and "agent-1" in decision.reason


def test_a_replacement_never_lands_on_the_agent_of_the_node_it_replaces() -> None:
    decision = evaluate(offer(agent="agent-1"), req(avoid_agent_id="agent-1"))
    assert isinstance(decision, NoFit) and "being replaced" in decision.reason
    assert isinstance(evaluate(offer(agent="agent-2"), req(avoid_agent_id="agent-1")), Fit)


def test_relaunch_recreates_a_volume_that_never_got_created_on_its_reserved_disk() -> None:
    held = node_reservations("c1", "node-0", "c1-node-0-r", None, ports=[31000, 31001, 31002, 31003, 31004])
    fit = evaluate(offer(reserved=held), req(agent_id="agent-1"))
    assert isinstance(fit, Fit)
    assert [op["type"] for op in ops_of(fit)] == ["CREATE", "LAUNCH"]


def test_one_node_of_a_cluster_per_agent_by_default() -> None:
    ctx = PlacementContext({"c1": {"agent-1": frozenset({"node-1"})}})
    decision = evaluate(offer(), req(), ctx)
    assert isinstance(decision, NoFit) and "already hosts node-1 of c1" in decision.reason
    assert isinstance(evaluate(offer(), req(cluster="c2"), ctx), Fit)
    assert isinstance(evaluate(offer(), req(), PlacementContext(ctx.placed, max_nodes_per_agent=2)), Fit)


def test_rack_comes_from_attributes_then_fault_domain() -> None:
    assert rack_of(offer(rack="r1", zone="z9")) == "r1"
    assert rack_of(offer(zone="z9")) == "z9"
    assert rack_of(offer()) is None
    fit = evaluate(offer(rack="r2"), req())
    assert isinstance(fit, Fit) and fit.rack == "r2"
    wrong = evaluate(offer(rack="r2"), req(rack="r1"))
    assert isinstance(wrong, NoFit) and "rack r1" in wrong.reason


def test_requirements_are_validated() -> None:
    with pytest.raises(InvalidInput, match="cpus"):
        req(cpus=0)
    with pytest.raises(InvalidInput, match="role"):
        req(role="*")
    with pytest.raises(InvalidInput, match="volume_path"):
        req(volume_path="/var/lib")
    with pytest.raises(InvalidInput, match="port names"):
        req(ports={"storage": 1})


def test_plan_spreads_a_cluster_over_agents_and_declines_the_rest() -> None:
    offers = [offer(agent=f"a{i}", offer_id=f"o{i}") for i in range(4)]
    nodes = [req(node=f"node-{i}") for i in range(3)]
    plan = plan_offers(offers, nodes)
    assert [f.agent_id for f in plan.fits] == ["a0", "a1", "a2"]
    assert len({f.node for f in plan.fits}) == 3
    assert plan.declines == ("o3",)
    assert "no pending node" in plan.reasons["o3"]


def test_plan_sends_pinned_nodes_home_and_cleans_orphans_elsewhere() -> None:
    held = node_reservations(
        "c1", "node-0", "c1-node-0-r", "c1-node-0-data", ports=[31000, 31001, 31002, 31003, 31004]
    )
    orphan = node_reservations("gone", "node-0", "x", "gone-data")
    offers = [
        offer(agent="a0", offer_id="o0", reserved=orphan),
        offer(agent="a1", offer_id="o1", reserved=held),
    ]
    pinned = req(agent_id="a1")
    plan = plan_offers(offers, [pinned], referenced=frozenset({pinned.key}), role=ROLE)
    assert [f.offer_id for f in plan.fits] == ["o1"] and plan.fits[0].relaunch_in_place
    assert [op["type"] for op in plan.cleanups["o0"]] == ["DESTROY", "UNRESERVE"]
    assert plan.declines == ()


def test_reservation_key_from_foreign_labels_is_none() -> None:
    assert ReservationKey.from_labels({"owner": "x"}) is None


def test_placement_from_records_blocks_the_agents_of_recorded_nodes() -> None:
    recs = [
        TaskRecord("c1", "node-1", {"task_id": {"value": "t1"}, "agent_id": {"value": "agent-1"}}),
        TaskRecord("c2", "node-0", {"task_id": {"value": "t2"}, "agent_id": {"value": "agent-2"}}),
    ]
    ctx = PlacementContext.from_records(recs)
    assert isinstance(evaluate(offer(agent="agent-1"), req(), ctx), NoFit)
    assert isinstance(evaluate(offer(agent="agent-2"), req(), ctx), Fit)
    # A node's own record never blocks it.
    assert isinstance(evaluate(offer(agent="agent-1"), req(node="node-1"), ctx), Fit)


def mount_disk(root: str, mb: float) -> dict[str, Any]:
    res = rs.scalar("disk", mb, ROLE)
    res["disk"] = {"source": {"type": "MOUNT", "mount": {"root": root}}}
    return res


def test_a_mount_node_takes_the_smallest_mount_disk_that_holds_it_whole() -> None:
    o = offer(disk=100_000)
    o["resources"] += [
        mount_disk("/mnt/big", 500_000),
        mount_disk("/mnt/small", 20_000),
        mount_disk("/mnt/tiny", 1_000),
    ]
    fit = evaluate(o, req(disk=4096, disk_type="MOUNT"))
    assert isinstance(fit, Fit)
    ops = ops_of(fit)
    (disk,) = [r for r in ops[0]["reserve"]["resources"] if r["name"] == "disk"]
    # Reserved whole, with its source, labelled for the node.
    assert disk["scalar"]["value"] == 20_000 and disk["disk"]["source"]["mount"]["root"] == "/mnt/small"
    assert rs.labels_of(disk["reservations"][-1])["node"] == "node-0"
    (volume,) = ops[1]["create"]["volumes"]
    assert volume["disk"]["source"]["mount"]["root"] == "/mnt/small"
    assert volume["disk"]["persistence"]["id"] == "c1-node-0-data" and volume["scalar"]["value"] == 20_000
    # A ROOT node leaves MOUNT disks alone and slices the root disk.
    root = evaluate(o, req(disk=4096))
    assert isinstance(root, Fit)
    (root_disk,) = [r for r in ops_of(root)[0]["reserve"]["resources"] if r["name"] == "disk"]
    assert "disk" not in root_disk and root_disk["scalar"]["value"] == 4096


def test_a_mount_node_is_refused_without_a_mount_disk_big_enough() -> None:
    o = offer()
    o["resources"].append(mount_disk("/mnt/tiny", 1_000))
    miss = evaluate(o, req(disk=4096, disk_type="MOUNT"))
    assert isinstance(miss, NoFit) and "need a MOUNT disk of at least 4096 MB, offered 1000" in miss.reason
    plain = evaluate(offer(), req(disk=4096, disk_type="MOUNT"))
    assert isinstance(plain, NoFit) and "offered none" in plain.reason
