"""The CLI against a live API server (uvicorn on a free port, real ZooKeeper behind it)."""

from __future__ import annotations

import json
import socket
import threading
import time

from typer.testing import CliRunner, Result

from cassandra_mesos.cli import app as cli
from framework.views import OfferWait
from tests.api.conftest import TOKEN, StoreView, launch


def run(api_url: str, *args: str, token: str | None = TOKEN) -> Result:
    env = {"CM_API": api_url, "COLUMNS": "200"}
    if token is not None:
        env["CM_TOKEN"] = token
    return CliRunner().invoke(cli, list(args), env=env)


def test_cluster_lifecycle(api_url: str, view: StoreView) -> None:
    r = run(
        api_url,
        "cluster",
        "create",
        "demo",
        "--nodes",
        "3",
        "--set",
        'cassandra_yaml={"concurrent_writes": 16}',
    )
    assert r.exit_code == 0, r.output
    assert "cluster demo created" in r.stdout
    launch(view, "demo", "node-0")
    r = run(api_url, "cluster", "list")
    assert r.exit_code == 0 and "demo" in r.stdout and "DEPLOYING" in r.stdout
    r = run(api_url, "cluster", "show", "demo", "--json")
    assert json.loads(r.stdout)["spec"]["cassandra_yaml"] == {"concurrent_writes": 16}
    r = run(api_url, "cluster", "scale", "demo", "4")
    assert r.exit_code == 0 and "from 3 to 4" in r.stdout
    r = run(api_url, "cluster", "update", "demo", "--set", "cpus=2")
    assert r.exit_code == 0, r.output
    assert json.loads(run(api_url, "cluster", "show", "demo", "--json").stdout)["spec"]["cpus"] == 2.0
    r = run(api_url, "plan", "show", "demo")
    assert r.exit_code == 0 and "seeds" in r.stdout and "node-0" in r.stdout
    r = run(api_url, "plan", "interrupt", "demo", "deploy", "--phase", "seeds")
    assert r.exit_code == 0 and "interrupted phase seeds" in r.stdout
    r = run(api_url, "plan", "continue", "demo", "--phase", "seeds")
    assert r.exit_code == 0
    r = run(api_url, "node", "list", "demo")
    assert r.exit_code == 0 and "node-0" in r.stdout and "127.0.1.1:31002" in r.stdout
    r = run(api_url, "node", "show", "demo", "node-0")
    assert r.exit_code == 0 and "host-node-0" in r.stdout
    r = run(api_url, "connection", "demo")
    assert r.exit_code == 0 and r.stdout.split() == ["127.0.1.1:31002"]
    r = run(api_url, "node", "restart", "demo", "node-0")
    assert r.exit_code == 0 and "restarting node-0" in r.stdout
    r = run(api_url, "node", "replace", "demo", "node-0")
    assert r.exit_code == 0 and "replacing node-0" in r.stdout
    r = run(api_url, "cluster", "delete", "demo", "--yes")
    assert r.exit_code == 0 and "uninstalling" in r.stdout


def test_refusals_exit_2_with_the_servers_sentence(api_url: str) -> None:
    r = run(api_url, "cluster", "create", "demo", "--set", "colour=red")
    assert r.exit_code == 2 and "colour: unknown field" in r.stderr
    r = run(api_url, "cluster", "show", "nope")
    assert r.exit_code == 2 and "cluster 'nope' not found" in r.stderr
    r = run(api_url, "cluster", "create", "demo", "--nodes", "1", token=None)
    assert r.exit_code == 2 and "bearer token" in r.stderr
    assert run(api_url, "cluster", "create", "demo", "--nodes", "1").exit_code == 0
    r = run(api_url, "cluster", "create", "demo", "--nodes", "1")
    assert r.exit_code == 2 and "exists already" in r.stderr
    r = run(api_url, "cluster", "scale", "demo", "0")
    assert r.exit_code == 2 and "nodes" in r.stderr
    r = run(api_url, "cluster", "update", "demo", "--set", "disk_mb=9000")
    assert r.exit_code == 2 and "disk-size-cannot-change" in r.stderr
    r = run(api_url, "plan", "force-complete", "demo", "--block", "node-7")
    assert r.exit_code == 2 and "node-7" in r.stderr
    r = run(api_url, "cluster", "create", "other", "--file", "/nonexistent/spec.yaml")
    assert r.exit_code == 2 and "cannot read" in r.stderr


