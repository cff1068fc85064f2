"""Mesos flag syntaxes the agent accepts: what `--resources`, `--attributes` and `--domain` turn into."""

from __future__ import annotations

import pytest

from localmesos.agent.errors import FlagError
from localmesos.agent.flags import parse_attributes, parse_domain, parse_flags, parse_resources


def test_resources_in_mesos_text_syntax() -> None:
    res = parse_resources("cpus:4;mem:8192.5;ports:[31000-31009,31100-31100];disks:{a,b};cpus(db):1")
    assert res == [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 8192.5}},
        {
            "name": "ports",
            "type": "RANGES",
            "ranges": {"range": [{"begin": 31000, "end": 31009}, {"begin": 31100, "end": 31100}]},
        },
        {"name": "disks", "type": "SET", "set": {"item": ["a", "b"]}},
        {
            "name": "cpus",
            "type": "SCALAR",
            "scalar": {"value": 1.0},
            "reservations": [{"type": "STATIC", "role": "db"}],
        },
    ]


def test_resources_json_array_is_accepted_as_is() -> None:
    raw = '[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]'
    assert parse_resources(raw) == [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}}]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("cpus", "cannot parse 'cpus'"),
        ("cpus:lots", "not a number"),
        ("ports:[5-1]", "begin > end"),
        ("ports:[1-5,3-9]", "overlapping"),
        ("tags:{a,a}", "duplicated"),
        ("cpus:-1", "must not be negative"),
    ],
)
def test_bad_resources_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(FlagError, match="--resources") as e:
        parse_resources(text)
    assert fragment in str(e.value)


def test_missing_resources_get_mesos_defaults(tmp_path) -> None:
    flags = parse_flags(
        ["--master", "http://127.0.0.1:1", "--work-dir", str(tmp_path), "--resources", "cpus:2"]
    )
    by_name = {r["name"]: r for r in flags.resources}
    assert by_name["cpus"]["scalar"]["value"] == 2.0
    assert by_name["mem"]["scalar"]["value"] > 0 and by_name["disk"]["scalar"]["value"] > 0
    assert by_name["ports"]["ranges"]["range"] == [{"begin": 31000, "end": 32000}]


def test_attributes_are_text_unless_they_parse() -> None:
    assert parse_attributes("rack:r1;cores:4;slots:[1-2];tags:{x,y}") == [
        {"name": "rack", "type": "TEXT", "text": {"value": "r1"}},
        {"name": "cores", "type": "SCALAR", "scalar": {"value": 4.0}},
        {"name": "slots", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 2}]}},
        {"name": "tags", "type": "SET", "set": {"item": ["x", "y"]}},
    ]
    with pytest.raises(FlagError, match="--attributes: cannot parse 'rack'"):
        parse_attributes("rack")


def test_domain_needs_region_and_zone() -> None:
    good = '{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"eu-1"}}}'
    assert parse_domain(good)["fault_domain"]["zone"]["name"] == "eu-1"
    with pytest.raises(FlagError, match=r"zone\.name"):
        parse_domain('{"fault_domain":{"region":{"name":"eu"}}}')
    with pytest.raises(FlagError, match="invalid JSON"):
        parse_domain("{eu")


def test_master_must_be_an_url(tmp_path) -> None:
    with pytest.raises(FlagError, match="--master must be an http:// URL"):
        parse_flags(["--master", "127.0.0.1:5050", "--work-dir", str(tmp_path)])


def test_executor_environment_variables_must_be_a_json_object_of_strings(tmp_path) -> None:
    base = ["--master", "http://127.0.0.1:1", "--work-dir", str(tmp_path), "--executor-environment-variables"]
    assert parse_flags([*base, '{"PATH": "/venv/bin"}']).executor_environment == {"PATH": "/venv/bin"}
    with pytest.raises(FlagError, match="expected a JSON object of strings"):
        parse_flags([*base, '{"N": 1}'])
