"""A stand-in node task for scheduler tests: what the scheduler sees of a node, without a JVM.

Configured as the scheduler's node command (``python -m tests.scheduler.standin_node``). It reads
CM_NODE_CONFIG like the sidecar, appends one line per start to ``standin.log`` on the node's
persistent volume (so tests can see the data survive a relaunch), and serves the sidecar's
``/health``, ``/ready`` and ``/status`` on the node's sidecar port saying NORMAL and CQL-ready.
SIGTERM ends it cleanly, as the kill policy expects.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from model.node_config import NodeConfig

LOG_NAME = "standin.log"


def volume_log(config: NodeConfig) -> Path:
    return Path(os.environ.get("MESOS_SANDBOX", ".")) / config.volume_path / LOG_NAME


def main() -> int:
    config = NodeConfig.from_env(os.environ)
    task = os.environ.get("MESOS_EXECUTOR_ID", "?")
    log = volume_log(config)
    with log.open("a") as f:
        f.write(json.dumps({"task": task, "node": config.node, "pid": os.getpid(), "t": time.time()}) + "\n")

    bodies: dict[str, Any] = {
        "/health": {"alive": True, "pid": os.getpid(), "phase": "running"},
        "/ready": {"ready": True, "detail": "stand-in", "version": "5.0.8"},
        "/status": {
            "cluster": config.cluster,
            "node": config.node,
            "config_id": config.config_id,
            "mode": "NORMAL",
            "data_center": config.data_center,
            "rack": config.rack,
            "endpoint": f"{config.listen_address}:{config.ports.storage}",
            "task": task,
        },
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path.split("?")[0])
            data = json.dumps(body if body is not None else {"message": "not found"}).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((config.listen_address, config.ports.sidecar), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
