"""Leader election among scheduler instances: only the leader subscribes to Mesos.

A kazoo ``Lock`` under ``<root>/leader`` (ephemeral sequential znodes; the lowest leads).
Leadership is tied to the ZooKeeper session: as soon as the connection is SUSPENDED or the
session LOST, ``on_lost`` runs, because another instance may be elected while we cannot see
ZooKeeper (the conservative choice Curator's LeaderLatch also makes). Once the session is back
the instance removes its old contender znode and contends again.

Callbacks run on the election's thread; an asyncio caller hands them to its loop with
``loop.call_soon_threadsafe``. ``on_elected`` should start work and return, not block.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import CancelledError, KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.recipe.lock import Lock

from framework.store.base import Election
from model.errors import StoreUnavailable

log = logging.getLogger(__name__)

_READ_TIMEOUT = 5.0
# kazoo Lock contender znodes: <uuid hex>__lock__<10-digit sequence>; the lowest sequence leads.
_CONTENDER = re.compile(r"__lock__(\d{10})$")


class LeaderElection:
    """``LeaderElection(store.client, store.leader_path, "host:port").start(on_elected, on_lost)``."""

    def __init__(self, client: KazooClient, path: str, identifier: str) -> None:
        self._client = client
        self._path = path
        self._identifier = identifier
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._demoted = threading.Event()
        self._leading = threading.Event()
        self._mutex = threading.Lock()
        self._lock: Lock | None = None
        self._thread: threading.Thread | None = None
        self._on_elected: Callable[[], None] = lambda: None
        self._on_lost: Callable[[], None] = lambda: None

    @property
    def identifier(self) -> str:
        return self._identifier

    def is_leader(self) -> bool:
        return self._leading.is_set()

    def wait_leader(self, timeout: float) -> bool:
        return self._leading.wait(timeout)

    def leader(self) -> str | None:
        """Identifier of the current leader as ZooKeeper sees it, None if nobody contends.

        Bounded, unlike kazoo's ``Lock.contenders`` (which waits out a suspended session), so a
        health endpoint asking during an outage gets ``StoreUnavailable`` instead of hanging.
        """
        if self._client.state != KazooState.CONNECTED:
            raise StoreUnavailable("ZooKeeper session is not connected: the leader is unknown")
        try:
            children = self._client.get_children_async(self._path).get(timeout=_READ_TIMEOUT)
            contenders = sorted(
                (int(m.group(1)), child) for child in children if (m := _CONTENDER.search(child))
            )
            for _, child in contenders:
                try:
                    data, _ = self._client.get_async(f"{self._path}/{child}").get(timeout=_READ_TIMEOUT)
                except NoNodeError:
                    continue  # resigned between the two reads: the next one leads
                return bytes(data or b"").decode("utf-8", "replace")
        except NoNodeError:
            return None
        except (KazooException, KazooTimeoutError) as exc:
            raise StoreUnavailable(f"cannot read the leader under {self._path}: {exc!r}") from exc
        return None

    def start(self, on_elected: Callable[[], None], on_lost: Callable[[], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("election already started")
        self._on_elected, self._on_lost = on_elected, on_lost
        if self._client.state == KazooState.CONNECTED:
            self._connected.set()
        self._client.add_listener(self._on_state)
        self._thread = threading.Thread(
            target=self._run, name=f"leader-election-{self._identifier}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Resign (``on_lost`` runs if leading) and stop contending."""
        self._stopping.set()
        self._demoted.set()
        self._connected.set()  # wake a thread waiting for the session; it sees _stopping
        with self._mutex:
            if self._lock is not None and not self._lock.is_acquired:
                self._lock.cancel()
        if self._thread is not None:
            self._thread.join(timeout)
        self._client.remove_listener(self._on_state)

    def _on_state(self, state: str) -> None:
        # kazoo's connection thread: only flip events, never block here.
        if state == KazooState.CONNECTED:
            self._connected.set()
            return
        self._connected.clear()
        self._demoted.set()
        with self._mutex:
            if self._lock is not None and not self._lock.is_acquired:
                self._lock.cancel()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._connected.wait()
            if self._stopping.is_set():
                break
            lock = self._client.Lock(self._path, self._identifier)
            with self._mutex:
                self._lock = lock
            self._demoted.clear()
            try:
                got = bool(lock.acquire())
            except CancelledError:
                got = False
            except KazooException as exc:
                log.warning("leader election: contending failed (%r); trying again", exc)
                got = False
            # Lead only on a session that is up now and did not drop since we contended.
            if (
                got
                and self._connected.is_set()
                and not self._demoted.is_set()
                and not self._stopping.is_set()
            ):
                self._lead()
            self._withdraw(lock)

    def _lead(self) -> None:
        log.info("leader election: %s is the leader", self._identifier)
        self._leading.set()
        try:
            self._on_elected()
            self._demoted.wait()
        except Exception:
            log.exception("leader election: on_elected failed; resigning")
        finally:
            self._leading.clear()
            log.warning("leader election: %s is no longer the leader", self._identifier)
            try:
                self._on_lost()
            except Exception:
                log.exception("leader election: on_lost failed")

    def _withdraw(self, lock: Lock) -> None:
        """Remove our contender znode once the session lets us, so a new contention starts clean."""
        with self._mutex:
            self._lock = None
        if self._stopping.is_set() and not self._connected.is_set():
            return
        self._connected.wait()
        if self._client.state != KazooState.CONNECTED:
            return  # stopping while disconnected: the session's end removes the znode
        with contextlib.suppress(KazooException):
            for child in self._client.get_children(self._path):
                if child.startswith(lock.prefix):
                    with contextlib.suppress(NoNodeError):
                        self._client.delete(f"{self._path}/{child}")
        lock.is_acquired = False


def _implements_election(election: LeaderElection) -> Election:
    return election  # mypy proves here that LeaderElection keeps the Election protocol
