"""The contract of the scheduler's state store, and the values it hands out.

Every implementation (ZooKeeper in production, memory for unit tests) passes the same contract
suite, tests/framework/store/test_contract.py. Calls are synchronous (kazoo is); async callers
use ``asyncio.to_thread``.

Semantics every implementation keeps:

- *Versions* are ZooKeeper znode versions: 0 when a document is created, +1 per write.
  ``expected_version=None`` means "create; it must not exist yet", ``ANY_VERSION`` means
  "whatever is there", an int means compare-and-set. A lost compare-and-set raises
  ``model.errors.Conflict`` and changes nothing.
- *Atomic*: ``put_config`` (new config version + target pointer), ``delete_cluster`` (up to
  ``MAX_TRANSACTION_OPS`` documents, see docs/store.md), and every single-document write.
- *Unreadable documents* raise ``model.errors.CorruptRecord`` naming the znode path; they are
  never skipped and never deleted by the store.
- *Unavailable*: while the session is suspended or lost, every call raises
  ``model.errors.StoreUnavailable`` instead of acting; calls work again once it is back.
- *Bad input* (names that cannot be znode names, documents that are not JSON objects or too
  big, task records without a TaskInfo) raises ``model.errors.InvalidInput``.
- Unknown clusters raise ``model.errors.NotFound`` on writes below the cluster and on
  ``get_config``; plain reads of an unknown cluster return empty results / None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from model.errors import Conflict
from model.records import TaskRecord

ANY_VERSION = -1
SCHEMA_VERSION = 1

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class Target:
    """The config a cluster should run, and the target pointer's version for the next ``put_config``."""

    config_id: str
    spec: JsonObject
    version: int


@dataclass(frozen=True)
class ConfigVersion:
    config_id: str
    spec: JsonObject
    created_at: float


@dataclass(frozen=True)
class ClusterState:
    """Everything stored about one cluster, read in one consistent cut."""

    name: str
    target: Target | None
    tasks: Mapping[str, TaskRecord] = field(default_factory=dict)
    task_versions: Mapping[str, int] = field(default_factory=dict)
    intents: Mapping[str, JsonObject] = field(default_factory=dict)
    peers: Mapping[str, JsonObject] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreSnapshot:
    """One consistent read of the whole store: what the reconciler decides on, once per cycle."""

    schema_version: int
    framework_id: str | None
    clusters: Mapping[str, ClusterState]
    # Changes with every write to the store; equal generations mean equal contents.
    generation: int
    # True: one point-in-time cut. False only when writes never paused during several attempts:
    # then each document is whole and a target matches its config, but documents may differ in age.
    exact: bool = True


class Election(Protocol):
    """Leader election among scheduler instances sharing a store root; only the leader acts on Mesos."""

    def start(self, on_elected: Callable[[], None], on_lost: Callable[[], None]) -> None:
        """Contend; ``on_elected`` runs when this instance becomes leader, ``on_lost`` when it stops
        being one (session suspended or lost, or ``stop``). Both run on a store thread."""
        ...

    def stop(self, timeout: float = 10.0) -> None:
        """Resign and stop contending."""
        ...

    def is_leader(self) -> bool: ...

    def wait_leader(self, timeout: float) -> bool: ...

    def leader(self) -> str | None:
        """Identifier of the current leader, None if nobody contends."""
        ...


