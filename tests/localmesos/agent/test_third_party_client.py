"""An unmodified third-party Mesos v1 HTTP client (PyPI `mesoshttp`) runs a task on localmesos.

It subscribes without MULTI_ROLE (old `role` field, pre-refinement resources), parses RecordIO
its own way, acknowledges every update itself and kills through its own driver.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pytest
from mesoshttp.client import MesosClient

from localmesos.harness import LocalMesos

pytestmark = [
    pytest.mark.localmesos,
    # mesoshttp (unmodified, third-party) still calls logger.warn.
    pytest.mark.filterwarnings("ignore:The .warn. method is deprecated:DeprecationWarning"),
]


def test_mesoshttp_client_launches_and_kills_a_task(localmesos: LocalMesos) -> None:
    client = MesosClient(mesos_urls=[localmesos.master_url], frameworkName="mesoshttp-on-localmesos")
    client.set_checkpoint(True)
    updates: queue.Queue[dict[str, Any]] = queue.Queue()
    drivers: list[Any] = []
    launched = threading.Event()

    def on_offers(offers: list[Any]) -> None:
        for offer in offers:
            info = offer.get_offer()
            if launched.is_set():
                offer.decline()
                continue
            launched.set()
            offer.accept(
                [
                    {
                        "name": "sleeper",
                        "task_id": {"value": "t-3p"},
                        "agent_id": info["agent_id"],
                        "resources": [
                            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
                        ],
                        "command": {"value": "while :; do sleep 0.1; done"},
                    }
                ]
            )

    client.on(MesosClient.SUBSCRIBED, drivers.append)
    client.on(MesosClient.OFFERS, on_offers)
    client.on(MesosClient.UPDATE, lambda u: updates.put(u["status"]))
    thread = threading.Thread(target=client.register, daemon=True)
    thread.start()
    try:

        def next_state(state: str, timeout: float = 20) -> dict[str, Any]:
            deadline = time.monotonic() + timeout
            while True:
                status = updates.get(timeout=max(0.01, deadline - time.monotonic()))
                if status["state"] == state:
                    return status

        running = next_state("TASK_RUNNING")
        assert running["task_id"] == {"value": "t-3p"}
        drivers[0].kill(agent_id=running["agent_id"]["value"], task_id="t-3p")
        killed = next_state("TASK_KILLED")
        assert killed["message"].startswith("Command terminated with signal")
        # The client acknowledged every update itself, so nothing is left unacknowledged on the agent.
        deadline = time.monotonic() + 10
        while any(t["id"] == "t-3p" for f in localmesos.state()["frameworks"] for t in f["tasks"]):
            assert time.monotonic() < deadline, "the killed task was never acknowledged"
            time.sleep(0.05)
    finally:
        client.stop = True
        if client.long_pool is not None:
            client.long_pool.close()
