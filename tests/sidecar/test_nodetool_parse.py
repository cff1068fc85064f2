"""Parsers of nodetool output, on text captured from real Cassandra 5.0.8 (tests/sidecar/fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidecar.nodetool import (
    Nodetool,
    NodetoolError,
    parse_describecluster,
    parse_info,
    parse_mode,
    parse_status,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "status_single_token.txt",
            [
                (
                    "127.0.55.1",
                    "UN",
                    "114.36 KiB",
                    None,
                    "0",
                    "rack1",
                    "dc1",
                    "3a90e117-d5f4-49ef-8df8-cd57b0dafae4",
                )
            ],
        ),
        (
            "status_pp_single_token.txt",
            [
                (
                    "127.0.55.1:17000",
                    "UN",
                    "114.36 KiB",
                    None,
                    "0",
                    "rack1",
                    "dc1",
                    "3a90e117-d5f4-49ef-8df8-cd57b0dafae4",
                )
            ],
        ),
        (
            "status_vnodes_two_dcs.txt",
            [
                (
                    "127.20.186.219:55579",
                    "UN",
                    "114.7 KiB",
                    16,
                    None,
                    "r1",
                    "dc1",
                    "eef15c33-ec6c-4a44-a1ab-48a6111fb29c",
                ),
                (
                    "127.183.66.26:40015",
                    "UN",
                    "25.93 KiB",
                    16,
                    None,
                    "r2",
                    "dc2",
                    "c9c9258e-329e-4acd-9192-732aae2b49c3",
                ),
            ],
        ),
        (
            "status_vnodes_one_down.txt",
            [
                (
                    "127.20.186.219:55579",
                    "UN",
                    "114.7 KiB",
                    16,
                    None,
                    "r1",
                    "dc1",
                    "eef15c33-ec6c-4a44-a1ab-48a6111fb29c",
                ),
                (
                    "127.183.66.26:40015",
                    "DN",
                    "25.93 KiB",
                    16,
                    None,
                    "r2",
                    "dc2",
                    "c9c9258e-329e-4acd-9192-732aae2b49c3",
                ),
            ],
        ),
        ("info.txt", []),
    ],
)
def test_status(name: str, expected: list[tuple[object, ...]]) -> None:
    rows = parse_status(fixture(name))
    assert [
        (m.address, m.code, m.load, m.tokens, m.token, m.rack, m.data_center, m.host_id) for m in rows
    ] == expected
    assert all(m.owns == "100.0%" for m in rows)


def test_info_single_token() -> None:
    info = parse_info(fixture("info.txt"))
    assert info.host_id == "3a90e117-d5f4-49ef-8df8-cd57b0dafae4"
    assert (info.gossip_active, info.native_transport_active) == (True, True)
    assert (info.load, info.generation, info.uptime_s) == ("114.36 KiB", 1796606075, 11)
    assert (info.heap_used_mb, info.heap_total_mb) == (358.13, 512.0)
    assert (info.data_center, info.rack, info.token, info.token_count) == ("dc1", "rack1", "0", 1)
    assert info.bootstrap_state == "COMPLETED"


def test_info_vnodes_counts_tokens() -> None:
    info = parse_info(fixture("info_vnodes.txt"))
    assert (info.data_center, info.rack, info.token_count) == ("dc1", "r1", 16)


def test_mode() -> None:
    assert parse_mode(fixture("netstats.txt")) == "NORMAL"
    assert parse_mode("Mode: DRAINED\nNot sending any streams.\n") == "DRAINED"


def test_describecluster() -> None:
    one = parse_describecluster(fixture("describecluster_pp.txt"))
    assert (one.name, one.live, one.unreachable, one.schema_agreed) == ("smoke", 1, 0, True)
    assert one.schema_versions == {"d03783d7-b468-3c1a-82f1-8e30b2edde8b": ("127.0.55.1:17000",)}
    assert one.database_versions == {"5.0.8": ("127.0.55.1:17000",)}
    assert one.snitch.endswith("GossipingPropertyFileSnitch")
    two = parse_describecluster(fixture("describecluster_two_nodes.txt"))
    assert two.live == 2 and two.schema_agreed
    assert two.schema_versions["d03783d7-b468-3c1a-82f1-8e30b2edde8b"] == (
        "127.20.186.219:55579",
        "127.183.66.26:40015",
    )


@pytest.mark.parametrize(
    ("parser", "text"),
    [(parse_info, "nodetool: Failed to connect"), (parse_mode, "garbage"), (parse_describecluster, "")],
)
def test_unexpected_output_is_a_clear_error(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="not the output of nodetool"):
        parser(text)


async def test_failed_call_raises_with_exit_code_and_message(tmp_path: Path) -> None:
    from sidecar.config import NodePaths

    async def refused(cmd, timeout):
        assert "org.apache.cassandra.tools.NodeTool" in cmd and cmd[-1] == "netstats"
        return (
            1,
            "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'.\n",
        )

    p = NodePaths(tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, tmp_path, Path("/java"))
    with pytest.raises(NodetoolError, match="exited 1: nodetool: Failed to connect") as e:
        await Nodetool(p, 7199, runner=refused).mode()
    assert e.value.returncode == 1
