"""Property test: no input to /api/v1/scheduler makes the master answer 5xx or stop serving."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localmesos.jsonmap import ENUMS
from tests.localmesos.master.rawhttp import start_master, stop_master, subscribe

FIELDS = [
    "type",
    "framework_id",
    "value",
    "offer_ids",
    "operations",
    "task_infos",
    "resources",
    "scalar",
    "reservations",
    "role",
    "disk",
    "persistence",
    "volume",
    "id",
    "uuid",
    "agent_id",
    "task_id",
    "filters",
    "refuse_seconds",
    "roles",
    "tasks",
    "launch",
    "reserve",
    "create",
    "destroy",
    "unreserve",
    "accept",
    "decline",
    "kill",
    "acknowledge",
    "reconcile",
    "subscribe",
    "framework_info",
    "name",
    "ranges",
    "range",
    "begin",
    "end",
    "set",
    "item",
    "kill_policy",
    "grace_period",
    "nanoseconds",
    "command",
    "shell",
    "allocation_info",
    "principal",
    "labels",
    "suppress",
    "revive",
    "update_framework",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(ENUMS["Call.Type"] + ENUMS["Operation.Type"] + ENUMS["Value.Type"] + ("DYNAMIC", "RW")),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), children, max_size=4),
    ),
    max_leaves=25,
)


class Env:
    def __init__(self, tmp_path: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.master = self.run(start_master(tmp_path, simulated_agents=2))
        self.sub = self.run(subscribe(self.master.scheduler_url))
        self.http = httpx.Client(timeout=10)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        try:
            self.http.close()
            self.run(self.sub.close())
            self.run(stop_master(self.master))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    e = Env(tmp_path_factory.mktemp("fuzz"))
    try:
        yield e
    finally:
        e.close()


# TEARDOWN and SUBSCRIBE would end or replace the subscription the other examples aim at.
KINDS = [k for k in ENUMS["Call.Type"] if k not in ("TEARDOWN", "SUBSCRIBE")]


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=values,
    inner=values,
    kind=st.sampled_from(KINDS),
    own=st.booleans(),
    raw=st.booleans(),
    content_type=st.sampled_from(
        ["application/json", "application/json", "application/x-protobuf", "text/x"]
    ),
)
def test_scheduler_endpoint_never_5xx(
    env: Env, body: Any, inner: Any, kind: str, own: bool, raw: bool, content_type: str
) -> None:
    if own:
        # Aim half the calls at the subscribed framework, with their body key, so they reach the handlers.
        body = {
            **(body if isinstance(body, dict) else {}),
            "type": kind,
            "framework_id": {"value": env.sub.framework_id},
            kind.lower(): inner,
        }
    payload = (json.dumps(body) if not raw else json.dumps(body)[:-1]).encode()
    headers = {"Content-Type": content_type, "Mesos-Stream-Id": env.sub.stream_id}
    if isinstance(body, dict) and body.get("type") == "SUBSCRIBE":
        with env.http.stream("POST", env.master.scheduler_url, content=payload, headers=headers) as r:
            assert r.status_code < 500
        return
    r = env.http.post(env.master.scheduler_url, content=payload, headers=headers)
    assert r.status_code < 500 or r.status_code == 501, r.text


OPERATOR_KINDS = list(ENUMS["master.Call.Type"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=values, inner=values, kind=st.sampled_from(OPERATOR_KINDS), shaped=st.booleans())
def test_operator_and_internal_endpoints_never_5xx(
    env: Env, body: Any, inner: Any, kind: str, shaped: bool
) -> None:
    if kind in ("SUBSCRIBE", "TEARDOWN"):
        kind = "GET_STATE"  # streams and removing the fuzzed framework are covered elsewhere
    if shaped:
        body = {"type": kind, kind.lower(): inner}
    payload = json.dumps(body).encode()
    r = env.http.post(
        env.master.base + "/api/v1", content=payload, headers={"Content-Type": "application/json"}
    )
    assert r.status_code < 500 or r.status_code == 501, r.text
    # Never a complete registration: a fuzzed agent must not join the cluster under test.
    partial = {k: v for k, v in body.items() if k not in ("ip", "port")} if isinstance(body, dict) else body
    r = env.http.post(env.master.base + "/internal/agents/register", content=json.dumps(partial).encode())
    assert r.status_code < 500, r.text
    r = env.http.post(env.master.base + "/internal/agents/x/status", content=payload)
    assert r.status_code < 500, r.text


def test_master_still_serves_after_fuzzing(env: Env) -> None:
    with httpx.Client(timeout=10) as client:
        assert client.get(env.master.base + "/health").status_code == 200
        state = client.get(env.master.base + "/master/state").json()
        assert state["activated_slaves"] == 2
