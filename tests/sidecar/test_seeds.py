"""Seeds: the answer's validation, retries until usable, and change detection while running."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sidecar.config import Seeds
from sidecar.seeds import SeedsClient, SeedsUnavailable, parse_seeds, watch_seeds
from tests.sidecar.harness import SeedsServer


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"isSeed": True, "seeds": []}, Seeds(True, ())),
        (
            {"isSeed": False, "seeds": ["10.0.0.1", " 10.0.0.2:7000 "]},
            Seeds(False, ("10.0.0.1", "10.0.0.2:7000")),
        ),
    ],
)
def test_parse(body: Any, expected: Seeds) -> None:
    assert parse_seeds(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "expected a JSON object, got list"),
        ({"seeds": []}, "'isSeed' must be true or false"),
        ({"isSeed": "yes", "seeds": []}, "'isSeed' must be true or false"),
        ({"isSeed": False, "seeds": "10.0.0.1"}, "'seeds' must be a list"),
        ({"isSeed": False, "seeds": [""]}, "'seeds' must be a list of non-empty strings"),
    ],
)
def test_parse_rejects(body: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_seeds(body)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


async def test_retries_with_backoff_until_usable() -> None:
    server = SeedsServer()
    t = FakeTime()
    calls = 0
    try:
        async with httpx.AsyncClient() as http:
            client = SeedsClient(f"{server.url}/v1/clusters/c/seeds?node=node-1", http)
            answers = [
                (503, {"message": "no leader"}),
                (200, {"isSeed": False, "seeds": []}),
                (200, {"isSeed": False, "seeds": ["10.0.0.1"]}),
            ]

            async def sleep(s: float) -> None:
                nonlocal calls
                calls += 1
                server.answers["node-1"] = answers[calls]
                await t.sleep(s)

            server.answers["node-1"] = answers[0]
            seeds = await client.fetch_usable(60, t.clock, sleep)
        assert seeds == Seeds(False, ("10.0.0.1",))
        assert t.sleeps == [0.5, 1.0]
    finally:
        server.close()


async def test_gives_up_at_the_deadline_with_the_last_reason() -> None:
    server = SeedsServer()
    t = FakeTime()
    try:
        server.set("node-1", is_seed=False, seeds=[], status=500)
        async with httpx.AsyncClient() as http:
            client = SeedsClient(f"{server.url}/v1/clusters/c/seeds?node=node-1", http)
            with pytest.raises(SeedsUnavailable, match=r"no usable seeds after 30 s: .*HTTP 500"):
                await client.fetch_usable(30, t.clock, t.sleep)
        assert sum(t.sleeps) == pytest.approx(30)
        assert max(t.sleeps) <= 10
    finally:
        server.close()


async def test_unreachable_scheduler_is_reported() -> None:
    async with httpx.AsyncClient() as http:
        client = SeedsClient("http://127.0.0.1:1/v1/clusters/c/seeds?node=node-0", http)
        with pytest.raises(SeedsUnavailable, match="ConnectError"):
            await client.fetch()


async def test_watch_applies_only_changes_and_survives_failures() -> None:
    server = SeedsServer()
    applied: list[Seeds] = []
    script = [
        (200, {"isSeed": True, "seeds": []}),  # unchanged
        (500, {"message": "failover"}),  # poll fails: keep going
        (200, {"isSeed": True, "seeds": ["10.0.0.2"]}),  # change: apply fails once
        (200, {"isSeed": True, "seeds": ["10.0.0.2"]}),  # retried
        (200, {"isSeed": True, "seeds": ["10.0.0.2"]}),  # now applied: nothing to do
        (200, {"isSeed": False, "seeds": []}),  # unusable: ignored
    ]
    step = 0

    class Done(Exception):
        pass

    async def sleep(_: float) -> None:
        nonlocal step
        if step == len(script):
            raise Done
        server.answers["node-0"] = script[step]
        step += 1

    failed_once = False

    async def apply(seeds: Seeds) -> None:
        nonlocal failed_once
        if not failed_once:
            failed_once = True
            raise RuntimeError("nodetool: Failed to connect")
        applied.append(seeds)

    try:
        async with httpx.AsyncClient() as http:
            client = SeedsClient(f"{server.url}/v1/clusters/c/seeds?node=node-0", http)
            with pytest.raises(Done):
                await watch_seeds(client, Seeds(True, ()), apply, 1.0, sleep)
        assert applied == [Seeds(True, ("10.0.0.2",))]
    finally:
        server.close()
