"""Scheduler restart -> every one of 1,000 running tasks reconciled, on simulated localmesos agents.

Setup (not timed): a real ZooKeeper, ``localmesos run --simulated`` with N agents (a cluster
has at most one node per agent, so 10 clusters of 100 nodes share 250 agents), and a scheduler
(the production SchedulerService: ZooKeeper store, leader election, MesosDriver, reconciler)
that deploys C clusters whose nodes are all seeds, so every node launches at once (simulated
tasks go straight to TASK_RUNNING; there is no sidecar, so blocks stay STARTED).

Timed, per restart: the scheduler is stopped, a new one is started on the same ZooKeeper root,
and the clock runs from the moment it starts (ZooKeeper connect included) until its reconciler
has had an answer from Mesos for every known task. Columns: elected, subscribed, reconciled
(seconds since start), and the next full cycle over 1,000 records (snapshot + plans).

    .venv/bin/python bench/reconcile_bench.py [--agents 250] [--clusters 10] [--nodes 100] [--restarts 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from cassandra_mesos.zookeeper_server import ZooKeeperServer
from framework.config import SchedulerConfig, parse_config
from framework.service import SchedulerService
from framework.store.leader import LeaderElection
from framework.store.zookeeper import ZooKeeperStore
from localmesos.harness import LocalMesos

ROLE = "cassandra-bench"
NODE = {"cpus": 0.01, "mem_mb": 300, "heap_mb": 256, "disk_mb": 1}


def config(master: str, zk: str) -> SchedulerConfig:
    return parse_config(
        {
            "masters": [master],
            "zookeeper": {"hosts": zk, "root": "/bench", "instance": "dc1", "session_timeout_s": 2.0},
            "framework": {"name": "cassandra-bench", "role": ROLE, "user": getpass.getuser()},
            "timing": {
                "cycle_interval_s": 0.5,
                # Simulated agents have no sidecars: poll rarely so probes do not compete.
                "health_interval_s": 600,
                "health_timeout_s": 0.2,
                "driver_backoff_initial_s": 0.1,
                "driver_backoff_max_s": 1.0,
            },
        }
    )


class Running:
    def __init__(self, cfg: SchedulerConfig) -> None:
        self.cfg = cfg
        self.store: ZooKeeperStore | None = None
        self.service: SchedulerService | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        zk = self.cfg.zookeeper
        self.store = await asyncio.to_thread(ZooKeeperStore, zk.hosts, zk.store_root, session_timeout=2.0)
        election = LeaderElection(self.store.client, self.store.leader_path, f"bench-{time.monotonic_ns()}")
        self.service = SchedulerService(self.cfg, self.store, election)
        self.task = asyncio.create_task(self.service.run())

    async def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        if self.store is not None:
            await asyncio.to_thread(self.store.close)


async def until(what: str, check: object, timeout: float) -> float:
    start = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.01)
    return time.monotonic()


async def measure(svc: SchedulerService, start: float) -> tuple[float, float, float, float, int]:
    elected = await until("leadership", svc.is_leader, 60)
    subscribed = await until("subscription", lambda: svc.mesos_state() == "subscribed", 60)

    def reconciled_now() -> bool:
        rec = svc.reconciler
        return rec is not None and rec.reconciled and rec.cycles > 0

    reconciled = await until("reconciliation", reconciled_now, 300)
    rec = svc.reconciler
    assert rec is not None
    cycles = rec.cycles
    await until("one more full cycle", lambda: rec.cycles > cycles, 60)
    cycle_end = time.monotonic()
    snap = rec.snapshot
    known = sum(len(c.tasks) for c in snap.clusters.values()) if snap else 0
    return elected - start, subscribed - start, reconciled - start, cycle_end - reconciled, known


async def bench(args: argparse.Namespace) -> None:
    total = args.clusters * args.nodes
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
            # Mesos' default; the harness's 0.5 s floods a busy scheduler with copies.
            status_update_retry=10.0,
            startup_timeout=120,
        ) as lm,
    ):
        cfg = config(lm.master_url, zk.hosts)
        first = Running(cfg)
        await first.start()
        assert first.store is not None and first.service is not None
        t0 = time.monotonic()
        for c in range(args.clusters):
            first.store.put_config(f"c{c}", {"nodes": args.nodes, "seeds": args.nodes, **NODE}, None)
        first.service.wake()
        store = first.store

        def all_running() -> bool:
            snap = store.snapshot()
            records = [r for cl in snap.clusters.values() for r in cl.tasks.values()]
            return len(records) == total and all(r.state == "TASK_RUNNING" for r in records)

        async def poll_running() -> bool:
            return await asyncio.to_thread(all_running)

        while not await poll_running():
            if time.monotonic() - t0 > 1200:
                raise SystemExit("setup: the tasks did not all run within 1200 s")
            await asyncio.sleep(0.5)
        took = time.monotonic() - t0
        print(f"setup: {total} tasks running on {args.agents} simulated agents in {took:.1f} s")
        await first.stop()

        rows = []
        for _ in range(args.restarts):
            run = Running(cfg)
            start = time.monotonic()
            await run.start()
            svc = run.service
            assert svc is not None
            rows.append(await measure(svc, start))
            rec = svc.reconciler
            assert rec is not None
            launched = len(rec.launched)
            await run.stop()
            if launched:
                raise SystemExit(f"a restart launched {launched} task(s); expected none")

    print(f"\nmachine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{total} tasks, {args.agents} simulated agents, {args.restarts} restarts\n")
    print("| restart | elected s | subscribed s | all reconciled s | next cycle s | tasks |")
    print("|---:|---:|---:|---:|---:|---:|")
    for i, (e, sub, r, cyc, k) in enumerate(rows, 1):
        print(f"| {i} | {e:.2f} | {sub:.2f} | {r:.2f} | {cyc:.2f} | {k} |")
    print(f"| median | | | {statistics.median(row[2] for row in rows):.2f} | | |")


def main() -> None:
    if os.environ.get("BENCH_LOG"):  # the scheduler's own log, to see where time goes
        logging.basicConfig(
            level=logging.INFO, filename=os.environ["BENCH_LOG"], format="%(asctime)s %(name)s %(message)s"
        )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=250, help="at most 254 (one --ip-base)")
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=100, help="nodes per cluster")
    parser.add_argument("--restarts", type=int, default=3)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
