"""Readers for v1 scheduler events (dicts with ``type``, in the Mesos JSON mapping)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]

FAILED_OVER_MESSAGE = "Framework failed over"
REMOVED_MESSAGE = "Framework has been removed"


def event_type(event: Mapping[str, Any]) -> str:
    return str(event.get("type", "UNKNOWN"))


def offers_of(event: Mapping[str, Any]) -> list[Json]:
    """Offers of an OFFERS event (nested ``offers.offers`` on the wire)."""
    return list((event.get("offers") or {}).get("offers") or [])


def status_of(event: Mapping[str, Any]) -> Json:
    """TaskStatus of an UPDATE event."""
    return dict((event.get("update") or {}).get("status") or {})


def rescinded_offer_id(event: Mapping[str, Any]) -> str | None:
    oid = (event.get("rescind") or {}).get("offer_id")
    return None if oid is None else str(oid.get("value"))


def error_message(event: Mapping[str, Any]) -> str:
    return str((event.get("error") or {}).get("message", ""))


def needs_acknowledgement(status: Mapping[str, Any]) -> bool:
    """Only agent-generated updates carry a uuid; master-generated ones must never be acked."""
    return bool(status.get("uuid"))


def operation_status_of(event: Mapping[str, Any]) -> Json:
    """OperationStatus of an UPDATE_OPERATION_STATUS event (only for operations that had an id)."""
    return dict((event.get("update_operation_status") or {}).get("status") or {})
