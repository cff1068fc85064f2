"""Resource arithmetic and formats (reference §3)."""

from __future__ import annotations

import pytest

from localmesos import resources as res
from localmesos.resources import ResourceError, Resources


def scalar(name: str, value: float, **extra: object) -> dict:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}, **extra}


def dyn(role: str, principal: str | None = "p", labels: list[tuple[str, str]] | None = None) -> dict:
    entry: dict = {"type": "DYNAMIC", "role": role}
    if principal is not None:
        entry["principal"] = principal
    if labels is not None:
        entry["labels"] = {"labels": [{"key": k, "value": v} for k, v in labels]}
    return entry


def volume(pid: str, size: float, path: str = "data", principal: str = "p") -> dict:
    return scalar(
        "disk",
        size,
        reservations=[dyn("r")],
        disk={
            "persistence": {"id": pid, "principal": principal},
            "volume": {"mode": "RW", "container_path": path},
        },
    )


def test_scalars_add_and_subtract_in_fixed_point() -> None:
    total = Resources([scalar("cpus", 0.1), scalar("cpus", 0.2)])
    assert total.scalar("cpus") == 0.3
    assert (total.subtract([scalar("cpus", 0.3)])).scalar("cpus") == 0.0
    assert not total.subtract([scalar("cpus", 0.3)])


def test_subtract_more_than_available_names_both_sides() -> None:
    with pytest.raises(ResourceError, match=r"cpus:1 does not contain cpus:2"):
        Resources([scalar("cpus", 1)]).subtract([scalar("cpus", 2)])


def test_ranges_split_and_merge() -> None:
    ports = {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 32000}]}}
    used = {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31005, "end": 31005}]}}
    left = Resources([ports]).subtract([used])
    assert left.to_json()[0]["ranges"]["range"] == [
        {"begin": 31000, "end": 31004},
        {"begin": 31006, "end": 32000},
    ]
    assert Resources([*left, used]) == Resources([ports])
    assert not left.contains([used])


def test_sets() -> None:
    s = Resources([{"name": "x", "type": "SET", "set": {"item": ["a", "b"]}}])
    assert s.contains([{"name": "x", "type": "SET", "set": {"item": ["a"]}}])
    assert not s.contains([{"name": "x", "type": "SET", "set": {"item": ["c"]}}])


def test_reservations_must_match_exactly_but_label_order_is_ignored() -> None:
    a = scalar("cpus", 1, reservations=[dyn("r", labels=[("a", "1"), ("b", "2")])])
    b = scalar("cpus", 1, reservations=[dyn("r", labels=[("b", "2"), ("a", "1")])])
    other_principal = scalar("cpus", 1, reservations=[dyn("r", principal="q")])
    no_principal = scalar("cpus", 1, reservations=[dyn("r", principal=None)])
    assert Resources([a]).contains([b])
    assert not Resources([a]).contains([other_principal])
    assert not Resources([other_principal]).contains([no_principal])
    assert not Resources([scalar("cpus", 1)]).contains([no_principal])


def test_allocation_role_is_part_of_identity() -> None:
    offered = Resources([scalar("cpus", 1, allocation_info={"role": "a"})])
    assert not offered.contains([scalar("cpus", 1, allocation_info={"role": "b"})])
    assert offered.contains([scalar("cpus", 1, allocation_info={"role": "a"})])


def test_volume_is_indivisible_and_matched_by_persistence_id_ignoring_path_and_principal() -> None:
    offered = Resources([volume("v1", 1024)])
    assert offered.contains([volume("v1", 1024, path="other", principal="someone")])
    assert not offered.contains([volume("v1", 512)])
    assert not offered.contains([volume("v2", 1024)])
    assert not offered.subtract([volume("v1", 1024)])


def test_upgrade_pre_refinement_to_reservations() -> None:
    pre = scalar("disk", 10, role="r", reservation={"principal": "p"})
    assert res.upgrade(pre) == scalar(
        "disk", 10, reservations=[{"type": "DYNAMIC", "role": "r", "principal": "p"}]
    )
    assert res.upgrade(scalar("cpus", 1, role="*")) == scalar("cpus", 1)
    assert res.upgrade(scalar("cpus", 1, role="r")) == scalar(
        "cpus", 1, reservations=[{"type": "STATIC", "role": "r"}]
    )


