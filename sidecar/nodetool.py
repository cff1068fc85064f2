"""nodetool against the node's JMX port, and parsers of its text output into data.

Each call is a fresh, short-lived JVM (``org.apache.cassandra.tools.NodeTool``, ~0.7 s here).
The parsers are pure and table-tested on output captured from real Cassandra 5.0.8.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from model.errors import CassandraMesosError
from sidecar.config import NodePaths, nodetool_command


class NodetoolError(CassandraMesosError):
    """nodetool failed: not connected yet (exit 1), or the operation failed (exit 2)."""

    def __init__(self, args: Sequence[str], returncode: int | None, output: str) -> None:
        tail = output.strip().splitlines()[-3:]
        what = "timed out" if returncode is None else f"exited {returncode}"
        super().__init__(f"nodetool {' '.join(args)} {what}: {' | '.join(tail) or '(no output)'}")
        self.returncode = returncode
        self.output = output


@dataclass(frozen=True)
class RingMember:
    """One row of ``nodetool status``."""

    status: str  # U up, D down, ? unknown
    state: str  # N normal, L leaving, J joining, M moving
    address: str  # ip, or ip:port with -pp
    load: str
    tokens: int | None  # vnode layout only
    owns: str | None
    host_id: str
    token: str | None  # single-token layout only
    rack: str
    data_center: str

    @property
    def code(self) -> str:
        return self.status + self.state


@dataclass(frozen=True)
class NodeInfo:
    """The parts of ``nodetool info`` a scheduler or operator looks at."""

    host_id: str
    gossip_active: bool
    native_transport_active: bool
    load: str
    generation: int
    uptime_s: int
    heap_used_mb: float
    heap_total_mb: float
    data_center: str
    rack: str
    token: str  # the token, or "(invoke with -T/--tokens to see all 16 tokens)"
    bootstrap_state: str | None

    @property
    def token_count(self) -> int:
        m = re.search(r"see all (\d+) tokens", self.token)
        return int(m.group(1)) if m else len(self.token.split(","))


@dataclass(frozen=True)
class ClusterDescription:
    """``nodetool describecluster``: schema agreement and who is up."""

    name: str
    snitch: str
    partitioner: str
    schema_versions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    live: int = 0
    unreachable: int = 0
    database_versions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def schema_agreed(self) -> bool:
        return len(self.schema_versions) == 1


_ROW = re.compile(r"^([UD?])([NLJM])\s")
_COLUMNS = re.compile(r"\S+(?: \S+)*")


def parse_status(text: str) -> list[RingMember]:
    """Rows of every datacenter section; columns are sliced at the header's label positions."""
    members: list[RingMember] = []
    dc = ""
    columns: list[tuple[str, int]] = []
    for line in text.splitlines():
        if line.startswith("Datacenter:"):
            dc = line.split(":", 1)[1].strip()
            columns = []
        elif line.startswith("--  "):
            columns = [(m.group(0), m.start()) for m in _COLUMNS.finditer(line)]
        elif columns and _ROW.match(line):
            cells: dict[str, str] = {}
            for i, (name, start) in enumerate(columns):
                end = columns[i + 1][1] if i + 1 < len(columns) else len(line)
                cells[name] = line[start:end].strip()
            code = cells.get("--", line[:2])
            tokens = cells.get("Tokens")
            members.append(
                RingMember(
                    status=code[0],
                    state=code[1],
                    address=cells.get("Address", ""),
                    load=cells.get("Load", ""),
                    tokens=int(tokens) if tokens and tokens.isdigit() else None,
                    owns=cells.get("Owns (effective)", cells.get("Owns")),
                    host_id=cells.get("Host ID", ""),
                    token=cells.get("Token"),
                    rack=cells.get("Rack", ""),
                    data_center=dc,
                )
            )
    return members


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            out.setdefault(key.strip(), value.strip())
    return out


