"""Where ``/status`` comes from: a resident JMX reader, or nodetool when that cannot run.

nodetool is a fresh JVM per call and ``/status`` needs three (info, status, netstats): about two
CPU-seconds per read, every few seconds per node while anything changes — on a small host that
is most of a core, taken from the Cassandra nodes themselves. ``JmxStatusReader`` keeps one small
helper JVM (``JmxStatus.java``, a single-file program) on one JMX connection for the sidecar's
life; a read is a line each way. If the helper cannot start at all (no compiler in the JDK, say),
the sidecar says so once in its log and reads through nodetool as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from model.errors import CassandraMesosError
from sidecar.nodetool import Nodetool, NodetoolError, RingMember

log = logging.getLogger("sidecar")


def compile_jmx_status(java: Path, source: Path, out: Path) -> Path | None:
    """``javac`` the helper into ``out`` once (≈1 CPU-second); the directory to run it from, or
    None when this JDK has no javac or it failed (the source launcher is tried then)."""
    if (out / "JmxStatus.class").is_file():
        return out
    javac = java.with_name("javac")
    if not javac.is_file():
        return None
    try:
        done = subprocess.run(
            [str(javac), "-J-Xmx64m", "-d", str(out), str(source)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        log.warning("compiling the JMX status helper failed (%s); it runs from source", e)
        return None
    if done.returncode != 0 or not (out / "JmxStatus.class").is_file():
        log.warning("javac of the JMX status helper exited %d: %s", done.returncode, done.stderr[-500:])
        return None
    return out


class StatusUnavailable(CassandraMesosError):
    """The node's state could not be read now (JMX not up yet, helper slow or restarting)."""


@dataclass(frozen=True)
class NodeView:
    """The node as ``nodetool info``, ``status`` and ``netstats`` show it, from either source."""

    source: str  # "jmx" or "nodetool"
    mode: str
    host_id: str
    data_center: str
    rack: str
    load: str
    tokens: int
    gossip_running: bool
    native_transport_running: bool
    uptime_s: int
    heap_used_mb: float
    heap_total_mb: float
    ring: tuple[RingMember, ...]


class StatusReader(Protocol):
    async def read(self) -> NodeView: ...

    async def close(self) -> None: ...


class NodetoolStatusReader:
    """Three nodetool JVMs in parallel per read."""

    def __init__(self, nodetool: Nodetool) -> None:
        self._nodetool = nodetool

    async def read(self) -> NodeView:
        try:
            info, ring, mode = await asyncio.gather(
                self._nodetool.info(), self._nodetool.status(), self._nodetool.mode()
            )
        except NodetoolError as e:
            raise StatusUnavailable(str(e)) from e
        return NodeView(
            source="nodetool",
            mode=mode,
            host_id=info.host_id,
            data_center=info.data_center,
            rack=info.rack,
            load=info.load,
            tokens=info.token_count,
            gossip_running=info.gossip_active,
            native_transport_running=info.native_transport_active,
            uptime_s=info.uptime_s,
            heap_used_mb=info.heap_used_mb,
            heap_total_mb=info.heap_total_mb,
            ring=tuple(ring),
        )

    async def close(self) -> None:
        return None


def view_from_json(body: dict[str, Any]) -> NodeView:
    """The helper's answer as a NodeView; ValueError when it is not one."""
    try:
        ring = tuple(
            RingMember(
                status=str(m["status"]),
                state=str(m["state"]),
                address=str(m["address"]),
                load=str(m["load"]),
                tokens=int(m["tokens"]),
                owns=str(m["owns"]),
                host_id=str(m["host_id"]),
                token=None,
                rack=str(m["rack"]),
                data_center=str(m["data_center"]),
            )
            for m in body["ring"]
        )
        return NodeView(
            source="jmx",
            mode=str(body["mode"]),
            host_id=str(body["host_id"]),
            data_center=str(body["data_center"]),
            rack=str(body["rack"]),
            load=str(body["load"]),
            tokens=int(body["tokens"]),
            gossip_running=bool(body["gossip_running"]),
            native_transport_running=bool(body["native_transport_running"]),
            uptime_s=int(body["uptime_s"]),
            heap_used_mb=round(float(body["heap_used_mb"]), 2),
            heap_total_mb=round(float(body["heap_total_mb"]), 2),
            ring=ring,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"not a status answer: {type(e).__name__}: {e}") from e


