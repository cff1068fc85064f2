"""Backup and restore jobs on real files, with a scripted nodetool that acts on the data
directory as Cassandra would (snapshot = hard links, clearsnapshot, import = move files in)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from model.errors import InvalidInput
from model.maintenance import Job, JobStatus, MaintenanceRequest, parse_backup_body
from sidecar.backups import Backups
from sidecar.config import NodePaths
from sidecar.jobs import JobRunner
from sidecar.nodetool import Nodetool
from tests.sidecar.harness import node_config

TABLE = "kv-6f1c0e50a1b711ef9f2b7d3c5d6a0b1c"


class CassandraFiles:
    """What nodetool's snapshot, clearsnapshot and import do to the node's data directory."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.calls: list[list[str]] = []

    async def __call__(self, cmd: Sequence[str], timeout: float) -> tuple[int | None, str]:
        args = list(cmd[cmd.index("-p") + 2 :])
        self.calls.append(args)
        if args[0] == "snapshot":
            tag = args[args.index("-t") + 1]
            for table in self.data.glob("*/*"):
                snap = table / "snapshots" / tag
                snap.mkdir(parents=True)
                for f in table.iterdir():
                    if f.is_file():
                        (snap / f.name).hardlink_to(f)
                (snap / "manifest.json").write_text("{}")
                (snap / "schema.cql").write_text("CREATE TABLE ...")
        elif args[0] == "clearsnapshot":
            tag = args[args.index("-t") + 1]
            for snap in self.data.glob(f"*/*/snapshots/{tag}"):
                shutil.rmtree(snap)
        elif args[0] == "import":
            ks, table, source = args[-3:]
            (live,) = self.data.glob(f"{ks}/{table}-*")
            for f in Path(source).iterdir():
                f.rename(live / f.name)
        return 0, ""


def _node(tmp_path: Path) -> tuple[Backups, CassandraFiles, Path]:
    data = tmp_path / "volume" / "data"
    table = data / "shop" / TABLE
    table.mkdir(parents=True)
    (table / "nb-1-big-Data.db").write_bytes(b"rows")
    (data / "system" / "local-7ad54392bcdd35a684174e047860b377").mkdir(parents=True)
    files = CassandraFiles(data)
    node = node_config("http://s:1")
    paths = NodePaths(tmp_path, tmp_path / "volume", tmp_path, tmp_path, tmp_path, tmp_path, Path("/java"))
    nodetool = Nodetool(paths, node.ports.jmx, runner=files)
    return Backups(nodetool, "node-0", data, tmp_path / "volume" / "restore-staging"), files, data


async def _ended(jobs: JobRunner, job: Job) -> JobStatus:
    """Start ``job`` and wait (at most 2 s) until it is no longer running."""
    jobs.start(job)
    for _ in range(200):
        status = jobs.get(job.id)
        assert status is not None
        if not status.running:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job.id} did not end")


async def _run(jobs: JobRunner, job: Job) -> str:
    status = await _ended(jobs, job)
    assert status.state == "SUCCEEDED", status.message
    return status.message


async def test_a_backup_copies_the_snapshot_out_and_a_restore_imports_it_back(tmp_path: Path) -> None:
    backups, files, data = _node(tmp_path)
    jobs = JobRunner(backups.nodetool, backups=backups)
    location = tmp_path / "nfs"
    location.mkdir()
    request = MaintenanceRequest("backup", "op", ("node-0",), 1.0, backup_name="b1", location=str(location))
    done = await _run(jobs, request.job("node-0", 1))
    saved = location / "b1" / "node-0"
    assert sorted(p.name for p in (saved / "shop" / "kv").iterdir()) == [
        "manifest.json",
        "nb-1-big-Data.db",
        "schema.cql",
    ]
    assert not (saved / "system").exists()  # local system keyspaces are not backed up
    assert json.loads((saved / "COMPLETE").read_text())["files"] == 3 and "3 file(s)" in done
    assert not list(data.glob("*/*/snapshots/b1"))  # the snapshot is cleared
    # A second backup of the same name is refused rather than overwritten.
    failed = await _ended(jobs, request.job("node-0", 2))
    assert failed.state == "FAILED" and "already holds" in failed.message

    # Data lost (a TRUNCATE), then the restore brings the files back through nodetool import.
    for f in (data / "shop" / TABLE).iterdir():
        if f.is_file():
            f.unlink()
    restore = MaintenanceRequest("restore", "op2", ("node-0",), 2.0, backup_name="b1", location=str(location))
    await _run(jobs, restore.job("node-0", 1))
    assert [f.name for f in (data / "shop" / TABLE).iterdir() if f.is_file()] == ["nb-1-big-Data.db"]
    assert files.calls[-1][:4] == ["import", "--", "shop", "kv"]


class ScriptedCql:
    """CQL as the node answers it: server-side DESCRIBE of keyspace shop; records what was run."""

    SCHEMA = [
        "CREATE KEYSPACE shop WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3'};",
        "CREATE TYPE shop.addr (street text);",
        "CREATE TABLE shop.kv (k int PRIMARY KEY, v text);",
    ]

    def __init__(self, fail_on: str | None = None) -> None:
        self.run: list[str] = []
        self.fail_on = fail_on

    async def __call__(self, statement: str, timeout: float) -> list[dict[str, object]]:
        self.run.append(statement)
        if self.fail_on and self.fail_on in statement:
            raise RuntimeError("Unauthorized: no CREATE permission")
        if statement == 'DESCRIBE KEYSPACE "shop"':
            return [
                {"keyspace_name": "shop", "type": "x", "name": "x", "create_statement": c}
                for c in self.SCHEMA
            ]
        return []


