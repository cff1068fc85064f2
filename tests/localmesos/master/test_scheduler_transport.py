"""Transport of /api/v1/scheduler over raw HTTP: status codes and texts of reference §1."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.localmesos.master.rawhttp import JSON, framework_info, subscribe


async def post(url: str, body: str | bytes, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(url, data=body, headers=headers, skip_auto_headers=["Content-Type"]) as r,
    ):
        return r.status, await r.text(), dict(r.headers)


TEARDOWN = json.dumps({"type": "TEARDOWN", "framework_id": {"value": "nope"}})


@pytest.mark.parametrize(
    ("headers", "body", "status", "text"),
    [
        ({}, TEARDOWN, 400, "Expecting 'Content-Type' to be present"),
        (
            {"Content-Type": "application/json; charset=utf-8"},
            TEARDOWN,
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        ),
        (
            {"Content-Type": "text/plain"},
            TEARDOWN,
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        ),
        (JSON, "{not json", 400, "Failed to parse body into JSON: "),
        (
            JSON,
            json.dumps({"type": "TEARDOWN", "framework_id": "abc"}),
            400,
            "Failed to convert JSON into Call protobuf: Not expecting a JSON string for field 'framework_id'",
        ),
        (
            JSON,
            json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "x"}}}),
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: "
            "subscribe.framework_info.user",
        ),
        (
            JSON,
            json.dumps({"framework_id": {"value": "f"}}),
            400,
            "Failed to validate scheduler::Call: Expecting 'type' to be present",
        ),
        (
            JSON,
            json.dumps({"type": "SUBSCRIBE"}),
            400,
            "Failed to validate scheduler::Call: Expecting 'subscribe' to be present",
        ),
        (
            JSON,
            json.dumps({"type": "TEARDOWN"}),
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present",
        ),
        (
            JSON,
            json.dumps({"type": "RECONCILE", "framework_id": {"value": "f"}}),
            400,
            "Failed to validate scheduler::Call: Expecting 'reconcile' to be present",
        ),
        (
            JSON,
            json.dumps({"type": "ACCEPT", "framework_id": {"value": "f"}}),
            400,
            "Failed to validate scheduler::Call: Expecting 'accept' to be present",
        ),
        (
            JSON,
            json.dumps({"type": "REQUEST", "framework_id": {"value": "f"}, "requests": []}),
            400,
            "Failed to validate scheduler::Call: Expecting 'request' to be present",
        ),
        (
            JSON,
            json.dumps(
                {
                    "type": "ACKNOWLEDGE",
                    "framework_id": {"value": "f"},
                    "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": ""},
                }
            ),
            400,
            "Failed to validate scheduler::Call: Not a valid UUID",
        ),
        (
            JSON,
            json.dumps(
                {
                    "type": "SUBSCRIBE",
                    "framework_id": {"value": "a"},
                    "subscribe": {"framework_info": {"user": "u", "name": "n", "id": {"value": "b"}}},
                }
            ),
            400,
            "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'",
        ),
        (JSON, TEARDOWN, 400, "Framework cannot be found"),
    ],
)
async def test_http_level_errors(master, headers, body, status, text) -> None:
    code, got, _ = await post(master.scheduler_url, body, headers)
    assert (code, got[: len(text)]) == (status, text)


async def test_non_post_is_405_with_allow(master) -> None:
    async with aiohttp.ClientSession() as s, s.get(master.scheduler_url) as r:
        assert r.status == 405
        assert r.headers["Allow"] == "POST"


async def test_subscribe_with_stream_id_header_is_rejected(master) -> None:
    body = json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info()}})
    code, text, _ = await post(master.scheduler_url, body, {**JSON, "Mesos-Stream-Id": "x"})
    assert (code, text) == (400, "Subscribe calls should not include the 'Mesos-Stream-Id' header")


async def test_subscribe_with_unacceptable_accept_is_406(master) -> None:
    body = json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info()}})
    code, text, _ = await post(master.scheduler_url, body, {**JSON, "Accept": "text/html"})
    assert (code, text) == (406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")


async def test_subscribe_stream_headers_recordio_and_first_events(master) -> None:
    body = json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info()}})
    async with aiohttp.ClientSession() as s, s.post(master.scheduler_url, data=body, headers=JSON) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in r.headers
        assert len(r.headers["Mesos-Stream-Id"]) == 36
        raw = b""
        while raw.count(b"HEARTBEAT") < 1:
            raw += await asyncio.wait_for(r.content.readany(), 5)
    size, _, rest = raw.partition(b"\n")
    first = rest[: int(size)]
    event = json.loads(first)
    assert event["type"] == "SUBSCRIBED"
    sub = event["subscribed"]
    assert sub["heartbeat_interval_seconds"] == 15.0
    assert sub["master_info"]["version"] == "1.11.0"
    assert sub["master_info"]["ip"] == 16777343
    assert sub["framework_id"]["value"].startswith(sub["master_info"]["id"] + "-")
    second = rest[int(size) :]
    assert second == b'20\n{"type":"HEARTBEAT"}'[: len(second)]


async def test_stream_id_rules_for_calls(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        assert await sub.call({"type": "REVIVE"}, stream_id=None) == (
            400,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
        )
        code, text = await sub.call({"type": "REVIVE"}, stream_id="stale")
        assert code == 400
        assert text == (
            f"The stream ID 'stale' included in this request didn't match the stream ID currently "
            f"associated with framework ID {sub.framework_id}"
        )
        assert await sub.call({"type": "REVIVE"}) == (202, "")
        assert await sub.call({"type": "UNKNOWN"}) == (501, "")
    finally:
        await sub.close()


async def test_failover_sends_error_on_old_stream_and_old_stream_id_dies(master) -> None:
    first = await subscribe(master.scheduler_url)
    second = await subscribe(master.scheduler_url, framework_id=first.framework_id)
    try:
        assert second.framework_id == first.framework_id
        assert second.stream_id != first.stream_id
        error = await first.next("ERROR")
        assert error == {"type": "ERROR", "error": {"message": "Framework failed over"}}
        await first.closed()
        second.framework_id = first.framework_id
        code, _ = await second.call({"type": "REVIVE"}, stream_id=first.stream_id)
        assert code == 400
        assert await second.call({"type": "REVIVE"}) == (202, "")
    finally:
        await first.close()
        await second.close()


async def test_disconnected_framework_gets_403_then_can_resubscribe(master) -> None:
    first = await subscribe(master.scheduler_url)
    fid, stream_id = first.framework_id, first.stream_id
    await first.close()
    body = json.dumps({"type": "REVIVE", "framework_id": {"value": fid}})
    for _ in range(100):
        code, text, _ = await post(master.scheduler_url, body, {**JSON, "Mesos-Stream-Id": stream_id})
        if code == 403:
            break
        await asyncio.sleep(0.05)
    assert (code, text) == (403, "Framework is not subscribed")
    again = await subscribe(master.scheduler_url, framework_id=fid)
    try:
        assert again.framework_id == fid
    finally:
        await again.close()


async def test_teardown_closes_stream_and_id_is_dead(master) -> None:
    sub = await subscribe(master.scheduler_url)
    try:
        assert await sub.call({"type": "TEARDOWN"}) == (202, "")
        await sub.closed()
        body = json.dumps({"type": "REVIVE", "framework_id": {"value": sub.framework_id}})
        code, text, _ = await post(master.scheduler_url, body, {**JSON, "Mesos-Stream-Id": sub.stream_id})
        assert (code, text) == (400, "Framework cannot be found")
        again = await subscribe(master.scheduler_url, framework_id=sub.framework_id)
        try:
            assert again.skipped == [{"type": "ERROR", "error": {"message": "Framework has been removed"}}]
            await again.closed()
        finally:
            await again.close()
    finally:
        await sub.close()


@pytest.mark.parametrize(
    ("info", "suppressed", "message"),
    [
        (
            framework_info(role="db"),
            None,
            "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable",
        ),
        (
            framework_info(capabilities=[]),
            None,
            "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable",
        ),
        (framework_info(roles=["a", "a"]), None, "'FrameworkInfo.roles' contains duplicate items: a"),
        (framework_info(roles=["a/"]), None, "'FrameworkInfo.roles' contains invalid role: "),
        (
            framework_info(failover_timeout="Infinity"),
            None,
            "The framework failover_timeout (inf) is invalid",
        ),
        (framework_info(), ["other"], "Suppressed role 'other' is not contained in the list of roles"),
    ],
)
async def test_invalid_framework_info_is_an_error_event_on_a_200_stream(
    master, info, suppressed, message
) -> None:
    sub = await subscribe(master.scheduler_url, info=info, suppressed=suppressed)
    try:
        assert sub.resp.status == 200
        assert len(sub.skipped) == 1 and sub.skipped[0]["type"] == "ERROR"
        assert sub.skipped[0]["error"]["message"].startswith(message)
        await sub.closed()
    finally:
        await sub.close()


async def test_heartbeats_follow_the_configured_interval(tmp_path) -> None:
    from tests.localmesos.master.rawhttp import start_master, stop_master

    m = await start_master(tmp_path, heartbeat_interval=0.2)
    try:
        sub = await subscribe(m.scheduler_url)
        try:
            assert sub.subscribed["subscribed"]["heartbeat_interval_seconds"] == 0.2
            for _ in range(3):
                assert (await sub.next("HEARTBEAT", timeout=2))["type"] == "HEARTBEAT"
        finally:
            await sub.close()
    finally:
        await stop_master(m)
