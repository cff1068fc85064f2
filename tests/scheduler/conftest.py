"""Scenario fixtures: one ZooKeeper for the session, a localmesos with three racked agents per module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.config import parse_config
from localmesos.harness import LocalMesos
from tests.scheduler.harness import InProcessScheduler, config_dict
from tests.zookeeper import own_zookeeper, zk_root, zookeeper_server  # noqa: F401 (fixtures)

RACKS = ["rack:r1", "rack:r2", "rack:r3"]


@pytest.fixture(scope="module")
def mesos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMesos]:
    with LocalMesos(
        tmp_path_factory.mktemp("lm"),
        agents=3,
        attributes=RACKS,
        allocation_interval=0.1,
        heartbeat_interval=1.0,
    ) as lm:
        yield lm


@pytest.fixture
def role() -> str:
    # A role per test: reservations of one test are never offered to another sharing the agents.
    return f"cass-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def scheduler(
    mesos: LocalMesos,
    zookeeper_server: ZooKeeperServer,  # noqa: F811 (the fixture imported above)
    zk_root: str,  # noqa: F811
    role: str,
) -> AsyncIterator[InProcessScheduler]:
    """The production scheduler in-process against this module's localmesos and a real ZooKeeper."""
    config = parse_config(config_dict(mesos.master_url, zookeeper_server.hosts, zk_root, role))
    async with InProcessScheduler(config) as s:
        yield s
