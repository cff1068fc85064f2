"""Operations on a real Cassandra cluster through the REST API and the CLI only.

In order, on the module's one cluster (see conftest): an immutable change is refused naming its
rule; a cassandra_yaml change together with an upgrade from the previous Cassandra release rolls
one node at a time under QUORUM traffic, interrupted and continued in the middle; scale 3 -> 4,
then the cleanup it offers, continued; a repair of one keyspace; a seed whose agent was stopped
is replaced on another agent; a backup restores a dropped keyspace (schema and rows); delete leaves nothing
of the cluster in localmesos. Outcomes are read the way an operator would: the API, localmesos
/master/state, nodetool and cassandra-driver.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

import jvm
from cassandra_mesos.up import LocalStack, processes_under
from sidecar.config import NodePaths
from tests.e2e.realnodes import (
    KEYSPACE,
    api_json,
    expected_rows,
    master_tasks,
    node_config,
    nodes,
    nodetool_status,
    read_rows,
    sandbox_of,
    wait_for,
)
from tests.e2e_ops.conftest import AGENTS, PREVIOUS_RELEASE, OpsCluster
from tests.e2e_ops.traffic import NodeWatch, QuorumTraffic, cli_command, cli_env, describe, run_cli

pytestmark = [pytest.mark.cassandra, pytest.mark.localmesos, pytest.mark.zookeeper, pytest.mark.timeout(900)]

ROLL_TIMEOUT = 600.0
JOIN_TIMEOUT = 420.0
NEW_CONCURRENT_WRITES = 24
# Scheduler cycles are 1 s: a window of many cycles in which an interrupted plan must start nothing.
HOLD_WINDOW_S = 12.0


def _plan(stack: LocalStack, cluster: str, plan: str = "deploy") -> dict[str, Any]:
    return dict(api_json(stack, f"/v1/clusters/{cluster}/plans/{plan}"))


def _block_status(plan: dict[str, Any], block: str) -> str | None:
    for phase in plan["phases"]:
        for b in phase["blocks"]:
            if b["name"] == block:
                return str(b["status"])
    return None


def _running_yaml(stack: LocalStack, task_id: str) -> dict[str, Any]:
    """The cassandra.yaml the node's current task runs with, read from its sandbox."""
    sandbox = sandbox_of(stack, task_id)
    paths = NodePaths.for_sandbox(node_config(sandbox), sandbox, jvm.cassandra_lib(), jvm.find_java17())
    return dict(yaml.safe_load(paths.cassandra_yaml.read_text()))


def _release_of(stack: LocalStack, cluster: str, node: str) -> str | None:
    """The release the node's Cassandra reports (system.local via its sidecar's CQL probe)."""
    n = nodes(stack, cluster)[node]
    with httpx.Client(timeout=30) as client:
        return client.get(f"http://{n['hostname']}:{n['ports']['sidecar']}/ready").json().get("version")


def test_an_immutable_change_is_refused_naming_its_rule(ops: OpsCluster) -> None:
    stack = ops.stack
    before = api_json(stack, f"/v1/clusters/{ops.name}")
    proc = run_cli(stack, "cluster", "update", ops.name, "--set", f"disk_mb={before['spec']['disk_mb'] * 2}")
    assert proc.returncode == 2, describe(proc)
    assert "disk-size-cannot-change" in proc.stderr, describe(proc)
    r = stack.api("PUT", f"/v1/clusters/{ops.name}", {**before["spec"], "data_center": "elsewhere"})
    assert r.status_code == 400, r.text
    assert "data-center-cannot-change" in r.text, r.text
    after = api_json(stack, f"/v1/clusters/{ops.name}")
    assert after["config_id"] == before["config_id"] and after["spec"] == before["spec"]
    assert _plan(stack, ops.name)["status"] == "COMPLETE"


