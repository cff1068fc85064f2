"""The read cache: repeated polls are answered without rebuilding, and never hide a change."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.read_cache import ReadCache
from model.errors import StoreUnavailable
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
    # The watch event of our own write may still be on its way: wait until polls are quiet.
    deadline = time.monotonic() + 10
    while True:
        builds = view.plan_builds
        if _blocks(cached) == first and view.plan_builds == builds:
            break
        assert time.monotonic() < deadline, "polls never settled"
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


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _computing_in_background(
    cache: ReadCache, key: str, value: object
) -> tuple[threading.Thread, threading.Event]:
    """Start a slow computation of ``key`` in another thread; it finishes when the event is set."""
    release, started = threading.Event(), threading.Event()

    def compute() -> object:
        started.set()
        assert release.wait(10)
        return value

    t = threading.Thread(target=cache.get, args=(key, None, compute), daemon=True)
    t.start()
    assert started.wait(10)
    return t, release


def test_stale_answer_while_another_request_recomputes() -> None:
    clock = Clock()
    cache = ReadCache(max_age=60, max_stale=2, clock=clock)
    assert cache.get("k", None, lambda: {"v": 1}) == b'{"v":1}'
    assert cache.get("k", None, lambda: {"v": 99}) == b'{"v":1}'  # fresh: reused
    cache.invalidate()  # the store changed (watch)
    t, release = _computing_in_background(cache, "k", {"v": 2})
    # Meanwhile pollers get the previous answer at once instead of queueing.
    assert cache.peek("k", None) == b'{"v":1}'
    assert cache.get("k", None, lambda: {"v": 3}) == b'{"v":1}'
    release.set()
    t.join(10)
    assert cache.get("k", None, lambda: {"v": 4}) == b'{"v":2}'


def test_no_stale_answer_after_an_api_write_or_when_too_old() -> None:
    clock = Clock()
    cache = ReadCache(max_age=60, max_stale=2, clock=clock)
    cache.get("k", None, lambda: {"v": 1})
    cache.invalidate_hard()  # a change made through the API
    t, release = _computing_in_background(cache, "k", {"v": 2})
    assert cache.peek("k", None) is None
    release.set()
    t.join(10)
    assert cache.get("k", None, lambda: {"v": 3}) == b'{"v":2}'

    cache.invalidate()
    clock.now += 5  # older than max_stale
    t, release = _computing_in_background(cache, "k", {"v": 5})
    assert cache.peek("k", None) is None
    release.set()
    t.join(10)


def test_fingerprint_change_recomputes_for_a_sequential_reader() -> None:
    cache = ReadCache(max_age=60)
    assert cache.get("k", "health-a", lambda: 1) == b"1"
    assert cache.get("k", "health-b", lambda: 2) == b"2"
    assert cache.get("k", "health-b", lambda: 3) == b"2"


def test_without_a_store_watch_nothing_is_cached() -> None:
    class Unwatchable:
        def watch(self, callback: object) -> None:
            raise StoreUnavailable("ZooKeeper session of /x is not connected")

    cache = ReadCache(max_age=60)
    cache.follow(Unwatchable())  # type: ignore[arg-type]
    assert not cache.enabled
    assert cache.get("k", None, lambda: 1) == b"1"
    assert cache.get("k", None, lambda: 2) == b"2"
