"""The cluster spec: defaults, validation messages naming the field, update rules naming the rule."""

from __future__ import annotations

from typing import Any

import pytest

from model.cluster import (
    ClusterSpec,
    InvalidSpec,
    PlacementRule,
    check_update,
    config_id,
    node_config_id,
    parse_spec,
    rack_of,
    validate_cluster_name,
)
from model.errors import InvalidInput


def test_small_spec_gets_working_defaults() -> None:
    spec = parse_spec({"nodes": 3})
    assert spec.nodes == 3 and spec.seeds == 2
    assert spec.heap_mb < spec.mem_mb
    assert spec.disk_type == "ROOT" and spec.data_center == "dc1" and spec.racks == ("rack1",)
    assert spec.placement_rules == (PlacementRule("hostname", "UNIQUE"),)
    assert spec.num_tokens == 16
    assert parse_spec({}).nodes == 3


def test_one_node_cluster_has_one_seed() -> None:
    assert parse_spec({"nodes": 1}).seeds == 1


def test_api_md_example_is_valid() -> None:
    spec = parse_spec(
        {
            "nodes": 3,
            "seeds": 2,
            "cpus": 1.0,
            "mem_mb": 2048,
            "heap_mb": 512,
            "disk_mb": 4096,
            "disk_type": "ROOT",
            "cassandra_version": "5.0.x",
            "data_center": "dc1",
            "racks": ["rack1"],
            "placement": "hostname:UNIQUE",
            "cassandra_yaml": {"concurrent_writes": 32},
            "jvm_options": [],
            "peers": ["http://dc2-framework:9000"],
        }
    )
    assert spec.to_json()["racks"] == ["rack1"]
    assert parse_spec(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"nodes": 0}, "nodes: Input should be greater than or equal to 1"),
        ({"nodes": True}, "nodes: must be an integer, not a boolean"),
        ({"nodes": "many"}, "nodes: Input should be a valid integer"),
        ({"nodes": 3, "seeds": 4}, "seeds: must be between 1 and nodes (3), got 4"),
        ({"nodes": 1, "seeds": 2}, "seeds: must be between 1 and nodes (1), got 2"),
        ({"seeds": 0}, "seeds: Input should be greater than or equal to 1"),
        ({"heap_mb": 2048}, "heap_mb: must be less than mem_mb (2048), got 2048"),
        ({"cpus": 0}, "cpus: Input should be greater than 0"),
        ({"disk_type": "NFS"}, "disk_type: Input should be 'ROOT' or 'MOUNT'"),
        ({"cassandra_version": "4.1.5"}, "cassandra_version: '4.1.5' is not a Cassandra 5.0 release"),
        ({"cassandra_version": "5.0"}, "cassandra_version: '5.0' is not a Cassandra 5.0 release"),
        ({"data_center": "dc 1"}, "data_center: 'dc 1': letters, digits"),
        ({"racks": []}, "racks: must name at least one rack"),
        ({"racks": ["a", "a"]}, "racks: rack names must be unique"),
        ({"placement": "hostname"}, "placement: placement constraint 'hostname' must look like"),
        ({"placement": "hostname:MAX_PER:x"}, "MAX_PER needs a positive integer"),
        ({"placement": "rack:GROUP_BY:three"}, "GROUP_BY takes the number of values"),
        ({"placement": "rack:LIKE:("}, "bad regular expression"),
        ({"placement": "rack:IS"}, "IS needs a value"),
        ({"ssl_storage_port": 7001}, "ssl_storage_port: set storage_port too"),
        ({"storage_port": 7000, "ssl_storage_port": 7000}, "must differ from storage_port (7000)"),
        ({"storage_port": 65535}, "storage_port 65535 has no next port"),
        ({"storage_port": True}, "storage_port: must be an integer, not a boolean"),
        ({"auto_cleanup_after_scale": "yes"}, "auto_cleanup_after_scale: Input should be a valid boolean"),
        ({"peers": ["ftp://x"]}, "peers: 'ftp://x' is not an http(s) URL"),
        ({"jvm_options": ["Xss1m"]}, "jvm_options: 'Xss1m' is not a single JVM option"),
        ({"jvm_options": ["-Xmx4g"]}, "-Xmx4g is set by the framework (rule heap-is-set-by-heap_mb)"),
        ({"jvm_options": ["-XX:MaxHeapSize=4g"]}, "(rule heap-is-set-by-heap_mb)"),
        ({"jvm_options": ["-Dcassandra.jmx.remote.port=1"]}, "(rule framework-owns-ports)"),
        ({"heap_mb": 128}, "heap_mb: Input should be greater than or equal to 256"),
        ({"racks": ["r" * 49]}, "racks: rack 'rrrrr"),
        ({"data_center": "d" * 49}, "data_center: 'ddd"),
        ({"nodez": 3}, "nodez: unknown field (not part of the cluster spec)"),
        ({"cassandra_yaml": {"num_tokens": 0}}, "num_tokens must be an integer from 1 to 1024"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidSpec) as exc:
        parse_spec(data)
    assert any(expected in line for line in exc.value.errors), exc.value.errors
    assert isinstance(exc.value, InvalidInput)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidSpec) as exc:
        parse_spec({"nodes": 0, "cpus": -1, "colour": "red"})
    assert len(exc.value.errors) == 3