class JmxStatusReader:
    """One resident helper process; restarted after it fails, nodetool when it cannot start.

    ``command`` starts the helper (see ``sidecar.config.jmx_status_command``): it prints a hello
    line, then answers each "status" line with one JSON line. A callable is asked for the command
    (in a thread) before each start: it may compile the helper first.
    """

    START_TIMEOUT_S = 90.0  # a JVM start (from source: with a compile) on a loaded host
    READ_TIMEOUT_S = 30.0
    # Starts in a row that end before the hello line: the helper cannot run here.
    MAX_FAILED_STARTS = 3

    def __init__(
        self,
        command: Sequence[str] | Callable[[], Sequence[str]],
        fallback: StatusReader,
        start_timeout_s: float = START_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        self._command = command
        self._fallback = fallback
        self._start_timeout_s = start_timeout_s
        self._read_timeout_s = read_timeout_s
        self._proc: asyncio.subprocess.Process | None = None
        self._failed_starts = 0
        self._lock = asyncio.Lock()

    @property
    def using_fallback(self) -> bool:
        return self._failed_starts >= self.MAX_FAILED_STARTS

    async def read(self) -> NodeView:
        if self.using_fallback:
            return await self._fallback.read()
        async with self._lock:
            proc = await self._started()
            if proc is None:
                if self.using_fallback:
                    return await self._fallback.read()
                raise StatusUnavailable("the JMX status helper did not start; trying again on the next read")
            return await self._ask(proc)

    async def _started(self) -> asyncio.subprocess.Process | None:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        try:
            command = await asyncio.to_thread(self._command) if callable(self._command) else self._command
            proc = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=16 * 1024 * 1024,  # one line per answer; a large ring is a long line
            )
        except OSError as e:  # no java where the config says
            self._start_failed(e)
            return None
        try:
            hello = await asyncio.wait_for(self._line(proc), self._start_timeout_s)
            if json.loads(hello).get("hello") != 1:
                raise ValueError(f"unexpected first line {hello[:200]!r}")
        except (TimeoutError, EOFError, ValueError, AttributeError) as e:
            await _kill(proc)
            self._start_failed(e)
            return None
        self._failed_starts = 0
        self._proc = proc
        return proc

    def _start_failed(self, e: BaseException) -> None:
        self._failed_starts += 1
        if self.using_fallback:
            log.warning(
                "the JMX status helper failed to start %d times (last: %s); /status now uses nodetool",
                self._failed_starts,
                str(e) or type(e).__name__,
            )

    async def _ask(self, proc: asyncio.subprocess.Process) -> NodeView:
        assert proc.stdin is not None
        try:
            proc.stdin.write(b"status\n")
            await proc.stdin.drain()
            line = await asyncio.wait_for(self._line(proc), self._read_timeout_s)
            body = json.loads(line)
        except (TimeoutError, EOFError, ConnectionError, ValueError) as e:
            # A hung JMX call or a dead helper: start a fresh one on the next read.
            await _kill(proc)
            self._proc = None
            raise StatusUnavailable(f"JMX status helper: {type(e).__name__}: {e}") from e
        if not isinstance(body, dict) or not body.get("ok"):
            error = (
                body.get("error", "no answer") if isinstance(body, dict) else f"not an object: {line[:200]!r}"
            )
            raise StatusUnavailable(f"JMX: {error}")
        try:
            return view_from_json(body)
        except ValueError as e:
            raise StatusUnavailable(f"JMX status helper: {e}") from e

    @staticmethod
    async def _line(proc: asyncio.subprocess.Process) -> str:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if not line:
            raise EOFError(f"helper exited ({await proc.wait()})")
        return line.decode()

    async def close(self) -> None:
        async with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                await _kill(proc)
        await self._fallback.close()


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), 10)
