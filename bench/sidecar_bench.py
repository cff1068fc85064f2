"""Sidecar benchmark: start-up overhead against bare Cassandra, and the sidecar's idle footprint.

    .venv/bin/python bench/sidecar_bench.py [--rounds 2] [--idle-s 30]

(a) time from process start to "CQL answers" (cassandra-driver query of system.local) for the same
    node (same rendered cassandra.yaml, rackdc, logback and JVM command line) started bare and
    started through the sidecar; fresh volume each time; rounds alternate the order. Ratio =
    sidecar / bare (medians).
(c) RSS and CPU of the sidecar process (python, not the JVM) over an idle window with Cassandra
    running and production seed polling (every 30 s).

Prints a table; one JVM at a time, 512 MB heap.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jvm  # noqa: E402
from model.node_config import NodeConfig  # noqa: E402
from sidecar.config import NodePaths, Seeds, render  # noqa: E402
from sidecar.files import write_config  # noqa: E402
from tests.sidecar.harness import SeedsServer, node_config, run_sidecar, wait_until  # noqa: E402


def cql_ready(ip: str, port: int) -> bool:
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([ip]), request_timeout=5)
    cluster = Cluster(
        [ip],
        port=port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
        connect_timeout=2,
        control_connection_timeout=2,
        schema_metadata_enabled=False,
        token_metadata_enabled=False,
    )
    try:
        cluster.connect().execute("SELECT release_version FROM system.local").one()
        return True
    except Exception:
        return False
    finally:
        cluster.shutdown()


def tree_cpu_s(pid: int) -> float:
    """User + system CPU of a process and all its live descendants."""
    total = 0.0
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def wait_cql(config: NodeConfig, proc: subprocess.Popen[bytes], started: float) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) from start to CQL ready.

    CPU is the load-robust number: wall time on a shared 2-core box mostly measures the neighbours.
    """

    def check() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited {proc.returncode}")
        return cql_ready(config.listen_address, config.ports.native_transport)

    wait_until("CQL", check, 180, interval=0.2)
    return time.monotonic() - started, tree_cpu_s(proc.pid)


def bare_start(config: NodeConfig, sandbox: Path) -> tuple[float, float]:
    paths = NodePaths.for_sandbox(config, sandbox, jvm.cassandra_lib(), jvm.find_java17())
    rendered = render(config, Seeds(True, ()), paths)
    write_config(rendered, paths)
    started = time.monotonic()
    with (sandbox / "stdout").open("wb") as out:
        proc = subprocess.Popen(
            rendered.command, cwd=sandbox, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        return wait_cql(config, proc, started)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sidecar_start(config: NodeConfig, sandbox: Path) -> tuple[float, float]:
    started = time.monotonic()
    with run_sidecar(config, sandbox) as sc:
        took = wait_cql(config, sc.proc, started)
        sc.proc.send_signal(signal.SIGTERM)
        sc.proc.wait(config.kill_grace_period_s)
        return took


def idle_footprint(seeds_url: str, work: Path, idle_s: float) -> tuple[float, float, float]:
    config = node_config(seeds_url, seeds_poll_interval_s=30.0)
    with run_sidecar(config, work / "idle") as sc:
        sc.wait_ready()
        p = psutil.Process(sc.proc.pid)
        time.sleep(2)  # let the /ready probe's driver threads settle
        cpu0 = p.cpu_times()
        rss_samples = []
        end = time.monotonic() + idle_s
        while time.monotonic() < end:
            rss_samples.append(p.memory_info().rss)
            time.sleep(1)
        cpu1 = p.cpu_times()
        cpu_s = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        sc.proc.send_signal(signal.SIGTERM)
        sc.proc.wait(config.kill_grace_period_s)
    return max(rss_samples) / 2**20, cpu_s, 100.0 * cpu_s / idle_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle-s", type=float, default=30.0)
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    seeds = SeedsServer()
    work = Path(tempfile.mkdtemp(prefix="sidecar-bench-"))
    bare: list[tuple[float, float]] = []
    via: list[tuple[float, float]] = []
    try:
        for i in range(args.rounds):
            seeds.set("node-0", is_seed=True, seeds=[])
            # Same rendered configuration for both, only a fresh address/ports and volume per run.
            order = ["bare", "sidecar"] if i % 2 == 0 else ["sidecar", "bare"]
            for kind in order:
                config = node_config(seeds.url, seeds_poll_interval_s=30.0)
                sandbox = work / f"{kind}-{i}"
                if kind == "bare":
                    sandbox.mkdir(parents=True)
                    bare.append(bare_start(config, sandbox))
                else:
                    via.append(sidecar_start(config, sandbox))
                shutil.rmtree(sandbox, ignore_errors=True)
        rss_mb, cpu_s, cpu_pct = idle_footprint(seeds.url, work, args.idle_s)
    finally:
        seeds.close()
        shutil.rmtree(work, ignore_errors=True)

    load_after = os.getloadavg()[0]
    b, s = statistics.median(w for w, _ in bare), statistics.median(w for w, _ in via)
    bc, sc = statistics.median(c for _, c in bare), statistics.median(c for _, c in via)
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"Cassandra {jvm.CASSANDRA_VERSION}, heap 512 MB, single token, fast-start JVM options; "
        f"load average {load_before:.1f} -> {load_after:.1f}"
    )
    print(f"{'measure':<48} {'value':>12}")
    print(f"{'(a) bare Cassandra: start -> CQL ready (median)':<48} {b:>10.2f} s")
    print(f"{'(a) through the sidecar: start -> CQL ready':<48} {s:>10.2f} s")
    print(f"{'(a) ratio sidecar / bare':<48} {s / b:>12.2f}")
    print(f"{'    runs bare':<48} {', '.join(f'{x:.2f}' for x, _ in bare):>12}")
    print(f"{'    runs sidecar':<48} {', '.join(f'{x:.2f}' for x, _ in via):>12}")
    print(f"{'(a) bare Cassandra: CPU until CQL ready (median)':<48} {bc:>10.2f} s")
    print(f"{'(a) sidecar + its Cassandra: CPU until CQL ready':<48} {sc:>10.2f} s")
    print(f"{'(a) CPU ratio sidecar / bare':<48} {sc / bc:>12.2f}")
    print(f"{'    CPU runs bare':<48} {', '.join(f'{c:.2f}' for _, c in bare):>12}")
    print(f"{'    CPU runs sidecar':<48} {', '.join(f'{c:.2f}' for _, c in via):>12}")
    print(f"{'(c) sidecar RSS while idle (max)':<48} {rss_mb:>9.1f} MiB")
    print(f"{'(c) sidecar CPU while idle over ' + str(int(args.idle_s)) + ' s':<48} {cpu_s * 1000:>9.0f} ms")
    print(f"{'(c) sidecar CPU while idle (% of one core)':<48} {cpu_pct:>11.2f}%")


if __name__ == "__main__":
    main()
