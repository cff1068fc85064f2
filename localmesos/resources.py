"""Mesos resource arithmetic on the v1 JSON form (reference §3).

Resources are kept as JSON dicts in the post-refinement form (`reservations` stack, no `role`).
`Resources` groups them by identity (§3.8: everything that must match exactly) and sums the
quantities: scalars in 3-decimal fixed point, ranges as merged intervals, sets as item sets.
Persistent volumes, MOUNT/BLOCK disks and shared resources are indivisible: they can only be
subtracted whole.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

JsonDict = dict[str, Any]
Format = Literal["post", "pre", "endpoint"]
Quantity = int | tuple[tuple[int, int], ...] | frozenset[str]

ROLE_STAR = "*"


class ResourceError(ValueError):
    """A resource (or a set of them) is invalid; the message is Mesos' text."""


# ----------------------------------------------------------------------------- formatting


def _scalar_text(milli: int) -> str:
    text = f"{milli / 1000:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _ranges_text(ranges: Iterable[tuple[int, int]]) -> str:
    return "[" + ", ".join(f"{b}-{e}" for b, e in ranges) + "]"


def describe(resource: JsonDict) -> str:
    """Mesos' `operator<<(Resource)` shape: `disk(allocated: r)(reservations: [...])[id:path]:1024`."""
    text = str(resource.get("name", ""))
    alloc = (resource.get("allocation_info") or {}).get("role")
    if alloc is not None:
        text += f"(allocated: {alloc})"
    stack = resource.get("reservations") or []
    if stack:
        parts = []
        for r in stack:
            item = f"({r.get('type', 'UNKNOWN')},{r.get('role', '')}"
            if r.get("principal") is not None:
                item += f",{r['principal']}"
            labels = (r.get("labels") or {}).get("labels") or []
            if labels:
                item += ",{" + ", ".join(f"{x.get('key')}: {x.get('value', '')}" for x in labels) + "}"
            parts.append(item + ")")
        text += "(reservations: [" + ",".join(parts) + "])"
    elif resource.get("role") not in (None, ROLE_STAR):
        text += f"({resource['role']})"
    disk = resource.get("disk")
    if disk:
        persistence = (disk.get("persistence") or {}).get("id", "")
        volume = disk.get("volume") or {}
        text += f"[{persistence}:{volume.get('container_path', '')}:{volume.get('mode', '')}]"
    if "revocable" in resource:
        text += "{REV}"
    if "shared" in resource:
        text += "<SHARED>"
    kind = resource.get("type")
    if kind == "SCALAR":
        text += ":" + _scalar_text(to_milli((resource.get("scalar") or {}).get("value", 0)))
    elif kind == "RANGES":
        rs = [(int(r["begin"]), int(r["end"])) for r in (resource.get("ranges") or {}).get("range") or []]
        text += ":" + _ranges_text(rs)
    elif kind == "SET":
        text += ":{" + ",".join((resource.get("set") or {}).get("item") or []) + "}"
    return text


def describe_all(resources: Iterable[JsonDict]) -> str:
    items = list(resources)
    return "; ".join(describe(r) for r in items) if items else "{}"


# ----------------------------------------------------------------------------- validation


def to_milli(value: Any) -> int:
    return round(float(value) * 1000)


def _role_error(role: str) -> str | None:
    """Role name rules of src/common/roles.cpp; None when valid."""
    if role == ROLE_STAR:
        return None
    if not role:
        return "Empty role name is invalid"
    if role.startswith("/") or role.endswith("/"):
        return f"Role '{role}' cannot start or end with a slash"
    for ch in role:
        if ch.isspace() or ch in "\b\x7f" or ord(ch) < 32:
            return f"Role '{role}' contains invalid characters"
    for part in role.split("/"):
        if part == "":
            return f"Role '{role}' cannot contain two adjacent slashes"
        if part in (".", ".."):
            return f"Role '{role}' cannot be '.' or '..'"
        if part == ROLE_STAR:
            return f"Role '{role}' cannot contain '*' as a component"
        if part.startswith("-"):
            return f"Role '{role}' cannot start with a '-'"
    return None


def role_error(role: str) -> str | None:
    return _role_error(role)


def is_strict_subrole(child: str, parent: str) -> bool:
    return child.startswith(parent + "/")


