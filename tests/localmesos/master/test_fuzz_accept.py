"""Property test of ACCEPT processing in-process: any operation list leaves the agent's books
consistent (nothing created or lost) and never raises."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from localmesos import simulated
from localmesos.jsonmap import ConversionError, parse_message
from localmesos.master import accept as accept_ops
from localmesos.master.master import Master
from localmesos.master.state import Framework, MasterConfig, is_terminal
from localmesos.resources import Resources


class Sink:
    stream_id = "s"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def send(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


roles = st.sampled_from(["db", "db", "db", "*", "other", "db/sub", ""])
principals = st.sampled_from(["tp", "tp", None, "other"])


@st.composite
def reservation(draw: st.DrawFn) -> dict[str, Any]:
    r: dict[str, Any] = {
        "type": draw(st.sampled_from(["DYNAMIC", "DYNAMIC", "DYNAMIC", "STATIC", "UNKNOWN"])),
        "role": draw(roles),
    }
    p = draw(principals)
    if p is not None:
        r["principal"] = p
    if draw(st.booleans()):
        r["labels"] = {"labels": [{"key": "k", "value": draw(st.sampled_from(["a", "b"]))}]}
    return r


@st.composite
def resource(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(["cpus", "mem", "disk", "ports", "gpus"]))
    r: dict[str, Any] = {"name": name}
    if name == "ports":
        b = draw(st.integers(30990, 32010))
        r |= {"type": "RANGES", "ranges": {"range": [{"begin": b, "end": b + draw(st.integers(-2, 20))}]}}
    else:
        r |= {
            "type": "SCALAR",
            "scalar": {"value": draw(st.sampled_from([0.5, 1, 1, 2, 64, 1024, 100000, -1, 0]))},
        }
    if draw(st.integers(0, 2)) == 0:
        r["reservations"] = draw(st.lists(reservation(), max_size=2))
    if draw(st.integers(0, 5)) == 0:
        r["role"] = draw(roles)
    if draw(st.integers(0, 5)) == 0:
        r["allocation_info"] = {"role": draw(roles)}
    if name == "disk" and draw(st.booleans()):
        disk: dict[str, Any] = {"persistence": {"id": draw(st.sampled_from(["v1", "v2", "a/b"]))}}
        if draw(st.booleans()):
            disk["persistence"]["principal"] = "tp"
        if draw(st.booleans()):
            disk["volume"] = {"mode": draw(st.sampled_from(["RW", "RO"])), "container_path": "data"}
        r["disk"] = disk
    return r


@st.composite
def operation(draw: st.DrawFn, agent_id: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["RESERVE", "UNRESERVE", "CREATE", "DESTROY", "LAUNCH", "LAUNCH_GROUP"]))
    items = draw(st.lists(resource(), max_size=3))
    op: dict[str, Any] = {"type": kind}
    if draw(st.integers(0, 3)) == 0:
        op["id"] = {"value": "op"}
    key = {"RESERVE": "resources", "UNRESERVE": "resources", "CREATE": "volumes", "DESTROY": "volumes"}
    if kind in key:
        op[kind.lower()] = {key[kind]: items}
    else:
        task = {
            "name": "t",
            "task_id": {"value": draw(st.sampled_from(["t1", "t2", "t1"]))},
            "agent_id": {"value": draw(st.sampled_from([agent_id, agent_id, "elsewhere"]))},
            "resources": items,
            "command": {"value": "x"},
        }
        if kind == "LAUNCH":
            op["launch"] = {"task_infos": [task]}
        else:
            op["launch_group"] = {
                "executor": {"executor_id": {"value": "e"}},
                "task_group": {"tasks": [task]},
            }
    return op


def base_totals(total: Resources) -> dict[str, float]:
    return {n: total.scalar(n) for n in ("cpus", "mem", "disk")}


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_accept_keeps_agent_books_consistent(data: st.DataObject) -> None:
    async def run() -> None:
        master = Master(MasterConfig(allocation_interval=0.1))
        simulated.start(master, 1, "cpus:4;mem:4096;disk:8192;ports:[31000-31100]")
        agent = next(iter(master.agents.values()))
        before = base_totals(agent.total)
        caps = [{"type": "MULTI_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]
        info = {"user": "u", "name": "n", "roles": ["db", "db/sub"], "principal": "tp", "capabilities": caps}
        fw = Framework(id="f", info=info, registered_time=0, sink=Sink(), connected=True, active=True)
        master.frameworks["f"] = fw
        for _ in range(2):
            master.allocate_now()
            offer_ids = [{"value": o} for o in fw.offers]
            ops = data.draw(st.lists(operation(agent.id), max_size=4))
            call = {
                "type": "ACCEPT",
                "framework_id": {"value": "f"},
                "accept": {"offer_ids": offer_ids, "operations": ops},
            }
            try:
                parsed = parse_message(call, "scheduler.Call")
            except ConversionError:
                continue
            sink = fw.sink
            assert isinstance(sink, Sink)
            sink.events.clear()
            accept_ops.accept(master, fw, parsed["accept"])
            await asyncio.sleep(0)  # let the simulated agent report
            for e in sink.events:
                status = (e.get("update_operation_status") or e.get("update") or {}).get("status", {})
                event(f"{e['type']} {status.get('state', '')}")
            assert base_totals(agent.total) == before  # conversions never create or lose resources
            assert agent.total.contains(agent.used + agent.offered)
            live = [t for t in fw.tasks.values() if not is_terminal(t.state)]
            assert abs(fw.cpus_in_use - sum(t.resources.scalar("cpus") for t in live)) < 1e-9

    asyncio.run(run())
