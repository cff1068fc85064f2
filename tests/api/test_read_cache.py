"""The read cache: repeated polls are answered without rebuilding, and never hide a change."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from model.node import NodeHealth
from tests.api.conftest import StoreView, fake_sidecar, launch


@pytest.fixture
def cached(view: StoreView) -> Iterator[TestClient]:
    with TestClient(create_app(view, sidecar_status=fake_sidecar, read_cache_s=60.0)) as c:
        yield c


def _blocks(c: TestClient) -> dict[str, str]:
    plan = c.get("/v1/clusters/demo/plans/deploy").json()
    return {b["name"]: b["status"] for p in plan["phases"] for b in p["blocks"]}


def test_polls_reuse_the_answer_until_the_store_changes(cached: TestClient, view: StoreView) -> None:
    cached.put("/v1/clusters/demo", json={"nodes": 2, "seeds": 2})
    first = _blocks(cached)
    builds = view.plan_builds
    for _ in range(5):
        assert _blocks(cached) == first
    assert view.plan_builds == builds, "polls rebuilt the plan although nothing changed"

    # A write by someone else (the reconciler): the store's watch invalidates within moments.
    launch(view, "demo", "node-0", ready=False)
    deadline = time.monotonic() + 10
    while _blocks(cached)["node-0"] != "STARTED":
        assert time.monotonic() < deadline, "the cache hid a store change"
        time.sleep(0.01)


def test_api_writes_and_health_changes_show_at_once(cached: TestClient, view: StoreView) -> None:
    cached.put("/v1/clusters/demo", json={"nodes": 1})
    assert cached.get("/v1/clusters/demo").json()["status"] == "DEPLOYING"
    launch(view, "demo", "node-0", ready=False)
    # Health is in the scheduler's memory, not the store: it is part of the cache key.
    record = view.store.get_tasks("demo")["node-0"]
    view.health["demo"] = {"node-0": NodeHealth("NORMAL", True, record.task_id)}
    assert cached.get("/v1/clusters/demo").json()["status"] == "RUNNING"
    assert cached.get("/v1/clusters/demo/nodes").json()[0]["mode"] == "NORMAL"
    # A mutation through the API is visible to the very next read.
    assert cached.get("/v1/clusters/demo/plans/deploy").json()["status"] == "COMPLETE"
    assert cached.post("/v1/clusters/demo/scale", json={"nodes": 2}).status_code == 202
    assert cached.get("/v1/clusters/demo").json()["spec"]["nodes"] == 2
    assert _blocks(cached)["node-1"] == "PENDING"
    assert cached.post("/v1/clusters/demo/plans/deploy/interrupt").status_code == 200
    assert cached.get("/v1/clusters/demo/plans/deploy").json()["status"] == "WAITING"
