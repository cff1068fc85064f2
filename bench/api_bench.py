"""API latency while a deploy runs: p50/p99 of GET plan and GET nodes at a fixed request rate.

Setup (not timed): a real ZooKeeper, ``localmesos run --simulated`` with N agents, and the
production scheduler process (``cassandra-mesos scheduler --config``: ZooKeeper store, leader
election, Mesos driver, reconciler and this API in one event loop). A cluster of ``--nodes``
nodes, all seeds so that every node launches at once, is submitted through the API. Simulated
tasks reach TASK_RUNNING but have no sidecar, so the deploy never completes: the reconciler
keeps cycling over a deploy in progress while the load runs.

Timed: an open-loop load (requests are sent on schedule whether or not earlier ones answered,
so queueing counts) of ``--rate`` requests per second, alternating GET plan and GET nodes, for
``--seconds``. Latency is measured per request from its scheduled send time to its last byte.

    .venv/bin/python bench/api_bench.py [--rate 200] [--seconds 20] [--nodes 50] [--agents 60]
                                        [--phase launching|running]
    .venv/bin/python bench/api_bench.py --api http://127.0.0.1:9000 --cluster demo   # a running server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
import yaml

from cassandra_mesos.zookeeper_server import ZooKeeperServer, free_port
from localmesos.harness import LocalMesos

REPO = Path(__file__).resolve().parents[1]
NODE = {"cpus": 0.01, "mem_mb": 300, "heap_mb": 256, "disk_mb": 1}


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        k = min(len(data) - 1, max(0, round(p / 100 * len(data) + 0.5) - 1))
        return data[k]


async def load(api: str, cluster: str, rate: float, seconds: float) -> dict[str, Samples]:
    paths = {"GET plan": f"/v1/clusters/{cluster}/plans/deploy", "GET nodes": f"/v1/clusters/{cluster}/nodes"}
    samples = {k: Samples() for k in paths}
    kinds = list(paths)
    # aiohttp, not httpx: httpx's async pool costs more CPU per request than the server does.
    connector = aiohttp.TCPConnector(limit=128)
    timeout = aiohttp.ClientTimeout(total=10.0)
    async with aiohttp.ClientSession(api, connector=connector, timeout=timeout) as client:

        async def one(kind: str, due: float) -> None:
            try:
                async with client.get(paths[kind]) as r:
                    await r.read()
                    ok = r.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                samples[kind].latencies_ms.append((time.perf_counter() - due) * 1000)
            else:
                samples[kind].errors += 1

        total = int(rate * seconds)
        start = time.perf_counter() + 0.1
        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(kinds[i % len(kinds)], due)))
        await asyncio.gather(*tasks)
    return samples


def wait_for(what: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError, KeyError, TypeError, ValueError):
            if check():  # type: ignore[operator]
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"setup: timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


@contextlib.contextmanager
def scheduler_process(master: str, zk: str, work: Path) -> Iterator[str]:
    port = free_port()
    cfg = {
        "masters": [master],
        "zookeeper": {"hosts": zk, "root": "/bench", "instance": "dc1", "session_timeout_s": 4.0},
        "framework": {"name": "cassandra-api-bench", "role": "cassandra-bench", "user": getpass.getuser()},
        "api": {"host": "127.0.0.1", "port": port},
        "timing": {
            "cycle_interval_s": 0.5,
            "health_interval_s": 5.0,
            "health_timeout_s": 0.2,
            "driver_backoff_initial_s": 0.1,
            "driver_backoff_max_s": 1.0,
        },
    }
    config_file = work / "scheduler.yaml"
    config_file.write_text(yaml.safe_dump(cfg))
    log = work / "scheduler.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cassandra_mesos.cli", "scheduler", "--config", str(config_file)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def deploy_state(api: str, cluster: str) -> str:
    try:
        nodes = httpx.get(f"{api}/v1/clusters/{cluster}/nodes", timeout=60).json()
        plan = httpx.get(f"{api}/v1/clusters/{cluster}/plans/deploy", timeout=60).json()
    except httpx.HTTPError as exc:
        return f"unknown ({type(exc).__name__})"
    running = sum(1 for n in nodes if n["state"] == "TASK_RUNNING")
    return f"{len(nodes)} launched, {running} running, deploy {plan['status']}"


ROUTES = {"GET plan": "/v1/clusters/{cluster}/plans/{plan}", "GET nodes": "/v1/clusters/{cluster}/nodes"}


def server_side(api: str) -> dict[str, str]:
    """Share of requests the server itself handled within 5 / 25 / 100 ms (its own histogram,
    so everything since it started): tells server time from queueing in the loop and client."""
    try:
        text = httpx.get(f"{api}/metrics", timeout=60).text
    except httpx.HTTPError:
        return {}
    out = {}
    for kind, route in ROUTES.items():
        buckets: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("cassandra_mesos_api_request_seconds_bucket{") and f'route="{route}"' in line:
                le = line.split('le="', 1)[1].split('"', 1)[0]
                buckets[le] = float(line.rsplit(" ", 1)[1])
        total = buckets.get("+Inf", 0.0)
        if total:
            out[kind] = " / ".join(
                f"{100 * buckets.get(le, 0.0) / total:.1f}%" for le in ("0.005", "0.025", "0.1")
            )
    return out


def report(
    samples: dict[str, Samples],
    rate: float,
    seconds: float,
    context: str,
    server: dict[str, str] | None = None,
) -> None:
    print(f"\n{context}")
    print(f"open-loop load: {rate:.0f} req/s for {seconds:.0f} s, GET plan and GET nodes alternating\n")
    server = server or {}
    print("| request | rate req/s | answered | errors | p50 ms | p99 ms | max ms | server ≤5/25/100 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind, s in samples.items():
        mx = max(s.latencies_ms) if s.latencies_ms else float("nan")
        print(
            f"| {kind} | {rate / len(samples):.0f} | {len(s.latencies_ms)} | {s.errors} | "
            f"{s.percentile(50):.1f} | {s.percentile(99):.1f} | {mx:.1f} | {server.get(kind, 'n/a')} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second, both kinds together")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--nodes", type=int, default=50, help="nodes of the deploying cluster")
    ap.add_argument("--agents", type=int, default=60, help="simulated agents")
    ap.add_argument("--api", help="measure an already running server instead (its cluster must exist)")
    ap.add_argument("--cluster", default="bench")
    ap.add_argument(
        "--phase",
        choices=["launching", "running"],
        default="launching",
        help="start the load as soon as the first node is launched (default), or once every task runs "
        "(the deploy still in progress: no sidecar ever reports the nodes ready)",
    )
    args = ap.parse_args()
    # `timeout` and kill send SIGTERM: unwind so ZooKeeper, localmesos and the scheduler are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    machine = (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.machine()}, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )

    if args.api:
        samples = asyncio.run(load(args.api, args.cluster, args.rate, args.seconds))
        context = f"server {args.api}, cluster {args.cluster}; {machine}"
        report(samples, args.rate, args.seconds, context, server_side(args.api))
        return

    with (
        tempfile.TemporaryDirectory() as tmp,
        ZooKeeperServer(Path(tmp) / "zk", fsync=False) as zk,
        LocalMesos(
            tmp,
            agents=args.agents,
            simulated=True,
            agent_resources="cpus:4;mem:65536;disk:65536;ports:[31000-32000]",
            allocation_interval=0.2,
            heartbeat_interval=5.0,
            startup_timeout=120,
        ) as lm,
        scheduler_process(lm.master_url, zk.hosts, Path(tmp)) as api,
    ):
        wait_for(
            "the scheduler to lead and subscribe",
            lambda: httpx.get(f"{api}/v1/health", timeout=2).json()["mesos"] == "subscribed",
            120,
        )
        spec = {"nodes": args.nodes, "seeds": args.nodes, **NODE}
        r = httpx.put(f"{api}/v1/clusters/{args.cluster}", json=spec, timeout=10)
        if r.status_code != 202:
            raise SystemExit(f"setup: creating the cluster failed: {r.status_code} {r.text}")
        wait_for(
            "the deploy to start launching",
            lambda: len(httpx.get(f"{api}/v1/clusters/{args.cluster}/nodes", timeout=5).json()) > 0,
            120,
        )
        if args.phase == "running":
            wait_for(
                "every task to run",
                lambda: (
                    sum(
                        n["state"] == "TASK_RUNNING"
                        for n in httpx.get(f"{api}/v1/clusters/{args.cluster}/nodes", timeout=5).json()
                    )
                    == args.nodes
                ),
                300,
            )
        before = deploy_state(api, args.cluster)
        samples = asyncio.run(load(api, args.cluster, args.rate, args.seconds))
        context = (
            f"production scheduler process, {args.agents} simulated agents, cluster of {args.nodes} nodes "
            f"(when the load started: {before}; after: {deploy_state(api, args.cluster)}); {machine}"
        )
        report(samples, args.rate, args.seconds, context, server_side(api))


if __name__ == "__main__":
    main()
