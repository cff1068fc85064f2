"""Fetcher, volumes and task environment on real files (no processes)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from localmesos.agent import paths
from localmesos.agent.errors import LaunchError
from localmesos.agent.fetcher import fetch_all
from localmesos.agent.taskenv import task_environment
from localmesos.agent.volumes import link_task_volumes, sync_volumes


def _volume(pid: str, role: str = "cassandra", container_path: str = "data") -> dict:
    return {
        "name": "disk",
        "type": "SCALAR",
        "scalar": {"value": 64},
        "reservations": [{"type": "DYNAMIC", "role": role}],
        "disk": {"persistence": {"id": pid}, "volume": {"mode": "RW", "container_path": container_path}},
    }


def test_fetcher_copies_extracts_and_marks_executable(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    (src / "inner.txt").write_text("inside")
    with tarfile.open(src / "bundle.tar.gz", "w:gz") as tar:
        tar.add(src / "inner.txt", arcname="bundle/inner.txt")
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    fetch_all(
        [
            {"value": str(src / "tool.sh"), "executable": True},
            {"value": f"file://{src / 'bundle.tar.gz'}"},
            {"value": str(src / "inner.txt"), "output_file": "conf/renamed.txt"},
        ],
        sandbox,
        "c1",
    )
    assert os.access(sandbox / "tool.sh", os.X_OK)
    assert (sandbox / "bundle" / "inner.txt").read_text() == "inside"
    assert (sandbox / "bundle.tar.gz").exists()  # without cache both archive and contents remain
    assert (sandbox / "conf" / "renamed.txt").read_text() == "inside"


def test_fetch_failure_names_the_container_and_uri(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    with pytest.raises(LaunchError, match=r"Failed to fetch all URIs for container 'c9': .*/nope.tgz"):
        fetch_all([{"value": str(tmp_path / "nope.tgz")}], sandbox, "c9")
    assert "nope.tgz" in (sandbox / "stderr").read_text()


def test_volumes_are_created_linked_and_destroyed(tmp_path: Path) -> None:
    work = str(tmp_path)
    sync_volumes(work, [], [_volume("v1", role="eng/db")])
    vdir = paths.volume_dir(work, "eng/db", "v1")
    assert vdir == tmp_path / "volumes" / "roles" / "eng db" / "v1" and vdir.is_dir()
    sandbox = tmp_path / "sb"
    sandbox.mkdir()
    task = {"resources": [_volume("v1", role="eng/db"), _volume("v2", container_path="/abs")]}
    warnings = link_task_volumes(work, task, sandbox)
    (sandbox / "data" / "f").write_text("kept")
    assert (vdir / "f").read_text() == "kept"
    assert len(warnings) == 1 and "'/abs' is not a single relative path component" in warnings[0]
    sync_volumes(work, [_volume("v1", role="eng/db")], [])
    assert not vdir.exists()


def test_task_environment_follows_mesos_1_11() -> None:
    env = task_environment(
        framework_id="F",
        executor_id="t1",
        sandbox="/sb",
        agent_id="A",
        agent_ip="127.0.3.1",
        agent_port=5051,
        checkpoint=True,
        task={
            "command": {
                "environment": {
                    "variables": [{"name": "NODE", "value": "n1"}, {"name": "PATH", "value": "/opt/bin"}]
                }
            },
            "resources": [{"name": "cpus", "allocation_info": {"role": "cassandra"}}],
        },
    )
    assert env["MESOS_SLAVE_PID"] == "slave(1)@127.0.3.1:5051"
    assert env["MESOS_AGENT_ENDPOINT"] == "127.0.3.1:5051"
    assert env["MESOS_SANDBOX"] == env["MESOS_DIRECTORY"] == "/sb"
    assert env["MESOS_EXECUTOR_ID"] == "t1" and env["MESOS_CHECKPOINT"] == "1"
    assert env["MESOS_ALLOCATION_ROLE"] == "cassandra"
    assert env["NODE"] == "n1" and env["PATH"] == "/opt/bin"
    assert "MESOS_TASK_ID" not in env


def test_secret_environment_variables_are_refused() -> None:
    with pytest.raises(LaunchError, match="'TOKEN' of type 'SECRET'"):
        task_environment(
            framework_id="F",
            executor_id="t",
            sandbox="/sb",
            agent_id="A",
            agent_ip="127.0.0.1",
            agent_port=1,
            checkpoint=False,
            task={"command": {"environment": {"variables": [{"name": "TOKEN", "type": "SECRET"}]}}},
        )


def test_executor_environment_flag_is_the_base_and_mesos_variables_win() -> None:
    env = task_environment(
        framework_id="F",
        executor_id="t",
        sandbox="/sb",
        agent_id="A",
        agent_ip="127.0.0.1",
        agent_port=1,
        checkpoint=False,
        task={"command": {}},
        executor_environment={"PATH": "/venv/bin", "MESOS_SANDBOX": "/elsewhere", "EXTRA": "1"},
    )
    assert env["PATH"] == "/venv/bin" and env["EXTRA"] == "1" and env["MESOS_SANDBOX"] == "/sb"
