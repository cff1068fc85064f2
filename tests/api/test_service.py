"""Health, metrics, the web page, the error model, the bearer token and store outages."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.app import create_app
from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.store.zookeeper import ZooKeeperStore
from framework.views import OfferWait
from tests.api.conftest import TOKEN, StoreView, launch


def test_health(client: TestClient, view: StoreView) -> None:
    assert client.get("/v1/health").json() == {
        "status": "ok",
        "leader": True,
        "mesos": "subscribed",
        "zookeeper": "connected",
    }
    view.leader = False
    assert client.get("/v1/health").json()["leader"] is False


def test_metrics(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 1})
    launch(view, "demo", "node-0")
    client.get("/v1/clusters/demo/plans/deploy")
    text = client.get("/metrics").text
    assert 'cassandra_mesos_nodes{cluster="demo",state="TASK_RUNNING"} 1.0' in text
    assert 'cassandra_mesos_plan_status{cluster="demo",plan="deploy",status="COMPLETE"} 1.0' in text
    assert "cassandra_mesos_leader 1.0" in text
    assert 'cassandra_mesos_node_ready{cluster="demo",node="node-0"} 1.0' in text
    assert 'cassandra_mesos_nodes_waiting_for_offers{cluster="demo"} 0.0' in text
    launch(view, "demo", "node-0", ready=False, launch_count=2)
    view.health["demo"].pop("node-0", None)
    view.waits["demo"] = [OfferWait("node-1", 3.0, None, ())]
    text = client.get("/metrics").text
    assert 'cassandra_mesos_node_ready{cluster="demo",node="node-0"} 0.0' in text
    assert 'cassandra_mesos_nodes_waiting_for_offers{cluster="demo"} 1.0' in text
    # Requests are labelled by route template, not by path.
    assert 'route="/v1/clusters/{cluster}/plans/{plan}"' in text


def test_web_page_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<script src="/web/app.js">' in page.text
    js = client.get("/web/app.js")
    assert js.status_code == 200 and "/v1/clusters" in js.text
    schema = client.get("/openapi.json").json()
    assert "/v1/clusters/{cluster}/plans/{plan}/{verb}" in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_unknown_route_and_method(client: TestClient) -> None:
    r = client.get("/v2/whatever")
    assert r.status_code == 404 and "message" in r.json()
    r = client.patch("/v1/clusters")
    assert r.status_code == 405 and "message" in r.json()


def test_token_guards_every_mutation_but_not_reads(secured: TestClient, view: StoreView) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = secured.put("/v1/clusters/demo", json={"nodes": 1})
    assert r.status_code == 401 and "bearer token" in r.json()["message"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = secured.put("/v1/clusters/demo", json={"nodes": 1}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403
    assert secured.get("/v1/clusters").json() == []
    assert secured.put("/v1/clusters/demo", json={"nodes": 1}, headers=auth).status_code == 202
    launch(view, "demo", "node-0")
    mutations = [
        ("POST", "/v1/clusters/demo/scale", {"nodes": 2}),
        ("POST", "/v1/clusters/demo/plans/deploy/interrupt", None),
        ("POST", "/v1/clusters/demo/nodes/node-0/restart", None),
        ("POST", "/v1/clusters/demo/nodes/node-0/replace", None),
        ("PUT", "/v1/clusters/demo/datacenter", {"data_center": "dc9", "url": "http://x:1", "seeds": []}),
        ("DELETE", "/v1/clusters/demo", None),
    ]
    for method, path, body in mutations:
        assert secured.request(method, path, json=body).status_code == 401, path
        assert (
            secured.request(method, path, json=body, headers={"Authorization": "Bearer x"}).status_code == 403
        )
    for method, path, body in mutations:
        r = secured.request(method, path, json=body, headers=auth)
        assert r.status_code in (200, 202, 204), (path, r.text)
    for path in [
        "/v1/clusters/demo",
        "/v1/clusters/demo/nodes",
        "/v1/clusters/demo/seeds",
        "/v1/health",
        "/",
    ]:
        assert secured.get(path).status_code == 200, path


def test_store_outage_is_503_then_recovers(own_zookeeper: ZooKeeperServer) -> None:
    store = ZooKeeperStore(own_zookeeper.hosts, "/outage", session_timeout=4.0, request_timeout=2.0)
    try:
        view = StoreView(store)
        with TestClient(create_app(view)) as c:
            assert c.put("/v1/clusters/demo", json={"nodes": 1}).status_code == 202
            own_zookeeper.stop()
            # Whether or not the client noticed yet, a write is refused with 503, never hangs or 500s.
            r = c.put("/v1/clusters/demo", json={"nodes": 2, "seeds": 1})
            assert r.status_code == 503, r.text
            assert "unavailable" in r.json()["message"]
            assert r.headers["retry-after"] == "5"
            deadline = time.monotonic() + 20
            while c.get("/v1/health").json()["status"] != "degraded":
                assert time.monotonic() < deadline, "health never reported the outage"
                time.sleep(0.1)
            own_zookeeper.start()
            assert store.wait_writable(30.0)
            assert c.put("/v1/clusters/demo", json={"nodes": 2, "seeds": 1}).status_code == 202
    finally:
        store.close()
