"""Asynchronous client of the Mesos v1 scheduler API (one framework, any Mesos 1.11 master).

``run()`` keeps one subscription alive: it POSTs SUBSCRIBE to the known leader or to each
configured master in turn, follows 307 redirects (``Location: //host:port/path``, re-POSTing the
same body), decodes the RecordIO event stream and hands every event to ``on_event``. When the
stream ends, breaks, or stays silent for ``heartbeat_misses`` heartbeat intervals, it drops the
connection and subscribes again with the stored framework id, backing off exponentially. Calls
go over separate HTTP requests and carry the current ``Mesos-Stream-Id``.

Acknowledgement: an UPDATE whose status carries a ``uuid`` is acknowledged by the driver right
after ``on_event`` returned for it, so ``on_event`` must return only once the update is stored;
if it raises, the update is not acknowledged and the agent sends it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential, wait_random
from tenacity.wait import wait_base

from framework.mesos import calls
from framework.mesos.calls import FrameworkInfoSpec
from framework.mesos.errors import (
    FrameworkFailedOver,
    FrameworkRemoved,
    MasterUnavailable,
    MesosCallError,
    MesosError,
    NotSubscribed,
    RecordIOError,
    SubscriptionEnded,
)
from framework.mesos.events import (
    FAILED_OVER_MESSAGE,
    REMOVED_MESSAGE,
    error_message,
    event_type,
    needs_acknowledgement,
    offers_of,
    operation_status_of,
    status_of,
)
from framework.mesos.recordio import RecordIODecoder
from model.errors import InvalidInput

log = logging.getLogger(__name__)

SCHEDULER_PATH = "/api/v1/scheduler"
DEFAULT_DECLINE_SECONDS = 3600.0
FAILED_HANDLER_DECLINE_SECONDS = 5.0
Json = dict[str, Any]
EventHandler = Callable[[Json], Awaitable[None]]
FrameworkIdSource = Callable[[], Awaitable[str | None]]
SubscribedHandler = Callable[[str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class _ConnectionLost(MesosError):
    """The subscription could not be opened or broke before SUBSCRIBED: retry with backoff."""


class _SessionDropped(MesosError):
    """A subscription that had been established ended: subscribe again, backoff starts over."""


def normalize_master(url: str) -> str:
    """``host:port``, ``http://host:port/`` or ``http://host:port/api/v1/scheduler`` -> ``http://host:port``."""
    text = url.strip()
    if not text:
        raise InvalidInput("empty Mesos master URL")
    if text.startswith("//"):
        text = "http:" + text
    elif "://" not in text:
        text = "http://" + text
    parsed = httpx.URL(text)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(f"Mesos master URL must be http(s)://host:port, got {url!r}")
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def resolve_redirect(current_base: str, location: str) -> str:
    """Base URL of the leader named by a 307 ``Location`` (protocol-relative in Mesos 1.11)."""
    if not location:
        raise MasterUnavailable(f"{current_base} answered 307 without a Location header")
    scheme = httpx.URL(current_base).scheme
    if location.startswith("//"):
        return normalize_master(f"{scheme}:{location}")
    return normalize_master(location if "://" in location else f"{scheme}://{location}")


