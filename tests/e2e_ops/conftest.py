"""One real 3-node Cassandra cluster on five localmesos agents, shared by the operations tests.

Five agents: three for the original nodes, one for the node added by scale-out, one free for the
node that replaces a node whose agent was stopped. The cluster starts on the Cassandra release
before the pinned one (the rolling update upgrades it) and is written 1,000 rows at QUORUM
(replication factor 3) once; every later test checks they are all still readable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cassandra.cluster import Cluster, Session

import jvm
from cassandra_mesos.up import LocalStack, demo_spec, wait_deployed
from tests.e2e.realnodes import connect, e2e_settings, expected_rows, read_rows, write_rows

CLUSTER = "ops"
AGENTS = 5
HEAP_MB = 384
# Generous: a machine shared with other suites answers nodetool (health) slowly.
DEPLOY_TIMEOUT = 600.0
# The Makefile exports it and `make test` fetches its jars (target jars-previous).
PREVIOUS_RELEASE = os.environ.get("CASSANDRA_PREVIOUS_VERSION", "5.0.7")


@dataclass
class OpsCluster:
    stack: LocalStack
    name: str
    cluster: Cluster
    session: Session


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(e2e_settings(tmp_path_factory.mktemp("e2e-ops"), agents=AGENTS)) as s:
        yield s


@pytest.fixture(scope="module")
def ops(stack: LocalStack) -> Iterator[OpsCluster]:
    try:
        jvm.cassandra_lib(PREVIOUS_RELEASE)
    except jvm.JarsNotFound as exc:
        pytest.fail(f"{exc} (the upgrade test starts on it: `make jars-previous`)")
    spec = {**demo_spec(3, heap_mb=HEAP_MB), "cassandra_version": PREVIOUS_RELEASE}
    r = stack.api("PUT", f"/v1/clusters/{CLUSTER}", spec)
    assert r.status_code == 202, r.text
    points = wait_deployed(stack, CLUSTER, 3, timeout=DEPLOY_TIMEOUT)
    cluster, session = connect(points)
    try:
        write_rows(session)
        assert read_rows(session) == expected_rows()
        yield OpsCluster(stack, CLUSTER, cluster, session)
    finally:
        cluster.shutdown()