def test_unreachable_server_exits_1() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    r = run(f"http://127.0.0.1:{port}", "cluster", "list")
    assert r.exit_code == 1 and "cannot reach the API" in r.stderr


def _reconcile_after_wake(view: StoreView, state: str) -> threading.Thread:
    """Stands in for the reconciler: once the API wakes it, the single node comes up (or fails)."""

    def work() -> None:
        if view.woken.wait(20):
            launch(view, "demo", "node-0", state, ready=state == "TASK_RUNNING")

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def test_create_wait_ends_when_the_plan_completes(api_url: str, view: StoreView) -> None:
    t = _reconcile_after_wake(view, "TASK_RUNNING")
    r = run(api_url, "cluster", "create", "demo", "--nodes", "1", "--wait", "--timeout", "60")
    t.join(5)
    assert r.exit_code == 0, r.output
    assert "plan deploy of cluster demo is COMPLETE" in r.stdout


def test_create_wait_fails_when_the_plan_errors(api_url: str, view: StoreView) -> None:
    t = _reconcile_after_wake(view, "TASK_ERROR")
    r = run(api_url, "cluster", "create", "demo", "--nodes", "1", "--wait", "--timeout", "60")
    t.join(5)
    assert r.exit_code == 1, r.output
    assert "is in ERROR" in r.stderr and "node-0" in r.stderr


def test_wait_times_out_with_exit_1(api_url: str, view: StoreView) -> None:
    r = run(api_url, "cluster", "create", "demo", "--nodes", "1", "--wait", "--timeout", "1")
    assert r.exit_code == 1 and "gave up waiting" in r.stderr


def test_replace_wait_ends_when_the_finished_replace_plan_removes_itself(
    api_url: str, view: StoreView
) -> None:
    run(api_url, "cluster", "create", "demo", "--nodes", "3")
    for i in range(3):
        launch(view, "demo", f"node-{i}")
    view.woken.clear()

    def finish() -> None:
        # The reconciler deletes the request once the new node is UN; the CLI saw the plan first.
        if view.woken.wait(20):
            time.sleep(2.5)
            view.store.delete_intent("demo", "replace-node-1")

    t = threading.Thread(target=finish, daemon=True)
    t.start()
    r = run(api_url, "node", "replace", "demo", "node-1", "--wait", "--timeout", "60")
    t.join(5)
    assert r.exit_code == 0, r.output
    assert "replace-node-1 of cluster demo is COMPLETE" in r.stdout


def test_cleanup_and_repair_commands(api_url: str, view: StoreView) -> None:
    run(api_url, "cluster", "create", "demo", "--nodes", "2")
    for i in range(2):
        launch(view, "demo", f"node-{i}")
    r = run(api_url, "cleanup", "start", "demo", "--nodes", "node-1", "--key-spaces", "app")
    assert r.exit_code == 0, r.output
    assert "cleanup of cluster demo started on node-1" in r.stdout
    assert "cleanup" in run(api_url, "plan", "list", "demo").stdout
    bad = run(api_url, "repair", "start", "demo", "--nodes", "node-5")
    assert bad.exit_code == 2 and "node-5" in bad.stderr
    assert run(api_url, "cleanup", "stop", "demo").exit_code == 0
    again = run(api_url, "cleanup", "stop", "demo")
    assert again.exit_code == 2 and "no cleanup to stop" in again.stderr


def test_cluster_offers_says_which_node_waits_and_why(api_url: str, view: StoreView) -> None:
    assert run(api_url, "cluster", "create", "demo", "--nodes", "3").exit_code == 0
    r = run(api_url, "cluster", "offers", "demo")
    assert r.exit_code == 0 and "no node of demo is waiting for an offer" in r.stdout
    view.waits["demo"] = [
        OfferWait("node-2", 61.0, 2.0, ("a3.example: placement rack:IS:r1: rack is 'r3', not 'r1'",))
    ]
    r = run(api_url, "cluster", "offers", "demo")
    assert r.exit_code == 0, r.output
    assert "node-2 waiting 61s, offers weighed 2s ago" in r.stdout
    assert "a3.example: placement rack:IS:r1: rack is 'r3', not 'r1'" in r.stdout
    assert json.loads(run(api_url, "cluster", "offers", "demo", "--json").stdout)[0]["node"] == "node-2"
    r = run(api_url, "cluster", "offers", "nope")
    assert r.exit_code == 2 and "cluster 'nope' not found" in r.stderr
