"""The driver against a real localmesos over real HTTP: the scheduler's whole life with Mesos.

Each test subscribes its own framework with its own role, so reservations of one test are
never offered to another while they share one localmesos.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import getpass
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from framework.mesos import resources as rs
from framework.mesos.calls import FrameworkInfoSpec
from framework.mesos.errors import FrameworkFailedOver, FrameworkRemoved, MesosCallError, NotSubscribed
from framework.offers.evaluate import Fit, evaluate, plan_offers, view_offer
from framework.offers.requirements import NodeRequirements, ReservationKey
from localmesos.harness import LocalMesos
from tests.framework.mesos.scheduler_fixture import TestScheduler
from tests.framework.mesos.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.localmesos, pytest.mark.timeout(120)]

PRINCIPAL = "cassandra-principal"


@pytest.fixture(scope="module")
def mesos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMesos]:
    with LocalMesos(
        tmp_path_factory.mktemp("lm"), agents=2, attributes=["rack:r1", "rack:r2"], heartbeat_interval=1.0
    ) as lm:
        yield lm


@pytest.fixture
def role() -> str:
    return f"cass-{uuid.uuid4().hex[:8]}"


def info(role: str, **kw: Any) -> FrameworkInfoSpec:
    return FrameworkInfoSpec(
        name="cassandra-test", user=getpass.getuser(), roles=(role,), principal=PRINCIPAL, **kw
    )


@pytest.fixture
async def sched(mesos: LocalMesos, role: str) -> AsyncIterator[TestScheduler]:
    s = TestScheduler([mesos.master_url], info(role), backoff_initial=0.1, backoff_max=1.0)
    s.start()
    await s.driver.wait_subscribed(20)
    yield s
    if s.driver.is_subscribed:
        await s.driver.teardown()
    await s.stop()


def node(role: str, name: str = "node-0", **kw: Any) -> NodeRequirements:
    return NodeRequirements(
        cluster="c1",
        node=name,
        role=role,
        principal=PRINCIPAL,
        cpus=0.1,
        mem=64,
        disk=32,
        resource_id=f"{name}-rid",
        # Unique per test: reservations and volumes outlive a torn-down framework on the shared agents.
        persistence_id=f"c1-{name}-{role}",
        port_names=("storage", "sidecar"),
        **kw,
    )


def task(task_id: str, command: str) -> dict[str, Any]:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "command": {"shell": True, "value": command},
        "kill_policy": {"grace_period": {"nanoseconds": 500_000_000}},
    }


TERMINAL = {
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_ERROR",
    "TASK_LOST",
    "TASK_DROPPED",
    "TASK_GONE",
}


async def wait_running(s: TestScheduler, task_id: str) -> None:
    def running() -> bool:
        states = s.states(task_id)
        ended = TERMINAL.intersection(states)
        assert not ended, f"{task_id} ended with {ended}: {[x.get('message') for x in s.stored][-3:]}"
        return "TASK_RUNNING" in states

    await s.wait_for(f"{task_id} TASK_RUNNING", running)


async def wait_state(s: TestScheduler, task_id: str, state: str) -> None:
    await s.wait_for(f"{task_id} {state}", lambda: state in s.states(task_id))


async def launch(s: TestScheduler, req: NodeRequirements, task_id: str, command: str) -> Fit:
    def fits(offer: dict[str, Any]) -> bool:
        return isinstance(evaluate(offer, req), Fit)

    offer = await s.take_offer(f"an offer fitting {req.node}", fits)
    fit = evaluate(offer, req)
    assert isinstance(fit, Fit)
    await s.driver.accept([fit.offer_id], fit.operations(task(task_id, command)), refuse_seconds=1)
    return fit


async def test_reserve_create_launch_kill_and_relaunch_in_place_keeps_the_volume(
    sched: TestScheduler, mesos: LocalMesos, role: str
) -> None:
    req = node(role)
    first = await launch(sched, req, "c1__node-0__1", "echo kept > data/marker && exec sleep 120")
    assert not first.relaunch_in_place
    await wait_running(sched, "c1__node-0__1")
    assert first.rack in ("r1", "r2")

    await sched.driver.kill("c1__node-0__1", first.agent_id)
    await sched.wait_for("TASK_KILLED", lambda: "TASK_KILLED" in sched.states("c1__node-0__1"))

    # The reservations and the volume come back in an offer from the same agent: LAUNCH only.
    pinned = node(role, agent_id=first.agent_id, ports=dict(first.ports))
    again = await launch(sched, pinned, "c1__node-0__2", 'test "$(cat data/marker)" = kept && exec sleep 120')
    assert again.relaunch_in_place
    assert again.agent_id == first.agent_id and again.ports == first.ports
    await wait_running(sched, "c1__node-0__2")
    assert "TASK_FAILED" not in sched.states("c1__node-0__2")


async def test_every_update_with_uuid_is_stored_then_acknowledged(sched: TestScheduler, role: str) -> None:
    fit = await launch(sched, node(role), "c1__node-0__ack", "exec sleep 120")
    await wait_running(sched, "c1__node-0__ack")
    await sched.driver.kill("c1__node-0__ack", fit.agent_id)
    # TASK_KILLED only arrives if every earlier update was acknowledged (one in flight per task).
    await sched.wait_for("TASK_KILLED", lambda: "TASK_KILLED" in sched.states("c1__node-0__ack"))
    stored = {s["uuid"] for s in sched.stored if s["task_id"]["value"] == "c1__node-0__ack"}
    await sched.wait_for("every stored update acknowledged", lambda: stored <= {u for u, _ in sched.acks()})
    for uuid_b64, stored_then in sched.acks():
        assert uuid_b64 in stored_then  # never acknowledged before it was stored


async def test_an_update_that_could_not_be_stored_is_not_acknowledged_and_comes_again(
    sched: TestScheduler, role: str
) -> None:
    failures: list[str] = []

    def store_down_once(status: dict[str, Any]) -> bool:
        if status["state"] == "TASK_RUNNING" and not failures:
            failures.append(status["uuid"])
            return True
        return False

    sched.fail_store = store_down_once
    await launch(sched, node(role), "c1__node-0__retry", "exec sleep 120")
    await wait_running(sched, "c1__node-0__retry")
    (running,) = [s for s in sched.stored if s["state"] == "TASK_RUNNING"]
    assert running["uuid"] == failures[0]  # the very update whose storing failed, resent by the agent
    await sched.wait_for(
        "the resent update acknowledged", lambda: failures[0] in {u for u, _ in sched.acks()}
    )
    assert [u for u, _ in sched.acks()].count(failures[0]) == 1  # acked once: after it was stored


async def test_reconcile_answers_without_uuid_and_is_not_acknowledged(
    sched: TestScheduler, role: str
) -> None:
    fit = await launch(sched, node(role), "c1__node-0__rec", "exec sleep 120")
    await wait_running(sched, "c1__node-0__rec")

    def reconciled(task_id: str) -> list[dict[str, Any]]:
        return [
            s
            for s in sched.stored
            if s["task_id"]["value"] == task_id and s.get("reason") == "REASON_RECONCILIATION"
        ]

    await sched.driver.reconcile([("c1__node-0__rec", fit.agent_id), ("c1__node-9__unknown", fit.agent_id)])
    await sched.wait_for("explicit reconciliation", lambda: reconciled("c1__node-0__rec"))
    await sched.wait_for("unknown task reconciled", lambda: reconciled("c1__node-9__unknown"))
    (known,) = reconciled("c1__node-0__rec")
    assert known["state"] == "TASK_RUNNING" and "uuid" not in known
    assert reconciled("c1__node-9__unknown")[0]["state"] == "TASK_GONE"  # PARTITION_AWARE, agent registered

    before = len(reconciled("c1__node-0__rec"))
    await sched.driver.reconcile([])
    await sched.wait_for("implicit reconciliation", lambda: len(reconciled("c1__node-0__rec")) > before)
    # Only updates with a uuid were acknowledged: none of the master's reconciliation answers.
    with_uuid = {s["uuid"] for s in sched.stored if s.get("uuid")}
    await sched.wait_for("acks of every update with uuid", lambda: {u for u, _ in sched.acks()} == with_uuid)
    assert len(sched.acks()) == len(with_uuid)


async def test_call_errors_carry_the_masters_message(sched: TestScheduler) -> None:
    not_a_uuid = base64.b64encode(bytes(16)).decode()
    with pytest.raises(MesosCallError) as err:
        await sched.driver.acknowledge("no-agent", "no-task", not_a_uuid)
    assert err.value.status_code == 400
    assert "Not a valid UUID" in err.value.message


async def test_resubscribes_with_the_same_framework_id_after_the_connection_drops(
    mesos: LocalMesos, role: str
) -> None:
    master = httpx.URL(mesos.master_url)
    async with TcpProxy(master.host, master.port or 80) as proxy:
        s = TestScheduler([proxy.url], info(role), backoff_initial=0.1, backoff_max=1.0)
        s.start()
        try:
            framework_id = await s.driver.wait_subscribed(20)
            fit = await launch(s, node(role), "c1__node-0__drop", "exec sleep 120")
            await wait_running(s, "c1__node-0__drop")

            proxy.drop()
            await s.wait_for("second SUBSCRIBED", lambda: s.driver.subscriptions >= 2)
            assert s.driver.framework_id == framework_id
            # The task kept running and the new stream id works for calls.
            await s.driver.reconcile([("c1__node-0__drop", fit.agent_id)])
            await s.wait_for(
                "reconciled TASK_RUNNING after re-subscription",
                lambda: any(
                    st.get("reason") == "REASON_RECONCILIATION" and st["state"] == "TASK_RUNNING"
                    for st in s.stored
                ),
            )
            await s.driver.teardown()
        finally:
            await s.stop()


async def test_heartbeat_watchdog_reconnects_a_silent_subscription(mesos: LocalMesos, role: str) -> None:
    master = httpx.URL(mesos.master_url)
    async with TcpProxy(master.host, master.port or 80) as proxy:
        s = TestScheduler([proxy.url], info(role), backoff_initial=0.1, backoff_max=1.0)
        s.start()
        try:
            framework_id = await s.driver.wait_subscribed(20)
            # The connection stays open but nothing arrives: only the watchdog can notice.
            proxy.freeze_subscriptions()
            silent_at = asyncio.get_running_loop().time()
            await s.wait_for(
                "re-subscription after missed heartbeats", lambda: s.driver.subscriptions >= 2, 30
            )
            waited = asyncio.get_running_loop().time() - silent_at
            assert waited >= 4.0  # five 1 s heartbeat intervals, not an eager reconnect
            assert s.driver.framework_id == framework_id
            await s.driver.teardown()
        finally:
            await s.stop()


async def test_a_second_instance_with_the_same_id_fails_the_first_over(mesos: LocalMesos, role: str) -> None:
    first = TestScheduler([mesos.master_url], info(role))
    run_first = first.start()
    second: TestScheduler | None = None
    try:
        framework_id = await first.driver.wait_subscribed(20)
        second = TestScheduler([mesos.master_url], info(role), framework_id=framework_id)
        second.start()
        assert await second.driver.wait_subscribed(20) == framework_id
        with pytest.raises(FrameworkFailedOver):
            await asyncio.wait_for(run_first, 20)
        assert isinstance(first.driver.ended_by, FrameworkFailedOver)
        with pytest.raises(NotSubscribed):
            await first.driver.revive()
        await second.driver.teardown()
    finally:
        await first.stop()
        if second is not None:
            await second.stop()


async def test_a_torn_down_framework_id_is_reported_removed(mesos: LocalMesos, role: str) -> None:
    s = TestScheduler([mesos.master_url], info(role))
    s.start()
    framework_id = await s.driver.wait_subscribed(20)
    await s.driver.teardown()
    await s.stop()

    again = TestScheduler([mesos.master_url], info(role), framework_id=framework_id)
    try:
        with pytest.raises(FrameworkRemoved):
            await asyncio.wait_for(again.driver.run(), 20)
    finally:
        await again.stop()


@pytest.fixture
async def not_the_leader(mesos: LocalMesos) -> AsyncIterator[tuple[str, list[str]]]:
    """A master that is not the leader: first 503 while no leader is elected, then 307 with a
    protocol-relative Location, as Mesos 1.11 answers."""
    leader = httpx.URL(mesos.master_url)
    asked: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        asked.append(request.method)
        if len(asked) == 1:
            return web.Response(status=503, text="No leader elected")
        return web.Response(status=307, headers={"Location": f"//{leader.host}:{leader.port}{request.path}"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", asked
    finally:
        await runner.cleanup()


async def test_skips_dead_masters_retries_503_and_follows_307_to_the_leader(
    mesos: LocalMesos, role: str, not_the_leader: tuple[str, list[str]], unused_tcp_port: int
) -> None:
    redirector, asked = not_the_leader
    dead = f"127.0.0.1:{unused_tcp_port}"
    s = TestScheduler([dead, redirector], info(role), backoff_initial=0.1)
    s.start()
    try:
        await s.driver.wait_subscribed(20)
        assert s.driver.leader == mesos.master_url.rstrip("/")
        assert asked == ["POST", "POST"]  # 503, then 307 re-POSTed to the leader (never a GET)
        await s.driver.revive()  # calls go to the leader, with the stream id
        await s.driver.teardown()
    finally:
        await s.stop()


async def test_a_framework_id_the_store_refused_is_kept_and_reused(mesos: LocalMesos, role: str) -> None:
    s = TestScheduler([mesos.master_url], info(role), backoff_initial=0.1)
    refused: list[str] = []

    def store_down_once(framework_id: str) -> bool:
        refused.append(framework_id)
        return len(refused) == 1

    s.fail_id_store = store_down_once
    s.start()
    try:
        framework_id = await s.driver.wait_subscribed(20)
        # Subscribed again with the id it could not store, not as a second framework.
        assert refused == [framework_id, framework_id]
        assert s.stored_id == framework_id
        await s.driver.teardown()
    finally:
        await s.stop()


async def test_orphaned_reservations_and_volumes_are_destroyed_and_referenced_ones_kept(
    sched: TestScheduler, mesos: LocalMesos, role: str
) -> None:
    orphan, kept = node(role, "node-0"), node(role, "node-1")
    fits: dict[str, Fit] = {}
    for req in (orphan, kept):
        task_id = f"c1__{req.node}__1"
        fits[req.node] = await launch(sched, req, task_id, "echo data > data/marker && exec sleep 120")
        await wait_running(sched, task_id)
        await sched.driver.kill(task_id, fits[req.node].agent_id)
        await wait_state(sched, task_id, "TASK_KILLED")

    agent_dirs = {a.ip: a.work_dir for a in mesos.agents}

    def volume_dir(req: NodeRequirements) -> Path:
        return agent_dirs[fits[req.node].hostname] / "volumes" / "roles" / role / req.persistence_id

    assert (volume_dir(orphan) / "marker").is_file() and (volume_dir(kept) / "marker").is_file()

    offer = await sched.take_offer(
        "an offer holding node-0's reservations", lambda o: orphan.key in view_offer(o).owned
    )
    plan = plan_offers([offer], [], referenced=frozenset({kept.key}), role=role)
    ops = plan.cleanups[offer["id"]["value"]]
    assert [op["type"] for op in ops] == ["DESTROY", "UNRESERVE"]
    touched = [*ops[0]["destroy"]["volumes"], *ops[1]["unreserve"]["resources"]]
    assert {ReservationKey.from_labels(rs.reservation_labels(r)) for r in touched} == {orphan.key}
    before = set(sched.offers)
    await sched.driver.accept([offer["id"]["value"]], ops, refuse_seconds=0)

    await sched.wait_for("node-0's volume directory deleted", lambda: not volume_dir(orphan).exists())
    # node-1 is referenced: its reservations and volume come back in offers, data intact.
    held = await sched.take_offer(
        "an offer holding node-1's volume", lambda o: kept.key in view_offer(o).owned
    )
    assert kept.persistence_id in {rs.persistence_id(r) for r in held["resources"]}
    assert (volume_dir(kept) / "marker").read_text().strip() == "data"
    # What the ACCEPT released is offered again: unreserved, with no trace of node-0's labels.
    freed = await sched.take_offer(
        "a new offer from node-0's agent",
        lambda o: o["id"]["value"] not in before and o["agent_id"]["value"] == fits["node-0"].agent_id,
    )
    assert orphan.key not in view_offer(freed).owned


async def test_after_a_master_restart_it_resubscribes_and_reconciles_its_running_task(
    tmp_path: Path, role: str
) -> None:
    with LocalMesos(tmp_path, agents=1, heartbeat_interval=1.0) as lm:
        s = TestScheduler([lm.master_url], info(role), backoff_initial=0.1, backoff_max=1.0)
        s.start()
        try:
            framework_id = await s.driver.wait_subscribed(20)
            fit = await launch(s, node(role), "c1__node-0__mf", "exec sleep 120")
            await wait_running(s, "c1__node-0__mf")

            await asyncio.to_thread(lm.restart_master)
            await s.wait_for(
                "re-subscription to the restarted master", lambda: s.driver.subscriptions >= 2, 30
            )
            assert s.driver.framework_id == framework_id

            def reconciled_running() -> bool:
                return any(
                    st.get("reason") == "REASON_RECONCILIATION" and st["state"] == "TASK_RUNNING"
                    for st in s.stored[-20:]
                )

            # The new master answers only once the agent has re-registered: ask until it does.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while not reconciled_running():
                assert loop.time() < deadline, f"no reconciliation reply; last: {s.stored[-3:]}"
                await s.driver.reconcile([("c1__node-0__mf", fit.agent_id)])
                with contextlib.suppress(AssertionError):
                    await s.wait_for("reconciliation reply", reconciled_running, 1.0)
            await s.driver.teardown()
        finally:
            await s.stop()


async def test_offers_whose_handler_failed_are_declined_not_hoarded(mesos: LocalMesos, role: str) -> None:
    s = TestScheduler([mesos.master_url], info(role), failed_handler_decline_seconds=0.5)
    failed: list[str] = []

    def fail_first(offers: list[dict[str, Any]]) -> bool:
        if failed:
            return False
        failed.extend(o["agent_id"]["value"] for o in offers)
        return True

    s.fail_offers = fail_first
    s.start()
    try:
        await s.driver.wait_subscribed(20)
        await s.wait_for("a failed OFFERS event", lambda: failed)
        # Held offers are never re-offered; declined ones come back once the short filter expires.
        await s.take_offer("the same agents offered again", lambda o: o["agent_id"]["value"] in failed)
        await s.driver.teardown()
    finally:
        await s.stop()


async def test_offers_declined_with_a_long_filter_come_back_on_revive(sched: TestScheduler) -> None:
    first = await sched.take_offer("a first offer", lambda o: True)
    agent = first["agent_id"]["value"]
    await sched.driver.decline([first["id"]["value"]])  # the default long filter: an hour
    await sched.driver.revive()
    again = await sched.take_offer(
        "the declined agent offered again", lambda o: o["agent_id"]["value"] == agent
    )
    assert again["id"] != first["id"]


async def test_calls_carry_the_stream_id_and_the_exact_content_type(sched: TestScheduler) -> None:
    await sched.driver.suppress()
    await sched.driver.revive()
    assert [t for t, _ in sched.headers][:1] == ["SUBSCRIBE"]
    for call_type, headers in sched.headers:
        assert headers["content-type"] == "application/json"
        if call_type == "SUBSCRIBE":
            assert "mesos-stream-id" not in headers
        else:
            assert headers["mesos-stream-id"] == sched.driver.stream_id