async def test_the_schema_is_saved_with_the_backup_and_recreated_if_not_exists_by_the_restore(
    tmp_path: Path,
) -> None:
    backups, files, data = _node(tmp_path)
    backups.cql = cql = ScriptedCql()
    jobs = JobRunner(backups.nodetool, backups=backups)
    location = tmp_path / "nfs"
    location.mkdir()
    request = MaintenanceRequest("backup", "op", ("node-0",), 1.0, backup_name="b1", location=str(location))
    done = await _run(jobs, request.job("node-0", 1))
    assert "schema of 1 keyspace(s) saved" in done
    saved = location / "b1" / "node-0" / "shop"
    assert json.loads((saved / "schema.json").read_text()) == ScriptedCql.SCHEMA
    assert (saved / "keyspace.cql").read_text().startswith("CREATE KEYSPACE shop")

    # The keyspace is dropped: the restore creates it again (only what is missing), then imports.
    shutil.rmtree(data / "shop")
    (data / "shop" / TABLE).mkdir(parents=True)  # what CREATE TABLE does on the real node
    cql.run.clear()
    restore = MaintenanceRequest("restore", "op2", ("node-0",), 2.0, backup_name="b1", location=str(location))
    message = await _run(jobs, restore.job("node-0", 1))
    assert cql.run == [
        "CREATE KEYSPACE IF NOT EXISTS shop WITH replication = {'class': 'NetworkTopologyStrategy', "
        "'dc1': '3'};",
        "CREATE TYPE IF NOT EXISTS shop.addr (street text);",
        "CREATE TABLE IF NOT EXISTS shop.kv (k int PRIMARY KEY, v text);",
    ]
    assert "after 3 schema statement(s)" in message
    assert [f.name for f in (data / "shop" / TABLE).iterdir() if f.is_file()] == ["nb-1-big-Data.db"]

    # A schema that cannot be created fails the restore naming the statement, before any import.
    backups.cql = ScriptedCql(fail_on="CREATE TABLE")
    files.calls.clear()
    failed = await _ended(jobs, restore.job("node-0", 2))
    assert failed.state == "FAILED" and "cannot create the schema of shop" in failed.message
    assert "no CREATE permission" in failed.message and "CREATE TABLE IF NOT EXISTS shop.kv" in failed.message
    assert not [c for c in files.calls if c[0] == "import"]


async def test_a_backup_without_cql_still_saves_the_data_and_says_the_schema_is_missing(
    tmp_path: Path,
) -> None:
    backups, _, _ = _node(tmp_path)
    backups.cql = ScriptedCql(fail_on="DESCRIBE")
    jobs = JobRunner(backups.nodetool, backups=backups)
    location = tmp_path / "nfs"
    location.mkdir()
    request = MaintenanceRequest("backup", "op", ("node-0",), 1.0, backup_name="b1", location=str(location))
    done = await _run(jobs, request.job("node-0", 1))
    assert "3 file(s) backed up" in done and "schema not saved (RuntimeError: Unauthorized" in done
    assert (location / "b1" / "node-0" / "COMPLETE").exists()


async def test_a_restore_of_a_missing_backup_fails_saying_what_is_missing(tmp_path: Path) -> None:
    backups, _, _ = _node(tmp_path)
    jobs = JobRunner(backups.nodetool, backups=backups)
    status = await _ended(jobs, Job("r", "restore", backup_name="nope", location=str(tmp_path)))
    assert status.state == "FAILED"
    assert f"no complete backup 'nope' of node-0 in {tmp_path}" in status.message


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"backup_name": "b1", "external_location": "s3://bucket/x"}, "s3:// is not supported"),
        ({"backup_name": "b1", "external_location": "relative/dir"}, "absolute directory path"),
        ({"backup_name": "b1", "external_location": "file:///a/../etc"}, "absolute directory path"),
        ({"backup_name": "../x", "external_location": "/b"}, "backup_name '../x'"),
        ({"external_location": "/b"}, "backup_name ''"),
        ({"backup_name": "b1"}, "external_location is required"),
        ({"backup_name": "b1", "external_location": "/b", "s3_access_key": "k"}, "unknown fields"),
    ],
)
def test_backup_bodies_are_refused_naming_what_is_wrong(body: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle.replace(".", r"\.").replace("(", r"\(")):
        parse_backup_body(body, "backup", ["node-0"], "op", 1.0)


def test_a_backup_body_names_every_launched_node_and_a_plain_path() -> None:
    r = parse_backup_body(
        {"backup_name": "b1", "external_location": "file:///mnt/b"}, "backup", ["node-0", "node-1"], "op", 1.0
    )
    assert (r.nodes, r.location, r.backup_name) == (("node-0", "node-1"), "/mnt/b", "b1")
    assert MaintenanceRequest.from_json(r.to_json()) == r
    assert Job.from_json(r.job("node-1", 1).to_json()) == r.job("node-1", 1)
