"""Typed builders and matchers for resources and offer operations, post-refinement format.

The driver subscribes with RESERVATION_REFINEMENT, so a resource's reservation state is only
its ``reservations`` stack (empty = unreserved) and the last entry is the current one. Builders
return plain JSON objects in the v1 mapping because that is what goes on the wire and into the
task records; the matchers read the same objects.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from model.errors import InvalidInput

Json = dict[str, Any]
Range = tuple[int, int]

# Mesos compares scalars in fixed point with three decimals.
_SCALAR_DIGITS = 3


def labels_json(labels: Mapping[str, str]) -> Json:
    return {"labels": [{"key": k, "value": v} for k, v in sorted(labels.items())]}


def labels_of(obj: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``labels`` of a ReservationInfo / TaskInfo as a dict (absent values read as '')."""
    if not obj:
        return {}
    entries = (obj.get("labels") or {}).get("labels") or []
    return {str(e.get("key")): str(e.get("value", "")) for e in entries}


def dynamic_reservation(role: str, principal: str | None, labels: Mapping[str, str] | None = None) -> Json:
    if not role or role == "*":
        raise InvalidInput(f"cannot reserve for role {role!r}: a dynamic reservation needs a named role")
    info: Json = {"type": "DYNAMIC", "role": role}
    if principal is not None:
        info["principal"] = principal
    if labels:
        info["labels"] = labels_json(labels)
    return info


def scalar(name: str, value: float, role: str | None = None, reservations: Sequence[Json] = ()) -> Json:
    """A scalar resource; ``role`` is the allocation role (as offered to a MULTI_ROLE framework)."""
    res: Json = {"name": name, "type": "SCALAR", "scalar": {"value": round(float(value), _SCALAR_DIGITS)}}
    return _finish(res, role, reservations)


def ranges(
    name: str, spans: Iterable[Range], role: str | None = None, reservations: Sequence[Json] = ()
) -> Json:
    res: Json = {
        "name": name,
        "type": "RANGES",
        "ranges": {"range": [{"begin": b, "end": e} for b, e in spans]},
    }
    return _finish(res, role, reservations)


def _finish(res: Json, role: str | None, reservations: Sequence[Json]) -> Json:
    if role is not None:
        res["allocation_info"] = {"role": role}
    if reservations:
        res["reservations"] = [dict(r) for r in reservations]
    return res


def with_volume(
    disk: Mapping[str, Any], persistence_id: str, principal: str | None, container_path: str
) -> Json:
    """The reserved ``disk`` turned into a persistent volume (what CREATE and the task carry)."""
    if "/" in container_path or container_path in ("", ".", ".."):
        # Mesos isolators silently skip container paths with '/', so the volume would not appear.
        raise InvalidInput(
            f"volume container_path must be one relative path component, got {container_path!r}"
        )
    if not reservations_of(disk):
        raise InvalidInput("a persistent volume can only be created on reserved disk")
    vol = copy.deepcopy(dict(disk))
    persistence: Json = {"id": persistence_id}
    if principal is not None:
        persistence["principal"] = principal
    vol["disk"] = {
        **vol.get("disk", {}),
        "persistence": persistence,
        "volume": {"mode": "RW", "container_path": container_path},
    }
    return vol


def without_volume(volume: Mapping[str, Any]) -> Json:
    """The reserved disk a volume becomes after DESTROY (keeps any disk ``source``)."""
    res = copy.deepcopy(dict(volume))
    disk = {k: v for k, v in (res.get("disk") or {}).items() if k not in ("persistence", "volume")}
    if disk:
        res["disk"] = disk
    else:
        res.pop("disk", None)
    return res


# ---- matchers ---------------------------------------------------------------------------------


