"""Orphaned reservations and volumes -> DESTROY and UNRESERVE operations.

A reservation is ours when its current reservation is DYNAMIC for the framework's role and its
labels name a (cluster, node, resource id). It is an orphan when no record refers to that key
(the node was decommissioned, the cluster deleted, or an ACCEPT reserved for a record that was
never written). Reservations without our labels are left alone: they may belong to another
framework sharing the role.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from framework.mesos import resources as rs
from framework.offers.requirements import ReservationKey

Json = dict[str, Any]


def orphaned_keys(
    offer: Mapping[str, Any], role: str, referenced: Collection[ReservationKey]
) -> set[ReservationKey]:
    keys = set()
    for res in offer.get("resources") or []:
        if rs.is_dynamically_reserved_for(res, role):
            key = ReservationKey.from_labels(rs.reservation_labels(res))
            if key is not None and key not in referenced:
                keys.add(key)
    return keys


def orphan_operations(
    offer: Mapping[str, Any], role: str, referenced: Collection[ReservationKey]
) -> list[Json]:
    """DESTROY of orphaned volumes, then UNRESERVE of everything orphaned (volumes as plain disk).

    Both go in one ACCEPT: operations apply in order, so the destroyed volume's disk is there to
    unreserve. Never returns an operation on a resource whose key is in ``referenced``.
    """
    volumes: list[Json] = []
    unreserve: list[Json] = []
    for res in offer.get("resources") or []:
        if not rs.is_dynamically_reserved_for(res, role):
            continue
        key = ReservationKey.from_labels(rs.reservation_labels(res))
        if key is None or key in referenced:
            continue
        if rs.persistence_id(res) is not None:
            volumes.append(dict(res))
            unreserve.append(rs.without_volume(res))
        else:
            unreserve.append(dict(res))
    ops: list[Json] = []
    if volumes:
        ops.append(rs.destroy_op(volumes))
    if unreserve:
        ops.append(rs.unreserve_op(unreserve))
    return ops
