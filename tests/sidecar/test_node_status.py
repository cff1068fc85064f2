"""The resident JMX status reader's process handling, with a scripted helper in place of the JVM.

The real helper (sidecar/JmxStatus.java) is exercised against real Cassandra by
tests/sidecar/test_single_node.py and test_two_nodes.py, whose /status must say source "jmx".
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

import jvm
from sidecar.config import JMX_STATUS_SOURCE
from sidecar.node_status import (
    JmxStatusReader,
    NodeView,
    StatusUnavailable,
    compile_jmx_status,
    view_from_json,
)

ANSWER = {
    "ok": True,
    "mode": "NORMAL",
    "host_id": "h-1",
    "load": "1.5 MiB",
    "tokens": 16,
    "gossip_running": True,
    "native_transport_running": True,
    "data_center": "dc1",
    "rack": "r1",
    "uptime_s": 12,
    "heap_used_mb": 100.123,
    "heap_total_mb": 512.0,
    "ring": [
        {"status": "U", "state": "N", "address": "127.0.0.1:7000", "load": "1.5 MiB", "tokens": 16,
         "owns": "100.0%", "host_id": "h-1", "rack": "r1", "data_center": "dc1"},
        {"status": "D", "state": "N", "address": "127.0.0.2:7000", "load": "?", "tokens": 16,
         "owns": "100.0%", "host_id": "h-2", "rack": "r2", "data_center": "dc1"},
    ],
}  # fmt: skip

# A stand-in for JmxStatus.java speaking its protocol; BEHAVIOUR picks how it misbehaves.
HELPER = textwrap.dedent(
    """
    import json, sys, time
    behaviour, starts, answer = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with open(starts, "a") as f:
        f.write("x")
    if behaviour == "no-start":
        sys.exit(3)
    print(json.dumps({"ok": True, "hello": 1}), flush=True)
    served = 0
    for line in sys.stdin:
        if behaviour == "jmx-down":
            print(json.dumps({"ok": False, "error": "ConnectException: Connection refused"}), flush=True)
        elif behaviour == "hang":
            time.sleep(60)
        elif behaviour == "list":
            print("[1, 2]", flush=True)
        else:
            print(json.dumps(answer), flush=True)
        served += 1
        if behaviour == "die-after-one" and served == 1:
            sys.exit(1)
    """
)


class FallbackReader:
    def __init__(self) -> None:
        self.reads = 0
        self.closed = False

    async def read(self) -> NodeView:
        self.reads += 1
        return replace(view_from_json(ANSWER), source="nodetool")

    async def close(self) -> None:
        self.closed = True


def reader(
    tmp_path: Path, behaviour: str, read_timeout_s: float = 10.0
) -> tuple[JmxStatusReader, Path, FallbackReader]:
    script = tmp_path / "helper.py"
    script.write_text(HELPER)
    starts = tmp_path / f"starts-{behaviour}"
    command = [sys.executable, str(script), behaviour, str(starts), json.dumps(ANSWER)]
    fallback = FallbackReader()
    return (
        JmxStatusReader(command, fallback, start_timeout_s=10, read_timeout_s=read_timeout_s),
        starts,
        fallback,
    )


def helpers_alive(script: Path) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        if str(script) in (p.info["cmdline"] or []):
            out.append(p)
    return out


async def test_one_resident_helper_serves_every_read(tmp_path: Path) -> None:
    r, starts, fallback = reader(tmp_path, "ok")
    try:
        first, second = await r.read(), await r.read()
    finally:
        await r.close()
    assert first == second
    assert (first.source, first.mode, first.host_id, first.tokens) == ("jmx", "NORMAL", "h-1", 16)
    assert [(m.address, m.code, m.owns) for m in first.ring] == [
        ("127.0.0.1:7000", "UN", "100.0%"),
        ("127.0.0.2:7000", "DN", "100.0%"),
    ]
    assert starts.read_text() == "x"  # started once
    assert fallback.reads == 0 and fallback.closed
    assert helpers_alive(tmp_path / "helper.py") == []


async def test_jmx_not_up_is_unavailable_with_the_reason_and_keeps_the_helper(tmp_path: Path) -> None:
    r, starts, _ = reader(tmp_path, "jmx-down")
    try:
        for _ in range(2):
            with pytest.raises(StatusUnavailable, match="ConnectException: Connection refused"):
                await r.read()
    finally:
        await r.close()
    assert starts.read_text() == "x"


async def test_a_dead_helper_is_replaced_on_the_next_read(tmp_path: Path) -> None:
    r, starts, fallback = reader(tmp_path, "die-after-one")
    try:
        assert (await r.read()).source == "jmx"
        with pytest.raises(StatusUnavailable, match="helper exited"):
            await r.read()
        assert (await r.read()).source == "jmx"
    finally:
        await r.close()
    assert starts.read_text() == "xx"
    assert fallback.reads == 0


async def test_a_hung_helper_is_killed_and_the_read_fails_in_time(tmp_path: Path) -> None:
    r, _, _ = reader(tmp_path, "hang", read_timeout_s=0.5)
    try:
        with pytest.raises(StatusUnavailable, match="TimeoutError"):
            await r.read()
        assert helpers_alive(tmp_path / "helper.py") == []
    finally:
        await r.close()


async def test_a_helper_that_cannot_start_falls_back_to_nodetool_for_good(tmp_path: Path) -> None:
    r, starts, fallback = reader(tmp_path, "no-start")
    try:
        for _ in range(JmxStatusReader.MAX_FAILED_STARTS - 1):
            with pytest.raises(StatusUnavailable, match="did not start"):
                await r.read()
        assert (await r.read()).source == "nodetool"
        assert (await r.read()).source == "nodetool"
    finally:
        await r.close()
    assert r.using_fallback
    assert starts.read_text() == "x" * JmxStatusReader.MAX_FAILED_STARTS  # no more attempts after that
    assert fallback.reads == 2


@pytest.mark.parametrize(
    "body",
    [{}, {**ANSWER, "ring": [{"status": "U"}]}, {**ANSWER, "tokens": "many"}, {**ANSWER, "ring": None}],
)
def test_a_malformed_answer_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="not a status answer"):
        view_from_json(body)


async def test_a_helper_command_that_does_not_exist_falls_back_too(tmp_path: Path) -> None:
    fallback = FallbackReader()
    r = JmxStatusReader([str(tmp_path / "no-such-java"), "JmxStatus.java"], fallback)
    try:
        for _ in range(JmxStatusReader.MAX_FAILED_STARTS - 1):
            with pytest.raises(StatusUnavailable, match="did not start"):
                await r.read()
        assert (await r.read()).source == "nodetool"
    finally:
        await r.close()


async def test_a_command_factory_is_asked_before_each_start(tmp_path: Path) -> None:
    script = tmp_path / "helper.py"
    script.write_text(HELPER)
    starts = tmp_path / "starts"
    asked: list[int] = []

    def command() -> list[str]:
        asked.append(1)
        return [sys.executable, str(script), "die-after-one", str(starts), json.dumps(ANSWER)]

    r = JmxStatusReader(command, FallbackReader())
    try:
        await r.read()
        with pytest.raises(StatusUnavailable):
            await r.read()
        await r.read()
    finally:
        await r.close()
    assert len(asked) == 2 and starts.read_text() == "xx"


def test_the_helper_is_compiled_once_and_none_without_javac(tmp_path: Path) -> None:
    java = jvm.find_java17()
    out = tmp_path / "classes"
    assert compile_jmx_status(java, JMX_STATUS_SOURCE, out) == out
    assert (out / "JmxStatus.class").is_file()
    stamp = (out / "JmxStatus.class").stat().st_mtime_ns
    assert compile_jmx_status(java, JMX_STATUS_SOURCE, out) == out  # already there: not again
    assert (out / "JmxStatus.class").stat().st_mtime_ns == stamp
    jre = tmp_path / "jre" / "bin"
    jre.mkdir(parents=True)
    (jre / "java").symlink_to(java)
    assert compile_jmx_status(jre / "java", JMX_STATUS_SOURCE, tmp_path / "other") is None


async def test_an_answer_that_is_not_an_object_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    r, _, _ = reader(tmp_path, "list")
    try:
        with pytest.raises(StatusUnavailable, match="not an object"):
            await r.read()
    finally:
        await r.close()