def reservations_of(res: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(res.get("reservations") or [])


def current_reservation(res: Mapping[str, Any]) -> Mapping[str, Any] | None:
    stack = reservations_of(res)
    return stack[-1] if stack else None


def is_unreserved(res: Mapping[str, Any]) -> bool:
    return not reservations_of(res)


def is_dynamically_reserved_for(res: Mapping[str, Any], role: str) -> bool:
    cur = current_reservation(res)
    return cur is not None and cur.get("type") == "DYNAMIC" and cur.get("role") == role


def reservation_labels(res: Mapping[str, Any]) -> dict[str, str]:
    return labels_of(current_reservation(res))


def persistence_id(res: Mapping[str, Any]) -> str | None:
    p = (res.get("disk") or {}).get("persistence")
    return None if p is None else str(p.get("id"))


def allocation_role(res: Mapping[str, Any]) -> str | None:
    info = res.get("allocation_info")
    return None if info is None else info.get("role")


def scalar_value(res: Mapping[str, Any]) -> float:
    return float((res.get("scalar") or {}).get("value", 0.0))


def ranges_of(res: Mapping[str, Any]) -> list[Range]:
    return [(int(r["begin"]), int(r["end"])) for r in (res.get("ranges") or {}).get("range") or []]


def is_plain(res: Mapping[str, Any]) -> bool:
    """Usable for a task as ordinary resources: not revocable, not shared, no disk source or volume."""
    return "revocable" not in res and "shared" not in res and not res.get("disk") and "provider_id" not in res


def is_mount_disk(res: Mapping[str, Any]) -> bool:
    """A MOUNT disk (a whole device mounted on the agent) without a volume yet."""
    disk = res.get("disk") or {}
    return (
        res.get("name") == "disk"
        and (disk.get("source") or {}).get("type") == "MOUNT"
        and "persistence" not in disk
        and "revocable" not in res
        and "shared" not in res
    )


def same_resource(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Mesos identity of two resources (§3.8): all but quantities, volume and persistence principal."""
    return _identity(a) == _identity(b)


def _identity(res: Mapping[str, Any]) -> tuple[Any, ...]:
    stack = tuple(
        (
            r.get("type"),
            r.get("role"),
            r.get("principal"),
            frozenset(labels_of(r).items()) if "labels" in r else None,
        )
        for r in reservations_of(res)
    )
    disk = res.get("disk") or None
    disk_key = None
    if disk is not None:
        src = disk.get("source")
        disk_key = (repr(src), persistence_id(res))
    return (
        res.get("name"),
        res.get("type"),
        allocation_role(res),
        stack,
        disk_key,
        "revocable" in res,
        "shared" in res,
        repr(res.get("provider_id")),
    )


# ---- port ranges ------------------------------------------------------------------------------


def take_ports(spans: Sequence[Range], count: int) -> list[int] | None:
    """The ``count`` lowest ports of ``spans``, or None if there are fewer."""
    picked: list[int] = []
    for begin, end in sorted(spans):
        if len(picked) == count:
            break
        picked.extend(range(begin, min(end, begin + count - len(picked) - 1) + 1))
    return picked if len(picked) == count else None


def take_top_ports(spans: Sequence[Range], count: int) -> list[int] | None:
    """The ``count`` highest ports of ``spans``, ascending, or None if there are fewer."""
    picked: list[int] = []
    for begin, end in sorted(spans, reverse=True):
        if len(picked) == count:
            break
        picked.extend(range(end, max(begin, end - (count - len(picked)) + 1) - 1, -1))
    return sorted(picked) if len(picked) == count else None


def contains_port(spans: Sequence[Range], port: int) -> bool:
    return any(b <= port <= e for b, e in spans)


def without_ports(spans: Sequence[Range], ports: Iterable[int]) -> list[Range]:
    """``spans`` minus ``ports`` (sorted ranges; a whole agent range is never expanded)."""
    out = sorted(spans)
    for p in set(ports):
        split: list[Range] = []
        for b, e in out:
            if b <= p <= e:
                split.extend(r for r in ((b, p - 1), (p + 1, e)) if r[0] <= r[1])
            else:
                split.append((b, e))
        out = split
    return out


def ports_to_ranges(ports: Iterable[int]) -> list[Range]:
    """Compact ports into sorted, non-overlapping inclusive ranges (what Mesos requires)."""
    out: list[Range] = []
    for p in sorted(set(ports)):
        if out and out[-1][1] + 1 == p:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return out


def ports_in(spans: Iterable[Range]) -> list[int]:
    return [p for b, e in sorted(spans) for p in range(b, e + 1)]


# ---- operations -------------------------------------------------------------------------------


def reserve_op(resources: Sequence[Json]) -> Json:
    return {"type": "RESERVE", "reserve": {"resources": list(resources)}}


def unreserve_op(resources: Sequence[Json]) -> Json:
    return {"type": "UNRESERVE", "unreserve": {"resources": list(resources)}}


def create_op(volumes: Sequence[Json]) -> Json:
    return {"type": "CREATE", "create": {"volumes": list(volumes)}}


def destroy_op(volumes: Sequence[Json]) -> Json:
    return {"type": "DESTROY", "destroy": {"volumes": list(volumes)}}


def launch_op(task_infos: Sequence[Mapping[str, Any]]) -> Json:
    # Never an operation id on LAUNCH: Mesos fails the tasks with TASK_ERROR.
    return {"type": "LAUNCH", "launch": {"task_infos": [dict(t) for t in task_infos]}}
