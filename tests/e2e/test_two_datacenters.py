"""One cluster across two datacenters, each run by its own framework instance (its own ZooKeeper,
localmesos and scheduler), as on two Mesos clusters: the instances exchange seeds through their
APIs and the two nodes form one ring, dc1 and dc2, both UN, each answering for the other's data."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from cassandra_mesos.up import LocalStack, demo_spec, wait_deployed
from tests.e2e.realnodes import api_json, connect, e2e_settings, nodes, nodetool_status, sandbox_of, wait_for

pytestmark = [pytest.mark.cassandra, pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(900)]

CLUSTER = "span"


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, LocalStack]]:
    # Distinct port blocks: both instances run on this one host, and JMX binds 127.0.0.1.
    low, high = random.sample(range(20000, 31600, 200), 2)
    one = dataclasses.replace(e2e_settings(tmp_path_factory.mktemp("dc1"), agents=1), port_base=low)
    two = dataclasses.replace(e2e_settings(tmp_path_factory.mktemp("dc2"), agents=1), port_base=high)
    with LocalStack(one) as a, LocalStack(two) as b:
        yield a, b


def test_two_instances_exchange_seeds_and_their_nodes_form_one_ring(
    stacks: tuple[LocalStack, LocalStack], tmp_path: Path
) -> None:
    a, b = stacks
    for stack, dc, peer in ((a, "dc1", b), (b, "dc2", a)):
        spec = {**demo_spec(1, heap_mb=384), "data_center": dc, "peers": [peer.api_url]}
        r = stack.api("PUT", f"/v1/clusters/{CLUSTER}", spec)
        assert r.status_code == 202, r.text
    for stack in (a, b):
        wait_deployed(stack, CLUSTER, 1, timeout=480)

    # Each instance serves the other's seed after its own (exchanged again soon while a side had none).
    def both_seeds() -> tuple[list[str], list[str]] | None:
        sa = api_json(a, f"/v1/clusters/{CLUSTER}/seeds")["seeds"]
        sb = api_json(b, f"/v1/clusters/{CLUSTER}/seeds")["seeds"]
        return (sa, sb) if len(sa) == 2 and len(sb) == 2 else None

    seeds_a, seeds_b = wait_for("both datacenters' seeds on both sides", both_seeds, timeout=60)
    assert seeds_b == [seeds_a[1], seeds_a[0]], (seeds_a, seeds_b)
    node_a = nodes(a, CLUSTER)["node-0"]

    def one_ring() -> list[tuple[str, str]] | None:
        ring = nodetool_status(sandbox_of(a, node_a["task_id"]))
        found = sorted((m.data_center, m.code) for m in ring)
        return found if found == [("dc1", "UN"), ("dc2", "UN")] else None

    wait_for("dc1's node to see dc2's node UN in one ring", one_ring, timeout=240, interval=3.0)
    # A keyspace replicated to both datacenters is written through dc1 and read through dc2.
    session_cluster, session = connect([f"{node_a['hostname']}:{node_a['ports']['native_transport']}"])
    try:
        session.execute(
            "CREATE KEYSPACE IF NOT EXISTS both_dcs WITH replication = "
            "{'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}"
        )
        session.execute("CREATE TABLE IF NOT EXISTS both_dcs.kv (k int PRIMARY KEY, v text)")
        session.execute("INSERT INTO both_dcs.kv (k, v) VALUES (1, 'written in dc1')")
    finally:
        session_cluster.shutdown()
    node_b = nodes(b, CLUSTER)["node-0"]
    other_cluster, other = connect([f"{node_b['hostname']}:{node_b['ports']['native_transport']}"])
    try:
        row = wait_for(
            "the row through dc2",
            lambda: other.execute("SELECT v FROM both_dcs.kv WHERE k = 1").one(),
            timeout=60,
        )
        assert row.v == "written in dc1"
    finally:
        other_cluster.shutdown()
