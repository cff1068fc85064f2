"""`cassandra-mesos up` without JVMs: bad options get a clear message and exit code, and the
configuration it generates is what the real stack needs (distinct agent port ranges, the real
sidecar as node command, a scheduler config the scheduler accepts)."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from cassandra_mesos.cli import app
from cassandra_mesos.up import (
    StackSettings,
    agent_resources,
    block_lines,
    demo_spec,
    run_up,
    scheduler_config,
)
from framework.config import parse_config
from model.cluster import ClusterSpec


def _run(**overrides: object) -> tuple[int, str]:
    out = io.StringIO()
    args: dict[str, object] = {
        "work_dir": None,
        "api_port": 0,
        "mesos_port": 0,
        "zk_port": 0,
        "agents": 3,
        "nodes": 3,
        "cluster": "demo",
    }
    args.update(overrides)
    code = run_up(console=Console(file=out, width=200), **args)  # type: ignore[arg-type]
    return code, out.getvalue()


def test_more_nodes_than_agents_is_refused_with_the_rule() -> None:
    code, text = _run(nodes=4, agents=3)
    assert code == 2
    assert "--nodes 4 needs as many agents (one node per agent); got --agents 3" in text


def test_no_agents_and_negative_nodes_are_refused() -> None:
    assert _run(agents=0) == (2, "error: --agents must be at least 1\n")
    assert _run(nodes=-1) == (2, "error: --nodes must be 0 or more\n")


def test_a_work_dir_with_something_in_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "old-state").mkdir()
    code, text = _run(work_dir=tmp_path)
    assert code == 2
    assert f"--work-dir {tmp_path} is not an empty directory" in text


def test_a_taken_port_is_named_with_the_flag_to_change_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, text = _run(zk_port=port, work_dir=tmp_path / "up")
    assert code == 1
    assert f"ZooKeeper port {port} is already in use: pick another with --zk-port" in text
    assert "stopped." in text


def test_the_cli_exposes_up_with_the_documented_options() -> None:
    result = CliRunner().invoke(app, ["up", "--help"])
    assert result.exit_code == 0
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    for flag in ("--work-dir", "--api-port", "--mesos-port", "--zk-port", "--agents", "--nodes", "--cluster"):
        assert flag in plain
    result = CliRunner().invoke(app, ["up", "--nodes", "5", "--agents", "2"])
    assert result.exit_code == 2


def test_each_agent_gets_its_own_port_range_and_one_block_all_share() -> None:
    settings = StackSettings(work_dir=Path("/x"), agents=4, port_base=25000)
    ranges = []
    for res in agent_resources(settings):
        m = re.search(r"ports:\[(\d+)-(\d+),(\d+)-(\d+)\]", res)
        assert m and res.startswith("cpus:4;mem:8192;disk:65536;")
        ranges.append(tuple(int(g) for g in m.groups()))
    shared = (25400, 25419)
    assert ranges == [
        (25000, 25099, *shared),
        (25100, 25199, *shared),
        (25200, 25299, *shared),
        (25300, 25399, *shared),
    ]


def test_the_generated_scheduler_config_runs_the_real_sidecar_with_local_jars(tmp_path: Path) -> None:
    settings = StackSettings(work_dir=tmp_path, node_environment={"PYTHONPATH": "/repo"})
    data = scheduler_config(
        settings, "http://127.0.0.1:5050", "127.0.0.1:2181", 9000, Path("/cache/lib"), Path("/jdk17")
    )
    config = parse_config(data)
    assert config.node.command.endswith(" -m sidecar")
    assert config.node.cassandra_lib == "/cache/lib" and config.node.java_home == "/jdk17"
    # The cache's per-release layout becomes a template: a spec naming another release runs its jars.
    cached = scheduler_config(
        settings, "http://m:5050", "z:2181", 9000, Path("/c/cassandra-5.0.8/lib"), Path("/jdk17")
    )
    assert cached["node"]["cassandra_lib"] == "/c/cassandra-{version}/lib"
    assert config.node.environment == {"PYTHONPATH": "/repo"}
    assert config.scheduler_url(9000) == "http://127.0.0.1:9000"
    # The demo cluster is a spec the API accepts, with 512 MB heaps.
    spec = ClusterSpec.model_validate(demo_spec(3))
    assert spec.nodes == 3 and spec.heap_mb == 512


def test_progress_lines_name_phase_block_status_and_message() -> None:
    plan = {
        "phases": [
            {"name": "seeds", "blocks": [{"name": "node-0", "status": "COMPLETE", "message": "CQL ready"}]},
            {"name": "nodes", "blocks": [{"name": "node-2", "status": "PENDING", "message": ""}]},
        ]
    }
    assert block_lines(plan) == ["seeds/node-0 COMPLETE CQL ready", "nodes/node-2 PENDING"]
    assert block_lines(None) == []
