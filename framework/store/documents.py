"""The store's documents on a znode tree: the one implementation of ``Store`` both trees share.

Every write is one tree transaction that also bumps ``<root>/generation``; a snapshot reads the
generation before and after its reads (after a ``sync``) and retries until they agree, which
makes it one consistent cut without locking writers out (the reads of one ZooKeeper session are
served in order).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from framework.store import codec
from framework.store.base import (
    ANY_VERSION,
    SCHEMA_VERSION,
    ClusterState,
    ConfigVersion,
    Election,
    JsonObject,
    Store,
    StoreSnapshot,
    Target,
)
from framework.store.layout import Layout, check_name, check_root
from framework.store.tree import Create, Delete, Node, Op, SetData, TransactionFailed, Tree
from model.errors import Conflict, CorruptRecord, NotFound, StoreUnavailable, UnsupportedSchema
from model.records import TaskRecord

log = logging.getLogger(__name__)

# Above this many documents a cluster is deleted in several transactions, leaves first.
MAX_TRANSACTION_OPS = 1000
SNAPSHOT_ATTEMPTS = 5
CAS_ATTEMPTS = 50


class DocumentStore:
    """``Store`` on any ``Tree``; ``ZooKeeperStore`` and ``MemoryStore`` only choose the tree."""

    def __init__(self, tree: Tree, root: str, *, clock: Callable[[], float] = time.time) -> None:
        self._tree = tree
        self._paths = Layout(check_root(root))
        self._clock = clock
        self._schema = self._open_schema()

    @property
    def root(self) -> str:
        return self._paths.root

    @property
    def leader_path(self) -> str:
        return self._paths.leader

    # -- schema -----------------------------------------------------------------------------------

    def _open_schema(self) -> int:
        p = self._paths
        self._tree.ensure_path(p.root)
        node = self._tree.get(p.schema)
        if node is None:
            try:
                self._tree.commit(
                    [
                        Create(p.schema, codec.encode_schema(SCHEMA_VERSION)),
                        Create(p.clusters),
                        Create(p.generation),
                    ]
                )
            except TransactionFailed as exc:
                if exc.kind != "exists":
                    raise
                # Another instance initialised the root at the same moment: read what it wrote.
            node = self._tree.get(p.schema)
            if node is None:
                raise CorruptRecord(f"{p.schema}: missing right after it was created")
        version = codec.decode_schema(p.schema, node.data)
        if version > SCHEMA_VERSION:
            raise UnsupportedSchema(
                f"{p.schema}: the store under {p.root} has schema version {version}, this framework reads "
                f"up to {SCHEMA_VERSION}; run a newer framework or use another root"
            )
        for path in (p.clusters, p.generation):
            if self._tree.get(path) is None:
                raise CorruptRecord(f"{path}: missing under a store with schema {version}")
        return version

    def schema_version(self) -> int:
        return self._schema

    # -- availability -----------------------------------------------------------------------------

    def is_writable(self) -> bool:
        return self._tree.is_writable()

    def wait_writable(self, timeout: float) -> bool:
        return self._tree.wait_writable(timeout)

    def add_state_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        return self._tree.add_state_listener(listener)

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        stop_data = self._tree.watch_data(self._paths.generation, callback)
        stop_state = self._tree.add_state_listener(lambda _writable: callback())

        def unsubscribe() -> None:
            stop_data()
            stop_state()

        return unsubscribe

    def election(self, identifier: str) -> Election:
        raise NotImplementedError("each store binds its election to its own session")

    def close(self) -> None:
        self._tree.close()

    # -- writing ----------------------------------------------------------------------------------

    def _commit(self, ops: Sequence[Op]) -> list[int]:
        if not self._tree.is_writable():
            raise StoreUnavailable(f"ZooKeeper session of {self.root} is not connected: refusing to write")
        return self._tree.commit([*ops, SetData(self._paths.generation, b"", ANY_VERSION)])

    def _require_cluster(self, cluster: str) -> None:
        if self._tree.get(self._paths.cluster(cluster)) is None:
            raise NotFound(f"cluster {cluster!r} not found")

    def _put_document(self, path: str, data: bytes, expected_version: int | None, what: str) -> int:
        """Create, compare-and-set or overwrite one document whose parent directory must exist."""
        for _ in range(CAS_ATTEMPTS):
            version = expected_version
            if version == ANY_VERSION:
                current = self._tree.get(path)
                version = None if current is None else ANY_VERSION
            op: Op = Create(path, data) if version is None else SetData(path, data, version)
            try:
                return self._commit([op])[0]
            except TransactionFailed as exc:
                if exc.kind == "missing" and isinstance(op, Create):
                    raise NotFound(f"{what}: its cluster does not exist") from exc
                if expected_version == ANY_VERSION:
                    continue  # created or deleted concurrently: look again
                if exc.kind == "exists":
                    raise Conflict(f"{what} already exists") from exc
                if exc.kind == "missing":
                    raise Conflict(f"{what} does not exist (any more)") from exc
                raise Conflict(
                    f"{what} changed since version {expected_version} was read: re-read and retry"
                ) from exc
        raise Conflict(f"{what}: too much concurrent change, gave up after {CAS_ATTEMPTS} attempts")

    def _delete_document(self, path: str, expected_version: int, what: str) -> bool:
        try:
            self._commit([Delete(path, expected_version)])
        except TransactionFailed as exc:
            if exc.kind == "missing":
                return False
            raise Conflict(f"{what} changed since version {expected_version} was read") from exc
        return True

    # -- framework --------------------------------------------------------------------------------

    def get_framework_id(self) -> str | None:
        node = self._tree.get(self._paths.framework_id)
        return None if node is None else codec.decode_framework_id(self._paths.framework_id, node.data)

    def set_framework_id(self, framework_id: str) -> None:
        data = codec.encode_framework_id(framework_id)
        self._put_document(self._paths.framework_id, data, ANY_VERSION, "framework id")

    # -- clusters and configs ---------------------------------------------------------------------

    def list_clusters(self) -> list[str]:
        return self._tree.children(self._paths.clusters) or []

    def put_config(self, cluster: str, spec: JsonObject, expected_target_version: int | None) -> str:
        p = self._paths
        spec = codec.require_object("cluster spec", spec)
        for _ in range(CAS_ATTEMPTS):
            current = self._read_target_pointer(cluster)
            if expected_target_version is None and current is not None:
                raise Conflict(f"cluster {cluster!r} already exists")
            if expected_target_version not in (None, ANY_VERSION) and current is None:
                raise NotFound(f"cluster {cluster!r} not found")
            sequence = 1 if current is None else current[1] + 1
            config_id = codec.config_id_for(sequence, uuid.uuid4().hex[:8])
            config = Create(p.config(cluster, config_id), codec.encode_config(config_id, spec, self._clock()))
            target_data = codec.encode_target(config_id, sequence)
            ops: list[Op]
            if current is None:
                ops = [
                    Create(p.cluster(cluster)),
                    Create(p.target(cluster), target_data),
                    *(Create(d) for d in p.cluster_dirs(cluster)),
                    config,
                ]
            else:
                version = current[2] if expected_target_version == ANY_VERSION else expected_target_version
                assert version is not None
                ops = [SetData(p.target(cluster), target_data, version), config]
            try:
                self._commit(ops)
                return config_id
            except TransactionFailed as exc:
                if expected_target_version == ANY_VERSION:
                    continue
                if exc.kind == "exists" and exc.path == p.cluster(cluster):
                    raise Conflict(f"cluster {cluster!r} already exists") from exc
                if exc.kind == "missing":
                    raise NotFound(f"cluster {cluster!r} not found") from exc
                raise Conflict(
                    f"the target of cluster {cluster!r} moved since version {expected_target_version} "
                    "was read: re-read and retry"
                ) from exc
        raise Conflict(
            f"cluster {cluster!r}: too much concurrent change, gave up after {CAS_ATTEMPTS} attempts"
        )

    def _read_target_pointer(self, cluster: str) -> tuple[str, int, int] | None:
        """``(config_id, sequence, znode version)`` of the target, None for an unknown cluster."""
        path = self._paths.target(cluster)
        node = self._tree.get(path)
        if node is None:
            return None
        config_id, sequence = codec.decode_target(path, node.data)
        return config_id, sequence, node.version

    def get_target_versioned(self, cluster: str) -> Target | None:
        for _ in range(CAS_ATTEMPTS):
            pointer = self._read_target_pointer(cluster)
            if pointer is None:
                return None
            config_id, _, version = pointer
            path = self._paths.config(cluster, config_id)
            node = self._tree.get(path)
            if node is None:
                if self._read_target_pointer(cluster) == pointer:
                    raise CorruptRecord(
                        f"{self._paths.target(cluster)}: points at {path}, which does not exist"
                    )
                continue  # deleted and recreated between the two reads
            return Target(config_id, codec.decode_config(path, node.data, config_id).spec, version)
        raise StoreUnavailable(f"cluster {cluster!r}: its target kept changing while being read")

    def get_target(self, cluster: str) -> tuple[str, JsonObject] | None:
        target = self.get_target_versioned(cluster)
        return None if target is None else (target.config_id, target.spec)

    def get_config(self, cluster: str, config_id: str) -> ConfigVersion:
        path = self._paths.config(cluster, config_id)
        node = self._tree.get(path)
        if node is None:
            raise NotFound(f"config {config_id!r} of cluster {cluster!r} not found")
        return codec.decode_config(path, node.data, config_id)

    def list_configs(self, cluster: str) -> list[str]:
        return self._tree.children(self._paths.configs(cluster)) or []

    def delete_cluster(self, cluster: str) -> bool:
        p = self._paths
        for _ in range(CAS_ATTEMPTS):
            if self._tree.get(p.cluster(cluster)) is None:
                return False
            dirs = p.cluster_dirs(cluster)
            listed = self._tree.children_many(dirs)
            leaves = [
                f"{d}/{child}" for d, children in zip(dirs, listed, strict=True) for child in children or []
            ]
            # Huge clusters: leaves in batches first (each batch atomic), the cluster itself last,
            # with the target's config in the last transaction so the target never dangles.
            pointer = self._read_target_pointer(cluster)
            if pointer is not None and (current := p.config(cluster, pointer[0])) in leaves:
                leaves.remove(current)
                leaves.append(current)
            while len(leaves) > MAX_TRANSACTION_OPS:
                batch, leaves = leaves[:MAX_TRANSACTION_OPS], leaves[MAX_TRANSACTION_OPS:]
                self._commit_tolerant([Delete(path) for path in batch])
            ops: list[Op] = [Delete(path) for path in leaves]
            ops += [Delete(p.target(cluster)), *(Delete(d) for d in dirs), Delete(p.cluster(cluster))]
            try:
                self._commit(ops)
                return True
            except TransactionFailed:
                continue  # something was added or removed meanwhile: list again
        raise Conflict(f"cluster {cluster!r} kept changing while being deleted; try again")

    def _commit_tolerant(self, ops: Sequence[Op]) -> None:
        try:
            self._commit(ops)
        except TransactionFailed as exc:
            if exc.kind != "missing":
                raise

    # -- tasks ------------------------------------------------------------------------------------

    def put_task(self, record: TaskRecord, expected_version: int | None) -> int:
        check_name("cluster", record.cluster)
        check_name("node", record.node)
        data = codec.encode_task(record)
        what = f"task record of {record.cluster}/{record.node}"
        path = self._paths.task(record.cluster, record.node)
        self._require_cluster(record.cluster)
        return self._put_document(path, data, expected_version, what)

    def get_task(self, cluster: str, node: str) -> tuple[TaskRecord, int] | None:
        path = self._paths.task(cluster, node)
        found = self._tree.get(path)
        if found is None:
            return None
        return codec.decode_task(path, found.data, cluster, node), found.version

    def update_status(self, cluster: str, node: str, status: JsonObject) -> bool:
        status = codec.require_object("task status", status)
        task_id = codec.status_task_id(status)
        path = self._paths.task(cluster, node)
        for _ in range(CAS_ATTEMPTS):
            found = self._tree.get(path)
            if found is None:
                return False
            record = codec.decode_task(path, found.data, cluster, node)
            if record.task_id != task_id:
                return False
            try:
                self._commit([SetData(path, codec.encode_task(record.with_status(status)), found.version)])
                return True
            except TransactionFailed:
                continue  # the record changed under us (relaunch, concurrent status): read again
        raise Conflict(f"task record of {cluster}/{node}: too much concurrent change")

    def get_tasks(self, cluster: str) -> dict[str, TaskRecord]:
        return {node: record for node, (record, _) in self._read_tasks(cluster).items()}

    def _read_tasks(self, cluster: str) -> dict[str, tuple[TaskRecord, int]]:
        parent = self._paths.tasks(cluster)
        names = self._tree.children(parent) or []
        paths = [f"{parent}/{n}" for n in names]
        out: dict[str, tuple[TaskRecord, int]] = {}
        found_all = self._tree.get_many(paths)
        with codec.gc_paused():
            for name, path, found in zip(names, paths, found_all, strict=True):
                if found is not None:
                    out[name] = (codec.decode_task(path, found.data, cluster, name), found.version)
        return out

    def delete_task(self, cluster: str, node: str, expected_version: int = ANY_VERSION) -> bool:
        return self._delete_document(
            self._paths.task(cluster, node), expected_version, f"task record of {cluster}/{node}"
        )

    # -- intents and peers ------------------------------------------------------------------------

    def _read_objects(self, parent: str) -> dict[str, JsonObject]:
        names = self._tree.children(parent) or []
        paths = [f"{parent}/{n}" for n in names]
        return {
            name: codec.decode_object(path, found.data)
            for name, path, found in zip(names, paths, self._tree.get_many(paths), strict=True)
            if found is not None
        }

    def get_intents(self, cluster: str) -> dict[str, JsonObject]:
        return self._read_objects(self._paths.intents(cluster))

    def get_intent(self, cluster: str, plan: str) -> tuple[JsonObject, int] | None:
        path = self._paths.intent(cluster, plan)
        found = self._tree.get(path)
        if found is None:
            return None
        return codec.decode_object(path, found.data), found.version

    def put_intent(
        self, cluster: str, plan: str, data: JsonObject, expected_version: int | None = ANY_VERSION
    ) -> int:
        path = self._paths.intent(cluster, plan)
        what = f"intent of plan {plan!r} of cluster {cluster!r}"
        encoded = codec.encode(what, codec.require_object(what, data))
        self._require_cluster(cluster)
        return self._put_document(path, encoded, expected_version, what)

    def delete_intent(self, cluster: str, plan: str) -> bool:
        return self._delete_document(self._paths.intent(cluster, plan), ANY_VERSION, f"intent {plan!r}")

    def get_peers(self, cluster: str) -> dict[str, JsonObject]:
        return self._read_objects(self._paths.peers(cluster))

    def put_peer(self, cluster: str, data_center: str, data: JsonObject) -> int:
        path = self._paths.peer(cluster, data_center)
        what = f"peer datacenter {data_center!r} of cluster {cluster!r}"
        encoded = codec.encode(what, codec.require_object(what, data))
        self._require_cluster(cluster)
        return self._put_document(path, encoded, ANY_VERSION, what)

    def delete_peer(self, cluster: str, data_center: str) -> bool:
        return self._delete_document(
            self._paths.peer(cluster, data_center), ANY_VERSION, f"peer datacenter {data_center!r}"
        )

    # -- snapshot ---------------------------------------------------------------------------------

    def snapshot(self) -> StoreSnapshot:
        p = self._paths
        self._tree.sync(p.root)
        for _ in range(SNAPSHOT_ATTEMPTS):
            before = self._generation()
            read = self._read_everything()
            if self._generation() == before:
                with codec.gc_paused():
                    return self._decode_snapshot(before, True, *read)
        # A store under constant writes (status updates of a big cluster) would starve an exact
        # cut; rather than stall the reconciler, hand out what was read, marked as such: each
        # document is whole, a target and its config always match, documents may differ in age.
        log.warning("%s: store busy, snapshot not an exact cut after %d attempts", p.root, SNAPSHOT_ATTEMPTS)
        with codec.gc_paused():
            return self._decode_snapshot(before, False, *read)

    def _generation(self) -> int:
        node = self._tree.get(self._paths.generation)
        if node is None:
            raise CorruptRecord(f"{self._paths.generation}: missing")
        return node.version

    def _read_everything(
        self,
    ) -> tuple[Node | None, list[str], dict[str, dict[str, list[str]]], dict[str, Node | None]]:
        """Raw reads in three pipelined rounds: names, then the target pointers, then every document."""
        p = self._paths
        framework = self._tree.get(p.framework_id)
        clusters = self._tree.children(p.clusters) or []
        kinds = ("tasks", "intents", "peers")
        dir_paths = [f"{p.cluster(c)}/{k}" for c in clusters for k in kinds]
        listed = self._tree.children_many(dir_paths)
        names: dict[str, dict[str, list[str]]] = {c: {} for c in clusters}
        for i, children in enumerate(listed):
            names[clusters[i // len(kinds)]][kinds[i % len(kinds)]] = children or []
        targets = self._tree.get_many([p.target(c) for c in clusters])
        docs: dict[str, Node | None] = {}
        wanted: list[str] = []
        for cluster, target in zip(clusters, targets, strict=True):
            docs[p.target(cluster)] = target
            if target is not None:
                config_id, _ = codec.decode_target(p.target(cluster), target.data)
                wanted.append(p.config(cluster, config_id))
            for kind in kinds:
                wanted += [f"{p.cluster(cluster)}/{kind}/{n}" for n in names[cluster][kind]]
        docs.update(zip(wanted, self._tree.get_many(wanted), strict=True))
        return framework, clusters, names, docs

    def _decode_snapshot(
        self,
        generation: int,
        exact: bool,
        framework: Node | None,
        clusters: list[str],
        names: Mapping[str, Mapping[str, list[str]]],
        docs: Mapping[str, Node | None],
    ) -> StoreSnapshot:
        p = self._paths
        states: dict[str, ClusterState] = {}
        for cluster in clusters:
            target: Target | None = None
            pointer = docs[p.target(cluster)]
            if pointer is not None:
                config_id, _ = codec.decode_target(p.target(cluster), pointer.data)
                config_path = p.config(cluster, config_id)
                config = docs[config_path]
                if config is None:
                    raise CorruptRecord(f"{p.target(cluster)}: points at {config_path}, which does not exist")
                spec = codec.decode_config(config_path, config.data, config_id).spec
                target = Target(config_id, spec, pointer.version)
            tasks: dict[str, TaskRecord] = {}
            task_versions: dict[str, int] = {}
            for node in names[cluster]["tasks"]:
                path = p.task(cluster, node)
                found = docs[path]
                if found is not None:
                    tasks[node] = codec.decode_task(path, found.data, cluster, node)
                    task_versions[node] = found.version
            states[cluster] = ClusterState(
                name=cluster,
                target=target,
                tasks=tasks,
                task_versions=task_versions,
                intents=self._decode_objects(docs, p.intents(cluster), names[cluster]["intents"]),
                peers=self._decode_objects(docs, p.peers(cluster), names[cluster]["peers"]),
            )
        framework_id = (
            None if framework is None else codec.decode_framework_id(p.framework_id, framework.data)
        )
        return StoreSnapshot(self._schema, framework_id, states, generation, exact)

    @staticmethod
    def _decode_objects(docs: Mapping[str, Node | None], parent: str, names: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in names:
            path = f"{parent}/{name}"
            found = docs[path]
            if found is not None:
                out[name] = codec.decode_object(path, found.data)
        return out


def _implements_store(store: DocumentStore) -> Store:
    return store  # mypy proves here that DocumentStore keeps the Store protocol
