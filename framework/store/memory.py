"""An in-memory znode tree, for unit tests only: nothing a user runs depends on it.

It keeps ZooKeeper's semantics (versions from 0, all-or-nothing transactions, NodeExists /
NoNode / BadVersion / NotEmpty), and the contract suite runs the same assertions against it and
against a real ZooKeeper. ``set_available(False)`` plays a suspended session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from framework.store.base import Election
from framework.store.documents import DocumentStore
from framework.store.layout import DEFAULT_ROOT
from framework.store.tree import Check, Create, Delete, Node, Op, SetData, TransactionFailed
from model.errors import StoreUnavailable


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


class MemoryElection:
    """``Election`` among the stores sharing one MemoryTree: first come leads; like a ZooKeeper
    session, leadership ends while the tree is unavailable and comes back with it. Callbacks run
    synchronously in the thread that caused them (deterministic unit tests)."""

    def __init__(self, tree: MemoryTree, identifier: str) -> None:
        self._tree = tree
        self.identifier = identifier
        self._leading = threading.Event()
        self._on_elected: Callable[[], None] = lambda: None
        self._on_lost: Callable[[], None] = lambda: None

    def start(self, on_elected: Callable[[], None], on_lost: Callable[[], None]) -> None:
        self._on_elected, self._on_lost = on_elected, on_lost
        self._tree._contend(self)

    def stop(self, timeout: float = 10.0) -> None:
        self._tree._withdraw(self)

    def is_leader(self) -> bool:
        return self._leading.is_set()

    def wait_leader(self, timeout: float) -> bool:
        return self._leading.wait(timeout)

    def leader(self) -> str | None:
        return self._tree._leader_identifier()

    def _set_leading(self, leading: bool) -> None:
        if leading == self._leading.is_set():
            return
        if leading:
            self._leading.set()
            self._on_elected()
        else:
            self._leading.clear()
            self._on_lost()


class MemoryTree:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._nodes: dict[str, Node] = {"/": Node(b"", 0)}
        self._children: dict[str, set[str]] = {"/": set()}
        self._available = True
        self._data_watchers: dict[str, list[Callable[[], None]]] = {}
        self._state_listeners: list[Callable[[bool], None]] = []
        self._writable = threading.Condition(self._lock)
        self._contenders: list[MemoryElection] = []

    # -- test controls --------------------------------------------------------------------------

    def set_available(self, available: bool) -> None:
        """Play a suspended (False) or re-established (True) ZooKeeper session."""
        with self._lock:
            if available == self._available:
                return
            self._available = available
            self._writable.notify_all()
            listeners = list(self._state_listeners)
        for listener in listeners:
            listener(available)
        self._elect()

    # -- elections --------------------------------------------------------------------------------

    def _contend(self, election: MemoryElection) -> None:
        with self._lock:
            if election not in self._contenders:
                self._contenders.append(election)
        self._elect()

    def _withdraw(self, election: MemoryElection) -> None:
        with self._lock:
            if election in self._contenders:
                self._contenders.remove(election)
        election._set_leading(False)
        self._elect()

    def _leader_identifier(self) -> str | None:
        with self._lock:
            return self._contenders[0].identifier if self._contenders else None

    def _elect(self) -> None:
        with self._lock:
            leader = self._contenders[0] if self._contenders and self._available else None
            others = [c for c in self._contenders if c is not leader]
        for other in others:
            other._set_leading(False)
        if leader is not None:
            leader._set_leading(True)

    def put_raw(self, path: str, data: bytes) -> None:
        """Write bytes as they are, bypassing the store (to test how it reads corrupt documents)."""
        self.ensure_path(_parent(path))
        with self._lock:
            old = self._nodes.get(path)
            self._nodes[path] = Node(data, 0 if old is None else old.version + 1)
            self._children.setdefault(path, set())
            self._children[_parent(path)].add(path.rsplit("/", 1)[1])

    # -- Tree -----------------------------------------------------------------------------------

    def _check_available(self) -> None:
        if not self._available:
            raise StoreUnavailable("in-memory store: session suspended (set_available(False))")

    def get(self, path: str) -> Node | None:
        with self._lock:
            self._check_available()
            return self._nodes.get(path)

    def get_many(self, paths: Sequence[str]) -> list[Node | None]:
        with self._lock:
            self._check_available()
            return [self._nodes.get(p) for p in paths]

    def children(self, path: str) -> list[str] | None:
        with self._lock:
            self._check_available()
            kids = self._children.get(path)
            return None if kids is None else sorted(kids)

    def children_many(self, paths: Sequence[str]) -> list[list[str] | None]:
        return [self.children(p) for p in paths]

    def commit(self, ops: Sequence[Op]) -> list[int]:
        with self._lock:
            self._check_available()
            nodes = dict(self._nodes)
            children = dict(self._children)  # sets are replaced, never mutated, below
            versions: list[int] = []
            for op in ops:
                versions.append(self._apply(nodes, children, op))
            self._nodes, self._children = nodes, children
            fire = [
                cb for op in ops if not isinstance(op, Check) for cb in self._data_watchers.get(op.path, [])
            ]
        for callback in fire:
            callback()
        return versions

    @staticmethod
    def _apply(nodes: dict[str, Node], children: dict[str, set[str]], op: Op) -> int:
        path = op.path
        current = nodes.get(path)
        if isinstance(op, Create):
            if current is not None:
                raise TransactionFailed("exists", path)
            parent = _parent(path)
            if parent not in nodes:
                raise TransactionFailed("missing", path)
            nodes[path] = Node(op.data, 0)
            children[path] = set()
            children[parent] = children[parent] | {path.rsplit("/", 1)[1]}
            return 0
        if current is None:
            raise TransactionFailed("missing", path)
        if op.version not in (-1, current.version):
            raise TransactionFailed("version", path)
        if isinstance(op, SetData):
            nodes[path] = Node(op.data, current.version + 1)
            return current.version + 1
        if isinstance(op, Delete):
            if children[path]:
                raise TransactionFailed("not_empty", path)
            del nodes[path], children[path]
            parent = _parent(path)
            children[parent] = children[parent] - {path.rsplit("/", 1)[1]}
        return -1

    def ensure_path(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            sub = "/" + "/".join(parts[:i])
            with self._lock:
                self._check_available()
                if sub not in self._nodes:
                    self._apply(self._nodes, self._children, Create(sub))

    def sync(self, path: str) -> None:
        self.get(path)

    def watch_data(self, path: str, callback: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._data_watchers.setdefault(path, []).append(callback)

        def unsubscribe() -> None:
            with self._lock:
                watchers = self._data_watchers.get(path, [])
                if callback in watchers:
                    watchers.remove(callback)

        return unsubscribe

    def is_writable(self) -> bool:
        return self._available

    def wait_writable(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._available and (left := deadline - time.monotonic()) > 0:
                self._writable.wait(left)
            return self._available

    def add_state_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        with self._lock:
            self._state_listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._state_listeners:
                    self._state_listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        """Nothing to release; the tree stays readable for other stores sharing it."""


class MemoryStore(DocumentStore):
    """``Store`` in memory; several may share one ``MemoryTree`` as instances share one ZooKeeper."""

    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        *,
        tree: MemoryTree | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tree = tree if tree is not None else MemoryTree()
        super().__init__(self.tree, root, clock=clock)

    def set_available(self, available: bool) -> None:
        self.tree.set_available(available)

    def election(self, identifier: str) -> MemoryElection:
        return MemoryElection(self.tree, identifier)


def _implements_election(election: MemoryElection) -> Election:
    return election  # mypy proves here that MemoryElection keeps the Election protocol
