"""The sidecar's HTTP handlers with injected process state and a scripted nodetool (no JVM)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sidecar.config import NodePaths
from sidecar.http import (
    STATUS_TTL_S,
    CqlProbe,
    Readiness,
    SidecarState,
    StatusSource,
    build_app,
    status_ttl,
)
from sidecar.jobs import JobRunner
from sidecar.node_status import NodetoolStatusReader
from sidecar.nodetool import Nodetool
from tests.sidecar.harness import node_config

FIXTURES = Path(__file__).parent / "fixtures"
OUTPUT = {
    "info": (FIXTURES / "info_vnodes.txt").read_text(),
    "status": (FIXTURES / "status_vnodes_one_down.txt").read_text(),
    "netstats": (FIXTURES / "netstats.txt").read_text(),
}


class FakeProbe(CqlProbe):
    def __init__(self, answer: Readiness) -> None:
        super().__init__("127.0.0.1", 1)
        self.answer = answer

    async def check(self) -> Readiness:
        return self.answer


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def make_state(
    tmp_path: Path, alive: bool, nodetool_ok: bool, probe: Readiness, clock: Clock | None = None
) -> tuple[SidecarState, list[str]]:
    calls: list[str] = []

    async def runner(cmd: Sequence[str], timeout: float) -> tuple[int | None, str]:
        calls.append(cmd[-1])
        if not nodetool_ok:
            return (
                1,
                "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'.",
            )
        return 0, OUTPUT[cmd[-1]]

    node = node_config("http://s:1", data_center="dc1", rack="r1")
    paths = NodePaths(tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, Path("/java"))
    nodetool = Nodetool(paths, node.ports.jmx, runner=runner)
    state = SidecarState(
        node=node,
        process_alive=lambda: alive,
        process_pid=lambda: 4242 if alive else None,
        probe=FakeProbe(probe),
        status=StatusSource(node, NodetoolStatusReader(nodetool), clock or Clock()),
        jobs=JobRunner(nodetool),
        phase="running" if alive else "waiting-for-seeds",
    )
    return state, calls


async def test_running_node(tmp_path: Path) -> None:
    state, calls = make_state(tmp_path, True, True, Readiness(True, "CQL answers", "5.0.8"))
    async with TestClient(TestServer(build_app(state))) as client:
        health = await client.get("/health")
        assert health.status == 200
        assert await health.json() == {"alive": True, "pid": 4242, "phase": "running"}
        ready = await client.get("/ready")
        assert ready.status == 200 and (await ready.json())["version"] == "5.0.8"
        status = await client.get("/status")
        assert status.status == 200
        body = await status.json()
        assert (body["mode"], body["data_center"], body["rack"], body["tokens"]) == (
            "NORMAL",
            "dc1",
            "r1",
            16,
        )
        assert body["host_id"] == "eef15c33-ec6c-4a44-a1ab-48a6111fb29c"
        assert body["version"] == "5.0.8"
        assert [(m["address"], m["state"], m["data_center"]) for m in body["ring"]] == [
            ("127.20.186.219:55579", "UN", "dc1"),
            ("127.183.66.26:40015", "DN", "dc2"),
        ]
        await client.get("/status")  # served from the cache: no second round of nodetool JVMs
    assert sorted(calls) == ["info", "netstats", "status"]


async def test_starting_node_is_alive_but_not_ready(tmp_path: Path) -> None:
    state, _ = make_state(
        tmp_path, True, False, Readiness(False, "CQL not answering: ConnectionRefusedError")
    )
    async with TestClient(TestServer(build_app(state))) as client:
        assert (await client.get("/health")).status == 200
        ready = await client.get("/ready")
        assert ready.status == 503 and "ConnectionRefusedError" in (await ready.json())["detail"]
        status = await client.get("/status")
        assert status.status == 503
        assert "Failed to connect" in (await status.json())["message"]


async def test_no_process(tmp_path: Path) -> None:
    state, calls = make_state(tmp_path, False, True, Readiness(True, "unused"))
    async with TestClient(TestServer(build_app(state))) as client:
        for path in ("/health", "/ready", "/status"):
            r = await client.get(path)
            assert r.status == 503, path
        assert (await (await client.get("/health")).json())["phase"] == "waiting-for-seeds"
    assert calls == []


async def test_status_is_cached_long_only_while_nothing_changes(tmp_path: Path) -> None:
    clock = Clock()
    state, calls = make_state(tmp_path, True, True, Readiness(True, "CQL answers"), clock)
    async with TestClient(TestServer(build_app(state))) as client:
        assert (await (await client.get("/status")).json())["age_s"] == 0.0
        assert len(calls) == 3
        # The fixture's ring has a DN peer: things are changing, so only 5 s of caching.
        clock.now += 4
        assert (await (await client.get("/status")).json())["age_s"] == 4.0
        clock.now += 2
        await client.get("/status")
        assert len(calls) == 6
        state.status.invalidate()  # what a stop does
        await client.get("/status")
        assert len(calls) == 9


@pytest.mark.parametrize("source", ["jmx", "nodetool"])
@pytest.mark.parametrize(
    ("status", "settled"),
    [
        ({"mode": "NORMAL", "ring": [{"state": "UN"}, {"state": "UN"}]}, True),
        ({"mode": "NORMAL", "ring": [{"state": "UN"}, {"state": "DN"}]}, False),
        ({"mode": "NORMAL", "ring": [{"state": "UN"}, {"state": "UJ"}]}, False),
        ({"mode": "JOINING", "ring": [{"state": "UJ"}]}, False),
        ({"mode": "DRAINED", "ring": []}, False),
    ],
)
def test_status_ttl(status: dict[str, object], settled: bool, source: str) -> None:
    stable, changing = STATUS_TTL_S[source]
    assert stable > changing
    assert status_ttl({**status, "source": source}) == (stable if settled else changing)
