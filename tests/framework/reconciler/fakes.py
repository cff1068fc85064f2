"""A recording stand-in for the Mesos driver (unit tests of the reconciler's pure-ish cycle only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


class FakeMesos:
    """Records every call; ``on_accept`` runs inside ACCEPT (e.g. to look at the store then)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.is_subscribed = True
        self.on_accept: Callable[[Sequence[str], Sequence[Mapping[str, Any]]], None] = lambda o, ops: None

    def named(self, name: str) -> list[Any]:
        return [args for call, args in self.calls if call == name]

    async def accept(
        self,
        offer_ids: Sequence[str],
        operations: Sequence[Mapping[str, Any]],
        refuse_seconds: float | None = None,
    ) -> None:
        self.on_accept(offer_ids, operations)
        self.calls.append(("accept", (list(offer_ids), list(operations), refuse_seconds)))

    async def decline(self, offer_ids: Sequence[str], refuse_seconds: float = 0.0) -> None:
        self.calls.append(("decline", (list(offer_ids), refuse_seconds)))

    async def revive(self, roles: Sequence[str] = ()) -> None:
        self.calls.append(("revive", list(roles)))

    async def suppress(self, roles: Sequence[str] = ()) -> None:
        self.calls.append(("suppress", list(roles)))

    async def kill(
        self, task_id: str, agent_id: str | None = None, grace_seconds: float | None = None
    ) -> None:
        self.calls.append(("kill", (task_id, agent_id)))

    async def reconcile(self, tasks: Sequence[tuple[str, str | None]] = ()) -> None:
        self.calls.append(("reconcile", list(tasks)))