class MesosDriver:
    """One framework's connection to the Mesos master; see the module docstring."""

    def __init__(
        self,
        masters: Sequence[str],
        framework_info: FrameworkInfoSpec,
        on_event: EventHandler,
        framework_id_source: FrameworkIdSource,
        on_subscribed: SubscribedHandler,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        backoff_initial: float = 0.5,
        backoff_max: float = 15.0,
        backoff: wait_base | None = None,
        heartbeat_misses: float = 5.0,
        first_event_timeout: float = 75.0,
        call_timeout: float = 75.0,
        max_redirects: int = 5,
        credential: tuple[str, str] | None = None,
        suppressed_roles: Sequence[str] = (),
        auto_acknowledge: bool = True,
        failed_handler_decline_seconds: float = FAILED_HANDLER_DECLINE_SECONDS,
    ) -> None:
        if not masters:
            raise InvalidInput("MesosDriver needs at least one master URL")
        self._masters = [normalize_master(m) for m in masters]
        self._info = framework_info
        self._on_event = on_event
        self._framework_id_source = framework_id_source
        self._on_subscribed = on_subscribed
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient()
        self._sleep = sleep
        self._backoff_initial = backoff_initial
        # Exponential with jitter, capped around 15 s as the Mesos docs recommend.
        self._backoff = backoff or (
            wait_exponential(multiplier=backoff_initial, max=backoff_max) + wait_random(0, backoff_initial)
        )
        self._heartbeat_misses = heartbeat_misses
        self._first_event_timeout = first_event_timeout
        self._call_timeout = call_timeout
        self._max_redirects = max_redirects
        self._auth = httpx.BasicAuth(*credential) if credential else None
        self._suppressed = tuple(suppressed_roles)
        self._auto_ack = auto_acknowledge
        self._failed_handler_decline = failed_handler_decline_seconds

        self._leader: str | None = None
        self._framework_id: str | None = None
        self._stream_id: str | None = None
        self._subscribed = asyncio.Event()
        self._stopping = False
        self._run_task: asyncio.Task[None] | None = None
        self._ended_by: SubscriptionEnded | None = None
        self._subscriptions = 0

    # ---- state ------------------------------------------------------------------------------

    @property
    def framework_id(self) -> str | None:
        return self._framework_id

    @property
    def stream_id(self) -> str | None:
        return self._stream_id

    @property
    def leader(self) -> str | None:
        """Base URL of the master that accepted the current (or last) subscription."""
        return self._leader

    @property
    def is_subscribed(self) -> bool:
        return self._stream_id is not None

    @property
    def subscriptions(self) -> int:
        """How many times SUBSCRIBED was received (re-subscriptions included)."""
        return self._subscriptions

    @property
    def ended_by(self) -> SubscriptionEnded | None:
        """The ERROR that ended the subscription for good (e.g. ``FrameworkFailedOver``), if any."""
        return self._ended_by

    async def wait_subscribed(self, timeout: float) -> str:
        """Wait until subscribed and return the framework id (``TimeoutError`` after ``timeout``)."""
        async with asyncio.timeout(timeout):
            await self._subscribed.wait()
        assert self._framework_id is not None
        return self._framework_id

    # ---- lifecycle --------------------------------------------------------------------------

    async def run(self) -> None:
        """Subscribe and dispatch events until ``stop()``.

        Raises ``FrameworkFailedOver`` / ``FrameworkRemoved`` / ``SubscriptionEnded`` when the master
        ends the subscription with an ERROR event, and ``MesosCallError`` when it rejects SUBSCRIBE
        itself (4xx: bad request or credentials), since retrying cannot help then.
        """
        self._run_task = asyncio.current_task()
        try:
            while not self._stopping:
                retrying = AsyncRetrying(
                    wait=self._backoff,
                    retry=retry_if_exception_type(_ConnectionLost),
                    sleep=self._sleep,
                    before_sleep=lambda rs: log.warning(
                        "Mesos subscription attempt %d failed: %s",
                        rs.attempt_number,
                        rs.outcome.exception() if rs.outcome else "?",
                    ),
                    reraise=True,
                )
                try:
                    await retrying(self._session)
                except _SessionDropped as exc:
                    log.warning("Mesos subscription dropped (%s); subscribing again", exc)
                    await self._sleep(self._backoff_initial)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        except SubscriptionEnded as exc:
            self._ended_by = exc
            raise
        finally:
            self._stream_id = None
            self._subscribed.clear()
            self._run_task = None
            if self._owns_client:
                await self._client.aclose()

    def stop(self) -> None:
        """Close the subscription and make ``run()`` return."""
        self._stopping = True
        task = self._run_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # ---- subscription -----------------------------------------------------------------------

    def _candidates(self) -> list[str]:
        if self._leader is None:
            return list(self._masters)
        return [self._leader] + [m for m in self._masters if m != self._leader]

    def _headers(self, stream_id: str | None) -> dict[str, str]:
        # Mesos compares Content-Type as a string: 'application/json; charset=utf-8' is a 415.
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if stream_id is not None:
            headers["Mesos-Stream-Id"] = stream_id
        return headers

    async def _open_subscription(self, payload: bytes) -> tuple[httpx.Response, str]:
        failures: list[str] = []
        for master in self._candidates():
            base = master
            for _ in range(self._max_redirects + 1):
                request = self._client.build_request(
                    "POST",
                    base + SCHEDULER_PATH,
                    content=payload,
                    headers=self._headers(None),
                    timeout=httpx.Timeout(self._call_timeout, read=None),
                )
                if self._auth is not None:
                    request = next(self._auth.auth_flow(request))
                try:
                    response = await self._client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    failures.append(f"{base}: {exc!r}")
                    break
                if response.status_code == 200:
                    return response, base
                body = (await response.aread()).decode(errors="replace").strip()
                await response.aclose()
                if response.status_code == 307:
                    try:
                        base = resolve_redirect(base, response.headers.get("Location", ""))
                    except (MasterUnavailable, InvalidInput) as exc:
                        failures.append(str(exc))
                        break
                    log.info("Mesos master %s redirected SUBSCRIBE to leader %s", master, base)
                    continue
                if response.status_code in (503, 404):
                    failures.append(f"{base}: HTTP {response.status_code} {body}")
                    break
                raise MesosCallError("SUBSCRIBE", response.status_code, body)
            else:
                failures.append(f"{master}: more than {self._max_redirects} redirects")
        raise _ConnectionLost("no Mesos master accepted SUBSCRIBE: " + "; ".join(failures))

    async def _session(self) -> None:
        try:
            stored_id = await self._framework_id_source()
        except Exception as exc:
            raise _ConnectionLost(f"could not read the stored framework id: {exc!r}") from exc
        # An id the master gave us but the store did not take yet must not be lost: a fresh
        # SUBSCRIBE would register a second framework and orphan the first one's tasks.
        framework_id = stored_id or self._framework_id
        call = calls.subscribe(self._info, framework_id, self._suppressed)
        response, base = await self._open_subscription(json.dumps(call).encode())
        subscribed = False
        try:
            stream_id = response.headers.get("Mesos-Stream-Id")
            if not stream_id:
                raise _ConnectionLost(f"{base} answered SUBSCRIBE without a Mesos-Stream-Id header")
            decoder = RecordIODecoder()
            chunks = response.aiter_bytes()
            timeout = self._first_event_timeout
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    raise _ConnectionLost(f"{base} closed the subscription stream") from None
                except TimeoutError:
                    raise _ConnectionLost(
                        f"no event from {base} for {timeout:.1f} s (heartbeats missed)"
                    ) from None
                except httpx.HTTPError as exc:
                    raise _ConnectionLost(f"subscription stream from {base} broke: {exc!r}") from exc
                for record in decoder.feed(chunk):
                    event = self._parse(record)
                    kind = event_type(event)
                    if kind == "SUBSCRIBED":
                        timeout = await self._subscribed_event(event, stream_id, base)
                        subscribed = True
                    elif kind == "ERROR":
                        await self._dispatch(event)
                        raise _ended(error_message(event))
                    await self._dispatch(event)
                    if self._stopping:  # stop() called from inside on_event
                        return
        except (_ConnectionLost, RecordIOError) as exc:
            if subscribed:
                raise _SessionDropped(str(exc)) from exc
            if isinstance(exc, RecordIOError):
                raise _ConnectionLost(str(exc)) from exc
            raise
        finally:
            self._stream_id = None
            self._subscribed.clear()
            await response.aclose()

    @staticmethod
    def _parse(record: bytes) -> Json:
        try:
            event = json.loads(record)
        except ValueError as exc:
            raise RecordIOError(f"event is not JSON: {record[:80]!r}") from exc
        if not isinstance(event, dict):
            raise RecordIOError(f"event is not a JSON object: {record[:80]!r}")
        return event

    async def _subscribed_event(self, event: Json, stream_id: str, base: str) -> float:
        body = event.get("subscribed") or {}
        framework_id = str((body.get("framework_id") or {}).get("value", ""))
        if not framework_id:
            raise _ConnectionLost(f"SUBSCRIBED from {base} carries no framework_id")
        interval = float(body.get("heartbeat_interval_seconds") or 15.0)
        self._framework_id = framework_id
        self._stream_id = stream_id
        self._leader = base
        self._subscriptions += 1
        log.info("subscribed to Mesos master %s as framework %s (stream %s)", base, framework_id, stream_id)
        # The id is stored before any event is handled, so a crash never loses it; if storing
        # fails the subscription is dropped and retried (keeping the id in memory meanwhile).
        try:
            await self._on_subscribed(framework_id)
        except Exception as exc:
            self._stream_id = None
            raise _ConnectionLost(f"on_subscribed failed for framework {framework_id}: {exc!r}") from exc
        self._subscribed.set()
        return interval * self._heartbeat_misses

    async def _dispatch(self, event: Json) -> None:
        try:
            await self._on_event(event)
        except Exception:
            # Not acknowledged: the agent resends the update, so nothing is lost.
            log.exception("event handler failed for %s event", event_type(event))
            if event_type(event) == "OFFERS":
                await self._release(event)
            return
        if not self._auto_ack:
            return
        if event_type(event) == "UPDATE_OPERATION_STATUS":
            await self._ack_operation(operation_status_of(event))
            return
        if event_type(event) != "UPDATE":
            return
        status = status_of(event)
        if not needs_acknowledgement(status):
            return
        agent_id = (status.get("agent_id") or {}).get("value")
        task_id = (status.get("task_id") or {}).get("value")
        if not agent_id or not task_id:
            log.warning("status update with uuid but without agent or task id, not acknowledged: %s", status)
            return
        try:
            await self.acknowledge(agent_id, task_id, status["uuid"])
        except MesosError as exc:
            log.warning(
                "acknowledging %s %s failed (the agent will resend it): %s", task_id, status.get("state"), exc
            )

    async def _release(self, event: Json) -> None:
        """Decline the offers of a failed OFFERS handler briefly, so they are not held forever.

        Ids the handler did use are unknown to the master by now and silently ignored.
        """
        offer_ids = [str(o["id"]["value"]) for o in offers_of(event) if "id" in o]
        if not offer_ids:
            return
        try:
            await self.decline(offer_ids, refuse_seconds=self._failed_handler_decline)
        except MesosError as exc:
            log.warning("declining offers after a handler failure failed: %s", exc)

    async def _ack_operation(self, status: Json) -> None:
        # Master-generated OPERATION_ERRORs carry neither uuid nor agent id and must not be acked.
        uuid_b64 = (status.get("uuid") or {}).get("value")
        agent_id = (status.get("agent_id") or {}).get("value")
        operation_id = (status.get("operation_id") or {}).get("value")
        if not (uuid_b64 and agent_id and operation_id):
            return
        try:
            await self.acknowledge_operation_status(agent_id, operation_id, uuid_b64)
        except MesosError as exc:
            log.warning("acknowledging operation %s failed (it will be resent): %s", operation_id, exc)

    # ---- calls ------------------------------------------------------------------------------

    async def _post(self, call: Json) -> None:
        stream_id, leader, framework_id = self._stream_id, self._leader, self._framework_id
        call_type = str(call.get("type"))
        if stream_id is None or leader is None or framework_id is None:
            raise NotSubscribed(f"cannot send {call_type}: not subscribed to a Mesos master")
        try:
            response = await self._client.post(
                leader + SCHEDULER_PATH,
                content=json.dumps(call).encode(),
                headers=self._headers(stream_id),
                timeout=self._call_timeout,
                auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise MasterUnavailable(f"{call_type} to {leader} failed: {exc!r}") from exc
        if response.status_code in (200, 202):
            return
        text = response.text.strip()
        if response.status_code in (307, 503):
            raise MasterUnavailable(f"{call_type} to {leader}: HTTP {response.status_code} {text}")
        raise MesosCallError(call_type, response.status_code, text)

    def _fid(self) -> str:
        if self._framework_id is None:
            raise NotSubscribed("no framework id yet: not subscribed to a Mesos master")
        return self._framework_id

    async def accept(
        self,
        offer_ids: Sequence[str],
        operations: Sequence[Mapping[str, Any]],
        refuse_seconds: float | None = None,
    ) -> None:
        await self._post(calls.accept(self._fid(), offer_ids, operations, refuse_seconds))

    async def decline(
        self, offer_ids: Sequence[str], refuse_seconds: float = DEFAULT_DECLINE_SECONDS
    ) -> None:
        await self._post(calls.decline(self._fid(), offer_ids, refuse_seconds))

    async def revive(self, roles: Sequence[str] = ()) -> None:
        await self._post(calls.revive(self._fid(), roles))

    async def suppress(self, roles: Sequence[str] = ()) -> None:
        await self._post(calls.suppress(self._fid(), roles))

    async def kill(
        self, task_id: str, agent_id: str | None = None, grace_seconds: float | None = None
    ) -> None:
        await self._post(calls.kill(self._fid(), task_id, agent_id, grace_seconds))

    async def acknowledge(self, agent_id: str, task_id: str, uuid_b64: str) -> None:
        await self._post(calls.acknowledge(self._fid(), agent_id, task_id, uuid_b64))

    async def acknowledge_operation_status(self, agent_id: str, operation_id: str, uuid_b64: str) -> None:
        await self._post(calls.acknowledge_operation_status(self._fid(), agent_id, operation_id, uuid_b64))

    async def reconcile(self, tasks: Sequence[tuple[str, str | None]] = ()) -> None:
        """Explicit reconciliation of (task id, agent id) pairs; implicit when ``tasks`` is empty."""
        await self._post(calls.reconcile(self._fid(), tasks))

    async def message(self, agent_id: str, executor_id: str, data: bytes) -> None:
        await self._post(calls.message(self._fid(), agent_id, executor_id, data))

    async def shutdown(self, executor_id: str, agent_id: str) -> None:
        await self._post(calls.shutdown(self._fid(), executor_id, agent_id))

    async def teardown(self) -> None:
        """Remove the framework from Mesos (all its tasks are killed) and stop the driver."""
        await self._post(calls.teardown(self._fid()))
        self.stop()


def _ended(message: str) -> SubscriptionEnded:
    if message == FAILED_OVER_MESSAGE:
        return FrameworkFailedOver(message)
    if message == REMOVED_MESSAGE:
        return FrameworkRemoved(message)
    return SubscriptionEnded(message)