def test_an_upgrade_with_a_config_change_rolls_node_by_node_and_obeys_interrupt_and_continue(
    ops: OpsCluster, tmp_path: Path
) -> None:
    stack = ops.stack
    spec = api_json(stack, f"/v1/clusters/{ops.name}")["spec"]
    assert spec["cassandra_version"] == PREVIOUS_RELEASE
    assert {n: _release_of(stack, ops.name, n) for n in ("node-0", "node-1", "node-2")} == dict.fromkeys(
        ("node-0", "node-1", "node-2"), PREVIOUS_RELEASE
    )
    new_yaml = {**spec["cassandra_yaml"], "concurrent_writes": NEW_CONCURRENT_WRITES}
    before = {name: n["task_id"] for name, n in nodes(stack, ops.name).items()}
    assert len(before) == 3
    out, err = tmp_path / "update.out", tmp_path / "update.err"
    with QuorumTraffic(ops.session) as traffic, NodeWatch(stack, ops.name) as watch:
        wait_for("a first round of QUORUM traffic", lambda: traffic.rounds >= 1, timeout=60, interval=0.2)
        with out.open("w") as o, err.open("w") as e:
            update = subprocess.Popen(
                cli_command(
                    "cluster",
                    "update",
                    ops.name,
                    "--set",
                    f"cassandra_yaml={json.dumps(new_yaml)}",
                    "--set",
                    f"cassandra_version={jvm.CASSANDRA_VERSION}",
                    "--wait",
                    "--timeout",
                    str(ROLL_TIMEOUT),
                ),
                env=cli_env(stack),
                stdout=o,
                stderr=e,
                start_new_session=True,
            )
        try:

            def first_restarted() -> str | None:
                now = {name: n["task_id"] for name, n in nodes(stack, ops.name).items()}
                changed = [name for name in before if now[name] != before[name]]
                return changed[0] if changed else None

            first = wait_for("the first node to be relaunched", first_restarted, timeout=180, interval=0.3)
            r = stack.api("POST", f"/v1/clusters/{ops.name}/plans/deploy/interrupt")
            assert r.status_code == 200, r.text
            assert _plan(stack, ops.name)["status"] == "WAITING"
            # The node already under way finishes (running work is not killed) ...
            wait_for(
                f"{first}'s block to complete while interrupted",
                lambda: _block_status(_plan(stack, ops.name), first) == "COMPLETE",
                timeout=240,
            )
            held = {name: n["task_id"] for name, n in nodes(stack, ops.name).items()}
            assert [name for name in before if held[name] != before[name]] == [first], held
            # ... and nothing else starts: for many scheduler cycles no other node is relaunched.
            deadline = time.monotonic() + HOLD_WINDOW_S
            while time.monotonic() < deadline:
                plan = _plan(stack, ops.name)
                assert plan["status"] == "WAITING", plan
                now = {name: n["task_id"] for name, n in nodes(stack, ops.name).items()}
                assert now == held, f"a node was relaunched while the deploy plan was interrupted: {now}"
                time.sleep(1.0)
            assert update.poll() is None, "update --wait returned while the plan was interrupted"
            proc = run_cli(stack, "plan", "continue", ops.name, "deploy")
            assert proc.returncode == 0, describe(proc)
            code = update.wait(timeout=ROLL_TIMEOUT)
        finally:
            # A failure while interrupted must not leave the plan held for the next tests.
            with contextlib.suppress(Exception):
                if _plan(stack, ops.name)["status"] == "WAITING":
                    stack.api("POST", f"/v1/clusters/{ops.name}/plans/deploy/continue")
            if update.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(update.pid, signal.SIGKILL)
                update.wait(timeout=10)
        wait_for("one more traffic round after the roll", lambda: traffic.rounds >= 2, timeout=60)
    assert code == 0, f"exit {code}\nstdout: {out.read_text()}\nstderr: {err.read_text()}"
    assert "is COMPLETE" in out.read_text()
    assert traffic.failures == [], (traffic.failures, f"{traffic.timeouts_retried} timeouts retried")
    assert watch.most_down <= 1, f"two nodes were down at once: {watch.worst}"
    after = nodes(stack, ops.name)
    assert all(after[name]["task_id"] != before[name] for name in before), after
    for name, node in after.items():
        assert _running_yaml(stack, node["task_id"])["concurrent_writes"] == NEW_CONCURRENT_WRITES, name
        # The upgrade really changed what runs: the node answers with the new release.
        assert _release_of(stack, ops.name, name) == jvm.CASSANDRA_VERSION, name
    assert traffic.written_rows_readable()
    assert read_rows(ops.session) == expected_rows()


def test_scale_out_3_to_4_joins_a_node_up_normal_with_every_row_readable(ops: OpsCluster) -> None:
    stack = ops.stack
    proc = run_cli(stack, "cluster", "scale", ops.name, "4", "--wait", "--timeout", str(JOIN_TIMEOUT),
                   timeout=JOIN_TIMEOUT + 30)  # fmt: skip
    assert proc.returncode == 0, describe(proc)
    new = nodes(stack, ops.name)["node-3"]
    assert new["state"] == "TASK_RUNNING"
    assert len({n["agent_id"] for n in nodes(stack, ops.name).values()}) == 4
    ring = nodetool_status(sandbox_of(stack, new["task_id"]))
    assert [m.code for m in ring] == ["UN"] * 4, ring
    assert read_rows(ops.session) == expected_rows()


