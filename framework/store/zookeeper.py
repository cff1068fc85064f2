"""The production store: documents in ZooKeeper through kazoo.

Session handling is the point of this module. kazoo reports CONNECTED, SUSPENDED (connection
dropped, session may still live) and LOST (session expired). While not CONNECTED every call
raises ``StoreUnavailable`` at once instead of queueing (kazoo would otherwise send queued
writes whenever the connection comes back, long after the caller gave up). kazoo reconnects by
itself; when it does, calls work again and watchers are told, so the scheduler resumes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadVersionError,
    ConnectionClosedError,
    ConnectionLoss,
    KazooException,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    OperationTimeoutError,
    RolledBackError,
    SessionExpiredError,
    UnimplementedError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KeeperState, ZnodeStat
from kazoo.retry import KazooRetry
from kazoo.security import ACL, OPEN_ACL_UNSAFE, make_digest_acl

from framework.store.documents import DocumentStore
from framework.store.layout import DEFAULT_ROOT
from framework.store.leader import LeaderElection
from framework.store.multiread import ReadKind, multi_read_async
from framework.store.tree import Check, Create, Delete, FailureKind, Node, Op, SetData, TransactionFailed
from model.errors import InvalidInput, StoreUnavailable

log = logging.getLogger(__name__)

_UNAVAILABLE = (
    ConnectionLoss,
    SessionExpiredError,
    ConnectionClosedError,
    OperationTimeoutError,
    KazooTimeoutError,
)
# Reads per multiRead request: a few hundred KB of task records per answer at most.
MULTI_READ_OPS = 200
_FAILURES: tuple[tuple[type[Exception], FailureKind], ...] = (
    (NodeExistsError, "exists"),
    (NoNodeError, "missing"),
    (BadVersionError, "version"),
    (NotEmptyError, "not_empty"),
)


class ZooKeeperTree:
    """The ``Tree`` on one kazoo client (one ZooKeeper session)."""

    def __init__(self, client: KazooClient, *, request_timeout: float = 10.0) -> None:
        self.client = client
        self._timeout = request_timeout
        self._multi_read = True
        self._connected = threading.Event()
        self._listeners: list[Callable[[bool], None]] = []
        self._lock = threading.Lock()
        if self._writable_now():
            self._connected.set()
        client.add_listener(self._on_state)

    def _writable_now(self) -> bool:
        # A read-only server (CONNECTED_RO) serves reads only; we count it as not writable.
        return self.client.state == KazooState.CONNECTED and self.client.client_state == KeeperState.CONNECTED

    def _on_state(self, state: str) -> None:
        # Runs on kazoo's connection thread: record the state, tell listeners, never block.
        writable = state == KazooState.CONNECTED and self.client.client_state == KeeperState.CONNECTED
        if writable:
            self._connected.set()
            log.info("ZooKeeper session connected: store writable")
        else:
            self._connected.clear()
            log.warning("ZooKeeper session %s: store refuses to act until it is back", state)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(writable)
            except Exception:  # a listener's bug must not kill kazoo's connection thread
                log.exception("store state listener failed")

    # -- calling kazoo --------------------------------------------------------------------------

    def _ready(self, what: str) -> None:
        if not self._connected.is_set():
            raise StoreUnavailable(f"ZooKeeper session is not connected: cannot {what}")

    def _wait(self, async_result: Any, what: str, *, write: bool = False) -> Any:
        try:
            return async_result.get(timeout=self._timeout)
        except _UNAVAILABLE as exc:
            outcome = " (the write may or may not have been applied)" if write else ""
            raise StoreUnavailable(f"ZooKeeper unavailable during {what}{outcome}: {exc!r}") from exc

    def get(self, path: str) -> Node | None:
        return self.get_many([path])[0]

    def _read(self, kind: ReadKind, paths: Sequence[str]) -> list[Any]:
        """Raw results (or NoNodeError instances), one per path: multiRead batches, pipelined."""
        self._ready("read")
        if self._multi_read:
            chunks = [paths[i : i + MULTI_READ_OPS] for i in range(0, len(paths), MULTI_READ_OPS)]
            pending = [multi_read_async(self.client, [(kind, p) for p in chunk]) for chunk in chunks]
            try:
                return [
                    r for chunk, res in zip(chunks, pending, strict=True) for r in self._wait(res, "reads")
                ]
            except UnimplementedError:
                log.warning("ZooKeeper server without multiRead (before 3.6): reading one znode per request")
                self._multi_read = False
        single = self.client.get_async if kind == "data" else self.client.get_children_async
        out: list[Any] = []
        for path, res in zip(paths, [single(p) for p in paths], strict=True):
            try:
                out.append(self._wait(res, f"read of {path}"))
            except NoNodeError as exc:
                out.append(exc)
        return out

    def get_many(self, paths: Sequence[str]) -> list[Node | None]:
        out: list[Node | None] = []
        for path, result in zip(paths, self._read("data", paths), strict=True):
            if isinstance(result, NoNodeError):
                out.append(None)
            elif isinstance(result, Exception):
                raise StoreUnavailable(f"ZooKeeper refused to read {path}: {result!r}")
            else:
                data, stat = result
                out.append(Node(data or b"", stat.version))
        return out

    def children(self, path: str) -> list[str] | None:
        return self.children_many([path])[0]

    def children_many(self, paths: Sequence[str]) -> list[list[str] | None]:
        out: list[list[str] | None] = []
        for path, result in zip(paths, self._read("children", paths), strict=True):
            if isinstance(result, NoNodeError):
                out.append(None)
            elif isinstance(result, Exception):
                raise StoreUnavailable(f"ZooKeeper refused to list {path}: {result!r}")
            else:
                out.append(sorted(result))
        return out

    def commit(self, ops: Sequence[Op]) -> list[int]:
        self._ready("write")
        tx = self.client.transaction()
        for op in ops:
            if isinstance(op, Create):
                tx.create(op.path, op.data)
            elif isinstance(op, SetData):
                tx.set_data(op.path, op.data, op.version)
            elif isinstance(op, Delete):
                tx.delete(op.path, op.version)
            elif isinstance(op, Check):
                tx.check(op.path, op.version)
        results = self._wait(tx.commit_async(), "transaction", write=True)
        versions: list[int] = []
        for op, result in zip(ops, results, strict=True):
            if isinstance(result, Exception) and not isinstance(result, RolledBackError):
                for error, kind in _FAILURES:
                    if isinstance(result, error):
                        raise TransactionFailed(kind, op.path)
                raise StoreUnavailable(f"ZooKeeper refused a transaction on {op.path}: {result!r}")
            if isinstance(op, Create):
                versions.append(0)
            elif isinstance(result, ZnodeStat):
                versions.append(result.version)
            else:
                versions.append(-1)
        return versions

    def ensure_path(self, path: str) -> None:
        """Create ``path`` with the client's ACL; its parents (shared with other framework
        instances, which may use other credentials) open to all."""
        self._ready("create the store root")
        parent = path.rsplit("/", 1)[0]
        try:
            if parent:
                self.client.retry(self.client.ensure_path, parent, acl=OPEN_ACL_UNSAFE)
            with contextlib.suppress(NodeExistsError):
                self.client.retry(self.client.create, path)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"ZooKeeper unavailable while creating {path}: {exc!r}") from exc

    def sync(self, path: str) -> None:
        self._ready("sync")
        self._wait(self.client.sync_async(path), f"sync of {path}")

    def watch_data(self, path: str, callback: Callable[[], None]) -> Callable[[], None]:
        active = True

        def on_change(_data: bytes | None, _stat: ZnodeStat | None) -> bool:
            if not active:
                return False  # tells kazoo's DataWatch to stop
            callback()
            return True

        self.client.DataWatch(path, on_change)

        def unsubscribe() -> None:
            nonlocal active
            active = False

        return unsubscribe

    def is_writable(self) -> bool:
        return self._connected.is_set()

    def wait_writable(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def add_state_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        self.client.remove_listener(self._on_state)
        self._connected.clear()
        with contextlib.suppress(KazooException):
            self.client.stop()
        self.client.close()


def _digest_auth(digest: str | None) -> tuple[list[tuple[str, str]] | None, list[ACL] | None]:
    if digest is None:
        return None, None
    user, sep, password = digest.partition(":")
    if not sep or not user or not password:
        raise InvalidInput("ZooKeeper digest must be 'user:password'")
    return [("digest", digest)], [make_digest_acl(user, password, all=True)]


class ZooKeeperStore(DocumentStore):
    """``Store`` in ZooKeeper: ``ZooKeeperStore("zk1:2181,zk2:2181", root="/cassandra-mesos/dc1")``.

    Connects in the constructor (StoreUnavailable if no server answers within
    ``connect_timeout``), then reconnects forever in the background. ``client`` shares the
    session with ``LeaderElection`` so that leadership and writability fail together.
    ``digest="user:password"`` authenticates the session and creates every znode readable and
    writable by that identity only (a ZooKeeper shared with other tenants).
    """

    def __init__(
        self,
        hosts: str,
        root: str = DEFAULT_ROOT,
        *,
        session_timeout: float = 10.0,
        connect_timeout: float = 15.0,
        request_timeout: float = 10.0,
        digest: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        auth, acl = _digest_auth(digest)
        client = KazooClient(
            hosts=hosts,
            timeout=session_timeout,
            auth_data=auth,
            default_acl=acl,
            # Reconnect forever, at most a second apart, so service resumes soon after ZooKeeper does.
            connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=1.0),
            command_retry=KazooRetry(max_tries=3, delay=0.1, max_delay=1.0),
        )
        try:
            client.start(timeout=connect_timeout)
        except KazooTimeoutError as exc:
            with contextlib.suppress(KazooException):
                client.stop()
            client.close()
            raise StoreUnavailable(
                f"cannot connect to ZooKeeper at {hosts} within {connect_timeout:.0f}s"
            ) from exc
        self.client = client
        self.hosts = hosts
        tree = ZooKeeperTree(client, request_timeout=request_timeout)
        try:
            super().__init__(tree, root, clock=clock)
        except BaseException:
            tree.close()
            raise

    def election(self, identifier: str) -> LeaderElection:
        return LeaderElection(self.client, self.leader_path, identifier)

    def __enter__(self) -> ZooKeeperStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
