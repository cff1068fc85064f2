"""Clusters over HTTP against a real ZooKeeper store: create, update rules, scale, uninstall."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from framework.store.zookeeper import ZooKeeperStore
from framework.views import OfferWait
from model.intents import PlanIntents
from model.operations import UNINSTALL, Uninstall, operation_of
from tests.api.conftest import StoreView, launch


def test_create_show_and_list(client: TestClient, view: StoreView) -> None:
    r = client.put("/v1/clusters/demo", json={"nodes": 3})
    assert r.status_code == 202, r.text
    config_id = r.json()["config_id"]
    assert view.wakes == 1
    assert client.get("/v1/clusters").json() == ["demo"]
    info = client.get("/v1/clusters/demo").json()
    assert info["name"] == "demo" and info["config_id"] == config_id
    assert info["spec"]["nodes"] == 3 and info["spec"]["seeds"] == 2
    assert info["status"] == "DEPLOYING" or info["status"] == "PENDING"
    assert info["nodes"] == 3 and info["nodes_running"] == 0
    assert set(info["plans"]) == {"deploy", "recovery"}


def test_status_follows_the_deploy_plan(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 2, "seeds": 1})
    launch(view, "demo", "node-0")
    assert client.get("/v1/clusters/demo").json()["status"] == "DEPLOYING"
    launch(view, "demo", "node-1")
    info = client.get("/v1/clusters/demo").json()
    assert info["status"] == "RUNNING" and info["nodes_running"] == 2


def test_same_spec_twice_changes_nothing(client: TestClient, view: StoreView, store: ZooKeeperStore) -> None:
    first = client.put("/v1/clusters/demo", json={"nodes": 3}).json()["config_id"]
    r = client.put("/v1/clusters/demo", json={"nodes": 3, "seeds": 2})
    assert r.status_code == 202 and r.json()["config_id"] == first
    assert "nothing to do" in r.json()["message"]
    assert store.list_configs("demo") == [first]


def test_update_makes_a_new_target(client: TestClient, store: ZooKeeperStore) -> None:
    first = client.put("/v1/clusters/demo", json={"nodes": 3}).json()["config_id"]
    r = client.put("/v1/clusters/demo", json={"nodes": 3, "cassandra_yaml": {"concurrent_writes": 64}})
    assert r.status_code == 202
    second = r.json()["config_id"]
    assert second != first
    target = store.get_target("demo")
    assert target is not None and target[0] == second
    assert client.get("/v1/clusters/demo").json()["spec"]["cassandra_yaml"] == {"concurrent_writes": 64}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"data_center": "dc2"}, "data-center-cannot-change"),
        ({"disk_mb": 8192}, "disk-size-cannot-change"),
        ({"disk_type": "MOUNT"}, "disk-type-cannot-change"),
        ({"nodes": 2}, "nodes-cannot-shrink"),
        ({"racks": ["r1", "r2"]}, "racks-of-existing-nodes-cannot-change"),
    ],
)
def test_immutable_fields_are_refused_naming_the_rule(client: TestClient, change: dict, rule: str) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    r = client.put("/v1/clusters/demo", json={"nodes": 3, **change})
    assert r.status_code == 400
    assert rule in r.json()["message"]
    assert any(rule in line for line in r.json()["errors"])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"nodes": 3, "colour": "red"}, "colour: unknown field"),
        ({"nodes": 0}, "nodes"),
        ({"nodes": "three"}, "nodes"),
        ({"nodes": 2, "seeds": 3}, "seeds"),
        ({"cassandra_version": "4.1.0"}, "cassandra_version"),
        ({"cassandra_yaml": {"listen_address": "1.2.3.4"}}, "framework-owns-addresses"),
        ({"jvm_options": ["-Xmx4G"]}, "heap-is-set-by-heap_mb"),
        ([1, 2], "body"),
    ],
)
def test_invalid_specs_are_refused_naming_the_field(client: TestClient, body: object, words: str) -> None:
    r = client.put("/v1/clusters/demo", json=body)
    assert r.status_code == 422, r.text
    assert words in r.json()["message"]
    assert client.get("/v1/clusters").json() == []


def test_body_that_is_not_json(client: TestClient) -> None:
    r = client.put("/v1/clusters/demo", content=b"{nodes: 3", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert "JSON" in r.json()["message"]


@pytest.mark.parametrize("name", ["Demo", "9lives", "a" * 49, "with_underscore"])
def test_invalid_cluster_names(client: TestClient, name: str) -> None:
    r = client.put(f"/v1/clusters/{name}", json={"nodes": 1})
    assert r.status_code == 400
    assert "cluster name" in r.json()["message"]


def test_unknown_cluster_is_404_everywhere(client: TestClient) -> None:
    for method, path in [
        ("GET", "/v1/clusters/nope"),
        ("DELETE", "/v1/clusters/nope"),
        ("GET", "/v1/clusters/nope/plans"),
        ("GET", "/v1/clusters/nope/plans/deploy"),
        ("POST", "/v1/clusters/nope/plans/deploy/interrupt"),
        ("GET", "/v1/clusters/nope/nodes"),
        ("GET", "/v1/clusters/nope/nodes/node-0"),
        ("POST", "/v1/clusters/nope/nodes/node-0/restart"),
        ("POST", "/v1/clusters/nope/nodes/node-0/replace"),
        ("GET", "/v1/clusters/nope/seeds"),
        ("GET", "/v1/clusters/nope/connection"),
        ("GET", "/v1/clusters/nope/datacenter"),
        ("GET", "/v1/clusters/NOT_A_NAME"),
    ]:
        r = client.request(method, path)
        assert r.status_code == 404, (method, path, r.text)
        assert "nope" in r.json()["message"] or "NOT_A_NAME" in r.json()["message"]
    r = client.post("/v1/clusters/nope/scale", json={"nodes": 4})
    assert r.status_code == 404


def test_scale_grows_and_refuses_to_shrink(client: TestClient, store: ZooKeeperStore) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    r = client.post("/v1/clusters/demo/scale", json={"nodes": 5})
    assert r.status_code == 202, r.text
    assert client.get("/v1/clusters/demo").json()["spec"]["nodes"] == 5
    r = client.post("/v1/clusters/demo/scale", json={"nodes": 2})
    assert r.status_code == 400
    assert "nodes-cannot-shrink" in r.json()["message"]
    r = client.post("/v1/clusters/demo/scale", json={"nodes": 5})
    assert r.status_code == 202 and "nothing to do" in r.json()["message"]
    assert len(store.list_configs("demo")) == 2


@pytest.mark.parametrize(
    "body", [{}, {"nodes": 0}, {"nodes": "4"}, {"nodes": 4, "extra": 1}, {"nodes": 1001}]
)
def test_scale_bad_bodies(client: TestClient, body: dict) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    r = client.post("/v1/clusters/demo/scale", json=body)
    assert r.status_code == 422, r.text
    assert "nodes" in r.json()["message"] or "extra" in r.json()["message"]


def test_delete_writes_an_uninstall_intent_and_blocks_changes(
    client: TestClient, view: StoreView, store: ZooKeeperStore
) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    r = client.delete("/v1/clusters/demo")
    assert r.status_code == 202
    stored = store.get_intents("demo")[UNINSTALL]
    assert isinstance(operation_of(PlanIntents.from_json(stored)), Uninstall)
    assert client.get("/v1/clusters/demo").json()["status"] == "UNINSTALLING"
    # The reconciler performs the uninstall; until then the cluster exists and refuses changes.
    again = client.delete("/v1/clusters/demo")
    assert again.status_code == 202 and "already" in again.json()["message"]
    r = client.put("/v1/clusters/demo", json={"nodes": 4})
    assert r.status_code == 409 and "uninstalled" in r.json()["message"]
    assert client.post("/v1/clusters/demo/scale", json={"nodes": 4}).status_code == 409
    launch(view, "demo", "node-0")
    assert client.post("/v1/clusters/demo/nodes/node-0/restart").status_code == 409
    assert client.post("/v1/clusters/demo/nodes/node-0/replace").status_code == 409


def test_a_new_cluster_may_not_name_storage_ports_another_cluster_uses(
    client: TestClient, view: StoreView
) -> None:
    assert client.put("/v1/clusters/a", json={"nodes": 1, "storage_port": 7000}).status_code == 202
    client.put("/v1/clusters/b", json={"nodes": 1})
    launch(view, "b", "node-0")  # placed: holds storage 31000, ssl_storage 31001
    for body, field, owner in (
        ({"storage_port": 7000}, "storage_port 7000", "'a'"),
        ({"storage_port": 6999}, "ssl_storage_port 7000", "'a'"),  # ssl defaults to storage + 1
        ({"storage_port": 31001, "ssl_storage_port": 32001}, "storage_port 31001", "'b'"),
    ):
        r = client.put("/v1/clusters/c", json={"nodes": 1, **body})
        assert r.status_code == 409, r.text
        assert field in r.json()["message"] and owner in r.json()["message"], r.text
    assert client.get("/v1/clusters").json() == ["a", "b"]
    # Free ports are fine, and so is leaving them out (the scheduler picks unused ones).
    assert client.put("/v1/clusters/c", json={"nodes": 1, "storage_port": 7100}).status_code == 202
    assert client.put("/v1/clusters/d", json={"nodes": 1}).status_code == 202
    # An existing cluster's own ports are never in its way.
    assert (
        client.put(
            "/v1/clusters/a",
            json={"nodes": 1, "storage_port": 7000, "cassandra_yaml": {"concurrent_writes": 64}},
        ).status_code
        == 202
    )


def test_offers_lists_the_nodes_waiting_for_an_offer_and_why(client: TestClient, view: StoreView) -> None:
    assert client.get("/v1/clusters/nope/offers").status_code == 404
    client.put("/v1/clusters/demo", json={"nodes": 3})
    assert client.get("/v1/clusters/demo/offers").json() == []
    view.waits["demo"] = [
        OfferWait("node-2", 42.04, 1.26, ("agent-3: placement rack:IS:r1: rack is 'r3', not 'r1'",)),
        OfferWait("node-3", 5.0, None, ()),
    ]
    assert client.get("/v1/clusters/demo/offers").json() == [
        {
            "node": "node-2",
            "waiting_s": 42.0,
            "checked_s_ago": 1.3,
            "reasons": ["agent-3: placement rack:IS:r1: rack is 'r3', not 'r1'"],
        },
        {"node": "node-3", "waiting_s": 5.0, "checked_s_ago": None, "reasons": []},
    ]