class Store(Protocol):
    """What the scheduler, its reconciler and its API read and write."""

    def schema_version(self) -> int: ...

    # -- availability ---------------------------------------------------------------------------
    def is_writable(self) -> bool:
        """True while the session is connected (read-write); False while suspended or lost."""
        ...

    def wait_writable(self, timeout: float) -> bool:
        """Block until writable or ``timeout`` seconds passed; returns ``is_writable()``."""
        ...

    def add_state_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        """Call ``listener(writable)`` on every availability change; returns an unsubscribe function."""
        ...

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` (from a store thread; keep it short) after changes under the root and
        when availability changes. A wake-up hint only: changes may coalesce. Returns an unsubscribe."""
        ...

    # -- framework ------------------------------------------------------------------------------
    def get_framework_id(self) -> str | None: ...

    def set_framework_id(self, framework_id: str) -> None: ...

    # -- clusters and configs -------------------------------------------------------------------
    def list_clusters(self) -> list[str]: ...

    def put_config(self, cluster: str, spec: JsonObject, expected_target_version: int | None) -> str:
        """Store ``spec`` as a new config version and point the target at it, in one transaction.

        ``expected_target_version=None`` creates the cluster (Conflict if it exists); an int is the
        ``Target.version`` the caller validated against (Conflict if the target moved since);
        ``ANY_VERSION`` creates the cluster or updates whatever its target is. Returns the new
        config id; ids sort in the order they were created.
        """
        ...

    def get_target(self, cluster: str) -> tuple[str, JsonObject] | None:
        """``(config_id, spec)`` of the cluster's target config, None for an unknown cluster."""
        ...

    def get_target_versioned(self, cluster: str) -> Target | None: ...

    def get_config(self, cluster: str, config_id: str) -> ConfigVersion: ...

    def list_configs(self, cluster: str) -> list[str]:
        """Config ids of the cluster, oldest first."""
        ...

    def delete_cluster(self, cluster: str) -> bool:
        """Remove everything stored for the cluster; False if there was nothing."""
        ...

    # -- tasks ----------------------------------------------------------------------------------
    def put_task(self, record: TaskRecord, expected_version: int | None) -> int:
        """Write the node's task record (before the ACCEPT that launches it); returns its new version."""
        ...

    def update_status(self, cluster: str, node: str, status: JsonObject) -> bool:
        """Store a TaskStatus as the record's latest status (compare-and-set loop).

        Returns False, storing nothing, when the node has no record or the status is for
        another task id than the record's (an older launch).
        """
        ...

    def get_task(self, cluster: str, node: str) -> tuple[TaskRecord, int] | None:
        """The record and its version, for a later ``put_task`` compare-and-set."""
        ...

    def get_tasks(self, cluster: str) -> dict[str, TaskRecord]: ...

    def delete_task(self, cluster: str, node: str, expected_version: int = ANY_VERSION) -> bool: ...

    # -- operator intents (opaque documents owned by the plan engine) ---------------------------
    def get_intents(self, cluster: str) -> dict[str, JsonObject]: ...

    def get_intent(self, cluster: str, plan: str) -> tuple[JsonObject, int] | None:
        """One plan's intent document and its version (for compare-and-set), or None."""
        ...

    def put_intent(
        self, cluster: str, plan: str, data: JsonObject, expected_version: int | None = ANY_VERSION
    ) -> int: ...

    def delete_intent(self, cluster: str, plan: str) -> bool: ...

    # -- peer datacenters -----------------------------------------------------------------------
    def get_peers(self, cluster: str) -> dict[str, JsonObject]: ...

    def put_peer(self, cluster: str, data_center: str, data: JsonObject) -> int: ...

    def delete_peer(self, cluster: str, data_center: str) -> bool: ...

    # -- the reconciler's read ------------------------------------------------------------------
    def snapshot(self) -> StoreSnapshot: ...

    def election(self, identifier: str) -> Election:
        """A leader election under this store's root, on the store's session."""
        ...

    def close(self) -> None: ...


INTENT_CAS_ATTEMPTS = 20


def update_intent(
    store: Store, cluster: str, plan: str, change: Callable[[JsonObject | None], JsonObject | None]
) -> JsonObject | None:
    """Read-modify-write of one intent document with compare-and-set: ``change`` gets the current
    document (None if absent) and returns the new one, or None to write nothing. It is called
    again on a concurrent write, so it must be a pure function of its argument; its own errors
    (e.g. a verb's Conflict) propagate at once. Returns what was written (or None)."""
    for _ in range(INTENT_CAS_ATTEMPTS):
        current = store.get_intent(cluster, plan)
        doc, version = current if current is not None else (None, None)
        new = change(doc)
        if new is None:
            return None
        try:
            store.put_intent(cluster, plan, new, version)
        except Conflict:
            continue  # written in between (or created, or deleted): decide again on what is there
        return new
    raise Conflict(f"intent of plan {plan!r} of cluster {cluster!r}: too much concurrent change")
