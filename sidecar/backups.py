"""Backup and restore of one node's tables to a directory every agent mounts (NFS or the like).

Layout of a backup: ``<location>/<backup_name>/<node>/<keyspace>/<table>/`` holds the files of
the node's snapshot of that table (SSTables, ``manifest.json`` and the table's ``schema.cql``,
which Cassandra writes into every snapshot), and ``<location>/<backup_name>/<node>/COMPLETE``
says the node's part finished (a JSON summary). Backup: ``nodetool snapshot -t <name>`` (a flush
and hard links, instant), copy, ``nodetool clearsnapshot -t <name>``. Restore: each table's files
are copied into a staging directory on the node's volume (the same filesystem as its data) and
loaded with ``nodetool import``, which checks them and moves them into the live table.

The schema travels with the data: each backed-up keyspace's ``DESCRIBE KEYSPACE`` (server-side,
over CQL) is saved as ``<ks>/schema.json`` (the statements, for the restore) and ``<ks>/keyspace.cql``
(the same, for people). A restore first creates what is missing (every statement with
``IF NOT EXISTS``: what exists is left as it is), so a dropped keyspace, or a new cluster, gets its
keyspaces and tables back before the import. Each node gets back the files it backed up, so the
cluster must have the same nodes and tokens (a new cluster of the same size and ``num_tokens``
has: tokens are computed from the node index).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import CassandraMesosError
from model.maintenance import IDENTIFIER_RE, Job
from sidecar.nodetool import Nodetool

# Local keyspaces (and those Cassandra rebuilds) are left out unless named.
SYSTEM_KEYSPACES = frozenset(
    {
        "system",
        "system_schema",
        "system_auth",
        "system_distributed",
        "system_traces",
        "system_views",
        "system_virtual_schema",
        "system_cluster_metadata",
    }
)
MARKER = "COMPLETE"
# Files of a snapshot that are not SSTable components: kept in the backup, not imported.
NOT_IMPORTED = frozenset({"manifest.json", "schema.cql"})


SCHEMA_JSON = "schema.json"
SCHEMA_CQL = "keyspace.cql"
# A CQL statement run on this node: rows as dicts. Raises on failure.
Cql = Callable[[str, float], Awaitable[list[dict[str, Any]]]]
DDL_TIMEOUT_S = 120.0
_CREATE = re.compile(
    r"^(\s*CREATE\s+(?:KEYSPACE|TABLE|TYPE|(?:CUSTOM\s+)?INDEX|MATERIALIZED\s+VIEW|FUNCTION|AGGREGATE|TRIGGER)\s+)"
    r"(?!IF\s+NOT\s+EXISTS\b)",
    re.IGNORECASE,
)


class BackupError(CassandraMesosError):
    """The backup location is missing, incomplete, or already holds this backup."""


def if_not_exists(statement: str) -> str:
    """``CREATE TABLE ks.t ...`` -> ``CREATE TABLE IF NOT EXISTS ks.t ...`` (idempotent)."""
    return _CREATE.sub(r"\1IF NOT EXISTS ", statement, count=1)


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _table_name(directory: str) -> str:
    """``kv-6f1c...`` (Cassandra's table directory) -> ``kv``."""
    return directory.rsplit("-", 1)[0]


def copy_snapshots(data: Path, tag: str, target: Path, key_spaces: Sequence[str]) -> int:
    """Copy every table's snapshot ``tag`` under ``data`` into ``target/<ks>/<table>``; file count."""
    copied = 0
    for ks_dir in sorted(p for p in data.iterdir() if p.is_dir()):
        ks = ks_dir.name
        if (key_spaces and ks not in key_spaces) or (not key_spaces and ks in SYSTEM_KEYSPACES):
            continue
        for table_dir in sorted(p for p in ks_dir.iterdir() if p.is_dir()):
            snapshot = table_dir / "snapshots" / tag
            if not snapshot.is_dir():
                continue
            dest = target / ks / _table_name(table_dir.name)
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(snapshot, dest)
            copied += sum(1 for f in dest.rglob("*") if f.is_file())
    return copied


def backed_up_tables(source: Path) -> list[tuple[str, str, Path]]:
    """(keyspace, table, directory) of a node's part of a backup."""
    out = []
    for ks_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        for table_dir in sorted(p for p in ks_dir.iterdir() if p.is_dir()):
            if IDENTIFIER_RE.match(ks_dir.name) and IDENTIFIER_RE.match(table_dir.name):
                out.append((ks_dir.name, table_dir.name, table_dir))
    return out


def stage(source: Path, staging: Path) -> int:
    """Copy a table's SSTable components into a fresh ``staging`` directory; file count."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    count = 0
    for f in source.iterdir():
        if f.is_file() and f.name not in NOT_IMPORTED:
            shutil.copy2(f, staging / f.name)
            count += 1
    return count


@dataclass
class Backups:
    nodetool: Nodetool
    node: str
    data: Path  # the node's data_file_directories entry
    staging: Path  # on the node's volume: nodetool import moves files from here
    cql: Cql | None = None  # for the schema; None: data only

    async def _save_schema(self, target: Path) -> str:
        """Each backed-up keyspace's DESCRIBE, next to its tables; what to add to the summary."""
        if self.cql is None:
            return "; schema not saved (no CQL here)"
        keyspaces = sorted(p.name for p in target.iterdir() if p.is_dir()) if target.is_dir() else []
        try:
            for ks in keyspaces:
                rows = await self.cql(f"DESCRIBE KEYSPACE {quoted(ks)}", DDL_TIMEOUT_S)
                statements = [str(r["create_statement"]) for r in rows if r.get("create_statement")]
                (target / ks / SCHEMA_JSON).write_text(json.dumps(statements, indent=1))
                (target / ks / SCHEMA_CQL).write_text("\n\n".join(statements) + "\n")
        except Exception as e:  # the data is backed up either way: say what is missing
            return f"; schema not saved ({type(e).__name__}: {e}); each table's schema.cql is in the backup"
        return f"; schema of {len(keyspaces)} keyspace(s) saved"

    async def _create_schema(self, source: Path, progress: Callable[[str], None]) -> int:
        """Run the backup's schema statements with IF NOT EXISTS; how many were run."""
        files = sorted(source.glob(f"*/{SCHEMA_JSON}"))
        if not files:
            return 0
        if self.cql is None:
            raise BackupError("the backup has a schema but this node has no CQL session to create it")
        run = 0
        for f in files:
            progress(f"creating what is missing of keyspace {f.parent.name}")
            for statement in json.loads(f.read_text()):
                ddl = if_not_exists(str(statement))
                try:
                    await self.cql(ddl, DDL_TIMEOUT_S)
                except Exception as e:
                    raise BackupError(
                        f"cannot create the schema of {f.parent.name}: {type(e).__name__}: {e} "
                        f"(statement: {ddl[:200]})"
                    ) from e
                run += 1
        return run

    def node_dir(self, job: Job) -> Path:
        return Path(job.location) / job.backup_name / self.node

    async def backup(self, job: Job, progress: Callable[[str], None]) -> str:
        location = Path(job.location)
        if not location.is_dir():
            raise BackupError(f"backup location {location} is not a directory on this agent (is it mounted?)")
        target = self.node_dir(job)
        if (target / MARKER).exists():
            raise BackupError(
                f"{target} already holds a complete backup {job.backup_name!r}: choose another name"
            )
        progress(f"nodetool snapshot -t {job.backup_name}")
        keyspaces = ["--", *job.key_spaces] if job.key_spaces else []
        await self.nodetool.run("snapshot", "-t", job.backup_name, *keyspaces, timeout=float("inf"))
        try:
            progress(f"copying the snapshot to {target}")
            count = await asyncio.to_thread(
                copy_snapshots, self.data, job.backup_name, target, job.key_spaces
            )
            progress("saving the schema")
            schema = await self._save_schema(target)
            summary = {"node": self.node, "files": count, "finished_at": time.time()}
            (target / MARKER).write_text(json.dumps(summary))
        finally:
            await self.nodetool.run("clearsnapshot", "-t", job.backup_name, timeout=120)
        return f"{count} file(s) backed up to {target}{schema}"

    async def restore(self, job: Job, progress: Callable[[str], None]) -> str:
        source = self.node_dir(job)
        if not (source / MARKER).exists():
            raise BackupError(f"no complete backup {job.backup_name!r} of {self.node} in {job.location}")
        created = await self._create_schema(source, progress)
        tables = backed_up_tables(source)
        for i, (ks, table, directory) in enumerate(tables, 1):
            progress(f"importing {ks}.{table} ({i}/{len(tables)})")
            staged = self.staging / job.backup_name / ks / table
            count = await asyncio.to_thread(stage, directory, staged)
            if count:
                await self.nodetool.run("import", "--", ks, table, str(staged), timeout=float("inf"))
            await asyncio.to_thread(shutil.rmtree, staged, True)
        schema = f" after {created} schema statement(s) with IF NOT EXISTS" if created else ""
        return f"{len(tables)} table(s) imported from {source}{schema}"
