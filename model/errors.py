"""The error taxonomy of every layer; the edges (API, CLI) turn these into HTTP codes and exit codes."""

from __future__ import annotations


class CassandraMesosError(Exception):
    """Base of every error this project raises on purpose."""


class InvalidInput(CassandraMesosError):
    """Input that can never be valid (HTTP 400/422, CLI exit 2)."""


class NotFound(CassandraMesosError):
    """An unknown cluster, plan, phase, block or node (HTTP 404)."""


class Conflict(CassandraMesosError):
    """Valid input that clashes with the current state, e.g. a compare-and-set lost (HTTP 409)."""


class CorruptRecord(CassandraMesosError):
    """A stored record that cannot be read: never dropped silently, always reported with its path."""


class StoreUnavailable(CassandraMesosError):
    """The state store is unreachable or its session suspended (HTTP 503): stop acting, retry later.

    A write refused up front did nothing; a write whose answer was lost says so in its message and
    may have been applied (atomically), so re-read before retrying.
    """


class UnsupportedSchema(CassandraMesosError):
    """The store was written by a newer version of the framework; refuse rather than misread it."""
