"""Nodes over HTTP: list, live status, restart in place, replace; seeds, connection, datacenter."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import http_sidecar_status
from framework.store.zookeeper import ZooKeeperStore
from model.intents import PlanIntents
from model.operations import NodeReplace, operation_of, replace_plan_name
from plans.model import block_id
from tests.api.conftest import StoreView, launch, ports_of


def _running(client: TestClient, view: StoreView, nodes: int = 3) -> None:
    client.put("/v1/clusters/demo", json={"nodes": nodes})
    for i in range(nodes):
        launch(view, "demo", f"node-{i}")


def test_list_nodes(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    assert client.get("/v1/clusters/demo/nodes").json() == []
    launch(view, "demo", "node-1", ready=False)
    launch(view, "demo", "node-0")
    nodes = client.get("/v1/clusters/demo/nodes").json()
    assert [n["name"] for n in nodes] == ["node-0", "node-1"]
    assert nodes[0] == {
        "name": "node-0",
        "task_id": "demo__node-0__uuid1",
        "agent_id": "agent-node-0",
        "hostname": "127.0.1.1",
        "state": "TASK_RUNNING",
        "mode": "NORMAL",
        "ports": ports_of("node-0"),
    }
    assert nodes[1]["mode"] == "UNKNOWN"


def test_node_detail_with_live_status(client: TestClient, view: StoreView) -> None:
    _running(client, view)
    n0 = client.get("/v1/clusters/demo/nodes/node-0").json()
    assert n0["live"] is True and n0["host_id"] == "host-node-0" and n0["tokens"] == 16
    assert n0["seed"] is True and n0["cql_ready"] is True and n0["launch_count"] == 1
    n2 = client.get("/v1/clusters/demo/nodes/node-2").json()
    assert n2["live"] is False and "refused" in n2["live_error"] and n2["host_id"] is None
    assert n2["seed"] is False and n2["state"] == "TASK_RUNNING"


def test_live_status_from_an_unreachable_sidecar_says_why(view: StoreView) -> None:
    from api.app import create_app

    with TestClient(create_app(view, sidecar_status=http_sidecar_status(timeout=1.0))) as c:
        c.put("/v1/clusters/demo", json={"nodes": 1})
        launch(view, "demo", "node-0", host="127.0.0.1")
        n0 = c.get("/v1/clusters/demo/nodes/node-0").json()
        assert n0["live"] is False and "Connect" in n0["live_error"]


def test_unknown_nodes_are_404(client: TestClient, view: StoreView) -> None:
    _running(client, view, 2)
    for path in ["nodes/node-7", "nodes/bogus", "nodes/node-7/restart", "nodes/node-01/replace"]:
        method = "POST" if path.endswith(("restart", "replace")) else "GET"
        r = client.request(method, f"/v1/clusters/demo/{path}")
        assert r.status_code == 404, (path, r.text)
    client.post("/v1/clusters/demo/scale", json={"nodes": 3})
    r = client.get("/v1/clusters/demo/nodes/node-2")
    assert r.status_code == 404 and "not been launched" in r.json()["message"]


def test_restart_marks_the_deploy_block(client: TestClient, view: StoreView, store: ZooKeeperStore) -> None:
    _running(client, view)
    r = client.post("/v1/clusters/demo/nodes/node-2/restart")
    assert r.status_code == 202, r.text
    intents = PlanIntents.from_json(store.get_intents("demo")["deploy"])
    assert intents.restart_mark(block_id("deploy", "nodes", "node-2")) == 1
    # The deploy plan now wants node-2 killed and relaunched in place.
    blocks = client.get("/v1/clusters/demo/plans/deploy").json()["phases"][2]["blocks"]
    assert blocks[0]["status"] == "PENDING" and "restart" in blocks[0]["message"]
    again = client.post("/v1/clusters/demo/nodes/node-2/restart")
    assert again.status_code == 409 and "already in progress" in again.json()["message"]
    # Once relaunched (a newer launch), the node may be restarted again.
    launch(view, "demo", "node-2", launch_count=2)
    assert client.post("/v1/clusters/demo/nodes/node-2/restart").status_code == 202


def test_restart_or_replace_of_a_node_never_launched_is_409(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    for verb in ("restart", "replace"):
        r = client.post(f"/v1/clusters/demo/nodes/node-1/{verb}")
        assert r.status_code == 409 and "not been launched" in r.json()["message"]


def test_replace_writes_its_request(client: TestClient, view: StoreView, store: ZooKeeperStore) -> None:
    _running(client, view)
    r = client.post("/v1/clusters/demo/nodes/node-1/replace")
    assert r.status_code == 202, r.text
    op = operation_of(PlanIntents.from_json(store.get_intents("demo")[replace_plan_name("node-1")]))
    assert isinstance(op, NodeReplace)
    assert (op.node, op.old_task_id, op.old_agent_id, op.old_hostname) == (
        "node-1",
        "demo__node-1__uuid1",
        "agent-node-1",
        "127.0.1.2",
    )
    again = client.post("/v1/clusters/demo/nodes/node-1/replace")
    assert again.status_code == 409 and "already being replaced" in again.json()["message"]
    assert client.post("/v1/clusters/demo/nodes/node-1/restart").status_code == 409


def test_seeds_local_first_then_peers(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3, "seeds": 2})
    assert client.get("/v1/clusters/demo/seeds").json() == {"isSeed": True, "seeds": []}
    launch(view, "demo", "node-0")
    launch(view, "demo", "node-2")
    assert client.get("/v1/clusters/demo/seeds?node=node-0").json() == {
        "isSeed": True,
        "seeds": ["127.0.1.1:31000"],
    }
    assert client.get("/v1/clusters/demo/seeds?node=node-2").json()["isSeed"] is False
    assert client.get("/v1/clusters/demo/seeds").json()["isSeed"] is False
    r = client.put(
        "/v1/clusters/demo/datacenter",
        json={
            "data_center": "dc2",
            "url": "http://dc2:9000/v1/clusters/demo/datacenter",
            "seeds": ["10.0.0.9:7000"],
        },
    )
    assert r.status_code == 204 and r.content == b""
    launch(view, "demo", "node-1")
    assert client.get("/v1/clusters/demo/seeds?node=node-1").json() == {
        "isSeed": True,
        "seeds": ["127.0.1.1:31000", "127.0.1.2:31010", "10.0.0.9:7000"],
    }
    assert client.get("/v1/clusters/demo/seeds?node=node-3").status_code == 404
    assert client.get("/v1/clusters/demo/seeds?node=seed").status_code == 404


def test_connection_lists_cql_ready_running_nodes(client: TestClient, view: StoreView) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 3})
    launch(view, "demo", "node-0")
    launch(view, "demo", "node-1", ready=False)
    launch(view, "demo", "node-2", "TASK_FAILED")
    assert client.get("/v1/clusters/demo/connection").json() == {"address": ["127.0.1.1:31002"], "dns": []}


def test_datacenter_exchange(client: TestClient, view: StoreView, store: ZooKeeperStore) -> None:
    client.put("/v1/clusters/demo", json={"nodes": 1, "data_center": "east"})
    launch(view, "demo", "node-0")
    info = client.get("/v1/clusters/demo/datacenter").json()
    assert info == {
        "data_center": "east",
        "url": "http://testserver/v1/clusters/demo/datacenter",
        "seeds": ["127.0.1.1:31000"],
    }
    peer: dict[str, object] = {
        "data_center": "west",
        "url": "http://west:9000/v1/clusters/demo/datacenter",
        "seeds": ["10.1.0.1"],
    }
    assert client.put("/v1/clusters/demo/datacenter", json=peer).status_code == 204
    assert store.get_peers("demo")["west"]["seeds"] == ["10.1.0.1"]
    own = client.put("/v1/clusters/demo/datacenter", json={**peer, "data_center": "east"})
    assert own.status_code == 400 and "own datacenter" in own.json()["message"]
    bads: list[dict[str, object]] = [
        {**peer, "url": "ftp://x"},
        {**peer, "seeds": ["not a seed"]},
        {**peer, "extra": 1},
        {"seeds": []},
    ]
    for bad in bads:
        r = client.put("/v1/clusters/demo/datacenter", json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert client.put("/v1/clusters/nope/datacenter", json=peer).status_code == 404


def test_restart_while_the_deploy_plan_is_interrupted_says_so(client: TestClient, view: StoreView) -> None:
    _running(client, view)
    assert client.post("/v1/clusters/demo/plans/deploy/interrupt").status_code == 200
    r = client.post("/v1/clusters/demo/nodes/node-0/restart")
    assert r.status_code == 202 and "interrupted" in r.json()["message"]