def _value_error(resource: JsonDict) -> str | None:
    kind = resource.get("type")
    if kind == "SCALAR":
        if "scalar" not in resource or "ranges" in resource or "set" in resource:
            return "Invalid scalar resource"
        value = float(resource["scalar"].get("value", 0))
        if value < 0 or (value != 0 and to_milli(value) == 0):
            return "Invalid scalar resource: value <= 0"
        return None
    if kind == "RANGES":
        if "ranges" not in resource or "scalar" in resource or "set" in resource:
            return "Invalid ranges resource"
        spans = sorted((int(r["begin"]), int(r["end"])) for r in resource["ranges"].get("range") or [])
        for b, e in spans:
            if b > e:
                return "Invalid ranges resource: begin > end"
        for (_, e1), (b2, _) in itertools.pairwise(spans):
            if b2 <= e1:
                return "Invalid ranges resource: overlapping ranges"
        return None
    if kind == "SET":
        if "set" not in resource or "scalar" in resource or "ranges" in resource:
            return "Invalid set resource"
        items = resource["set"].get("item") or []
        if len(set(items)) != len(items):
            return "Invalid set resource: duplicated elements"
        return None
    return "Unsupported resource type"


def _reservations_error(stack: list[JsonDict]) -> str | None:
    for i, r in enumerate(stack):
        if "type" not in r:
            return "Invalid reservation: 'Resource.ReservationInfo.type' field must be set."
        role = r.get("role")
        if role is None:
            return "Invalid reservation: 'Resource.ReservationInfo.role' field must be set."
        err = _role_error(role)
        if err:
            return f"Invalid reservation: {err}"
        if role == ROLE_STAR:
            return 'Invalid reservation: role "*" cannot be reserved'
        if i > 0:
            if r["type"] == "STATIC":
                return "Invalid refined reservation: A refined reservation cannot be STATIC"
            parent = stack[i - 1]["role"]
            if not is_strict_subrole(role, parent):
                return f"Invalid refined reservation: role '{role}' is not a refinement of '{parent}'"
        if r["type"] == "STATIC" and (r.get("principal") is not None or r.get("labels") is not None):
            return "Invalid reservation: STATIC reservations cannot have principal or labels"
    return None


def _disk_error(resource: JsonDict) -> str | None:
    disk = resource.get("disk")
    if disk is None:
        return None
    if resource.get("name") != "disk":
        return "DiskInfo should not be set for " + str(resource.get("name")) + " resource"
    return None


def upgrade(resource: JsonDict) -> JsonDict:
    """Pre-refinement (`role`/`reservation`) → post-refinement (`reservations`); raises ResourceError."""
    out = copy.deepcopy(resource)
    stack = out.get("reservations") or []
    role = out.pop("role", None)
    legacy = out.pop("reservation", None)
    if stack:
        if role is not None or legacy is not None:
            if len(stack) > 1:
                raise ResourceError(
                    "Invalid resource format: 'Resource.role' and 'Resource.reservation' must not be set "
                    "when 'Resource.reservations' has more than one entry"
                )
            first = stack[0]
            if role is not None and role != first.get("role"):
                raise ResourceError(
                    "Invalid resource format: 'Resource.role' must match 'Resource.reservations[0].role'"
                )
            if legacy is not None and first.get("type") != "DYNAMIC":
                raise ResourceError(
                    "Invalid resource format: 'Resource.reservation' requires a DYNAMIC reservation"
                )
        return out
    out.pop("reservations", None)
    if legacy is not None and role in (None, ROLE_STAR):
        raise ResourceError(
            "Invalid resource format: 'Resource.reservation' is set but 'Resource.role' is '*'"
        )
    if role is not None and role != ROLE_STAR:
        entry: JsonDict = {"type": "DYNAMIC" if legacy is not None else "STATIC", "role": role}
        if legacy is not None:
            if "principal" in legacy:
                entry["principal"] = legacy["principal"]
            if "labels" in legacy:
                entry["labels"] = legacy["labels"]
        out["reservations"] = [entry]
    return out


def validate(resource: JsonDict) -> None:
    """Raise ResourceError `Resource '<r>' is invalid: <why>` for an invalid post-refinement resource."""
    why: str | None
    if not resource.get("name"):
        why = "Empty resource name"
    else:
        why = _value_error(resource) or _reservations_error(resource.get("reservations") or [])
        why = why or _disk_error(resource)
    if why:
        raise ResourceError(f"Resource '{describe(resource)}' is invalid: {why}")


def validate_and_upgrade(resources: Iterable[JsonDict]) -> list[JsonDict]:
    """Upgrade every resource and validate it; the error text is Mesos' `Invalid resources: ...`."""
    out = []
    for r in resources:
        try:
            up = upgrade(r)
            validate(up)
        except (ResourceError, KeyError, TypeError, ValueError) as exc:
            raise ResourceError(f"Invalid resources: {exc}") from exc
        out.append(up)
    return out


