"""Raw-HTTP helpers for conformance tests: a RecordIO reader and a subscription wrapper."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from typing import Any

import aiohttp

from localmesos.master.main import run_master
from localmesos.master.state import MasterConfig

JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class RecordIO:
    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        out = []
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                return out
            size = int(self.buf[:nl])
            if len(self.buf) < nl + 1 + size:
                return out
            out.append(self.buf[nl + 1 : nl + 1 + size])
            self.buf = self.buf[nl + 1 + size :]


class Subscription:
    """One SUBSCRIBE stream on its own connection."""

    def __init__(self, url: str, resp: aiohttp.ClientResponse, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.resp = resp
        self.session = session
        self.stream_id = resp.headers.get("Mesos-Stream-Id", "")
        self.events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.framework_id = ""
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        decoder = RecordIO()
        try:
            async for chunk in self.resp.content.iter_any():
                for record in decoder.feed(chunk):
                    await self.events.put(json.loads(record))
        except (aiohttp.ClientError, asyncio.CancelledError):
            pass
        finally:
            await self.events.put(None)

    async def next(self, kind: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The next event of `kind` (skipping HEARTBEATs unless asked for).

        Events of other kinds seen meanwhile are kept in `skipped`; a later call for their kind
        returns them first, so arrival order between kinds never makes a test flaky.
        """
        if kind is not None:
            for i, event in enumerate(self.skipped):
                if event["type"] == kind:
                    return self.skipped.pop(i)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {kind} event within {timeout}s")
            event = await asyncio.wait_for(self.events.get(), left)
            if event is None:
                raise EOFError("stream closed")
            if kind is None or event["type"] == kind:
                return event
            if event["type"] == "HEARTBEAT":
                continue
            if kind == "HEARTBEAT":
                continue
            # keep other events visible for the test: record and keep waiting
            self.skipped.append(event)

    skipped: list[dict[str, Any]]

    async def closed(self, timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            event = await asyncio.wait_for(self.events.get(), deadline - asyncio.get_running_loop().time())
            if event is None:
                return

    async def call(self, body: dict[str, Any], stream_id: str | None = "") -> tuple[int, str]:
        headers = dict(JSON)
        sid = self.stream_id if stream_id == "" else stream_id
        if sid is not None:
            headers["Mesos-Stream-Id"] = sid
        body = {"framework_id": {"value": self.framework_id}, **body}
        async with self.session.post(self.url, data=json.dumps(body), headers=headers) as r:
            return r.status, await r.text()

    async def offers(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        return list((await self.next("OFFERS", timeout))["offers"]["offers"])

    async def ack(self, status: dict[str, Any]) -> None:
        if "uuid" in status:
            code, text = await self.call(
                {
                    "type": "ACKNOWLEDGE",
                    "acknowledge": {
                        "agent_id": status["agent_id"],
                        "task_id": status["task_id"],
                        "uuid": status["uuid"],
                    },
                }
            )
            assert code == 202, text

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader
        self.resp.close()
        await self.session.close()


def framework_info(**extra: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "user": "tester",
        "name": "conformance",
        "roles": ["db"],
        "principal": "tp",
        "failover_timeout": 60.0,
        "checkpoint": True,
        "capabilities": [
            {"type": "MULTI_ROLE"},
            {"type": "RESERVATION_REFINEMENT"},
            {"type": "PARTITION_AWARE"},
        ],
    }
    info.update(extra)
    return info


async def subscribe(
    url: str,
    info: dict[str, Any] | None = None,
    framework_id: str | None = None,
    suppressed: list[str] | None = None,
) -> Subscription:
    session = aiohttp.ClientSession()
    info = dict(info or framework_info())
    body: dict[str, Any] = {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
    if framework_id:
        info["id"] = {"value": framework_id}
        body["framework_id"] = {"value": framework_id}
    if suppressed is not None:
        body["subscribe"]["suppressed_roles"] = suppressed
    resp = await session.post(
        url, data=json.dumps(body), headers=JSON, timeout=aiohttp.ClientTimeout(total=None)
    )
    sub = Subscription(url, resp, session)
    sub.skipped = []
    if resp.status == 200:
        first = await sub.events.get()
        if first is not None and first["type"] == "SUBSCRIBED":
            sub.framework_id = first["subscribed"]["framework_id"]["value"]
            sub.subscribed = first
        elif first is not None:
            sub.skipped.append(first)
    return sub


class MasterUnderTest:
    def __init__(self, url: str, base: str, task: asyncio.Task[None], stop: asyncio.Event) -> None:
        self.scheduler_url = url
        self.base = base
        self.task = task
        self.stop = stop


async def start_master(tmp_path: Any, **overrides: Any) -> MasterUnderTest:
    ready = tmp_path / f"ready-{uuid.uuid4().hex}.json"
    config = MasterConfig(
        port=0,
        work_dir=str(tmp_path / "master"),
        hostname="127.0.0.1",
        ready_file=str(ready),
        **{"allocation_interval": 0.1, **overrides},
    )
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(run_master(config, stop))
    for _ in range(200):
        if ready.exists():
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = json.loads(ready.read_text())["port"]
    base = f"http://127.0.0.1:{port}"
    return MasterUnderTest(base + "/api/v1/scheduler", base, task, stop)


async def stop_master(m: MasterUnderTest) -> None:
    m.stop.set()
    await asyncio.wait_for(m.task, 10)


def new_uuid_b64() -> str:
    return base64.b64encode(uuid.uuid4().bytes).decode()


def scalar(name: str, value: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}, **extra}
