"""The CM_NODE_CONFIG contract: round trip, and bad input rejected with the field named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from model.errors import InvalidInput
from model.node_config import ENV_VAR, FAST_START_JVM_OPTIONS, InvalidNodeConfig, NodeConfig


def valid(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cluster": "prod",
        "node": "node-3",
        "config_id": "c-7",
        "scheduler_url": "http://sched.example:9000/",
        "data_center": "dc1",
        "rack": "r1",
        "listen_address": "10.0.0.5",
        "ports": {
            "storage": 7000,
            "ssl_storage": 7001,
            "native_transport": 9042,
            "jmx": 7199,
            "sidecar": 31000,
        },
        "heap_mb": 2048,
    }
    data.update(overrides)
    return data


def test_round_trip_through_the_environment() -> None:
    config = NodeConfig.model_validate(
        valid(jvm_options=list(FAST_START_JVM_OPTIONS), initial_token="0", num_tokens=1)
    )
    env = config.to_env()
    assert list(env) == [ENV_VAR]
    again = NodeConfig.from_env(env)
    assert again == config
    assert again.scheduler_url == "http://sched.example:9000"
    assert again.seeds_url == "http://sched.example:9000/v1/clusters/prod/seeds?node=node-3"
    assert again.index == 3
    assert (again.volume_path, again.num_tokens, again.auto_bootstrap) == ("data", 1, True)


def test_is_frozen() -> None:
    config = NodeConfig.model_validate(valid())
    with pytest.raises(Exception, match="frozen"):
        config.heap_mb = 1


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"node": "n3"}, "node: must be node-<i>"),
        ({"cluster": "Bad Name"}, "cluster:"),
        ({"scheduler_url": "sched:9000"}, "scheduler_url: must be an http"),
        ({"listen_address": "0.0.0.0"}, "listen_address: must be the agent's own address"),
        ({"listen_address": "bad host!"}, "listen_address:"),
        (
            {
                "ports": {
                    "storage": 7000,
                    "ssl_storage": 7000,
                    "native_transport": 9042,
                    "jmx": 7199,
                    "sidecar": 1,
                }
            },
            "ports.ssl_storage and ports.storage are both 7000",
        ),
        (
            {
                "ports": {
                    "storage": 70000,
                    "ssl_storage": 7001,
                    "native_transport": 9042,
                    "jmx": 7199,
                    "sidecar": 1,
                }
            },
            "ports.storage:",
        ),
        ({"ports": {"storage": 7000}}, "ports.ssl_storage: Field required"),
        ({"heap_mb": 64}, "heap_mb:"),
        ({"heap_mb": 65536}, "heap_mb:"),
        ({"volume_path": "/var/lib/cassandra"}, "volume_path: must be a path relative to $MESOS_SANDBOX"),
        ({"volume_path": "../other"}, "volume_path:"),
        ({"initial_token": "abc"}, "initial_token: must be one token"),
        ({"initial_token": "1,2", "num_tokens": 16}, "initial_token has 2 token(s) but num_tokens is 16"),
        (
            {"cassandra_yaml": {"listen_address": "1.2.3.4", "concurrent_reads": 4}},
            "cassandra_yaml: listen_address cannot be overridden",
        ),
        ({"jvm_options": ["-Xmx8G"]}, "'-Xmx8G' is owned by the sidecar; set heap_mb instead"),
        ({"jvm_options": ["-Dcassandra.jmx.remote.port=1"]}, "set ports.jmx instead"),
        ({"jvm_options": ["Xss1m"]}, "is not a JVM option"),
        ({"replace_address": "not an address!"}, "replace_address:"),
        ({"kill_grace_period_s": 0}, "kill_grace_period_s:"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_bad_field_is_named(change: dict[str, Any], names: str) -> None:
    with pytest.raises(InvalidNodeConfig) as e:
        NodeConfig.from_json(json.dumps(valid(**change)))
    assert names in str(e.value)
    assert isinstance(e.value, InvalidInput)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "CM_NODE_CONFIG is not set"),
        ({ENV_VAR: ""}, "CM_NODE_CONFIG is not set"),
        ({ENV_VAR: "{not json"}, "CM_NODE_CONFIG is not valid JSON"),
        ({ENV_VAR: "[1]"}, "must be a JSON object, got list"),
        ({ENV_VAR: "{}"}, "cluster: Field required"),
    ],
)
def test_unusable_environment(env: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidNodeConfig, match=None) as e:
        NodeConfig.from_env(env)
    assert message in str(e.value)


def test_replace_address_with_port_and_ipv6_listen_address_are_accepted() -> None:
    config = NodeConfig.model_validate(valid(replace_address="10.0.0.9:7000", listen_address="fd00::5"))
    assert config.replace_address == "10.0.0.9:7000"
