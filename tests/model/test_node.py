"""Node identity: names, task ids, ports, seeds, racks and balanced initial tokens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.cluster import parse_spec
from model.errors import InvalidInput
from model.node import (
    MURMUR3_MAX,
    MURMUR3_MIN,
    RING_SIZE,
    NodeHealth,
    datacenter_token_offset,
    initial_token_string,
    initial_tokens,
    is_seed,
    node_index,
    node_initial_tokens,
    node_name,
    node_rack,
    parse_task_id,
    seed_nodes,
    task_id,
)


def test_node_names_round_trip() -> None:
    assert node_name(0) == "node-0"
    assert node_index("node-12") == 12
    assert [node_index(node_name(i)) for i in range(20)] == list(range(20))


@pytest.mark.parametrize("bad", ["node-", "node-01", "node--1", "Node-1", "node-1x", "n-1", "", "node-1 "])
def test_bad_node_names(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not a node name"):
        node_index(bad)


def test_task_ids_round_trip() -> None:
    tid = task_id("prod-eu", "node-3", "6c1f0e2a9b")
    assert tid == "prod-eu__node-3__6c1f0e2a9b"
    parsed = parse_task_id(tid)
    assert (parsed.cluster, parsed.node, parsed.uuid) == ("prod-eu", "node-3", "6c1f0e2a9b")
    assert str(parsed) == tid


@pytest.mark.parametrize(
    "bad",
    ["node-0__abc", "demo__node-0", "demo_node-0_abc", "Demo__node-0__abc", "demo__node-0__a b", "x__y__z"],
)
def test_foreign_task_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not a task id"):
        parse_task_id(bad)


def test_seeds_are_the_first_nodes_by_index() -> None:
    spec = parse_spec({"nodes": 5, "seeds": 3})
    assert seed_nodes(spec) == ["node-0", "node-1", "node-2"]
    assert [is_seed(spec, f"node-{i}") for i in range(5)] == [True, True, True, False, False]
    assert seed_nodes(parse_spec({"nodes": 9, "seeds": 3})) == seed_nodes(spec)  # stable when scaling


def test_node_racks() -> None:
    spec = parse_spec({"nodes": 4, "racks": ["a", "b"]})
    assert [node_rack(spec, f"node-{i}") for i in range(4)] == ["a", "b", "a", "b"]


def test_single_token_cluster_matches_the_classic_formula() -> None:
    # The formula of the Cassandra docs for Murmur3: (2**64 // N) * i - 2**63.
    assert [t[0] for t in initial_tokens(4, 1)] == [(2**64 // 4) * i - 2**63 for i in range(4)]
    assert initial_token_string(initial_tokens(2, 2)[0]) == f"{MURMUR3_MIN},0"


@settings(deadline=None)  # wall-clock deadlines flake on a loaded machine
@given(st.integers(1, 64), st.integers(1, 32), st.integers(0, 2**20 - 1))
def test_tokens_are_unique_in_range_and_balanced(nodes: int, num_tokens: int, offset: int) -> None:
    lists = initial_tokens(nodes, num_tokens, offset)
    assert len(lists) == nodes and all(len(t) == num_tokens for t in lists)
    flat = sorted(t for tokens in lists for t in tokens)
    assert len(set(flat)) == len(flat)
    assert flat[0] >= MURMUR3_MIN and flat[-1] <= MURMUR3_MAX
    # Ownership: each token owns the arc from the previous token; every node owns 1/N of the ring.
    owner = {t: i for i, tokens in enumerate(lists) for t in tokens}
    owned = [0] * nodes
    for prev, tok in zip([flat[-1] - RING_SIZE, *flat[:-1]], flat, strict=True):
        owned[owner[tok]] += tok - prev
    assert sum(owned) == RING_SIZE
    assert all(abs(o * nodes - RING_SIZE) <= 2 * num_tokens * nodes for o in owned)  # off by rounding only
    # Consecutive tokens on the ring belong to consecutive nodes (so they alternate racks).
    assert [owner[t] for t in flat[:nodes]] == list(range(nodes))


def test_datacenters_get_different_stable_offsets() -> None:
    assert datacenter_token_offset("dc1") == datacenter_token_offset("dc1")
    assert datacenter_token_offset("dc1") != datacenter_token_offset("dc2")
    dc1 = {t for ts in initial_tokens(3, 4, datacenter_token_offset("dc1")) for t in ts}
    dc2 = {t for ts in initial_tokens(3, 4, datacenter_token_offset("dc2")) for t in ts}
    assert not dc1 & dc2


def test_one_nodes_tokens_match_the_whole_table() -> None:
    table = initial_tokens(7, 5, 123)
    assert [node_initial_tokens(i, 7, 5, 123) for i in range(7)] == table
    with pytest.raises(InvalidInput, match="outside a cluster of 7"):
        node_initial_tokens(7, 7, 5)


def test_token_arguments_are_checked() -> None:
    with pytest.raises(InvalidInput):
        initial_tokens(0, 16)
    with pytest.raises(InvalidInput):
        initial_tokens(3, 16, offset=-1)


def test_health_readiness_needs_normal_and_cql() -> None:
    assert NodeHealth("NORMAL", True).is_ready
    assert not NodeHealth("NORMAL", False).is_ready
    assert not NodeHealth("JOINING", True).is_ready
    assert NodeHealth.from_json({"mode": "normal", "cql_ready": True, "task_id": "t"}) == NodeHealth(
        "NORMAL", True, "t"
    )
    assert NodeHealth.from_json({"mode": "weird"}).mode == "UNKNOWN"
    assert NodeHealth.from_json(None) == NodeHealth()
    assert NodeHealth.from_json(NodeHealth("JOINING", False, "x").to_json()) == NodeHealth(
        "JOINING", False, "x"
    )
