"""Agent command-line flags and the Mesos text syntaxes they use (`--resources`, `--attributes`, `--domain`).

Parsing is pure: strings in, v1-JSON dicts out, `FlagError` with a message naming the bad part.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

from localmesos.agent.errors import FlagError

DEFAULT_PORTS = "[31000-32000]"
_ENTRY = re.compile(r"^\s*(?P<name>[^():\s]+)\s*(?:\((?P<role>[^)]*)\))?\s*:\s*(?P<value>.+?)\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class AgentFlags:
    master: str
    ip: str
    port: int
    work_dir: str
    resources: list[dict[str, Any]]
    attributes: list[dict[str, Any]]
    domain: dict[str, Any] | None
    hostname: str
    status_update_retry: float = 10.0
    status_update_retry_max: float = 600.0
    master_ping_timeout: float = 75.0
    ready_file: str | None = None
    executor_environment: dict[str, str] = field(default_factory=dict)


def _ranges(text: str, what: str) -> list[dict[str, int]]:
    inner = text.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        raise FlagError(f"{what}: ranges must look like [begin-end,...], got {text!r}")
    out: list[dict[str, int]] = []
    for part in filter(None, (p.strip() for p in inner[1:-1].split(","))):
        bounds = part.split("-")
        if len(bounds) != 2 or not all(b.strip().isdigit() for b in bounds):
            raise FlagError(f"{what}: bad range {part!r} (expected begin-end)")
        begin, end = int(bounds[0]), int(bounds[1])
        if begin > end:
            raise FlagError(f"{what}: range {part!r} has begin > end")
        out.append({"begin": begin, "end": end})
    out.sort(key=lambda r: r["begin"])
    for a, b in itertools.pairwise(out):
        if b["begin"] <= a["end"]:
            raise FlagError(f"{what}: overlapping ranges in {text!r}")
    return out


def _set(text: str, what: str) -> list[str]:
    items = [i.strip() for i in text.strip()[1:-1].split(",") if i.strip()]
    if len(items) != len(set(items)):
        raise FlagError(f"{what}: duplicated elements in {text!r}")
    return items


def _value(text: str, what: str, allow_text: bool) -> dict[str, Any]:
    if text.startswith("["):
        return {"type": "RANGES", "ranges": {"range": _ranges(text, what)}}
    if text.startswith("{"):
        if not text.endswith("}"):
            raise FlagError(f"{what}: set must look like {{a,b}}, got {text!r}")
        return {"type": "SET", "set": {"item": _set(text, what)}}
    if _NUMBER.match(text):
        return {"type": "SCALAR", "scalar": {"value": round(float(text), 3)}}
    if allow_text:
        return {"type": "TEXT", "text": {"value": text}}
    raise FlagError(f"{what}: value {text!r} is not a number, a range list [a-b] or a set {{a,b}}")


def _split(text: str) -> list[str]:
    """Split on ';' outside brackets/braces (Mesos also accepts ';' only, never ',' at top level)."""
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == ";" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p for p in (s.strip() for s in out) if p]


def parse_resources(text: str) -> list[dict[str, Any]]:
    """Mesos `--resources`: `cpus:4;mem:8192;ports:[31000-32000];cpus(role):1` or a JSON array."""
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]") and stripped[1:].lstrip().startswith("{"):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise FlagError(f"--resources: invalid JSON: {e}") from e
        if not isinstance(parsed, list) or not all(isinstance(r, dict) and "name" in r for r in parsed):
            raise FlagError("--resources: JSON must be a list of Resource objects with a 'name'")
        return parsed
    out: list[dict[str, Any]] = []
    for entry in _split(stripped):
        m = _ENTRY.match(entry)
        if not m:
            raise FlagError(f"--resources: cannot parse {entry!r} (expected name:value or name(role):value)")
        name, role, raw = m["name"], m["role"], m["value"]
        res: dict[str, Any] = {"name": name, **_value(raw, f"--resources {name}", allow_text=False)}
        if res["type"] == "SCALAR" and res["scalar"]["value"] < 0:
            raise FlagError(f"--resources {name}: value must not be negative")
        if role and role != "*":
            res["reservations"] = [{"type": "STATIC", "role": role}]
        out.append(res)
    return out


def with_default_resources(resources: list[dict[str, Any]], work_dir: str) -> list[dict[str, Any]]:
    """Fill in what Mesos auto-detects when `--resources` leaves it out: cpus, mem, disk, ports."""
    names = {r["name"] for r in resources}
    out = list(resources)
    if "cpus" not in names:
        out.append({"name": "cpus", "type": "SCALAR", "scalar": {"value": float(os.cpu_count() or 1)}})
    if "mem" not in names:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
        # Mesos leaves 1 GiB (or half, on small hosts) to the system.
        mem = total_mb - 1024 if total_mb >= 2048 else total_mb // 2
        out.append({"name": "mem", "type": "SCALAR", "scalar": {"value": float(mem)}})
    if "disk" not in names:
        os.makedirs(work_dir, exist_ok=True)
        total_mb = shutil.disk_usage(work_dir).total // (1024 * 1024)
        disk = total_mb - 5120 if total_mb >= 10240 else total_mb // 2
        out.append({"name": "disk", "type": "SCALAR", "scalar": {"value": float(disk)}})
    if "ports" not in names:
        out.append({"name": "ports", "type": "RANGES", "ranges": {"range": _ranges(DEFAULT_PORTS, "ports")}})
    return out


def parse_attributes(text: str) -> list[dict[str, Any]]:
    """Mesos `--attributes`: `rack:r1;zone:z2;cores:4;slots:[1-4];tags:{a,b}` (text unless it parses)."""
    out: list[dict[str, Any]] = []
    for entry in _split(text):
        name, sep, raw = entry.partition(":")
        if not sep or not name.strip() or not raw.strip():
            raise FlagError(f"--attributes: cannot parse {entry!r} (expected name:value)")
        out.append({"name": name.strip(), **_value(raw.strip(), f"--attributes {name.strip()}", True)})
    return out


def parse_domain(text: str) -> dict[str, Any]:
    """Mesos `--domain`: JSON `{"fault_domain":{"region":{"name":..},"zone":{"name":..}}}`."""
    try:
        domain = json.loads(text)
    except json.JSONDecodeError as e:
        raise FlagError(f"--domain: invalid JSON: {e}") from e
    fd = domain.get("fault_domain") if isinstance(domain, dict) else None
    if not isinstance(fd, dict):
        raise FlagError('--domain: expected {"fault_domain": {"region": {"name": ..}, "zone": {"name": ..}}}')
    for level in ("region", "zone"):
        if not isinstance(fd.get(level), dict) or not isinstance(fd[level].get("name"), str):
            raise FlagError(f"--domain: fault_domain.{level}.name must be a string")
    return domain


def parse_executor_environment(text: str) -> dict[str, str]:
    """Mesos `--executor_environment_variables`: a JSON object of string values."""
    try:
        env = json.loads(text)
    except json.JSONDecodeError as e:
        raise FlagError(f"--executor-environment-variables: invalid JSON: {e}") from e
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise FlagError(
            '--executor-environment-variables: expected a JSON object of strings, e.g. {"PATH": "/bin"}'
        )
    return env


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="localmesos agent", description="Run one localmesos agent.")
    p.add_argument("--master", required=True, help="master URL, e.g. http://127.0.0.1:5050")
    p.add_argument("--ip", default="127.0.0.1", help="loopback address to bind (and advertise)")
    p.add_argument("--port", type=int, default=5051)
    p.add_argument("--hostname", default=None, help="advertised hostname (default: the IP)")
    p.add_argument("--work-dir", required=True)
    p.add_argument("--resources", default="")
    p.add_argument("--attributes", default="")
    p.add_argument("--domain", default=None)
    p.add_argument(
        "--status-update-retry",
        type=float,
        default=10.0,
        help="first status update retry interval in seconds (doubles up to 10 min)",
    )
    p.add_argument(
        "--master-ping-timeout",
        type=float,
        default=75.0,
        help="re-register when no ping arrives for this long (agent_ping_timeout x max timeouts)",
    )
    p.add_argument(
        "--executor-environment-variables",
        default=None,
        help="JSON object: environment of executors and so of tasks (Mesos flag of the same name)",
    )
    p.add_argument("--ready-file", default=None, help="write {port, agent_id} here once registered")
    return p


def parse_flags(argv: list[str]) -> AgentFlags:
    ns = build_parser().parse_args(argv)
    if ns.status_update_retry <= 0 or ns.master_ping_timeout <= 0:
        raise FlagError("--status-update-retry and --master-ping-timeout must be positive")
    if not ns.master.startswith(("http://", "https://")):
        raise FlagError(f"--master must be an http:// URL, got {ns.master!r}")
    work_dir = os.path.abspath(ns.work_dir)
    return AgentFlags(
        master=ns.master.rstrip("/"),
        ip=ns.ip,
        port=ns.port,
        work_dir=work_dir,
        resources=with_default_resources(parse_resources(ns.resources), work_dir),
        attributes=parse_attributes(ns.attributes),
        domain=parse_domain(ns.domain) if ns.domain else None,
        hostname=ns.hostname or ns.ip,
        status_update_retry=ns.status_update_retry,
        master_ping_timeout=ns.master_ping_timeout,
        ready_file=ns.ready_file,
        executor_environment=(
            parse_executor_environment(ns.executor_environment_variables)
            if ns.executor_environment_variables
            else {}
        ),
    )
