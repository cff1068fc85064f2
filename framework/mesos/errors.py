"""Errors of the Mesos driver: what a caller must tell apart to react correctly."""

from __future__ import annotations

from model.errors import CassandraMesosError


class MesosError(CassandraMesosError):
    """Base of every error raised by the Mesos driver."""


class RecordIOError(MesosError):
    """The subscription stream is not valid RecordIO (the connection is dropped and re-established)."""


class MesosCallError(MesosError):
    """The master rejected a call (4xx); ``message`` is the master's own text."""

    def __init__(self, call_type: str, status_code: int, message: str) -> None:
        super().__init__(f"{call_type} rejected by the Mesos master with HTTP {status_code}: {message}")
        self.call_type = call_type
        self.status_code = status_code
        self.message = message


class NotSubscribed(MesosError):
    """A call was attempted while the driver holds no subscription (no stream id yet, or it dropped)."""


class MasterUnavailable(MesosError):
    """No master answered as leader (connection refused, 503, too many redirects, bad redirect)."""


class SubscriptionEnded(MesosError):
    """The master ended the subscription with an ERROR event; the driver stops and does not retry."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Mesos master ended the subscription: {message}")
        self.message = message


class FrameworkFailedOver(SubscriptionEnded):
    """Another scheduler instance subscribed with our framework id; this one must stop."""


class FrameworkRemoved(SubscriptionEnded):
    """The framework id was torn down or timed out; it is dead forever and must be forgotten."""
