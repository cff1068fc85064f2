"""A minimal scheduler around MesosDriver for integration tests: records events, stores updates."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx

from framework.mesos.calls import FrameworkInfoSpec
from framework.mesos.driver import MesosDriver
from framework.mesos.events import offers_of, status_of

Json = dict[str, Any]


class StoreDown(Exception):
    """The test's stand-in for a ZooKeeper write that failed."""


class TestScheduler:
    """Runs a driver; ``stored`` holds every status update in the order it was stored."""

    __test__ = False

    def __init__(
        self, masters: list[str], info: FrameworkInfoSpec, framework_id: str | None = None, **kw: Any
    ):
        self.stored_id = framework_id
        self.events: list[Json] = []
        self.stored: list[Json] = []
        self.offers: dict[str, Json] = {}
        self.fail_store: Callable[[Json], bool] = lambda status: False
        self.fail_id_store: Callable[[str], bool] = lambda framework_id: False
        self.fail_offers: Callable[[list[Json]], bool] = lambda offers: False
        self._changed = asyncio.Event()
        # Every call the driver sends, with the uuids stored at that moment (to check ack order).
        self.calls: list[tuple[Json, frozenset[str]]] = []
        self.headers: list[tuple[str, httpx.Headers]] = []
        self.client = httpx.AsyncClient(event_hooks={"request": [self._record_call]})
        self.driver = MesosDriver(
            masters, info, self._on_event, self._get_id, self._set_id, client=self.client, **kw
        )
        self.task: asyncio.Task[None] | None = None

    async def _record_call(self, request: httpx.Request) -> None:
        body = json.loads(request.content)
        self.headers.append((body["type"], request.headers))
        self.calls.append((body, frozenset(st["uuid"] for st in self.stored if st.get("uuid"))))

    def acks(self) -> list[tuple[str, frozenset[str]]]:
        """(uuid acknowledged, uuids stored when the ACKNOWLEDGE was sent) for every ACKNOWLEDGE."""
        return [(c["acknowledge"]["uuid"], stored) for c, stored in self.calls if c["type"] == "ACKNOWLEDGE"]

    async def _get_id(self) -> str | None:
        return self.stored_id

    async def _set_id(self, framework_id: str) -> None:
        if self.fail_id_store(framework_id):
            raise StoreDown(f"store unavailable for framework id {framework_id}")
        self.stored_id = framework_id

    async def _on_event(self, event: Json) -> None:
        self.events.append(event)
        try:
            if event["type"] == "OFFERS":
                if self.fail_offers(offers_of(event)):
                    raise StoreDown("offer handler failed")
                for offer in offers_of(event):
                    self.offers[offer["id"]["value"]] = offer
            elif event["type"] == "RESCIND":
                self.offers.pop(event["rescind"]["offer_id"]["value"], None)
            elif event["type"] == "SUBSCRIBED":
                self.offers.clear()  # offers die with the old subscription
            elif event["type"] == "UPDATE":
                status = status_of(event)
                if self.fail_store(status):
                    raise StoreDown(f"store unavailable for {status['state']}")
                self.stored.append(status)
        finally:
            self._changed.set()

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self.driver.run())
        return self.task

    async def stop(self) -> None:
        self.driver.stop()
        if self.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self.task
        await self.client.aclose()

    async def wait_for(self, what: str, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Poll ``predicate`` on every event until it is truthy; fail naming ``what`` after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if self.task is not None and self.task.done():
                raise AssertionError(f"driver stopped while waiting for {what}: {self.task}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; last events: {self.events[-5:]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 0.5)):
                    await self._changed.wait()

    async def take_offer(self, what: str, predicate: Callable[[Json], bool], timeout: float = 20.0) -> Json:
        def find() -> Json | None:
            for oid, offer in list(self.offers.items()):
                if predicate(offer):
                    return self.offers.pop(oid)
            return None

        offer: Json = await self.wait_for(what, find, timeout)
        return offer

    def states(self, task_id: str) -> list[str]:
        return [s["state"] for s in self.stored if s["task_id"]["value"] == task_id]
