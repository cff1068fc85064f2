"""The znode tree the documents live in: the few ZooKeeper operations the store needs.

``ZooKeeperTree`` (kazoo) and ``MemoryTree`` implement it with the same semantics, so the
document logic in ``documents.py`` exists once and the contract suite checks both trees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class Node:
    data: bytes
    version: int


@dataclass(frozen=True)
class Create:
    path: str
    data: bytes = b""


@dataclass(frozen=True)
class SetData:
    path: str
    data: bytes
    version: int  # -1: any


@dataclass(frozen=True)
class Delete:
    path: str
    version: int = -1


@dataclass(frozen=True)
class Check:
    path: str
    version: int  # -1: only that it exists


Op = Create | SetData | Delete | Check

FailureKind = Literal["exists", "missing", "version", "not_empty"]


class TransactionFailed(Exception):
    """A transaction was refused as a whole; ``kind`` and ``path`` name the operation that failed."""

    def __init__(self, kind: FailureKind, path: str) -> None:
        super().__init__(f"{kind}: {path}")
        self.kind: FailureKind = kind
        self.path = path


class Tree(Protocol):
    def get(self, path: str) -> Node | None: ...

    def get_many(self, paths: Sequence[str]) -> list[Node | None]:
        """Reads pipelined in one go (ZooKeeper answers them in order)."""
        ...

    def children(self, path: str) -> list[str] | None:
        """Child names, sorted; None if ``path`` does not exist."""
        ...

    def children_many(self, paths: Sequence[str]) -> list[list[str] | None]: ...

    def commit(self, ops: Sequence[Op]) -> list[int]:
        """All or nothing; returns the new version of each op's node (-1 for Delete and Check)."""
        ...

    def ensure_path(self, path: str) -> None: ...

    def sync(self, path: str) -> None:
        """Make the following reads see every write the ensemble committed before this call."""
        ...

    def watch_data(self, path: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` on every change of the node's data (coalescing allowed); returns unsubscribe."""
        ...

    def is_writable(self) -> bool: ...

    def wait_writable(self, timeout: float) -> bool: ...

    def add_state_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]: ...

    def close(self) -> None: ...
