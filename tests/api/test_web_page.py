"""The web control plane, driven in jsdom (tests/web/drive_page.mjs) against the live API: its
buttons reach the store exactly as the CLI's commands do, and a refused action shows why."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from framework.store.zookeeper import ZooKeeperStore
from framework.views import OfferWait
from model.intents import PlanIntents
from tests.api.conftest import TOKEN, StoreView, launch

WEB = Path(__file__).resolve().parents[1] / "web"


def test_the_pages_buttons_steer_plans_scale_clean_up_and_restart(
    api_url: str, view: StoreView, store: ZooKeeperStore
) -> None:
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "jsdom").is_dir():
        pytest.fail("node and tests/web/node_modules are needed: `make test` installs them (make web-deps)")
    store.put_config("demo", {"nodes": 3}, None)
    for i in range(3):
        launch(view, "demo", f"node-{i}")
    why = "a9.example: placement rack:IS:r1: rack is 'r3', not 'r1'"
    view.waits["demo"] = [OfferWait("node-3", 12.0, 1.0, (why,))]
    proc = subprocess.run(
        [node, str(WEB / "drive_page.mjs"), api_url, TOKEN],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
    steps = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    names = ["interrupt", "continue", "scale", "cleanup", "restart", "offers", "refused"]
    assert [s["step"] for s in steps] == names
    assert steps[5]["notice"] == why
    intents = store.get_intents("demo")
    deploy = PlanIntents.from_json(intents["deploy"])
    assert not deploy.interrupted and deploy.restarts  # interrupted then continued; node-0's restart
    assert store.get_target("demo") is not None and store.get_target("demo")[1]["nodes"] == 4  # type: ignore[index]
    assert intents["cleanup"]["parameters"]["nodes"] == ["node-0", "node-1", "node-2"]
