"""localmesos process agents: how fast tasks start and faults resolve, and what an executor costs.

    .venv/bin/python bench/localmesos_agents_bench.py [--agents 3] [--tasks 30]

Prints a table: `localmesos run` start-up (master + N agents registered), ACCEPT -> TASK_RUNNING
latency p50/p99 for command tasks, agent stop+start, master restart, agent kill -> TASK_UNREACHABLE
(pings 0.5 s x 3), and the resident memory of one command executor process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localmesos.harness import LocalMesos  # noqa: E402
from tests.localmesos.agent.rawsched import RawScheduler, framework_info, task  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=3)
    p.add_argument("--tasks", type=int, default=30)
    ns = p.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        with LocalMesos(Path(tmp), agents=ns.agents) as lm:
            rows.append(
                (f"start-up, master + {ns.agents} agents registered", f"{time.monotonic() - t0:.2f} s")
            )
            sched = RawScheduler(lm.master_url, framework_info(partition_aware=True)).subscribe()
            latencies = []
            for i in range(ns.tasks):
                offer = sched.next_offer()
                start = time.monotonic()
                sched.launch(offer, task(offer, f"b{i}", "while :; do sleep 1; done", cpus=0.01, mem=8))
                sched.wait_update(f"b{i}", "TASK_RUNNING", timeout=60)
                latencies.append(time.monotonic() - start)
            rows.append(
                (
                    f"ACCEPT -> TASK_RUNNING p50 ({ns.tasks} tasks)",
                    f"{statistics.median(latencies) * 1000:.0f} ms",
                )
            )
            rows.append(("ACCEPT -> TASK_RUNNING p99", f"{_pct(latencies, 0.99) * 1000:.0f} ms"))
            executors = [
                q
                for q in psutil.process_iter(["cmdline"])
                if "localmesos.agent.executor" in " ".join(q.info["cmdline"] or [])
                and str(lm.work_dir) in " ".join(q.info["cmdline"] or [])
            ]
            if executors:
                rss = statistics.median(q.memory_info().rss for q in executors) / 2**20
                rows.append(("command executor RSS (median)", f"{rss:.1f} MiB"))
            t = time.monotonic()
            lm.restart_agent(0)
            rows.append(("agent stop + start (recovers, re-registers)", f"{time.monotonic() - t:.2f} s"))
            t = time.monotonic()
            lm.restart_master()
            rows.append(("master restart", f"{time.monotonic() - t:.2f} s"))
            on_last = [
                s["task_id"]["value"]
                for s in (
                    e["update"]["status"]
                    for e in sched.events
                    if e["type"] == "UPDATE" and e["update"]["status"]["state"] == "TASK_RUNNING"
                )
                if s["agent_id"]["value"] == lm.admin_state()["agents"][-1]["agent_id"]
            ]
            sched.close()
            sched = RawScheduler(
                lm.master_url, framework_info(partition_aware=True, framework_id=sched.framework_id)
            ).subscribe()
            if on_last:
                mark = sched.mark()
                t = time.monotonic()
                lm.kill_agent(ns.agents - 1)
                sched.wait_update(on_last[0], "TASK_UNREACHABLE", timeout=30, since=mark)
                rows.append(
                    ("agent kill -> TASK_UNREACHABLE (0.5 s x 3 pings)", f"{time.monotonic() - t:.2f} s")
                )
            sched.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
