"""aiohttp routes of the master: scheduler API, operator API, legacy state, internal agent protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from localmesos.jsonmap import ConversionError, id_of, parse_message
from localmesos.master import operator_api, operator_ops, scheduler_api
from localmesos.master.agents import HttpAgentLink
from localmesos.master.master import Master, SubscribeError
from localmesos.master.state import VERSION, JsonDict
from localmesos.master.validation import CallError, validate_call
from localmesos.resources import ResourceError

log = logging.getLogger("localmesos.master.http")

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
MASTER_KEY = web.AppKey("master", Master)
SESSION_KEY = web.AppKey("session", aiohttp.ClientSession)


def recordio(event: JsonDict) -> bytes:
    data = json.dumps(event, separators=(",", ":")).encode()
    return str(len(data)).encode() + b"\n" + data


class HttpStream:
    """A subscription stream: events queued here are written by the request handler."""

    def __init__(self) -> None:
        self.stream_id = str(uuid.uuid4())
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = False

    def send(self, event: JsonDict) -> None:
        if not self.closed:
            self.queue.put_nowait(recordio(event))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


def _text(status: int, text: str = "", headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text, headers=headers)


def _accepts(header: str | None, media: str) -> bool:
    if header is None:
        return True
    kind = media.split("/")[0]
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        q = 1.0
        for p in parts[1:]:
            if p.startswith("q="):
                with contextlib.suppress(ValueError):
                    q = float(p[2:])
        if q > 0 and parts[0] in (media, "*/*", f"{kind}/*"):
            return True
    return False


def _not_acceptable() -> web.Response:
    return _text(406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")


async def _parse(request: web.Request, schema: str, what: str) -> JsonDict | web.Response:
    """Method, Content-Type, JSON and proto-conversion checks shared by both APIs (§1.2, §1.6)."""
    if request.method != "POST":
        return _text(405, headers={"Allow": "POST"})
    content_type = request.headers.get("Content-Type")
    if content_type is None:
        return _text(400, "Expecting 'Content-Type' to be present")
    if content_type not in (JSON, PROTOBUF):
        return _text(415, "Expecting 'Content-Type' of application/json or application/x-protobuf")
    body = await request.read()
    if content_type == PROTOBUF:
        # localmesos speaks the JSON encoding only (documented in docs/localmesos.md).
        return _text(400, f"Failed to parse body into {what} protobuf")
    try:
        value: Any = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return _text(400, f"Failed to parse body into JSON: {exc}")
    try:
        return parse_message(value, schema)
    except ConversionError as exc:
        return _text(400, f"Failed to convert JSON into {what} protobuf: {exc}")


async def scheduler(request: web.Request) -> web.StreamResponse:
    master = request.app[MASTER_KEY]
    call = await _parse(request, "scheduler.Call", "Call")
    if isinstance(call, web.Response):
        return call
    try:
        validate_call(call)
    except CallError as exc:
        return _text(400, f"Failed to validate scheduler::Call: {exc}")
    if call["type"] == "SUBSCRIBE":
        if "Mesos-Stream-Id" in request.headers:
            return _text(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
        if not _accepts(request.headers.get("Accept"), JSON):
            return _not_acceptable()
        return await _subscribe(request, master, call)
    found = scheduler_api.lookup(master, call, request.headers.get("Mesos-Stream-Id"))
    if isinstance(found, scheduler_api.Reply):
        return _text(found.status, found.text)
    if call["type"] == "RECONCILE_OPERATIONS" and not _accepts(request.headers.get("Accept"), JSON):
        return _not_acceptable()
    reply = scheduler_api.handle(master, found, call)
    return _text(reply.status, reply.text)


async def _subscribe(request: web.Request, master: Master, call: JsonDict) -> web.StreamResponse:
    stream = HttpStream()
    response = web.StreamResponse(
        status=200, headers={"Content-Type": JSON, "Mesos-Stream-Id": stream.stream_id}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        framework = master.subscribe(call, stream)
    except SubscribeError as exc:
        stream.send({"type": "ERROR", "error": {"message": str(exc)}})
        await response.write(await stream.queue.get() or b"")
        await response.write_eof()
        return response
    beat = asyncio.get_running_loop().create_task(_heartbeats(stream, master.config.heartbeat_interval))
    try:
        while True:
            data = await stream.queue.get()
            if data is None:
                break
            await response.write(data)
        await response.write_eof()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        beat.cancel()
        stream.closed = True
        master.disconnected(framework, stream)
    return response


async def _heartbeats(stream: HttpStream, interval: float) -> None:
    while not stream.closed:
        await asyncio.sleep(interval)
        stream.send({"type": "HEARTBEAT"})


# ----------------------------------------------------------------------------- operator API


async def operator(request: web.Request) -> web.StreamResponse:
    master = request.app[MASTER_KEY]
    call = await _parse(request, "master.Call", "Call")
    if isinstance(call, web.Response):
        return call
    if not _accepts(request.headers.get("Accept"), JSON):
        return _not_acceptable()
    kind = call.get("type")
    if kind is None:
        return _text(400, "Failed to validate master::Call: Expecting 'type' to be present")
    builders = {
        "GET_HEALTH": lambda: {"healthy": True},
        "GET_VERSION": lambda: {"version_info": {"version": VERSION}},
        "GET_FLAGS": lambda: {
            "flags": [{"name": k, "value": v} for k, v in operator_api.flags(master).items()]
        },
        "GET_STATE": lambda: operator_api.get_state(master),
        "GET_AGENTS": lambda: operator_api.get_agents(master),
        "GET_FRAMEWORKS": lambda: operator_api.get_frameworks(master),
        "GET_TASKS": lambda: operator_api.get_tasks(master),
        "GET_EXECUTORS": lambda: {},
        "GET_MASTER": lambda: {
            "master_info": master.master_info(),
            "start_time": master.start_time,
            "elected_time": master.start_time,
        },
        "GET_ROLES": lambda: {"roles": _roles(master)},
        "GET_OPERATIONS": lambda: {},
        "GET_METRICS": lambda: {
            "metrics": [{"name": k, "value": float(v)} for k, v in operator_api.metrics(master).items()]
        },
        "GET_WEIGHTS": lambda: {},
        "GET_QUOTA": lambda: {"status": {}},
        "GET_MAINTENANCE_STATUS": lambda: {"status": {}},
        "GET_MAINTENANCE_SCHEDULE": lambda: {"schedule": {}},
        "GET_LOGGING_LEVEL": lambda: {"level": 0},
    }
    if kind == "SUBSCRIBE":
        return await _operator_stream(request, master)
    if kind == "TEARDOWN":
        body = call.get("teardown")
        if body is None:
            return _text(400, "Failed to validate master::Call: Expecting 'teardown' to be present")
        framework = master.frameworks.get(id_of(body["framework_id"]) or "")
        if framework is None:
            return _text(400, "No framework found with specified ID")
        master.remove_framework(framework)
        return _text(200)
    if kind in operator_ops.BODY_KEY:
        try:
            operator_ops.apply(master, call)
        except operator_ops.OperatorError as exc:
            return _text(exc.status, exc.text)
        return _text(202)
    build = builders.get(str(kind))
    if build is None:
        return _text(501, f"Operator call {kind} is not supported by localmesos")
    return web.json_response({"type": kind, kind.lower(): build()})


async def _operator_stream(request: web.Request, master: Master) -> web.StreamResponse:
    stream = HttpStream()
    response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
    response.enable_chunked_encoding()
    await response.prepare(request)

    def observe(kind: str, obj: Any) -> None:
        event = operator_api.stream_event(master, kind, obj)
        if event is not None:
            stream.send(event)

    stream.send(
        {
            "type": "SUBSCRIBED",
            "subscribed": {
                "get_state": operator_api.get_state(master),
                "heartbeat_interval_seconds": float(master.config.heartbeat_interval),
            },
        }
    )
    stream.send({"type": "HEARTBEAT"})
    master.observers.append(observe)
    beat = asyncio.get_running_loop().create_task(_heartbeats(stream, master.config.heartbeat_interval))
    try:
        while True:
            data = await stream.queue.get()
            if data is None:
                break
            await response.write(data)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        beat.cancel()
        stream.closed = True
        master.observers.remove(observe)
    return response


def _roles(master: Master) -> list[JsonDict]:
    names = {"*"} | {r for f in master.frameworks.values() for r in f.roles}
    return [
        {
            "name": n,
            "weight": 1.0,
            "frameworks": [{"value": f.id} for f in master.frameworks.values() if n in f.roles],
        }
        for n in sorted(names)
    ]


async def legacy_state(request: web.Request) -> web.Response:
    return web.json_response(operator_api.legacy_state(request.app[MASTER_KEY]))


async def legacy_slaves(request: web.Request) -> web.Response:
    return web.json_response(operator_api.legacy_slaves(request.app[MASTER_KEY]))


async def legacy_frameworks(request: web.Request) -> web.Response:
    return web.json_response(operator_api.legacy_frameworks(request.app[MASTER_KEY]))


async def legacy_tasks(request: web.Request) -> web.Response:
    return web.json_response(operator_api.legacy_tasks(request.app[MASTER_KEY]))


async def legacy_teardown(request: web.Request) -> web.Response:
    """`POST /master/teardown` with form field `frameworkId`."""
    master = request.app[MASTER_KEY]
    if request.method != "POST":
        return _text(405, headers={"Allow": "POST"})
    form = await request.post()
    fid = form.get("frameworkId")
    if not isinstance(fid, str):
        return _text(400, "Missing 'frameworkId' query parameter in the request body")
    framework = master.frameworks.get(fid)
    if framework is None:
        return _text(400, f"No framework found with specified ID: {fid}")
    master.remove_framework(framework)
    return _text(200)


async def metrics(request: web.Request) -> web.Response:
    """A few of Mesos' `/metrics/snapshot` keys (names as in Mesos)."""
    return web.json_response(operator_api.metrics(request.app[MASTER_KEY]))


