"""The pure allocation function (reference §5.7)."""

from __future__ import annotations

from typing import Any

from localmesos.master.allocator import RefuseFilter, allocate, refuse_seconds
from localmesos.master.state import Agent, Framework
from localmesos.resources import Resources


class Link:
    simulated = True

    def send(self, op: str, body: dict[str, Any]) -> None:
        pass

    async def ping(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        pass


def scalar(name: str, value: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}, **extra}


def agent(agent_id: str, *resources: dict[str, Any]) -> Agent:
    items = list(resources) or [scalar("cpus", 4), scalar("mem", 1024)]
    return Agent(
        id=agent_id,
        hostname=agent_id,
        ip="127.0.0.1",
        port=5051,
        configured=items,
        total=Resources(items),
        link=Link(),
    )


def framework(fid: str, roles: list[str], *caps: str) -> Framework:
    capabilities = [{"type": c} for c in ("MULTI_ROLE", *caps)]
    return Framework(
        id=fid,
        info={"user": "u", "name": fid, "roles": roles, "capabilities": capabilities},
        registered_time=0.0,
        connected=True,
        active=True,
    )


def test_every_agent_is_offered_once_per_cycle() -> None:
    grants = allocate([agent("a"), agent("b")], [framework("f", ["r"])], {}, now=0.0)
    assert sorted((g.agent_id, g.role, g.resources.scalar("cpus")) for g in grants) == [
        ("a", "r", 4.0),
        ("b", "r", 4.0),
    ]


def test_reserved_resources_go_only_to_their_role_and_sub_roles() -> None:
    reserved = scalar("cpus", 2, reservations=[{"type": "DYNAMIC", "role": "db"}])
    a = agent("a", scalar("cpus", 1), scalar("mem", 64), reserved)
    grants = allocate([a], [framework("other", ["web"])], {}, now=0.0)
    assert [g.resources.scalar("cpus") for g in grants] == [1.0]
    grants = allocate([a], [framework("sub", ["db/x"], "RESERVATION_REFINEMENT")], {}, now=0.0)
    assert [g.resources.scalar("cpus") for g in grants] == [3.0]


def test_refuse_filter_holds_until_new_resources_or_expiry() -> None:
    a = agent("a")
    fw = framework("f", ["r"])
    filters = {("f", "r", "a"): RefuseFilter(expires=10.0, resources=a.total)}
    assert allocate([a], [fw], filters, now=5.0) == []
    assert len(allocate([a], [fw], filters, now=10.0)) == 1
    a.total = a.total + Resources([scalar("cpus", 1)])  # freed/new resources break the filter
    assert len(allocate([a], [fw], filters, now=5.0)) == 1


def test_suppressed_inactive_and_gpu_rules() -> None:
    fw = framework("f", ["r"])
    fw.suppressed = {"r"}
    assert allocate([agent("a")], [fw], {}, now=0.0) == []
    fw.suppressed = set()
    fw.active = False
    assert allocate([agent("a")], [fw], {}, now=0.0) == []
    gpu = agent("g", scalar("cpus", 4), scalar("mem", 1024), scalar("gpus", 1))
    assert allocate([gpu], [framework("f", ["r"])], {}, now=0.0) == []
    assert len(allocate([gpu], [framework("f", ["r"], "GPU_RESOURCES")], {}, now=0.0)) == 1


def test_min_allocatable_resources() -> None:
    assert allocate([agent("a", scalar("disk", 100))], [framework("f", ["r"])], {}, now=0.0) == []
    assert len(allocate([agent("a", scalar("mem", 32))], [framework("f", ["r"])], {}, now=0.0)) == 1


def test_refuse_seconds_rules() -> None:
    assert refuse_seconds(None) == 5.0
    assert refuse_seconds({"refuse_seconds": -1}) == 5.0
    assert refuse_seconds({"refuse_seconds": 0}) == 0.0
    assert refuse_seconds({"refuse_seconds": 1e12}) == 31536000.0


def test_less_served_framework_goes_first() -> None:
    busy, idle = framework("busy", ["r"]), framework("idle", ["r"])
    busy.cpus_in_use = 8.0  # kept up to date by the master as tasks start and end
    grants = allocate([agent("a")], [busy, idle], {}, now=0.0)
    assert [g.framework_id for g in grants] == ["idle"]
