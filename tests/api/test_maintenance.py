"""Cleanup and repair through the REST API: validation, one at a time, stop, the plan they show."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from framework.store.zookeeper import ZooKeeperStore
from model.maintenance import JobStatus, MaintenanceRequest
from tests.api.conftest import TOKEN, StoreView, launch


def _cluster(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    for i in range(3):
        launch(view, "demo", f"node-{i}")


def test_a_cleanup_runs_as_plan_cleanup_over_the_named_nodes(
    client: TestClient, view: StoreView, store: ZooKeeperStore
) -> None:
    _cluster(client, view)
    r = client.put(
        "/v1/clusters/demo/cleanup/start", json={"nodes": ["node-2", "node-0"], "key_spaces": "ks1,ks2"}
    )
    assert r.status_code == 202, r.text
    assert "node-0, node-2" in r.json()["message"]
    request = MaintenanceRequest.from_json(store.get_intents("demo")["cleanup"]["parameters"])
    assert request.nodes == ("node-0", "node-2") and request.key_spaces == ("ks1", "ks2")
    assert "cleanup" in client.get("/v1/clusters/demo/plans").json()
    plan = client.get("/v1/clusters/demo/plans/cleanup").json()
    assert [b["name"] for b in plan["phases"][0]["blocks"]] == ["node-0", "node-2"]
    assert plan["phases"][0]["blocks"][0]["message"] == "will start cleanup on the node"
    # The job runs on node-0: a second start is a conflict, not a second cleanup.
    job = request.job("node-0", 1)
    view.health["demo"]["node-0"] = replace(
        view.health["demo"]["node-0"], jobs=(JobStatus(job.id, "cleanup", "RUNNING", "step 1/2"),)
    )
    again = client.put("/v1/clusters/demo/cleanup/start", json={"nodes": ["*"]})
    assert again.status_code == 409 and "in progress" in again.json()["message"]
    running = client.get("/v1/clusters/demo/plans/cleanup").json()["phases"][0]["blocks"][0]
    assert (running["status"], running["message"]) == ("STARTED", "cleanup running: step 1/2")
    # A repair is another plan: it may be started alongside.
    assert client.put("/v1/clusters/demo/repair/start", json={"nodes": ["*"]}).status_code == 202
    stop = client.put("/v1/clusters/demo/cleanup/stop")
    assert stop.status_code == 202 and "cleanup" not in store.get_intents("demo")
    assert client.get("/v1/clusters/demo/plans/cleanup").status_code == 404
    assert client.put("/v1/clusters/demo/cleanup/stop").status_code == 409


def test_bad_starts_are_refused_with_a_message(client: TestClient, view: StoreView) -> None:
    _cluster(client, view)
    cases = [
        ({"nodes": ["node-7"]}, 400, "node-7"),
        ({"nodes": []}, 400, "non-empty"),
        ({"nodes": ["*"], "key_spaces": ["a", "b"], "column_families": ["t"]}, 400, "exactly one keyspace"),
        ({"nodes": ["*"], "key_spaces": ["drop table"]}, 400, "not a Cassandra name"),
        ({"nodes": ["*"], "extra": 1}, 422, ""),
        ({"key_spaces": ["a"]}, 422, ""),
    ]
    for body, status, needle in cases:
        r = client.put("/v1/clusters/demo/repair/start", json=body)
        assert r.status_code == status, (body, r.text)
        assert needle in r.json()["message"], (body, r.text)
    assert client.put("/v1/clusters/nope/repair/start", json={"nodes": ["*"]}).status_code == 404
    assert client.put("/v1/clusters/demo/compact/start", json={"nodes": ["*"]}).status_code in (404, 422)


def test_starting_and_stopping_need_the_token_when_one_is_set(secured: TestClient, view: StoreView) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    secured.put("/v1/clusters/demo", json={"nodes": 3}, headers=headers)
    launch(view, "demo", "node-0")
    assert secured.put("/v1/clusters/demo/cleanup/start", json={"nodes": ["*"]}).status_code == 401
    assert (
        secured.put("/v1/clusters/demo/cleanup/start", json={"nodes": ["*"]}, headers=headers).status_code
        == 202
    )
    assert secured.put("/v1/clusters/demo/cleanup/stop").status_code == 401


def test_backup_and_restore_start_as_plans_over_every_node(
    client: TestClient, view: StoreView, store: ZooKeeperStore
) -> None:
    _cluster(client, view)
    body = {"backup_name": "nightly-1", "external_location": "file:///mnt/backups", "key_spaces": ["app"]}
    r = client.put("/v1/clusters/demo/backup/start", json=body)
    assert r.status_code == 202, r.text
    request = MaintenanceRequest.from_json(store.get_intents("demo")["backup"]["parameters"])
    assert (request.nodes, request.location, request.key_spaces) == (
        ("node-0", "node-1", "node-2"),
        "/mnt/backups",
        ("app",),
    )
    assert "backup" in client.get("/v1/clusters/demo/plans").json()
    s3 = client.put(
        "/v1/clusters/demo/restore/start", json={"backup_name": "b", "external_location": "s3://x/y"}
    )
    assert s3.status_code == 400 and "s3:// is not supported" in s3.json()["message"]
    extra = client.put("/v1/clusters/demo/restore/start", json={**body})
    assert extra.status_code == 422  # restore takes no key_spaces
    ok = client.put(
        "/v1/clusters/demo/restore/start",
        json={"backup_name": "nightly-1", "external_location": "/mnt/backups"},
    )
    assert ok.status_code == 202, ok.text
    assert client.put("/v1/clusters/demo/backup/stop").status_code == 202
    assert client.put("/v1/clusters/demo/restore/stop").status_code == 202