def parse_info(text: str) -> NodeInfo:
    f = _fields(text)
    if "ID" not in f:
        raise ValueError("not the output of nodetool info: no 'ID' line")
    used, _, total = f.get("Heap Memory (MB)", "0 / 0").partition("/")
    return NodeInfo(
        host_id=f["ID"],
        gossip_active=f.get("Gossip active") == "true",
        native_transport_active=f.get("Native Transport active") == "true",
        load=f.get("Load", ""),
        generation=int(f.get("Generation No", "0") or 0),
        uptime_s=int(f.get("Uptime (seconds)", "0") or 0),
        heap_used_mb=float(used.strip() or 0),
        heap_total_mb=float(total.strip() or 0),
        data_center=f.get("Data Center", ""),
        rack=f.get("Rack", ""),
        token=f.get("Token", ""),
        bootstrap_state=f.get("Bootstrap state"),
    )


def parse_mode(netstats: str) -> str:
    m = re.search(r"^Mode: (\S+)", netstats, re.M)
    if not m:
        raise ValueError("not the output of nodetool netstats: no 'Mode:' line")
    return m.group(1)


def _endpoints(listing: str) -> tuple[str, ...]:
    return tuple(e.strip() for e in listing.strip().strip("[]").split(",") if e.strip())


def parse_describecluster(text: str) -> ClusterDescription:
    f = _fields(text)
    schema: dict[str, tuple[str, ...]] = {}
    versions: dict[str, tuple[str, ...]] = {}
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in ("Schema versions:", "Database versions:"):
            section = stripped
            continue
        if not line.startswith("\t") or not stripped:
            if stripped:
                section = ""
            continue
        m = re.match(r"^\s+(\S+): (\[.*\])$", line)
        if m and section == "Schema versions:":
            schema[m.group(1)] = _endpoints(m.group(2))
        elif m and section == "Database versions:":
            versions[m.group(1)] = _endpoints(m.group(2))
    if "Name" not in f:
        raise ValueError("not the output of nodetool describecluster: no 'Name:' line")
    return ClusterDescription(
        name=f["Name"],
        snitch=f.get("Snitch", ""),
        partitioner=f.get("Partitioner", ""),
        schema_versions=schema,
        live=int(f.get("Live", "0") or 0),
        unreachable=int(f.get("Unreachable", "0") or 0),
        database_versions=versions,
    )


Runner = Callable[[Sequence[str], float], Awaitable[tuple[int | None, str]]]


async def run_process(cmd: Sequence[str], timeout: float) -> tuple[int | None, str]:
    """Run a command; (exit code or None on timeout, stdout + stderr). ``inf``: no timeout."""
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout if math.isfinite(timeout) else None)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None, ""
    except asyncio.CancelledError:
        # A stopped job: never leave its nodetool JVM behind.
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await asyncio.shield(proc.wait())
        raise
    return proc.returncode, out.decode(errors="replace")


class Nodetool:
    """nodetool for one node. ``runner`` is injectable so callers can be tested without a JVM."""

    def __init__(self, paths: NodePaths, jmx_port: int, runner: Runner = run_process) -> None:
        self._paths = paths
        self._jmx_port = jmx_port
        self._runner = runner

    async def run(self, *args: str, timeout: float = 60.0) -> str:
        code, out = await self._runner(nodetool_command(self._paths, self._jmx_port, args), timeout)
        if code != 0:
            raise NodetoolError(args, code, out)
        return out

    async def status(self) -> list[RingMember]:
        return parse_status(await self.run("-pp", "status", timeout=30))

    async def info(self) -> NodeInfo:
        return parse_info(await self.run("info", timeout=30))

    async def mode(self) -> str:
        return parse_mode(await self.run("netstats", timeout=30))

    async def describecluster(self) -> ClusterDescription:
        return parse_describecluster(await self.run("-pp", "describecluster", timeout=30))

    async def drain(self, timeout: float) -> None:
        await self.run("drain", timeout=timeout)

    async def reloadseeds(self) -> str:
        return (await self.run("reloadseeds", timeout=30)).strip()
