"""Status read benchmark: what one refresh of a node's ``/status`` costs, nodetool against JMX.

    .venv/bin/python bench/status_read_bench.py [--reads 10]

One real node (through the sidecar, 512 MB heap). Against it, in the same run:
- nodetool: ``NodetoolStatusReader`` (``info``, ``-pp status``, ``netstats``: three JVMs in
  parallel), the fallback and what every read cost before;
- jmx: ``JmxStatusReader`` with the real helper (``sidecar/JmxStatus.java``): its start once,
  then reads over its kept connection.
CPU = user + system seconds of the processes doing the reading (the nodetool JVMs; the helper
JVM). Ratio = nodetool / jmx per read, medians. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jvm  # noqa: E402
from sidecar.config import JMX_STATUS_SOURCE, NodePaths, jmx_status_command  # noqa: E402
from sidecar.node_status import JmxStatusReader, NodetoolStatusReader, compile_jmx_status  # noqa: E402
from sidecar.nodetool import Nodetool  # noqa: E402
from tests.sidecar.harness import SeedsServer, node_config, run_sidecar  # noqa: E402


def children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


async def nodetool_reads(reader: NodetoolStatusReader, n: int) -> list[tuple[float, float]]:
    """(wall s, CPU s) per read; the nodetool JVMs are our children and are reaped per read."""
    out = []
    for _ in range(n):
        cpu0, t0 = children_cpu_s(), time.perf_counter()
        await reader.read()
        out.append((time.perf_counter() - t0, children_cpu_s() - cpu0))
    return out


def helper_process() -> psutil.Process:
    me = psutil.Process()
    return next(c for c in me.children() if any("JmxStatus" in part for part in c.cmdline()))


def cpu_of(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


async def jmx_reads(
    reader: JmxStatusReader, n: int
) -> tuple[tuple[float, float], list[tuple[float, float]], float]:
    """((wall, CPU) of the start and first read, [(wall, CPU) per later read], helper RSS MiB)."""
    t0, javac0 = time.perf_counter(), children_cpu_s()
    await reader.read()
    helper = helper_process()
    # The start's CPU: javac (a reaped child) plus the helper's own so far.
    first = (time.perf_counter() - t0, children_cpu_s() - javac0 + cpu_of(helper))
    out = []
    for _ in range(n):
        cpu0, t0 = cpu_of(helper), time.perf_counter()
        await reader.read()
        out.append((time.perf_counter() - t0, cpu_of(helper) - cpu0))
    return first, out, helper.memory_info().rss / 2**20


async def measure(paths: NodePaths, jmx_port: int, reads: int) -> None:
    nodetool = NodetoolStatusReader(Nodetool(paths, jmx_port))

    # As the sidecar does: javac once (timed below as part of the start), then run the classes.
    def command() -> tuple[str, ...]:
        classes = compile_jmx_status(paths.java, JMX_STATUS_SOURCE, paths.tmp / "jmx-status-bench")
        return jmx_status_command(paths, jmx_port, classes)

    jmx = JmxStatusReader(command, nodetool)
    try:
        (start_wall, start_cpu), jmx_runs, rss = await jmx_reads(jmx, reads)
        assert not jmx.using_fallback
    finally:
        await jmx.close()
    nt_runs = await nodetool_reads(nodetool, reads)

    def med(runs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    print(f"{'measure':<52} {'nodetool':>12} {'jmx':>12} {'ratio':>8}")
    for label, i, unit, scale in (
        ("wall per read (median)", 0, "ms", 1000),
        ("CPU per read (median)", 1, "ms", 1000),
    ):
        a, b = med(nt_runs, i) * scale, med(jmx_runs, i) * scale
        print(f"{label:<52} {a:>9.1f} {unit} {b:>9.1f} {unit} {a / max(b, 0.01):>8.0f}")
    print(f"{'jmx helper: start + first read, wall':<52} {'':>12} {start_wall * 1000:>9.0f} ms")
    print(f"{'jmx helper: start + first read, CPU':<52} {'':>12} {start_cpu * 1000:>9.0f} ms")
    print(f"{'jmx helper RSS after the reads':<52} {'':>12} {rss:>8.1f} MiB")
    per_read_nt = med(nt_runs, 1)
    per_read_jmx = med(jmx_runs, 1)
    # The scheduler reads each node's /status every 5 s; cached 5 s (nodetool) or 1 s (jmx) while
    # anything changes, so a changing node is read every 5 s either way.
    print(f"{'CPU share of one core, one node read every 5 s':<52} {per_read_nt / 5 * 100:>10.1f} % "
          f"{per_read_jmx / 5 * 100:>10.2f} %")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=10)
    args = parser.parse_args()
    print(f"# {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}")
    seeds = SeedsServer()
    try:
        seeds.set("node-0", is_seed=True, seeds=[])
        config = node_config(seeds.url)
        with tempfile.TemporaryDirectory(prefix="status-bench-") as work:
            sandbox = Path(work) / "sandbox"
            with run_sidecar(config, sandbox) as sc:
                sc.wait_ready()
                paths = NodePaths.for_sandbox(config, sandbox, jvm.cassandra_lib(), jvm.find_java17())
                asyncio.run(measure(paths, config.ports.jmx, args.reads))
    finally:
        seeds.close()


if __name__ == "__main__":
    main()