def test_a_spec_must_be_an_object() -> None:
    with pytest.raises(InvalidSpec, match="must be a JSON object, got list"):
        parse_spec([1, 2])


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("native_transport_port", "framework-owns-ports"),
        ("storage_port", "framework-owns-ports"),
        ("listen_address", "framework-owns-addresses"),
        ("broadcast_rpc_address", "framework-owns-addresses"),
        ("seed_provider", "framework-owns-seeds"),
        ("data_file_directories", "framework-owns-data-directories"),
        ("commitlog_directory", "framework-owns-data-directories"),
        ("cluster_name", "framework-owns-cluster-name"),
        ("endpoint_snitch", "framework-owns-snitch"),
        ("initial_token", "framework-owns-tokens"),
    ],
)
def test_framework_owned_yaml_keys_are_refused_with_the_rule(key: str, rule: str) -> None:
    with pytest.raises(InvalidSpec) as exc:
        parse_spec({"cassandra_yaml": {key: "x"}})
    assert exc.value.errors == [f"cassandra_yaml: {key} is set by the framework (rule {rule})"]


def test_config_id_is_a_content_hash_of_the_filled_in_spec() -> None:
    small = parse_spec({"nodes": 3})
    explicit = parse_spec({**ClusterSpec().to_json(), "nodes": 3})
    assert config_id(small) == config_id(explicit)
    assert config_id(small) != config_id(
        parse_spec({"nodes": 3, "cassandra_yaml": {"concurrent_writes": 64}})
    )
    assert len(config_id(small)) == 16 and int(config_id(small), 16) >= 0


def test_node_config_id_ignores_what_running_nodes_do_not_use() -> None:
    base = parse_spec({"nodes": 3, "seeds": 2})
    same: list[dict[str, Any]] = [
        {"nodes": 5},
        {"seeds": 3},
        {"placement": ""},
        {"peers": ["http://dc2:9000"]},
        {"racks": ["rack1", "r2"]},
    ]
    for change in same:
        assert node_config_id(parse_spec({**base.to_json(), **change})) == node_config_id(base), change
    different: list[dict[str, Any]] = [
        {"cpus": 2.0},
        {"mem_mb": 4096},
        {"heap_mb": 1024},
        {"cassandra_version": "5.0.8"},
        {"cassandra_yaml": {"concurrent_reads": 64}},
        {"jvm_options": ["-XX:+UseG1GC"]},
    ]
    for change in different:
        assert node_config_id(parse_spec({**base.to_json(), **change})) != node_config_id(base), change


