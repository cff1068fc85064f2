"""Whole lifecycles driven through the pure engine: a tiny simulated world performs each cycle's
actions the way the reconciler would (record first, then the task runs; Cassandra joins one
cycle later), and the tests check what an operator cares about: who starts together, who waits,
and that no rolling change ever takes two nodes down at once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from model.cluster import ClusterSpec, config_id, parse_spec
from model.intents import PlanIntents
from model.node import NodeHealth
from model.records import TaskRecord
from plans import verbs
from plans.actions import KillNode, LaunchNode, Reconcile, SyncDatacenter, WaitForNode
from plans.cassandra.deploy import build_deploy_plan
from plans.cassandra.recovery import build_recovery_plan
from plans.cassandra.state import ClusterState
from plans.coordinator import next_work
from plans.model import Plan, Status
from plans.render import render_plan
from plans.status import plan_status

READY = NodeHealth("NORMAL", True)


@dataclass
class World:
    spec: ClusterSpec
    records: dict[str, TaskRecord] = field(default_factory=dict)
    health: dict[str, NodeHealth] = field(default_factory=dict)
    reconciled: bool = False
    intents: dict[str, PlanIntents] = field(
        default_factory=lambda: {"deploy": PlanIntents("deploy"), "recovery": PlanIntents("recovery")}
    )
    launches: list[tuple[int, LaunchNode]] = field(default_factory=list)
    kills: list[tuple[int, str]] = field(default_factory=list)
    cycle_no: int = 0
    joining: set[str] = field(default_factory=set)

    def state(self) -> ClusterState:
        return ClusterState(
            "demo", self.spec, config_id(self.spec), self.records, self.health, reconciled=self.reconciled
        )

    def plans(self) -> list[Plan]:
        s = self.state()
        return [
            build_deploy_plan(s, self.intents["deploy"]),
            build_recovery_plan(s, self.intents["recovery"]),
        ]

    def deploy(self) -> Plan:
        return self.plans()[0]

    def cycle(self) -> None:
        self.cycle_no += 1
        for node in self.joining:  # Cassandra finished joining since the last cycle
            self.health[node] = READY
        self.joining = set()
        for work in next_work(self.plans()):
            action = work.action
            if isinstance(action, LaunchNode):
                old = self.records.get(action.node)
                count = old.launch_count + 1 if old else 1
                tid = f"demo__{action.node}__{count}"
                self.records[action.node] = TaskRecord(
                    "demo",
                    action.node,
                    {"task_id": {"value": tid}, "agent_id": {"value": f"a-{action.node}"}},
                    {"state": "TASK_RUNNING"},
                    count,
                    dict(action.record_extra()),
                )
                self.health[action.node] = NodeHealth("JOINING", False, tid)
                self.joining.add(action.node)
                self.launches.append((self.cycle_no, action))
            elif isinstance(action, KillNode):
                rec = self.records[action.node]
                assert rec.task_id == action.task_id
                self.records[action.node] = rec.with_status({"state": "TASK_KILLED"})
                self.health.pop(action.node, None)
                self.kills.append((self.cycle_no, action.node))
            elif isinstance(action, Reconcile):
                self.reconciled = True
            else:
                assert isinstance(action, WaitForNode | SyncDatacenter)

    def not_ready(self) -> set[str]:
        return {n for n in self.records if self.health.get(n) != READY and not self._fresh(n)}

    def _fresh(self, node: str) -> bool:
        h = self.health.get(node)
        return h is not None and h.is_ready

    def run_until_deployed(self, limit: int = 40, max_down: int | None = None) -> int:
        for _ in range(limit):
            if plan_status(self.deploy()) is Status.COMPLETE:
                return self.cycle_no
            self.cycle()
            if max_down is not None:
                down = {n for n, h in self.health.items() if not h.is_ready} | {
                    n for n, r in self.records.items() if r.state != "TASK_RUNNING"
                }
                assert len(down) <= max_down, (self.cycle_no, sorted(down))
        raise AssertionError(f"deploy not complete after {limit} cycles: {render_plan(self.deploy())}")


def launched_in(world: World, cycle: int) -> list[str]:
    return sorted(a.node for c, a in world.launches if c == cycle)


def test_new_cluster_forms_seeds_first_then_the_rest_together() -> None:
    world = World(parse_spec({"nodes": 5, "seeds": 2}))
    done = world.run_until_deployed()
    assert launched_in(world, 1) == []  # reconciliation first
    assert launched_in(world, 2) == ["node-0", "node-1"]
    assert launched_in(world, 3) == ["node-2", "node-3", "node-4"]
    assert done == 4
    assert all(not a.bootstrap and a.initial_tokens for _, a in world.launches)
    tokens = [t for _, a in world.launches for t in a.initial_tokens]
    assert len(tokens) == len(set(tokens)) == 5 * 16


def test_scale_out_then_config_update_then_failure() -> None:
    world = World(parse_spec({"nodes": 3}))
    world.run_until_deployed()
    formed = len(world.launches)

    # Scale out by three: each new node bootstraps alone, the next waits for UN + CQL.
    world.spec = parse_spec({"nodes": 6})
    world.run_until_deployed(max_down=1)
    joins = world.launches[formed:]
    assert [a.node for _, a in joins] == ["node-3", "node-4", "node-5"]
    assert all(a.bootstrap and not a.initial_tokens and a.genesis_nodes == 3 for _, a in joins)
    assert len({c for c, _ in joins}) == 3  # three different cycles

    # Config update: a rolling restart, never two nodes down at once, seeds first.
    before = len(world.launches)
    world.spec = parse_spec({"nodes": 6, "cassandra_yaml": {"concurrent_writes": 64}})
    world.run_until_deployed(max_down=1)
    rolled = [a for _, a in world.launches[before:]]
    assert [a.node for a in rolled] == [f"node-{i}" for i in range(6)]
    assert all(a.in_place and a.reason == "config-update" for a in rolled)
    assert [n for _, n in world.kills] == [f"node-{i}" for i in range(6)]
    assert all(r.extra["config_id"] == config_id(world.spec) for r in world.records.values())
    # The bootstrap choices of the first boot are kept on relaunch.
    assert [a.bootstrap for a in rolled] == [False, False, False, True, True, True]

    # A node dies: it is relaunched in place and the cluster is whole again.
    world.records["node-4"] = world.records["node-4"].with_status({"state": "TASK_FAILED"})
    world.health.pop("node-4")
    assert plan_status(world.plans()[1]) is not Status.COMPLETE  # recovery sees it
    world.run_until_deployed(max_down=1)
    last = world.launches[-1][1]
    assert last.node == "node-4" and last.in_place


def test_operator_rolling_restart_and_failover_rebuild() -> None:
    world = World(parse_spec({"nodes": 3}))
    world.run_until_deployed()
    plan = world.deploy()
    for phase in ("seeds", "nodes"):
        world.intents["deploy"] = verbs.restart(plan, world.intents["deploy"], phase=phase).intents
        plan = world.deploy()
    # Failover: a new scheduler reads the intents back from the store and rebuilds the same plan.
    stored = json.dumps(world.intents["deploy"].to_json())
    again = build_deploy_plan(world.state(), PlanIntents.from_json(json.loads(stored)))
    assert render_plan(again) == render_plan(plan)
    before = len(world.launches)
    world.run_until_deployed(max_down=1)
    assert [a.node for _, a in world.launches[before:]] == ["node-0", "node-1", "node-2"]
    assert all(a.reason == "restart" for _, a in world.launches[before:])


def test_interrupt_pauses_a_scale_out_and_continue_resumes_it() -> None:
    world = World(parse_spec({"nodes": 2}))
    world.run_until_deployed()
    world.spec = parse_spec({"nodes": 4})
    world.intents["deploy"] = verbs.interrupt(world.deploy(), world.intents["deploy"]).intents
    before = len(world.launches)
    for _ in range(3):
        world.cycle()
    assert len(world.launches) == before
    assert plan_status(world.deploy()) is Status.WAITING
    world.intents["deploy"] = verbs.continue_(world.deploy(), world.intents["deploy"]).intents
    world.run_until_deployed(max_down=1)
    assert [a.node for _, a in world.launches[before:]] == ["node-2", "node-3"]
