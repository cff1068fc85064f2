"""Rendering of cassandra.yaml, rackdc and the JVM command line: pure, table-tested."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from model.node_config import DEV_CASSANDRA_YAML, NodeConfig
from sidecar.config import CASSANDRA_MAIN, NodePaths, Seeds, render, seed_list

LIB = Path("/opt/cassandra/lib")  # no jamm jar here: the agent flag is then left out


def node(**overrides: Any) -> NodeConfig:
    data: dict[str, Any] = {
        "cluster": "prod",
        "node": "node-1",
        "config_id": "c-1",
        "scheduler_url": "http://s:9000",
        "data_center": "east",
        "rack": "r2",
        "listen_address": "10.1.2.3",
        "ports": {
            "storage": 7010,
            "ssl_storage": 7011,
            "native_transport": 9052,
            "jmx": 7209,
            "sidecar": 31005,
        },
        "heap_mb": 1024,
    }
    data.update(overrides)
    return NodeConfig.model_validate(data)


def paths(n: NodeConfig) -> NodePaths:
    return NodePaths.for_sandbox(n, Path("/sandbox"), LIB, Path("/jdk17/bin/java"))


OTHER_SEED = Seeds(False, ("10.1.2.4:7010",))


def rendered_yaml(n: NodeConfig, seeds: Seeds = OTHER_SEED) -> dict[str, Any]:
    return yaml.safe_load(render(n, seeds, paths(n)).cassandra_yaml)


def test_identity_ports_and_volume() -> None:
    y = rendered_yaml(node())
    assert y["cluster_name"] == "prod"
    assert (y["listen_address"], y["rpc_address"]) == ("10.1.2.3", "10.1.2.3")
    assert (y["storage_port"], y["ssl_storage_port"], y["native_transport_port"]) == (7010, 7011, 9052)
    assert y["data_file_directories"] == ["/sandbox/data/data"]
    assert (y["commitlog_directory"], y["hints_directory"], y["saved_caches_directory"]) == (
        "/sandbox/data/commitlog",
        "/sandbox/data/hints",
        "/sandbox/data/saved_caches",
    )
    assert y["endpoint_snitch"] == "GossipingPropertyFileSnitch"
    assert y["seed_provider"] == [
        {
            "class_name": "org.apache.cassandra.locator.SimpleSeedProvider",
            "parameters": [{"seeds": "10.1.2.4:7010"}],
        }
    ]
    # What Cassandra refuses to start without (reference §3.1), and no crypto_provider (ACCP warning).
    assert {"partitioner", "commitlog_sync", "commitlog_sync_period"} <= set(y)
    assert "crypto_provider" not in y


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"num_tokens": 16, "allocate_tokens_for_local_replication_factor": 3, "auto_bootstrap": True}),
        (
            {"num_tokens": 1, "initial_token": "-9223372036854775808"},
            {"num_tokens": 1, "initial_token": "-9223372036854775808"},
        ),
        ({"num_tokens": 2, "initial_token": "1, 5"}, {"num_tokens": 2, "initial_token": "1, 5"}),
        ({"auto_bootstrap": False}, {"auto_bootstrap": False}),
        ({"volume_path": "vol/cass"}, {"commitlog_directory": "/sandbox/vol/cass/commitlog"}),
        (
            {"cassandra_yaml": {"concurrent_writes": 32, "commitlog_sync_period": "2000ms"}},
            {"concurrent_writes": 32, "commitlog_sync_period": "2000ms"},
        ),
        ({"cassandra_yaml": dict(DEV_CASSANDRA_YAML)}, dict(DEV_CASSANDRA_YAML)),
    ],
)
def test_yaml_table(overrides: dict[str, Any], expected: dict[str, Any]) -> None:
    y = rendered_yaml(node(**overrides))
    assert {k: y.get(k) for k in expected} == expected
    if "initial_token" in overrides:
        assert "allocate_tokens_for_local_replication_factor" not in y


@pytest.mark.parametrize(
    ("seeds", "expected"),
    [
        (Seeds(True, ()), "10.1.2.3:7010"),
        (Seeds(True, ("10.1.2.4", "10.1.2.3:7010")), "10.1.2.3:7010,10.1.2.4"),
        (Seeds(False, ("10.1.2.4:7000", "10.9.0.1:7000", "10.1.2.4:7000")), "10.1.2.4:7000,10.9.0.1:7000"),
        (Seeds(False, ()), ""),
    ],
)
def test_seed_list(seeds: Seeds, expected: str) -> None:
    assert seed_list(node(), seeds) == expected


def test_rackdc() -> None:
    assert render(node(), Seeds(True, ()), paths(node())).rackdc == "dc=east\nrack=r2\n"


def test_jvm_command() -> None:
    n = node(jvm_options=["-XX:+UseZGC", "-Dcassandra.ring_delay_ms=5000"], replace_address="10.1.2.9")
    cmd = list(render(n, Seeds(True, ()), paths(n)).command)
    assert cmd[0] == "/jdk17/bin/java"
    assert cmd[-3:] == ["-cp", "/sandbox/cassandra-conf:/opt/cassandra/lib/*", CASSANDRA_MAIN]
    assert {"-Xms1024M", "-Xmx1024M", "-XX:MaxDirectMemorySize=512M"} <= set(cmd)
    assert "-Dcassandra.jmx.local.port=7209" in cmd
    assert "-Dcassandra.config=file:///sandbox/cassandra-conf/cassandra.yaml" in cmd
    assert "-Dcassandra-rackdc.properties=file:///sandbox/cassandra-conf/cassandra-rackdc.properties" in cmd
    assert "-Dcassandra-foreground=yes" in cmd
    assert "-Dcassandra.replace_address_first_boot=10.1.2.9" in cmd
    assert "--add-opens=java.base/java.io=ALL-UNNAMED" in cmd
    assert not any(f.startswith("-javaagent") for f in cmd)
    # User options come after the sidecar's, so they win (e.g. another GC).
    assert cmd.index("-XX:+UseZGC") > cmd.index("-XX:+UseG1GC")
    assert not any(f.startswith(("-XX:+AlwaysPreTouch", "-XX:G1HeapRegionSize")) for f in cmd)


def test_jamm_agent_when_the_lib_has_it(tmp_path: Path) -> None:
    (tmp_path / "jamm-0.4.0.jar").write_bytes(b"")
    n = node()
    p = NodePaths.for_sandbox(n, Path("/sandbox"), tmp_path, Path("/java"))
    assert f"-javaagent:{tmp_path}/jamm-0.4.0.jar" in render(n, Seeds(True, ()), p).command


def test_small_heap_keeps_a_floor_of_direct_memory() -> None:
    n = node(heap_mb=256)
    assert "-XX:MaxDirectMemorySize=128M" in render(n, Seeds(True, ()), paths(n)).command


def test_logback_keeps_stdout_for_warnings_and_tools_off_stdout() -> None:
    r = render(node(), Seeds(True, ()), paths(node()))
    assert "${cassandra.logdir}/system.log" in r.logback
    assert "<level>WARN</level>" in r.logback
    assert "<target>System.err</target>" in r.logback_tools
    assert set(r.files(paths(node()))) == {
        Path("/sandbox/cassandra-conf/cassandra.yaml"),
        Path("/sandbox/cassandra-conf/cassandra-rackdc.properties"),
        Path("/sandbox/cassandra-conf/logback.xml"),
        Path("/sandbox/cassandra-conf/logback-tools.xml"),
    }
