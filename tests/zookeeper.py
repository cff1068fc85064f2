"""Pytest fixtures for tests that need a real ZooKeeper.

Use them from a conftest.py::

    from tests.zookeeper import zk_root, zookeeper_server  # noqa: F401 (fixtures)

- ``zookeeper_server`` (session): one ZooKeeper JVM for the whole run, shared even when several
  conftests import the fixture (reference-counted), stopped at the end even if tests failed.
- ``zk_root`` (function): a root path unique to the test (``/test/<name>-<random>``), deleted
  afterwards, so tests never see each other's data.
- ``own_zookeeper`` (function): a private server the test may stop and restart (outages).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from cassandra_mesos.zookeeper_server import ZooKeeperServer

_shared: ZooKeeperServer | None = None
_users = 0


@pytest.fixture(scope="session")
def zookeeper_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooKeeperServer]:
    global _shared, _users
    if _shared is None:
        _shared = ZooKeeperServer(tmp_path_factory.mktemp("zookeeper"), fsync=False).start()
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0:
            _shared.stop()
            _shared = None


@pytest.fixture
def zk_root(zookeeper_server: ZooKeeperServer, request: pytest.FixtureRequest) -> Iterator[str]:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    root = f"/test/{name}-{uuid.uuid4().hex[:8]}"
    yield root
    client = KazooClient(zookeeper_server.hosts)
    try:
        client.start(timeout=10)
        client.delete(root, recursive=True)
    except (KazooException, KazooTimeoutError):
        pass  # nothing was written, or the test stopped the server; data of a finished test is harmless
    finally:
        with contextlib.suppress(KazooException, KazooTimeoutError):
            client.stop()
        client.close()


@pytest.fixture
def own_zookeeper(tmp_path: Path) -> Iterator[ZooKeeperServer]:
    server = ZooKeeperServer(tmp_path / "zookeeper", fsync=False).start()
    try:
        yield server
    finally:
        server.stop()