async def health(request: web.Request) -> web.Response:
    return _text(200)


# ----------------------------------------------------------------------------- internal agent protocol


async def _json_body(request: web.Request) -> JsonDict | web.Response:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        return web.json_response({"error": f"body is not JSON: {exc}"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    return body


async def agent_register(request: web.Request) -> web.Response:
    master = request.app[MASTER_KEY]
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    for key in ("ip", "port"):
        if key not in body:
            return web.json_response({"error": f"missing '{key}'"}, status=400)
    old = master.agents.get(id_of(body.get("agent_id")) or "")
    link = (
        old.link
        if old is not None
        and not old.link.simulated
        and old.ip == body["ip"]
        and old.port == int(body["port"])
        else HttpAgentLink(request.app[SESSION_KEY], body["ip"], int(body["port"]))
    )
    try:
        agent = master.register_agent(body, link)
    except (ResourceError, ValueError, TypeError, KeyError) as exc:
        return web.json_response({"error": f"invalid registration: {exc}"}, status=400)
    return web.json_response({"agent_id": {"value": agent.id}})


async def agent_status(request: web.Request) -> web.Response:
    master = request.app[MASTER_KEY]
    agent_id = request.match_info["agent_id"]
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    agent = master.agents.get(agent_id)
    if agent is None or not agent.connected:
        return web.json_response({"error": f"Agent {agent_id} is not registered"}, status=409)
    status = body.get("status")
    if not isinstance(status, dict) or "state" not in status or "task_id" not in status:
        return web.json_response({"error": "'status' with 'task_id' and 'state' is required"}, status=400)
    agent.missed_pings = 0
    latest = body.get("latest_state")
    master.status_update(
        agent_id, id_of(body.get("framework_id")) or "", status, latest if isinstance(latest, str) else None
    )
    return web.json_response({})


def make_app(master: Master) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[MASTER_KEY] = master
    for prefix in ("", "/master"):
        app.router.add_route("*", prefix + "/api/v1/scheduler", scheduler)
        app.router.add_route("*", prefix + "/api/v1", operator)
    app.router.add_get("/master/state", legacy_state)
    app.router.add_get("/state", legacy_state)
    app.router.add_get("/master/state.json", legacy_state)
    app.router.add_get("/master/slaves", legacy_slaves)
    app.router.add_get("/master/frameworks", legacy_frameworks)
    app.router.add_get("/master/tasks", legacy_tasks)
    app.router.add_route("*", "/master/teardown", legacy_teardown)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics/snapshot", metrics)
    app.router.add_get("/master/health", health)
    app.router.add_post("/internal/agents/register", agent_register)
    app.router.add_post("/internal/agents/{agent_id}/status", agent_status)

    async def session_ctx(app: web.Application) -> Any:
        app[SESSION_KEY] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
        yield
        await app[SESSION_KEY].close()

    app.cleanup_ctx.append(session_ctx)
    return app
