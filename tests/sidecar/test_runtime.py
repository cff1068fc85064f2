"""Finding Cassandra's jars: a fetched tarball in the sandbox, an explicit path, or the local cache."""

from __future__ import annotations

from pathlib import Path

import pytest

import jvm
from sidecar.runtime import RuntimeNotFound, resolve_cassandra_lib, resolve_java
from tests.sidecar.harness import node_config


def _tarball_layout(sandbox: Path) -> Path:
    # What the fetcher leaves after extracting apache-cassandra-5.0.8-bin.tar.gz.
    lib = sandbox / "apache-cassandra-5.0.8" / "lib"
    lib.mkdir(parents=True)
    (lib / "apache-cassandra-5.0.8.jar").write_bytes(b"")
    (sandbox / "apache-cassandra-5.0.8" / "conf").mkdir()
    return lib


def test_fetched_tarball_in_the_sandbox_is_found(tmp_path: Path) -> None:
    lib = _tarball_layout(tmp_path)
    assert resolve_cassandra_lib(node_config("http://s:1"), tmp_path) == lib


def test_explicit_relative_lib_is_resolved_in_the_sandbox(tmp_path: Path) -> None:
    lib = _tarball_layout(tmp_path)
    config = node_config("http://s:1", cassandra_lib="apache-cassandra-5.0.8/lib")
    assert resolve_cassandra_lib(config, tmp_path) == lib


def test_without_a_tarball_the_local_jars_are_used(tmp_path: Path) -> None:
    assert resolve_cassandra_lib(node_config("http://s:1"), tmp_path) == jvm.cassandra_lib()


def test_jars_of_another_release_than_the_nodes_are_refused(tmp_path: Path) -> None:
    _tarball_layout(tmp_path)
    with pytest.raises(RuntimeNotFound, match=r"holds Cassandra 5\.0\.8, but this node must run 5\.0\.7"):
        resolve_cassandra_lib(node_config("http://s:1", cassandra_version="5.0.7"), tmp_path)
    # "5.0.x" takes whatever 5.0 release was fetched.
    assert resolve_cassandra_lib(node_config("http://s:1", cassandra_version="5.0.x"), tmp_path).is_dir()


def test_the_local_cache_has_a_directory_per_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "cache" / "cassandra-5.0.7" / "lib"
    lib.mkdir(parents=True)
    (lib / "cassandra-all-5.0.7.jar").write_bytes(b"")
    (lib / ".complete").write_text("x")
    monkeypatch.setenv("CM_CACHE", str(tmp_path / "cache"))
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    assert resolve_cassandra_lib(node_config("http://s:1", cassandra_version="5.0.7"), sandbox) == lib
    with pytest.raises(RuntimeNotFound, match=r"5\.0\.6 jars not found"):
        resolve_cassandra_lib(node_config("http://s:1", cassandra_version="5.0.6"), sandbox)


def test_explicit_lib_without_cassandra_jar_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    with pytest.raises(RuntimeNotFound, match="holds no cassandra-all"):
        resolve_cassandra_lib(node_config("http://s:1", cassandra_lib=str(tmp_path / "lib")), tmp_path)


def test_java_home_without_java_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeNotFound, match="has no bin/java"):
        resolve_java(node_config("http://s:1", java_home="jdk"), tmp_path)


def test_default_java_is_jdk17(tmp_path: Path) -> None:
    assert resolve_java(node_config("http://s:1"), tmp_path) == jvm.find_java17()