def _jobs_of(stack: LocalStack, cluster: str, node: str) -> list[dict[str, Any]]:
    n = nodes(stack, cluster)[node]
    with httpx.Client(timeout=10) as client:
        return list(client.get(f"http://{n['hostname']}:{n['ports']['sidecar']}/v1/jobs").json())


def test_after_the_scale_out_a_cleanup_of_the_older_nodes_is_offered_and_runs_when_continued(
    ops: OpsCluster,
) -> None:
    stack = ops.stack
    offered = wait_for(
        "the cleanup offered after the scale-out",
        lambda: (p := _plan_or_none(stack, ops.name, "cleanup")) and p["status"] == "WAITING" and p,
        timeout=60,
    )
    assert [b["name"] for b in offered["phases"][0]["blocks"]] == ["node-0", "node-1", "node-2"]
    proc = run_cli(stack, "plan", "continue", ops.name, "cleanup")
    assert proc.returncode == 0, describe(proc)
    wait_for("the cleanup to complete", lambda: _plan(stack, ops.name, "cleanup")["status"] == "COMPLETE",
             timeout=300)  # fmt: skip
    for node in ("node-0", "node-1", "node-2"):
        jobs = _jobs_of(stack, ops.name, node)
        assert [(j["kind"], j["state"]) for j in jobs] == [("cleanup", "SUCCEEDED")], (node, jobs)
    assert _jobs_of(stack, ops.name, "node-3") == []  # the joiner owns only its own ranges
    assert read_rows(ops.session) == expected_rows()


def test_a_repair_of_one_keyspace_runs_node_by_node_through_the_cli(ops: OpsCluster) -> None:
    stack = ops.stack
    proc = run_cli(stack, "repair", "start", ops.name, "--key-spaces", KEYSPACE, "--wait", "--timeout", "300",
                   timeout=330)  # fmt: skip
    assert proc.returncode == 0, describe(proc)
    for node in ("node-0", "node-1", "node-2", "node-3"):
        jobs = [j for j in _jobs_of(stack, ops.name, node) if j["kind"] == "repair"]
        assert [j["state"] for j in jobs] == ["SUCCEEDED"], (node, jobs)
    refused = run_cli(stack, "repair", "start", ops.name, "--nodes", "node-9")
    assert refused.returncode == 2 and "node-9" in refused.stderr, describe(refused)


def _plan_or_none(stack: LocalStack, cluster: str, plan: str) -> dict[str, Any] | None:
    r = stack.api("GET", f"/v1/clusters/{cluster}/plans/{plan}")
    return dict(r.json()) if r.status_code == 200 else None


def _agent_index(stack: LocalStack, hostname: str) -> int:
    assert stack.mesos is not None
    return next(a.index for a in stack.mesos.agents if a.ip == hostname)


def _agent_dir(sandbox: Path) -> Path:
    """The agent's own directory: ``.../localmesos/agents/<agent>/slaves/...``."""
    parts = sandbox.parts
    i = parts.index("agents")
    return Path(*parts[: i + 2])


