"""Faults a framework must survive, on a real localmesos over raw HTTP (reference §4.3, §4.4, §7.7).

Pings every 0.5 s, 3 misses = unreachable; status update retry 0.5 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from localmesos.harness import LocalMesos
from tests.localmesos.agent.rawsched import RawScheduler, framework_info, task

pytestmark = pytest.mark.localmesos

LONG = "while :; do sleep 0.1; done"


def _until(cond: Callable[[], object], timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout}s"
        time.sleep(0.05)


def _agent_tasks(lm: LocalMesos, index: int = 0) -> dict[str, dict]:
    state = httpx.get(f"{lm.agents[index].url}/localmesos/state", timeout=5).json()
    return {t["task_id"]: t for t in state["tasks"]}


def _task_pid(lm: LocalMesos, task_id: str, index: int = 0) -> int:
    directory = Path(_agent_tasks(lm, index)[task_id]["directory"])
    meta = lm.agents[index].work_dir / "meta" / directory.relative_to(lm.agents[index].work_dir)
    return int(json.loads((meta / "forked.pid").read_text())["pid"])


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _running_task(lm: LocalMesos, sched: RawScheduler, task_id: str, command: str = LONG) -> dict:
    offer = sched.next_offer()
    sched.launch(offer, task(offer, task_id, command))
    sched.wait_update(task_id, "TASK_RUNNING")
    return offer


def test_agent_restart_adopts_running_task_and_reports_one_that_ended_meanwhile(
    localmesos: LocalMesos,
) -> None:
    sched = RawScheduler(localmesos.master_url, framework_info()).subscribe()
    try:
        offer = sched.next_offer()
        sched.launch(
            offer,
            task(offer, "t-long", LONG),
            task(offer, "t-gate", "while [ ! -e release ]; do sleep 0.05; done; exit 4"),
        )
        sched.wait_update("t-long", "TASK_RUNNING")
        sched.wait_update("t-gate", "TASK_RUNNING")
        pid = _task_pid(localmesos, "t-long")
        gate_dir = Path(_agent_tasks(localmesos)["t-gate"]["directory"])
        agent_id = offer["agent_id"]["value"]

        localmesos.stop_agent(0)
        (gate_dir / "release").touch()  # t-gate ends while no agent is watching
        localmesos.start_agent(0)

        failed = sched.wait_update("t-gate", "TASK_FAILED", from_agent=True)
        assert failed["message"] == "Command exited with status 4"
        assert _alive(pid), "the running task must survive the agent restart"
        assert localmesos.admin_state()["agents"][0]["agent_id"] == agent_id
        assert _agent_tasks(localmesos)["t-long"]["state"] == "TASK_RUNNING"

        # The restarted agent really owns the adopted task: it can kill it.
        mark = sched.mark()
        sched.call("KILL", kill={"task_id": {"value": "t-long"}, "agent_id": offer["agent_id"]})
        sched.wait_update("t-long", "TASK_KILLED", since=mark, from_agent=True)
        _until(lambda: not _alive(pid), what="task process gone")
    finally:
        sched.close()


def test_master_restart_agents_reregister_and_framework_reconciles_running_task(
    localmesos: LocalMesos,
) -> None:
    sched = RawScheduler(localmesos.master_url, framework_info()).subscribe()
    offer = _running_task(localmesos, sched, "t-long")
    framework_id = sched.framework_id
    sched.close()

    localmesos.restart_master()

    again = RawScheduler(localmesos.master_url, framework_info(framework_id=framework_id)).subscribe()
    try:
        assert again.framework_id == framework_id
        deadline = time.monotonic() + 20
        while True:  # no reply until the agent has re-registered (reference §4.5): retry
            mark = again.mark()
            again.call(
                "RECONCILE",
                reconcile={"tasks": [{"task_id": {"value": "t-long"}, "agent_id": offer["agent_id"]}]},
            )
            try:
                event = again.wait_event(
                    lambda e: (
                        e["type"] == "UPDATE"
                        and e["update"]["status"].get("reason") == "REASON_RECONCILIATION"
                    ),
                    timeout=1,
                    since=mark,
                )
                break
            except AssertionError:
                assert time.monotonic() < deadline, "reconciliation never answered TASK_RUNNING"
        status = event["update"]["status"]
        assert (status["task_id"]["value"], status["state"]) == ("t-long", "TASK_RUNNING")
        slaves = {a["id"] for a in localmesos.state()["slaves"]}
        assert offer["agent_id"]["value"] in slaves
    finally:
        again.close()


def test_killed_agent_takes_its_tasks_down_and_frameworks_hear_it(localmesos: LocalMesos) -> None:
    # One framework at a time holds offers: the plain one launches and suppresses, then the aware one.
    plain = RawScheduler(localmesos.master_url, framework_info("plain", "b")).subscribe()
    _running_task(localmesos, plain, "t-plain")
    plain.call("SUPPRESS", suppress={})
    plain.decline_outstanding()
    aware = RawScheduler(
        localmesos.master_url, framework_info("aware", "a", partition_aware=True)
    ).subscribe()
    try:
        offer = _running_task(localmesos, aware, "t-aware")
        held = aware.next_offer(agent_id=offer["agent_id"]["value"])  # kept, so it must be rescinded
        pids = [_task_pid(localmesos, "t-plain"), _task_pid(localmesos, "t-aware")]

        localmesos.kill_agent(0)

        assert not any(_alive(p) for p in pids), "the host died: its task processes must be gone"
        unreachable = aware.wait_update("t-aware", "TASK_UNREACHABLE")
        assert unreachable["source"] == "SOURCE_MASTER" and "uuid" not in unreachable
        lost = plain.wait_update("t-plain", "TASK_LOST")
        assert lost["source"] == "SOURCE_MASTER"
        failure = aware.wait_event(lambda e: e["type"] == "FAILURE")
        assert failure["failure"]["agent_id"] == offer["agent_id"]
        aware.wait_event(lambda e: e["type"] == "RESCIND" and e["rescind"]["offer_id"] == held["id"])

        # The host comes back: its agent recovers, finds the task dead and says so (never RUNNING).
        mark = aware.mark()
        localmesos.start_agent(0)
        # from_agent: the agent's own update, not the master's echo of it on re-registration.
        failed = aware.wait_update("t-aware", "TASK_FAILED", since=mark, from_agent=True)
        assert (failed["source"], failed["reason"]) == ("SOURCE_AGENT", "REASON_EXECUTOR_TERMINATED")
        since_restart = [e["update"]["status"]["state"] for e in aware.events[mark:] if e["type"] == "UPDATE"]
        assert "TASK_RUNNING" not in since_restart
    finally:
        aware.close()
        plain.close()


def test_partitioned_agent_comes_back_with_its_task_still_running(localmesos: LocalMesos) -> None:
    sched = RawScheduler(localmesos.master_url, framework_info(partition_aware=True)).subscribe()
    try:
        _running_task(localmesos, sched, "t-long")
        pid = _task_pid(localmesos, "t-long")
        mark = sched.mark()
        localmesos.partition_agent(0)
        sched.wait_update("t-long", "TASK_UNREACHABLE", since=mark)
        assert _alive(pid)
        localmesos.heal_agent(0)
        back = sched.wait_update("t-long", "TASK_RUNNING", since=mark)
        assert back["reason"] == "REASON_AGENT_REREGISTERED"
        assert _alive(pid)
    finally:
        sched.close()


def test_status_update_is_retried_until_acknowledged_and_later_ones_wait(localmesos: LocalMesos) -> None:
    sched = RawScheduler(localmesos.master_url, framework_info(), auto_ack=False).subscribe()
    try:
        offer = sched.next_offer()
        sched.launch(offer, task(offer, "t-quick", "exit 0"))

        def starting() -> list[dict]:
            return [s for s in sched.updates("t-quick") if s["state"] == "TASK_STARTING"]

        _until(lambda: len(starting()) >= 2, what="TASK_STARTING resent")
        assert len({s["uuid"] for s in starting()}) == 1, "a retry resends the same update"
        assert {s["state"] for s in sched.updates("t-quick")} == {"TASK_STARTING"}, "later updates must queue"

        # The unacknowledged update is checkpointed: a restarted agent sends it again, same uuid.
        seen = len(starting())
        localmesos.restart_agent(0)
        _until(lambda: len(starting()) > seen, what="TASK_STARTING resent after the agent restart")
        assert len({s["uuid"] for s in starting()}) == 1

        for state in ("TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"):
            event = sched.wait_event(
                lambda e, st=state: (
                    e["type"] == "UPDATE"
                    and e["update"]["status"]["state"] == st
                    and "uuid" in e["update"]["status"]
                )  # not a master-generated copy
            )
            sched.ack(event)
        _until(lambda: "t-quick" not in _agent_tasks(localmesos), what="stream drained after the last ack")
    finally:
        sched.close()


def test_tasks_of_a_non_checkpointing_framework_die_with_the_agent(localmesos: LocalMesos) -> None:
    sched = RawScheduler(localmesos.master_url, framework_info(checkpoint=False)).subscribe()
    try:
        _running_task(localmesos, sched, "t-fragile")
        pid = _task_pid(localmesos, "t-fragile")
        localmesos.restart_agent(0)
        _until(lambda: not _alive(pid), what="task of a non-checkpointing framework gone")
        lost = sched.wait_update("t-fragile", "TASK_LOST")
        assert lost["source"] == "SOURCE_MASTER"
    finally:
        sched.close()
