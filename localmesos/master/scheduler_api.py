"""`/api/v1/scheduler` call handling after transport checks (reference §1.6, §2.2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from localmesos.jsonmap import id_of
from localmesos.master import accept as accept_ops
from localmesos.master.master import Master
from localmesos.master.state import Framework, JsonDict

log = logging.getLogger("localmesos.master.scheduler")


@dataclass(frozen=True)
class Reply:
    status: int
    text: str = ""


ACCEPTED = Reply(202)


def lookup(master: Master, call: JsonDict, stream_id: str | None) -> Framework | Reply:
    """The framework of a non-SUBSCRIBE call, or the HTTP error Mesos answers."""
    fid = id_of(call.get("framework_id")) or ""
    framework = master.frameworks.get(fid)
    if framework is None:
        return Reply(400, "Framework cannot be found")
    if not framework.connected or framework.sink is None:
        return Reply(403, "Framework is not subscribed")
    if stream_id is None:
        return Reply(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header")
    if stream_id != framework.sink.stream_id:
        return Reply(
            400,
            f"The stream ID '{stream_id}' included in this request didn't match the stream ID "
            f"currently associated with framework ID {fid}",
        )
    return framework


def handle(master: Master, framework: Framework, call: JsonDict) -> Reply:
    """Dispatch one validated call of a subscribed framework."""
    kind = call["type"]
    if kind == "UNKNOWN":
        return Reply(501)
    if kind == "TEARDOWN":
        master.remove_framework(framework)
    elif kind == "ACCEPT":
        accept_ops.accept(master, framework, call["accept"])
    elif kind == "DECLINE":
        body = call["decline"]
        master.decline(framework, [id_of(o) or "" for o in body.get("offer_ids") or []], body.get("filters"))
    elif kind == "REVIVE":
        master.revive(framework, list((call.get("revive") or {}).get("roles") or []))
    elif kind == "SUPPRESS":
        master.suppress(framework, list((call.get("suppress") or {}).get("roles") or []))
    elif kind == "KILL":
        master.kill(framework, call["kill"])
    elif kind == "ACKNOWLEDGE":
        master.acknowledge(framework, call["acknowledge"])
    elif kind == "RECONCILE":
        master.reconcile(framework, list(call["reconcile"].get("tasks") or []))
    elif kind == "UPDATE_FRAMEWORK":
        error = master.update_framework(framework, call["update_framework"])
        return Reply(400, error) if error else Reply(200)
    elif kind in ("SHUTDOWN", "MESSAGE"):
        # Only custom executors receive these; localmesos runs command tasks, so there is nobody to tell.
        log.info("%s for framework %s: no custom executors on localmesos agents", kind, framework.id)
    # REQUEST, inverse offers, RECONCILE_OPERATIONS and ACKNOWLEDGE_OPERATION_STATUS need no action here.
    return ACCEPTED