def test_inconsistent_formats_are_rejected() -> None:
    bad = scalar("cpus", 1, role="x", reservations=[dyn("r")])
    with pytest.raises(ResourceError, match="Invalid resource format"):
        res.upgrade(bad)


def test_to_pre_and_endpoint_format() -> None:
    post = scalar("disk", 10, reservations=[dyn("r", labels=[("k", "v")])])
    pre = res.to_format(post, "pre")
    assert pre["role"] == "r" and pre["reservation"]["principal"] == "p" and "reservations" not in pre
    assert res.to_format(scalar("cpus", 1), "pre")["role"] == "*"
    endpoint = res.to_format(post, "endpoint")
    assert endpoint["role"] == "r" and endpoint["reservations"] == post["reservations"]


@pytest.mark.parametrize(
    ("resource", "why"),
    [
        (scalar("cpus", -1), "Invalid scalar resource: value <= 0"),
        (scalar("cpus", 0.0001), "Invalid scalar resource: value <= 0"),
        (
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 5, "end": 1}]}},
            "Invalid ranges resource: begin > end",
        ),
        (
            {
                "name": "ports",
                "type": "RANGES",
                "ranges": {"range": [{"begin": 1, "end": 5}, {"begin": 3, "end": 9}]},
            },
            "Invalid ranges resource: overlapping ranges",
        ),
        (
            {"name": "x", "type": "SET", "set": {"item": ["a", "a"]}},
            "Invalid set resource: duplicated elements",
        ),
        ({"name": "x", "type": "TEXT"}, "Unsupported resource type"),
        ({"name": "", "type": "SCALAR", "scalar": {"value": 1}}, "Empty resource name"),
        (scalar("cpus", 1, reservations=[dyn("*")]), 'Invalid reservation: role "*" cannot be reserved'),
        (
            scalar("cpus", 1, reservations=[{"role": "r"}]),
            "Invalid reservation: 'Resource.ReservationInfo.type' field must be set.",
        ),
        (
            scalar("cpus", 1, reservations=[dyn("a"), dyn("b")]),
            "Invalid refined reservation: role 'b' is not a refinement of 'a'",
        ),
        (
            scalar("cpus", 1, reservations=[dyn("a"), {"type": "STATIC", "role": "a/b"}]),
            "Invalid refined reservation: A refined reservation cannot be STATIC",
        ),
    ],
)
def test_validation_messages(resource: dict, why: str) -> None:
    with pytest.raises(ResourceError) as err:
        res.validate_and_upgrade([resource])
    assert str(err.value).startswith("Invalid resources: Resource '")
    assert str(err.value).endswith(f"is invalid: {why}")


def test_refined_reservation_is_valid() -> None:
    res.validate_and_upgrade([scalar("cpus", 1, reservations=[dyn("a"), dyn("a/b")])])


def test_parse_text_and_flatten() -> None:
    parsed = res.parse_text("cpus:4;mem:8192;disk:65536;ports:[31000-32000]")
    flat = res.flatten(parsed)
    assert flat == {"cpus": 4.0, "gpus": 0.0, "mem": 8192.0, "disk": 65536.0, "ports": "[31000-32000]"}
    with pytest.raises(ResourceError, match="not a number"):
        res.parse_text("cpus:many")


def test_common_keeps_only_shared_part() -> None:
    a = Resources([scalar("cpus", 2), scalar("mem", 10)])
    b = Resources([scalar("cpus", 1)])
    assert a.common(b) == b


def test_describe_shows_reservation_and_volume() -> None:
    text = res.describe(volume("v1", 1024) | {"allocation_info": {"role": "r"}})
    assert text == "disk(allocated: r)(reservations: [(DYNAMIC,r,p)])[v1:data:RW]:1024"


def test_allocated_to_sets_and_clears_the_allocation_role() -> None:
    plain = Resources([scalar("cpus", 2), scalar("mem", 10)])
    offered = plain.allocated_to("r")
    assert offered == Resources(
        [scalar("cpus", 2, allocation_info={"role": "r"}), scalar("mem", 10, allocation_info={"role": "r"})]
    )
    assert offered.allocated_to(None) == plain