# ----------------------------------------------------------------------------- formats


def to_format(resource: JsonDict, fmt: Format) -> JsonDict:
    """Render a post-refinement resource for a framework (`post`/`pre`) or the operator API (`endpoint`)."""
    if fmt == "post":
        return resource
    out = dict(resource)
    stack = out.get("reservations") or []
    if len(stack) > 1:
        return out  # refined reservations have no pre-refinement form
    if stack:
        out["role"] = stack[0]["role"]
        if stack[0].get("type") == "DYNAMIC":
            legacy = {k: stack[0][k] for k in ("principal", "labels") if k in stack[0]}
            out["reservation"] = legacy
    else:
        out["role"] = ROLE_STAR
    if fmt == "pre":
        out.pop("reservations", None)
    return out


def is_refined(resource: JsonDict) -> bool:
    return len(resource.get("reservations") or []) > 1


def reservation_role(resource: JsonDict) -> str:
    stack = resource.get("reservations") or []
    return str(stack[-1]["role"]) if stack else ROLE_STAR


def is_reserved(resource: JsonDict) -> bool:
    return bool(resource.get("reservations"))


def is_dynamic(resource: JsonDict) -> bool:
    stack = resource.get("reservations") or []
    return bool(stack) and stack[-1].get("type") == "DYNAMIC"


def is_persistent_volume(resource: JsonDict) -> bool:
    return "persistence" in (resource.get("disk") or {})


def persistence_id(resource: JsonDict) -> str | None:
    return ((resource.get("disk") or {}).get("persistence") or {}).get("id")


def strip_allocation(resource: JsonDict) -> JsonDict:
    out = dict(resource)
    out.pop("allocation_info", None)
    return out


def with_allocation(resource: JsonDict, role: str) -> JsonDict:
    out = dict(resource)
    out["allocation_info"] = {"role": role}
    return out


def pop_reservation(resource: JsonDict) -> JsonDict:
    out = copy.deepcopy(resource)
    stack = out.get("reservations") or []
    if len(stack) <= 1:
        out.pop("reservations", None)
    else:
        out["reservations"] = stack[:-1]
    return out


def strip_volume(resource: JsonDict) -> JsonDict:
    """The reserved disk a volume is carved from: the volume minus `persistence`/`volume`."""
    out = copy.deepcopy(resource)
    disk = out.get("disk") or {}
    disk.pop("persistence", None)
    disk.pop("volume", None)
    if disk:
        out["disk"] = disk
    else:
        out.pop("disk", None)
    return out


# ----------------------------------------------------------------------------- identity and quantity


def _labels_key(labels: Any) -> Any:
    if labels is None:
        return None
    return frozenset((x.get("key"), x.get("value")) for x in labels.get("labels") or [])


