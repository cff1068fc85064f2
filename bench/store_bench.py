"""ZooKeeper store speed: write, update and load 1,000 task records on a real ZooKeeper.

Starts one standalone ZooKeeper 3.9.5 (from the pinned jars, in a temporary directory), fills
one cluster with task records shaped like the scheduler's (a TaskInfo with reserved cpus, mem,
disk, five port ranges, a persistent volume, labels and a command: about 3 KB of JSON each),
then prints one table row per operation: count, median, p99, and items per second (records
for the bulk reads, documents for the delete, operations otherwise).

    .venv/bin/python bench/store_bench.py [--tasks 1000] [--snapshots 20] [--fsync]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.store.zookeeper import ZooKeeperStore
from model.records import TaskRecord

ROLE = "cassandra"


def _reserved(name: str, value: dict[str, Any], cluster: str, node: str) -> dict[str, Any]:
    return {
        "name": name,
        **value,
        "reservations": [
            {
                "type": "DYNAMIC",
                "role": ROLE,
                "principal": ROLE,
                "labels": {
                    "labels": [
                        {"key": "cluster", "value": cluster},
                        {"key": "node", "value": node},
                        {"key": "resource_id", "value": f"{cluster}-{node}-{name}-0123456789abcdef"},
                    ]
                },
            }
        ],
    }


def task_record(cluster: str, i: int) -> TaskRecord:
    node = f"node-{i}"
    ports = [{"begin": 31000 + 5 * i + k, "end": 31000 + 5 * i + k} for k in range(5)]
    task_info = {
        "name": f"{cluster}__{node}",
        "task_id": {"value": f"{cluster}__{node}__5f0c7a3e-2b1d-4c8e-9a77-0123456789ab"},
        "agent_id": {"value": f"9b2f6c1e-7d3a-4f5b-8e21-abcdef012345-S{i % 250}"},
        "resources": [
            _reserved("cpus", {"type": "SCALAR", "scalar": {"value": 2.0}}, cluster, node),
            _reserved("mem", {"type": "SCALAR", "scalar": {"value": 8192.0}}, cluster, node),
            _reserved("ports", {"type": "RANGES", "ranges": {"range": ports}}, cluster, node),
            {
                **_reserved("disk", {"type": "SCALAR", "scalar": {"value": 50000.0}}, cluster, node),
                "disk": {
                    "persistence": {"id": f"{cluster}-{node}-data", "principal": ROLE},
                    "volume": {"container_path": "volume", "mode": "RW"},
                },
            },
        ],
        "command": {
            "value": "exec python -m sidecar.main",
            "environment": {
                "variables": [
                    {"name": k, "value": v}
                    for k, v in {
                        "CLUSTER": cluster,
                        "NODE": node,
                        "SCHEDULER_URL": "http://scheduler.example:9000",
                        "CONFIG_ID": "00000001-0a1b2c3d",
                        "DATA_CENTER": "dc1",
                        "RACK": f"rack{i % 3}",
                    }.items()
                ]
            },
        },
        "labels": {"labels": [{"key": "config_id", "value": "00000001-0a1b2c3d"}]},
    }
    return TaskRecord(cluster, node, task_info, extra={"rack": f"rack{i % 3}"})


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def row(name: str, samples: list[float], per_op: int = 1) -> str:
    samples = sorted(samples)
    med = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    rate = per_op / med if med > 0 else float("inf")
    return f"| {name:<40} | {len(samples):>6} | {med * 1000:>9.2f} | {p99 * 1000:>9.2f} | {rate:>10.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--snapshots", type=int, default=20)
    parser.add_argument(
        "--fsync", action="store_true", help="fsync ZooKeeper's log (default: off, as in tests)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, ZooKeeperServer(Path(tmp), fsync=args.fsync) as zk:
        store = ZooKeeperStore(zk.hosts, "/bench")
        try:
            store.put_config("big", {"nodes": args.tasks}, None)
            records = [task_record("big", i) for i in range(args.tasks)]
            size = len(store_bytes(records[0]))
            puts = [timed(functools.partial(store.put_task, r, None)) for r in records]
            statuses = [
                timed(functools.partial(store.update_status, "big", r.node, running(r))) for r in records
            ]
            snaps = [timed(store.snapshot) for _ in range(args.snapshots)]
            gets = [timed(lambda: store.get_tasks("big")) for _ in range(args.snapshots)]
            assert len(store.snapshot().clusters["big"].tasks) == args.tasks
            delete = timed(lambda: store.delete_cluster("big"))
        finally:
            store.close()

    print(
        f"ZooKeeper 3.9.5 standalone on loopback, fsync={'on' if args.fsync else 'off'}, "
        f"{args.tasks} task records of {size} bytes\n"
    )
    print(f"| {'operation':<40} | {'count':>6} | {'p50 ms':>9} | {'p99 ms':>9} | {'items/s':>10} |")
    print(f"|{'-' * 42}|{'-' * 8}|{'-' * 11}|{'-' * 11}|{'-' * 12}|")
    print(row("put_task (create, CAS)", puts))
    print(row("update_status (read + CAS write)", statuses))
    print(row(f"snapshot ({args.tasks} records, records/s)", snaps, per_op=args.tasks))
    print(row(f"get_tasks ({args.tasks} records, records/s)", gets, per_op=args.tasks))
    print(row(f"delete_cluster ({args.tasks + 1} documents/s)", [delete], per_op=args.tasks + 1))


def running(record: TaskRecord) -> dict[str, Any]:
    return {"task_id": {"value": record.task_id}, "state": "TASK_RUNNING"}


def store_bytes(record: TaskRecord) -> bytes:
    return json.dumps(record.to_json(), separators=(",", ":")).encode()


if __name__ == "__main__":
    main()
