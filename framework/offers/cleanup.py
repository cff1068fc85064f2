"""Orphaned reservations and volumes -> DESTROY and UNRESERVE operations.

A reservation is ours when its current reservation is DYNAMIC for the framework's role and its
labels name a (cluster, node, resource id). It is an orphan when no record refers to that key
(the node was decommissioned, the cluster deleted, or an ACCEPT reserved for a record that was
never written). Reservations without our labels are left alone: they may belong to another
framework sharing the role.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from framework.mesos import resources as rs
from framework.offers.requirements import ReservationKey
from model.records import TaskRecord

Json = dict[str, Any]


def keys_of_task(task_info: Mapping[str, Any]) -> set[ReservationKey]:
    """The reservation keys a TaskInfo's resources carry."""
    keys = set()
    for res in task_info.get("resources") or []:
        key = ReservationKey.from_labels(rs.reservation_labels(res))
        if key is not None:
            keys.add(key)
    return keys


def referenced_keys(records: Iterable[TaskRecord]) -> frozenset[ReservationKey]:
    """Every key a task record refers to: what cleanup must never touch."""
    return frozenset(k for rec in records for k in keys_of_task(rec.task_info))


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
    return _release_operations(offer, role, lambda key: key not in referenced)


def cluster_release_operations(offer: Mapping[str, Any], role: str, cluster: str) -> list[Json]:
    """DESTROY and UNRESERVE of everything in the offer labelled with ``cluster`` (uninstall)."""
    return _release_operations(offer, role, lambda key: key.cluster == cluster)


def _release_operations(
    offer: Mapping[str, Any], role: str, release: Callable[[ReservationKey], bool]
) -> list[Json]:
    volumes: list[Json] = []
    unreserve: list[Json] = []
    for res in offer.get("resources") or []:
        if not rs.is_dynamically_reserved_for(res, role):
            continue
        key = ReservationKey.from_labels(rs.reservation_labels(res))
        if key is None or not release(key):
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