def identity(resource: JsonDict) -> tuple[Any, ...]:
    """What must match exactly for two resources to be the same (§3.8); quantities excluded."""
    stack = tuple(
        (r.get("type"), r.get("role"), "principal" in r, r.get("principal"), _labels_key(r.get("labels")))
        for r in resource.get("reservations") or []
    )
    disk = resource.get("disk")
    disk_key: Any = None
    if disk is not None:
        source = disk.get("source")
        disk_key = (
            _freeze(source),
            "persistence" in disk,
            (disk.get("persistence") or {}).get("id"),
        )
    return (
        resource.get("name"),
        resource.get("type"),
        (resource.get("allocation_info") or {}).get("role"),
        stack,
        disk is not None,
        disk_key,
        "revocable" in resource,
        _freeze(resource.get("provider_id")),
        "shared" in resource,
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _indivisible(resource: JsonDict) -> bool:
    disk = resource.get("disk") or {}
    source_type = (disk.get("source") or {}).get("type")
    return "persistence" in disk or source_type in ("MOUNT", "BLOCK") or "shared" in resource


def _quantity(resource: JsonDict) -> Quantity:
    kind = resource.get("type")
    if kind == "SCALAR":
        return to_milli((resource.get("scalar") or {}).get("value", 0))
    if kind == "RANGES":
        spans = [(int(r["begin"]), int(r["end"])) for r in (resource.get("ranges") or {}).get("range") or []]
        return _merge(spans)
    return frozenset((resource.get("set") or {}).get("item") or [])


def _merge(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for b, e in sorted(spans):
        if out and b <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((b, e))
    return tuple(out)


def _ranges_minus(
    a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    out = list(a)
    for bb, be in b:
        nxt = []
        for ab, ae in out:
            if be < ab or bb > ae:
                nxt.append((ab, ae))
                continue
            if ab < bb:
                nxt.append((ab, bb - 1))
            if ae > be:
                nxt.append((be + 1, ae))
        out = nxt
    return tuple(out)


def _ranges_contain(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    return all(any(ab <= bb and be <= ae for ab, ae in a) for bb, be in b)


def _ranges_intersect(
    a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    out = []
    for ab, ae in a:
        for bb, be in b:
            lo, hi = max(ab, bb), min(ae, be)
            if lo <= hi:
                out.append((lo, hi))
    return _merge(out)


def _is_empty(q: Quantity) -> bool:
    return q == 0 if isinstance(q, int) else not q


def _render(template: JsonDict, q: Quantity) -> JsonDict:
    out = dict(template)
    kind = out.get("type")
    if kind == "SCALAR":
        assert isinstance(q, int)
        out["scalar"] = {"value": q / 1000}
    elif kind == "RANGES":
        assert isinstance(q, tuple)
        out["ranges"] = {"range": [{"begin": b, "end": e} for b, e in q]}
    else:
        assert isinstance(q, frozenset)
        out["set"] = {"item": sorted(q)}
    return out


@dataclass(frozen=True)
class _Entry:
    template: JsonDict  # the resource without its quantity
    quantity: Quantity
    indivisible: bool


Entries = dict[tuple[Any, ...], list[_Entry]]


def _entries_of(items: Resources | Iterable[JsonDict]) -> Iterable[tuple[tuple[Any, ...], _Entry]]:
    if isinstance(items, Resources):
        for key, group in items._entries.items():
            for e in group:
                yield key, e
        return
    for r in items:
        template = {k: v for k, v in r.items() if k not in ("scalar", "ranges", "set")}
        yield identity(r), _Entry(template, _quantity(r), _indivisible(r))


class Resources:
    """An immutable multiset of resources keyed by identity (§3.8)."""

    __slots__ = ("_entries",)

    def __init__(self, resources: Iterable[JsonDict] = ()) -> None:
        entries: Entries = {}
        for key, e in _entries_of(resources):
            _add_entry(entries, key, e)
        self._entries = entries

    @classmethod
    def _of(cls, entries: Entries) -> Resources:
        obj = cls.__new__(cls)
        obj._entries = entries
        return obj

    def _copy(self) -> Entries:
        return {k: list(v) for k, v in self._entries.items()}

    def to_json(self, fmt: Format = "post") -> list[JsonDict]:
        out = []
        for group in self._entries.values():
            for e in group:
                r = _render(e.template, e.quantity)
                out.append(r if fmt == "post" else to_format(r, fmt))
        return out

    def __iter__(self) -> Any:
        return iter(self.to_json())

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Resources) and self.contains(other) and other.contains(self)

    def __hash__(self) -> int:  # pragma: no cover - not hashable in practice
        raise TypeError("Resources is not hashable")

    def __repr__(self) -> str:
        return f"Resources({describe_all(self.to_json())})"

    def __str__(self) -> str:
        return describe_all(self.to_json())

    def __add__(self, other: Resources | Iterable[JsonDict]) -> Resources:
        entries = self._copy()
        for key, e in _entries_of(other):
            _add_entry(entries, key, e)
        return Resources._of(entries)

    def contains(self, other: Resources | Iterable[JsonDict]) -> bool:
        entries = self._copy()
        return all(_sub_entry(entries, key, e, False) for key, e in _entries_of(other))

    def subtract(self, other: Resources | Iterable[JsonDict]) -> Resources:
        """self - other; raises ResourceError `<self> does not contain <other>` if not contained."""
        entries = self._copy()
        items = other if isinstance(other, Resources) else list(other)
        for key, e in _entries_of(items):
            if not _sub_entry(entries, key, e, False):
                shown = items.to_json() if isinstance(items, Resources) else items
                raise ResourceError(f"{self} does not contain {describe_all(shown)}")
        return Resources._of(entries)

    def __sub__(self, other: Resources | Iterable[JsonDict]) -> Resources:
        """Saturating difference: what of self is not in other."""
        entries = self._copy()
        for key, e in _entries_of(other):
            _sub_entry(entries, key, e, True)
        return Resources._of(entries)

    def common(self, other: Resources) -> Resources:
        """The part of self also present in other."""
        return self - (self - other)

    def filter(self, predicate: Any) -> Resources:
        """Keep the resources whose template (resource without quantity) satisfies `predicate`."""
        return Resources._of({k: list(g) for k, g in self._entries.items() if g and predicate(g[0].template)})

    def allocated_to(self, role: str | None) -> Resources:
        """The same resources with `allocation_info.role` set to `role` (None removes it)."""
        entries: Entries = {}
        for key, group in self._entries.items():
            new_key = (*key[:2], role, *key[3:])
            for e in group:
                template = {k: v for k, v in e.template.items() if k != "allocation_info"}
                if role is not None:
                    template["allocation_info"] = {"role": role}
                _add_entry(entries, new_key, _Entry(template, e.quantity, e.indivisible))
        return Resources._of(entries)

    def scalar(self, name: str) -> float:
        total = 0
        for group in self._entries.values():
            for e in group:
                if isinstance(e.quantity, int) and e.template.get("name") == name:
                    total += e.quantity
        return total / 1000

    def names(self) -> set[str]:
        return {str(e.template.get("name")) for g in self._entries.values() for e in g}


def _add_entry(entries: Entries, key: tuple[Any, ...], e: _Entry) -> None:
    q = e.quantity
    if _is_empty(q) and not e.indivisible:
        return
    group = entries.get(key)
    if group is None:
        entries[key] = [e]
        return
    if e.indivisible:
        group.append(e)
        return
    head = group[0]
    if isinstance(q, int):
        assert isinstance(head.quantity, int)
        merged: Quantity = head.quantity + q
    elif isinstance(q, tuple):
        assert isinstance(head.quantity, tuple)
        merged = _merge(head.quantity + q)
    else:
        assert isinstance(head.quantity, frozenset)
        merged = head.quantity | q
    group[0] = _Entry(head.template, merged, False)


def _sub_entry(entries: Entries, key: tuple[Any, ...], e: _Entry, saturate: bool) -> bool:
    q = e.quantity
    group = entries.get(key)
    if not group:
        return saturate or (_is_empty(q) and not e.indivisible)
    if e.indivisible:
        for i, have in enumerate(group):
            if have.quantity == q:
                del group[i]
                if not group:
                    del entries[key]
                return True
        return saturate
    head = group[0]
    rest: Quantity
    if isinstance(q, int):
        assert isinstance(head.quantity, int)
        if head.quantity < q and not saturate:
            return False
        rest = max(0, head.quantity - q)
    elif isinstance(q, tuple):
        assert isinstance(head.quantity, tuple)
        if not saturate and not _ranges_contain(head.quantity, q):
            return False
        rest = _ranges_minus(head.quantity, q)
    else:
        assert isinstance(head.quantity, frozenset)
        if not saturate and not q <= head.quantity:
            return False
        rest = head.quantity - q
    if _is_empty(rest):
        del entries[key]
    else:
        group[0] = _Entry(head.template, rest, False)
    return True


def parse_text(spec: str) -> list[JsonDict]:
    """Agent `--resources` text: `cpus:4;mem:8192;disk:65536;ports:[31000-32000];x:{a,b}`."""
    out: list[JsonDict] = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, sep, value = part.partition(":")
        if not sep or not name:
            raise ResourceError(f"Invalid resource text '{part}': expected name:value")
        value = value.strip()
        if value.startswith("["):
            spans = []
            for span in filter(None, (s.strip() for s in value.strip("[]").split(","))):
                b, _, e = span.partition("-")
                spans.append({"begin": int(b), "end": int(e or b)})
            out.append({"name": name, "type": "RANGES", "ranges": {"range": spans}})
        elif value.startswith("{"):
            items = [s.strip() for s in value.strip("{}").split(",") if s.strip()]
            out.append({"name": name, "type": "SET", "set": {"item": items}})
        else:
            try:
                out.append({"name": name, "type": "SCALAR", "scalar": {"value": float(value)}})
            except ValueError as exc:
                raise ResourceError(f"Invalid resource text '{part}': '{value}' is not a number") from exc
    return out


def flatten(resources: Iterable[JsonDict]) -> dict[str, Any]:
    """Legacy /master/state resource map: scalars summed, ranges/sets as strings."""
    scalars: dict[str, int] = {"cpus": 0, "gpus": 0, "mem": 0, "disk": 0}
    others: dict[str, Any] = {}
    for r in resources:
        name = str(r.get("name")) + ("_revocable" if "revocable" in r else "")
        q = _quantity(r)
        if isinstance(q, int):
            scalars[name] = scalars.get(name, 0) + q
        elif isinstance(q, tuple):
            prev = others.get(name, ())
            others[name] = _merge(tuple(prev) + q)
        else:
            others[name] = set(others.get(name, set())) | q
    out: dict[str, Any] = {k: v / 1000 for k, v in scalars.items()}
    for k, v in others.items():
        out[k] = _ranges_text(v) if isinstance(v, tuple) else "{" + ",".join(sorted(v)) + "}"
    return out