@pytest.mark.parametrize("name", ["demo", "a", "prod-eu-1", "a" * 48])
def test_good_cluster_names(name: str) -> None:
    assert validate_cluster_name(name) == name


@pytest.mark.parametrize("name", ["", "Demo", "1demo", "de_mo", "de__mo", "a" * 49, "demo/x", "-x"])
def test_bad_cluster_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="cluster name"):
        validate_cluster_name(name)


BASE = {"nodes": 3, "seeds": 2, "racks": ["r1", "r2", "r3"]}


@pytest.mark.parametrize(
    ("change", "rules"),
    [
        ({}, []),
        ({"nodes": 5}, []),
        ({"cpus": 2.0, "mem_mb": 4096, "heap_mb": 1024}, []),
        ({"cassandra_yaml": {"concurrent_writes": 64}}, []),
        ({"seeds": 3}, []),
        ({"seeds": 1}, []),
        ({"racks": ["r1", "r2", "r3", "r4"]}, []),  # node-0..2 keep their racks
        ({"nodes": 4, "racks": ["r1", "r2", "r3", "r4"]}, []),
        ({"nodes": 2}, ["nodes-cannot-shrink"]),
        ({"data_center": "dc2"}, ["data-center-cannot-change"]),
        ({"disk_mb": 8192}, ["disk-size-cannot-change"]),
        ({"disk_type": "MOUNT"}, ["disk-type-cannot-change"]),
        ({"racks": ["r2", "r1", "r3"]}, ["racks-of-existing-nodes-cannot-change"]),
        ({"racks": ["r1", "r2"]}, ["racks-of-existing-nodes-cannot-change"]),
        ({"nodes": 5, "seeds": 4}, ["new-nodes-cannot-be-seeds"]),
        ({"cassandra_yaml": {"num_tokens": 8}}, ["num-tokens-cannot-change"]),
        ({"storage_port": 7000}, ["storage-ports-cannot-change"]),
        ({"auto_cleanup_after_scale": True, "cassandra_version": "5.0.7"}, []),
        (
            {"nodes": 1, "seeds": 1, "disk_mb": 1, "data_center": "x"},
            [
                "data-center-cannot-change",
                "disk-size-cannot-change",
                "nodes-cannot-shrink",
            ],
        ),
    ],
)
def test_update_rules(change: dict[str, Any], rules: list[str]) -> None:
    old = parse_spec(BASE)
    new = parse_spec({**BASE, **change})
    violations = check_update(old, new)
    assert [v.rule for v in violations] == rules
    for v in violations:
        assert v.rule in str(v) and v.field in str(v)


def test_rack_move_names_the_moved_nodes() -> None:
    (v,) = check_update(parse_spec(BASE), parse_spec({**BASE, "racks": ["r1", "r3", "r2"]}))
    assert "node-1 (r2 -> r3)" in v.message and "node-2 (r3 -> r2)" in v.message and "node-0" not in v.message


def test_cluster_name_cannot_change() -> None:
    spec = parse_spec(BASE)
    (v,) = check_update(spec, spec, old_name="demo", new_name="prod")
    assert v.rule == "cluster-name-cannot-change"


def test_racks_are_dealt_round_robin() -> None:
    spec = parse_spec(BASE)
    assert [rack_of(spec, i) for i in range(5)] == ["r1", "r2", "r3", "r1", "r2"]


def test_named_storage_ports_default_ssl_to_the_next_port() -> None:
    assert parse_spec({"storage_port": 7000}).fixed_storage_ports == {"storage": 7000, "ssl_storage": 7001}
    assert parse_spec({"storage_port": 7000, "ssl_storage_port": 7443}).fixed_storage_ports == {
        "storage": 7000,
        "ssl_storage": 7443,
    }
    assert parse_spec({}).fixed_storage_ports == {}
