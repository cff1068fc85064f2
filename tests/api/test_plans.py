"""Plans over HTTP: the rendered plan and the operator verbs, stored as intents in ZooKeeper."""

from __future__ import annotations

from fastapi.testclient import TestClient

from framework.store.zookeeper import ZooKeeperStore
from model.intents import PlanIntents
from plans.model import block_id, phase_id
from tests.api.conftest import StoreView, launch


def _deploying(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    launch(view, "demo", "node-0")
    launch(view, "demo", "node-1", ready=False)


def test_plan_json_shape(client: TestClient, view: StoreView) -> None:
    _deploying(client, view)
    assert client.get("/v1/clusters/demo/plans").json() == ["deploy", "recovery"]
    plan = client.get("/v1/clusters/demo/plans/deploy").json()
    assert set(plan) == {"name", "status", "strategy", "errors", "phases"}
    assert plan["name"] == "deploy" and plan["errors"] == []
    assert [p["name"] for p in plan["phases"]] == ["reconciliation", "seeds", "nodes"]
    seeds = plan["phases"][1]
    assert seeds["id"] == phase_id("deploy", "seeds")
    assert [(b["name"], b["status"]) for b in seeds["blocks"]] == [
        ("node-0", "COMPLETE"),
        ("node-1", "STARTED"),
    ]
    assert all(b["status"].isupper() for p in plan["phases"] for b in p["blocks"])


def test_unknown_plan_phase_block_are_404(client: TestClient, view: StoreView) -> None:
    _deploying(client, view)
    assert client.get("/v1/clusters/demo/plans/nope").status_code == 404
    assert client.post("/v1/clusters/demo/plans/nope/interrupt").status_code == 404
    r = client.post("/v1/clusters/demo/plans/deploy/interrupt?phase=nope")
    assert r.status_code == 404 and "nope" in r.json()["message"]
    r = client.post("/v1/clusters/demo/plans/deploy/force-complete?phase=seeds&block=node-9")
    assert r.status_code == 404 and "node-9" in r.json()["message"]
    r = client.post("/v1/clusters/demo/plans/deploy/dance")
    assert r.status_code == 422


def test_interrupt_and_continue_by_name_and_id(
    client: TestClient, view: StoreView, store: ZooKeeperStore
) -> None:
    _deploying(client, view)
    r = client.post("/v1/clusters/demo/plans/deploy/interrupt")
    assert r.status_code == 200 and "interrupted plan deploy" in r.json()["message"]
    assert client.get("/v1/clusters/demo/plans/deploy").json()["status"] == "WAITING"
    assert PlanIntents.from_json(store.get_intents("demo")["deploy"]).interrupted
    again = client.post("/v1/clusters/demo/plans/deploy/interrupt")
    assert again.status_code == 409 and "already interrupted" in again.json()["message"]
    assert client.post("/v1/clusters/demo/plans/deploy/continue").status_code == 200
    assert not PlanIntents.from_json(store.get_intents("demo")["deploy"]).interrupted
    assert client.post("/v1/clusters/demo/plans/deploy/continue").status_code == 409

    pid = phase_id("deploy", "nodes")
    assert client.post(f"/v1/clusters/demo/plans/deploy/interrupt?phase={pid}").status_code == 200
    phases = {p["name"]: p["status"] for p in client.get("/v1/clusters/demo/plans/deploy").json()["phases"]}
    assert phases["nodes"] == "WAITING"
    assert client.post("/v1/clusters/demo/plans/deploy/continue?phase=nodes").status_code == 200
    assert view.wakes >= 5


def test_force_complete_and_restart_a_block(
    client: TestClient, view: StoreView, store: ZooKeeperStore
) -> None:
    _deploying(client, view)
    r = client.post("/v1/clusters/demo/plans/deploy/force-complete?phase=seeds&block=node-1")
    assert r.status_code == 200, r.text
    blocks = client.get("/v1/clusters/demo/plans/deploy").json()["phases"][1]["blocks"]
    assert blocks[1]["status"] == "COMPLETE" and "forced" in blocks[1]["message"]
    again = client.post("/v1/clusters/demo/plans/deploy/force-complete?phase=seeds&block=node-1")
    assert again.status_code == 409
    bid = block_id("deploy", "seeds", "node-0")
    r = client.post(f"/v1/clusters/demo/plans/deploy/restart?block={bid}")
    assert r.status_code == 200, r.text
    intents = PlanIntents.from_json(store.get_intents("demo")["deploy"])
    assert intents.restart_mark(bid) == 1
    assert client.post(f"/v1/clusters/demo/plans/deploy/restart?block={bid}").status_code == 409


def test_empty_phase_or_block_is_422(client: TestClient, view: StoreView) -> None:
    _deploying(client, view)
    r = client.post("/v1/clusters/demo/plans/deploy/restart?phase=&block=node-0")
    assert r.status_code == 422 and "phase" in r.json()["message"]
