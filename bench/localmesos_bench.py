"""localmesos master at scale: simulated agents, one framework launching many tasks over real HTTP.

    .venv/bin/python bench/localmesos_bench.py [--agents 2000] [--tasks 10000] [--write-docs]

Prints a table: allocation cycle time (empty cluster and with every task running), ACCEPT latency
p50/p99 (HTTP round trip of one ACCEPT launching the tasks of one offer), time to reach
TASK_RUNNING for every task, and the master process RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class RecordIO:
    """Decoder of the `<length>\\n<bytes>` framing of the subscription stream."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        out = []
        while (nl := self.buf.find(b"\n")) >= 0:
            size = int(self.buf[:nl])
            if len(self.buf) < nl + 1 + size:
                break
            out.append(self.buf[nl + 1 : nl + 1 + size])
            self.buf = self.buf[nl + 1 + size :]
        return out


RESOURCES = "cpus:8;mem:32768;disk:200000;ports:[31000-32000]"
INFLIGHT = 8


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def metrics(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with http.get(base + "/metrics/snapshot") as r:
        return dict(await r.json())


async def cycle_ms(http: aiohttp.ClientSession, base: str, samples: int = 5) -> float:
    """Median allocation_run_ms over the next `samples` cycles."""
    seen: list[float] = []
    last = (await metrics(http, base))["allocator/mesos/allocation_runs"]
    while len(seen) < samples:
        await asyncio.sleep(0.2)
        m = await metrics(http, base)
        if m["allocator/mesos/allocation_runs"] != last:
            last = m["allocator/mesos/allocation_runs"]
            seen.append(m["allocator/mesos/allocation_run_ms"])
    return statistics.median(seen)


async def run(agents: int, tasks: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lm-bench-"))
    ready = work / "ready.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localmesos.master",
            "--port",
            "0",
            "--work-dir",
            str(work / "master"),
            "--ready-file",
            str(ready),
            "--simulated-agents",
            str(agents),
            "--simulated-resources",
            RESOURCES,
            "--allocation-interval",
            "1",
        ],
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=ROOT,
    )
    try:
        while not ready.exists():
            if proc.poll() is not None:
                raise SystemExit("master exited during startup")
            await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{json.loads(ready.read_text())['port']}"
        return await drive(base, proc.pid, agents, tasks)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


async def drive(base: str, pid: int, agents: int, tasks: int) -> dict[str, Any]:
    url = base + "/api/v1/scheduler"
    info = {
        "user": "bench",
        "name": "bench",
        "roles": ["bench"],
        "failover_timeout": 3600.0,
        "capabilities": [{"type": "MULTI_ROLE"}, {"type": "RESERVATION_REFINEMENT"}],
    }
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as http, aiohttp.ClientSession() as stream_http:
        resp = await stream_http.post(
            url,
            json={"type": "SUBSCRIBE", "subscribe": {"framework_info": info}},
            headers={"Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=None),
        )
        stream_id = resp.headers["Mesos-Stream-Id"]
        headers = {**JSON, "Mesos-Stream-Id": stream_id}
        fid = ""
        launched = 0
        running = 0
        latencies: list[float] = []
        pending: set[asyncio.Task[None]] = set()
        started = time.perf_counter()
        done = asyncio.Event()

        # Like a real scheduler, keep a bounded number of calls in flight; latency is then the
        # master's service time plus little queueing, not the depth of a 20,000-call burst.
        in_flight = asyncio.Semaphore(INFLIGHT)

        async def call(body: dict[str, Any], measure: bool = False) -> None:
            async with in_flight:
                t0 = time.perf_counter()
                async with http.post(url, data=json.dumps(body), headers=headers) as r:
                    await r.read()
                    assert r.status == 202, (r.status, await r.text())
                if measure:
                    latencies.append((time.perf_counter() - t0) * 1000)

        def spawn(body: dict[str, Any], measure: bool = False) -> None:
            task = asyncio.get_running_loop().create_task(call(body, measure))
            pending.add(task)
            task.add_done_callback(pending.discard)

        first_offer_cycle = 0.0
        decoder = RecordIO()
        async for chunk in resp.content.iter_any():
            for record in decoder.feed(chunk):
                event = json.loads(record)
                kind = event["type"]
                if kind == "SUBSCRIBED":
                    fid = event["subscribed"]["framework_id"]["value"]
                elif kind == "OFFERS":
                    if not first_offer_cycle:
                        first_offer_cycle = (await metrics(http, base))["allocator/mesos/allocation_run_ms"]
                    for offer in event["offers"]["offers"]:
                        count = min(5, tasks - launched)
                        infos = [
                            {
                                "name": f"t{launched + i}",
                                "task_id": {"value": f"t{launched + i}"},
                                "agent_id": offer["agent_id"],
                                "command": {"value": "sleep 1000"},
                                "resources": [
                                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}},
                                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 128}},
                                ],
                            }
                            for i in range(count)
                        ]
                        launched += count
                        ops = [{"type": "LAUNCH", "launch": {"task_infos": infos}}] if infos else []
                        spawn(
                            {
                                "framework_id": {"value": fid},
                                "type": "ACCEPT",
                                "accept": {
                                    "offer_ids": [offer["id"]],
                                    "operations": ops,
                                    "filters": {"refuse_seconds": 3600},
                                },
                            },
                            measure=bool(infos),
                        )
                elif kind == "UPDATE":
                    status = event["update"]["status"]
                    if status["state"] == "TASK_RUNNING":
                        running += 1
                    if "uuid" in status:
                        spawn(
                            {
                                "framework_id": {"value": fid},
                                "type": "ACKNOWLEDGE",
                                "acknowledge": {
                                    "agent_id": status["agent_id"],
                                    "task_id": status["task_id"],
                                    "uuid": status["uuid"],
                                },
                            }
                        )
                    if running >= tasks:
                        done.set()
            if done.is_set():
                break
        all_running = time.perf_counter() - started
        await asyncio.gather(*pending)
        # REVIVE clears the refusal filters: the next cycle re-offers every agent, with every task running.
        runs = (await metrics(http, base))["allocator/mesos/allocation_runs"]
        await call({"framework_id": {"value": fid}, "type": "REVIVE"})
        while True:
            await asyncio.sleep(0.05)
            m = await metrics(http, base)
            if m["allocator/mesos/allocation_runs"] > runs and m["allocator/mesos/offers_last_run"] > 0:
                busy_cycle, busy_offers = (
                    m["allocator/mesos/allocation_run_ms"],
                    m["allocator/mesos/offers_last_run"],
                )
                break
        steady_cycle = await cycle_ms(http, base, 3)
        rss = psutil.Process(pid).memory_info().rss / 2**20
        resp.close()
    return {
        "agents": agents,
        "tasks": tasks,
        "steady_cycle_ms": steady_cycle,
        "busy_offers": busy_offers,
        "first_offer_cycle_ms": first_offer_cycle,
        "busy_cycle_ms": busy_cycle,
        "accept_p50_ms": pct(latencies, 50),
        "accept_p99_ms": pct(latencies, 99),
        "accepts": len(latencies),
        "all_running_s": all_running,
        "rss_mib": rss,
    }


