"""A deliberately small v1 scheduler over raw HTTP (httpx + RecordIO), for localmesos fault tests.

It is not the project's driver: tests here check localmesos the way any third-party framework
would see it. Events are collected by a reader thread; tests wait for them with deadlines.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

Event = dict[str, Any]


def framework_info(
    name: str = "lm-test",
    role: str = "test",
    partition_aware: bool = False,
    framework_id: str | None = None,
    checkpoint: bool = True,
    killing_state: bool = False,
) -> dict[str, Any]:
    caps = [{"type": "MULTI_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]
    if killing_state:
        caps.append({"type": "TASK_KILLING_STATE"})
    if partition_aware:
        caps.append({"type": "PARTITION_AWARE"})
    info: dict[str, Any] = {
        "user": "root",
        "name": name,
        "roles": [role],
        "checkpoint": checkpoint,
        "failover_timeout": 3600.0,
        "capabilities": caps,
    }
    if framework_id:
        info["id"] = {"value": framework_id}
    return info


class RawScheduler:
    def __init__(self, master_url: str, info: dict[str, Any], auto_ack: bool = True) -> None:
        self.master_url = master_url
        self.info = info
        self.auto_ack = auto_ack
        self.events: list[Event] = []
        self.cond = threading.Condition()
        self.stream_id: str | None = None
        self.framework_id: str | None = info.get("id", {}).get("value")
        self.client = httpx.Client(timeout=10)
        self._response: httpx.Response | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self.used_offers: set[str] = set()  # accepted or rescinded: never hand these out again

    # ------------------------------------------------------------------ subscription

    def subscribe(self, timeout: float = 20) -> RawScheduler:
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        subscribed = self.wait_event(lambda e: e["type"] == "SUBSCRIBED", timeout)
        self.framework_id = subscribed["subscribed"]["framework_id"]["value"]
        return self

    def _read(self) -> None:
        call: dict[str, Any] = {"type": "SUBSCRIBE", "subscribe": {"framework_info": self.info}}
        if self.framework_id:
            call["framework_id"] = {"value": self.framework_id}
        stream = httpx.Client(timeout=httpx.Timeout(10, read=None))
        try:
            with stream.stream(
                "POST",
                f"{self.master_url}/api/v1/scheduler",
                json=call,
                headers={"Accept": "application/json"},
            ) as resp:
                self._response = resp
                if resp.status_code != 200:
                    self._push(
                        {"type": "HTTP_ERROR", "status": resp.status_code, "body": resp.read().decode()}
                    )
                    return
                self.stream_id = resp.headers["Mesos-Stream-Id"]
                buf = b""
                for chunk in resp.iter_bytes():
                    buf += chunk
                    while b"\n" in buf:
                        size_text, rest = buf.split(b"\n", 1)
                        size = int(size_text)
                        if len(rest) < size:
                            break
                        self._push(json.loads(rest[:size]))
                        buf = rest[size:]
        except (httpx.HTTPError, ValueError):
            pass
        finally:
            stream.close()
            self._push({"type": "STREAM_CLOSED"})

    def _push(self, event: Event) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()
        if self.auto_ack and event.get("type") == "UPDATE" and event["update"]["status"].get("uuid"):
            threading.Thread(target=self.ack, args=(event,), daemon=True).start()

    def close(self) -> None:
        self._closed = True
        if self._response is not None:
            # The reader thread may be inside the response; closing it from here may complain.
            with contextlib.suppress(Exception):
                self._response.close()
        self.client.close()

    # ------------------------------------------------------------------ events

    def wait_event(self, pred: Callable[[Event], bool], timeout: float = 20, since: int = 0) -> Event:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events[since:]:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = [_describe(e) for e in self.events[-15:]]
                    raise AssertionError(f"no matching event within {timeout}s; last events: {kinds}")
                self.cond.wait(left)

    def updates(self, task_id: str) -> list[dict[str, Any]]:
        with self.cond:
            return [
                e["update"]["status"]
                for e in self.events
                if e["type"] == "UPDATE" and e["update"]["status"]["task_id"]["value"] == task_id
            ]

    def wait_update(
        self, task_id: str, state: str, timeout: float = 20, since: int = 0, from_agent: bool = False
    ) -> dict[str, Any]:
        """The first UPDATE of `task_id` in `state`; `from_agent` skips master-generated ones (no uuid)."""

        def match(e: Event) -> bool:
            if e["type"] != "UPDATE":
                return False
            status = e["update"]["status"]
            return (
                status["task_id"]["value"] == task_id
                and status["state"] == state
                and (not from_agent or bool(status.get("uuid")))
            )

        return dict(self.wait_event(match, timeout, since)["update"]["status"])

    def mark(self) -> int:
        with self.cond:
            return len(self.events)

    # ------------------------------------------------------------------ calls

    def call(self, call_type: str, **fields: Any) -> httpx.Response:
        body = {"type": call_type, "framework_id": {"value": self.framework_id}, **fields}
        headers = {"Mesos-Stream-Id": self.stream_id or "", "Content-Type": "application/json"}
        resp = self.client.post(
            f"{self.master_url}/api/v1/scheduler", content=json.dumps(body), headers=headers
        )
        assert resp.status_code == 202, f"{call_type} answered {resp.status_code}: {resp.text}"
        return resp

    def ack(self, event: Event) -> None:
        status = event["update"]["status"]
        if self._closed or not status.get("uuid"):
            return  # master-generated updates carry no uuid and must not be acknowledged
        with contextlib.suppress(httpx.HTTPError, AssertionError):
            self.call(
                "ACKNOWLEDGE",
                acknowledge={
                    "agent_id": status["agent_id"],
                    "task_id": status["task_id"],
                    "uuid": status["uuid"],
                },
            )

    def _usable(
        self, o: dict[str, Any], agent_id: str | None, pred: Callable[[dict[str, Any]], bool] | None
    ) -> bool:
        rescinded = {e["rescind"]["offer_id"]["value"] for e in self.events if e["type"] == "RESCIND"}
        return (
            o["id"]["value"] not in self.used_offers | rescinded
            and (agent_id is None or o["agent_id"]["value"] == agent_id)
            and (pred is None or pred(o))
        )

    def next_offer(
        self,
        timeout: float = 20,
        agent_id: str | None = None,
        pred: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """An offer not used yet (REVIVE first, so filters from earlier accepts do not delay it)."""
        self.call("REVIVE")
        event = self.wait_event(
            lambda e: (
                e["type"] == "OFFERS" and any(self._usable(o, agent_id, pred) for o in e["offers"]["offers"])
            ),
            timeout,
        )
        with self.cond:
            return next(o for o in event["offers"]["offers"] if self._usable(o, agent_id, pred))

    def decline_outstanding(self, refuse_seconds: float = 3600) -> None:
        """Decline every offer received and not used yet (SUPPRESS alone keeps offers already held)."""
        with self.cond:
            offers = [
                o
                for e in self.events
                if e["type"] == "OFFERS"
                for o in e["offers"]["offers"]
                if self._usable(o, None, None)
            ]
        if offers:
            self.used_offers.update(o["id"]["value"] for o in offers)
            self.call(
                "DECLINE",
                decline={
                    "offer_ids": [o["id"] for o in offers],
                    "filters": {"refuse_seconds": refuse_seconds},
                },
            )

    def accept(self, offer: dict[str, Any], operations: list[dict[str, Any]]) -> None:
        self.used_offers.add(offer["id"]["value"])
        self.call(
            "ACCEPT",
            accept={"offer_ids": [offer["id"]], "operations": operations, "filters": {"refuse_seconds": 0.5}},
        )

    def launch(self, offer: dict[str, Any], *tasks: dict[str, Any]) -> None:
        self.accept(offer, [{"type": "LAUNCH", "launch": {"task_infos": list(tasks)}}])


def scalar(
    name: str, value: float, role: str, reservations: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "name": name,
        "type": "SCALAR",
        "scalar": {"value": value},
        "allocation_info": {"role": role},
    }
    if reservations:
        r["reservations"] = reservations
    return r


def task(
    offer: dict[str, Any],
    task_id: str,
    command: str,
    *,
    cpus: float = 0.1,
    mem: float = 32,
    resources: list[dict[str, Any]] | None = None,
    command_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A command TaskInfo on the offer's agent using unreserved cpus/mem (or the given resources)."""
    role = offer["allocation_info"]["role"]
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": offer["agent_id"],
        "resources": resources or [scalar("cpus", cpus, role), scalar("mem", mem, role)],
        "command": {"value": command, **(command_fields or {})},
        **fields,
    }


def _describe(e: Event) -> str:
    if e.get("type") == "UPDATE":
        s = e["update"]["status"]
        return f"UPDATE {s['task_id']['value']} {s['state']} {s.get('reason', '')} {s.get('message', '')}"
    return str(e.get("type"))