def test_a_seed_whose_agent_was_stopped_is_replaced_on_another_agent(ops: OpsCluster) -> None:
    stack = ops.stack
    assert stack.mesos is not None
    victim = "node-1"  # a seed (seeds: 2), the harder case: it must not list itself while replacing
    old = nodes(stack, ops.name)[victim]
    sandbox = sandbox_of(stack, old["task_id"])
    # The machine dies: its agent stops, and everything it ran (sidecar, Cassandra) dies with it.
    stack.mesos.stop_agent(_agent_index(stack, old["hostname"]))
    for pid in processes_under(_agent_dir(sandbox)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_for("the stopped machine's processes to be gone", lambda: not processes_under(_agent_dir(sandbox)),
             timeout=30, interval=0.2)  # fmt: skip
    proc = run_cli(stack, "node", "replace", ops.name, victim, "--wait", "--timeout", str(JOIN_TIMEOUT),
                   timeout=JOIN_TIMEOUT + 30)  # fmt: skip
    assert proc.returncode == 0, describe(proc)
    new = nodes(stack, ops.name)[victim]
    assert new["state"] == "TASK_RUNNING"
    assert new["agent_id"] != old["agent_id"] and new["hostname"] != old["hostname"]
    ring = nodetool_status(sandbox_of(stack, new["task_id"]))
    assert [m.code for m in ring] == ["UN"] * 4, ring
    assert old["hostname"] not in {m.address.rsplit(":", 1)[0] for m in ring}, ring
    # Replaced, it is a seed again, at its new address.
    seeds = api_json(stack, f"/v1/clusters/{ops.name}/seeds?node={victim}")
    assert seeds["isSeed"] is True
    assert f"{new['hostname']}:{new['ports']['storage']}" in seeds["seeds"], seeds
    assert read_rows(ops.session) == expected_rows()


def test_a_backup_restores_a_dropped_keyspace_schema_and_every_row(
    ops: OpsCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stack = ops.stack
    # One directory all agents see at the same path, as an NFS mount would be.
    location = tmp_path_factory.mktemp("backups")
    proc = run_cli(stack, "backup", "start", ops.name, "before-drop", "--location", f"file://{location}",
                   "--key-spaces", KEYSPACE, "--wait", "--timeout", "300", timeout=330)  # fmt: skip
    assert proc.returncode == 0, describe(proc)
    for node in ("node-0", "node-1", "node-2", "node-3"):
        assert (location / "before-drop" / node / "COMPLETE").is_file(), node
        assert list((location / "before-drop" / node / KEYSPACE / "kv").glob("*-Data.db")), node
        # The keyspace's schema, from the node's server-side DESCRIBE.
        schema = json.loads((location / "before-drop" / node / KEYSPACE / "schema.json").read_text())
        assert schema[0].startswith(f"CREATE KEYSPACE {KEYSPACE}"), schema
        assert any(f"CREATE TABLE {KEYSPACE}.kv" in st for st in schema), schema
    # The worst mistake short of losing the nodes: the whole keyspace is dropped.
    ops.session.execute(f"DROP KEYSPACE {KEYSPACE}", timeout=120)
    assert KEYSPACE not in [
        r.keyspace_name for r in ops.session.execute("SELECT keyspace_name FROM system_schema.keyspaces")
    ]
    proc = run_cli(stack, "restore", "start", ops.name, "before-drop", "--location", str(location),
                   "--wait", "--timeout", "300", timeout=330)  # fmt: skip
    assert proc.returncode == 0, describe(proc)
    # The keyspace comes back with its replication, and every row at QUORUM.
    rows = ops.session.execute(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", (KEYSPACE,)
    ).one()
    assert rows is not None and rows.replication.get("dc1") == "3", rows
    assert read_rows(ops.session) == expected_rows()


def _leftovers(stack: LocalStack, cluster: str) -> list[str]:
    """What localmesos still holds for the cluster: reservations labelled with it, persistent
    volumes, tasks."""
    assert stack.mesos is not None
    state = stack.mesos.state()
    found = []
    for agent in state.get("slaves", []):
        resources = [r for items in agent.get("reserved_resources_full", {}).values() for r in items]
        for r in resources:
            labels = [
                label
                for reservation in r.get("reservations") or []
                for label in (reservation.get("labels") or {}).get("labels", [])
            ]
            if any(label.get("value") == cluster for label in labels):
                found.append(f"agent {agent['hostname']}: reserved {r['name']} {labels}")
            if "persistence" in (r.get("disk") or {}):
                found.append(f"agent {agent['hostname']}: persistent volume {r['disk']}")
    for task in master_tasks(stack):
        found.append(f"task {task['id']} {task['state']}")
    return found


def test_delete_leaves_no_reservation_volume_or_task_in_localmesos(ops: OpsCluster) -> None:
    stack = ops.stack
    assert stack.mesos is not None
    # Bring the stopped agent back: what the cluster left on it must go too.
    for agent in stack.mesos.agents:
        with contextlib.suppress(Exception):
            stack.mesos.start_agent(agent.index)
    mesos = stack.mesos

    def all_active() -> bool:
        return sum(1 for a in mesos.state().get("slaves", []) if a.get("active")) == AGENTS

    wait_for(f"all {AGENTS} agents registered and active", all_active, timeout=60)
    assert _leftovers(stack, ops.name), "the cluster should hold reservations before the delete"
    proc = run_cli(stack, "cluster", "delete", ops.name, "--yes", "--wait", "--timeout", "300", timeout=330)
    assert proc.returncode == 0, describe(proc)
    assert "is gone" in proc.stdout, describe(proc)
    assert stack.api("GET", f"/v1/clusters/{ops.name}").status_code == 404
    # The master applies unreserve/destroy as it accepts them: give its state a moment to show it.
    wait_for("no leftovers in /master/state", lambda: not _leftovers(stack, ops.name) or None, timeout=30)
    agents_dir = stack.work_dir / "localmesos" / "agents"
    jvms = [p for p in processes_under(agents_dir) if _is_cassandra(p)]
    assert jvms == [], f"Cassandra JVMs still running: {jvms}"


def _is_cassandra(pid: int) -> bool:
    try:
        return "CassandraDaemon" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return False