def table(r: dict[str, Any]) -> str:
    rows = [
        ("simulated agents / tasks", f"{r['agents']} / {r['tasks']}"),
        ("allocation cycle making the first offers, empty cluster (ms)", f"{r['first_offer_cycle_ms']:.1f}"),
        (
            f"allocation cycle after REVIVE, all tasks running ({r['busy_offers']} offers) (ms)",
            f"{r['busy_cycle_ms']:.1f}",
        ),
        (
            "allocation cycle with nothing to offer (all offered or in use) (ms, median)",
            f"{r['steady_cycle_ms']:.1f}",
        ),
        (
            f"ACCEPT latency p50 / p99 (ms, {r['accepts']} calls of 5 tasks, {INFLIGHT} calls in flight)",
            f"{r['accept_p50_ms']:.1f} / {r['accept_p99_ms']:.1f}",
        ),
        ("time until every task is TASK_RUNNING, acks included (s)", f"{r['all_running_s']:.1f}"),
        ("master RSS (MiB)", f"{r['rss_mib']:.0f}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"| {'measure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {k.ljust(width)} | {v} |" for k, v in rows]
    return "\n".join(lines)


WHAT = """What: the localmesos master alone (`python -m localmesos.master`) with simulated agents
(in-process, no task processes) and one framework speaking the v1 scheduler API over real HTTP
(aiohttp, RecordIO stream). The framework launches 5 tasks (1 cpu, 128 MB) per offer until all
tasks run, acknowledging every update; at most 8 calls are in flight. Cycle times come from the
master's `/metrics/snapshot` (`allocator/mesos/allocation_run_ms`); RSS from psutil."""


READING = """Reading: a cycle that offers every agent includes building and serialising all the offers
into one OFFERS event; a cycle with nothing to offer still walks every agent. ACCEPT latency is the
HTTP round trip while updates and acknowledgements of the other launches share the master's one
event loop; the p99 reflects bursts behind a full allocation cycle. Numbers were taken while other
test suites loaded the same two vCPUs (see the load average), so expect them lower on a quiet machine."""


def write_docs(text: str, command: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    cpu = platform.processor() or platform.machine()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    section = (
        f"## localmesos\n\n{WHAT}\n\nCommand: `{command}`\n\n"
        f"Machine: {os.cpu_count()} vCPU ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; load average at the end "
        f"{load}.\n\n{text}\n\n{READING}\n"
    )
    start = current.find("## localmesos\n")
    if start >= 0:
        end = current.find("\n## ", start + 1)
        current = current[:start] + section + ("\n" + current[end + 1 :] if end >= 0 else "")
    else:
        current = current.rstrip("\n") + "\n\n" + section
    path.write_text(current)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=2000)
    p.add_argument("--tasks", type=int, default=10000)
    p.add_argument(
        "--write-docs", action="store_true", help="update the localmesos section of docs/benchmarks.md"
    )
    a = p.parse_args()
    if a.agents < 1 or a.tasks < 1 or a.tasks > a.agents * 5:
        p.error("need --agents >= 1 and 1 <= --tasks <= 5 * --agents (5 tasks per agent)")
    result = asyncio.run(run(a.agents, a.tasks))
    text = table(result)
    print(text)
    if a.write_docs:
        write_docs(text, "python bench/localmesos_bench.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
