"""What the API sees of a scheduler that is not leading: standby state and plans from the store."""

from __future__ import annotations

from framework.config import parse_config
from framework.service import SchedulerService
from framework.store.memory import MemoryStore
from framework.views import MESOS_STANDBY, ZOOKEEPER_CONNECTED, ZOOKEEPER_SUSPENDED, SchedulerView
from model.intents import PlanIntents
from plans.model import Status

CONFIG = parse_config({"masters": ["127.0.0.1:5050"], "zookeeper": {"hosts": "127.0.0.1:2181"}})
SPEC = {"nodes": 2, "cpus": 0.5, "mem_mb": 1024, "heap_mb": 512, "disk_mb": 100}


def standby() -> tuple[SchedulerService, MemoryStore]:
    store = MemoryStore()
    # Another instance holds the election: this one never leads.
    store.election("other").start(lambda: None, lambda: None)
    return SchedulerService(CONFIG, store, store.election("me")), store


def test_a_standby_reports_its_state_and_builds_plans_from_the_store() -> None:
    service, store = standby()
    view: SchedulerView = service  # the protocol the API codes against
    assert not view.is_leader() and view.mesos_state() == MESOS_STANDBY
    assert view.zookeeper_state() == ZOOKEEPER_CONNECTED
    assert view.plans("nope") == {} and dict(view.node_health("nope")) == {}
    view.wake()  # harmless without a term

    store.put_config("c1", SPEC, None)
    plans = view.plans("c1")
    assert set(plans) == {"deploy", "recovery"}
    deploy = plans["deploy"]
    # Not leading, so nothing is reconciled: the deploy plan waits on its reconciliation block.
    assert deploy.phases[0].name == "reconciliation"
    assert deploy.phases[0].blocks[0].status is Status.STARTING
    assert [b.name for b in deploy.phases[1].blocks] == ["node-0", "node-1"]

    store.set_available(False)
    assert view.zookeeper_state() == ZOOKEEPER_SUSPENDED


def test_an_intent_just_written_shows_in_the_next_plans_read() -> None:
    service, store = standby()
    store.put_config("c1", SPEC, None)
    store.put_intent("c1", "deploy", PlanIntents("deploy", interrupted=True).to_json())
    assert service.plans("c1")["deploy"].interrupted
