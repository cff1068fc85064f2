"""Find JDK 17 and the jar directories the Makefile fills.

Cassandra 5.0 installs a SecurityManager at start-up, which JDK 24+ cannot do, so a newer JDK is
refused here rather than failing later inside the JVM. The jars live in a cache outside git
(``$CM_CACHE``, default ``~/.cache/cassandra-mesos``), filled once by ``make jars``.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path

CASSANDRA_VERSION = "5.0.8"
ZOOKEEPER_VERSION = "3.9.5"
REQUIRED_JAVA_MAJOR = 17


class JavaNotFound(RuntimeError):
    """No JDK 17 could be found."""


class JarsNotFound(RuntimeError):
    """The jar cache has not been filled (run ``make jars``)."""


def _cache() -> Path:
    return Path(os.environ.get("CM_CACHE", Path.home() / ".cache" / "cassandra-mesos"))


def java_major(java: Path) -> int | None:
    """The major version a ``java`` binary reports (8 for 1.8), None if it cannot run."""
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


@functools.cache
def find_java17() -> Path:
    """Path of a ``java`` binary of JDK 17: $CM_JAVA_HOME, $JAVA_HOME, /usr/lib/jvm, then PATH."""
    candidates: list[Path] = []
    for var in ("CM_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            candidates.append(Path(os.environ[var]) / "bin" / "java")
    jvm_dir = Path("/usr/lib/jvm")
    if jvm_dir.is_dir():
        candidates.extend(sorted(p / "bin" / "java" for p in jvm_dir.iterdir() if "17" in p.name))
    candidates.append(Path("/usr/bin/java"))
    seen: set[Path] = set()
    for java in candidates:
        real = java.resolve() if java.exists() else java
        if real in seen or not java.exists():
            continue
        seen.add(real)
        if java_major(java) == REQUIRED_JAVA_MAJOR:
            return java
    raise JavaNotFound(
        "JDK 17 not found (Cassandra 5.0 does not start on JDK 24+): install openjdk-17 "
        "or set CM_JAVA_HOME to a JDK 17"
    )


def _lib(env: str, name: str, version: str) -> Path:
    lib = Path((os.environ.get(env) if env else None) or _cache() / f"{name}-{version}" / "lib")
    if not (lib / ".complete").exists():
        raise JarsNotFound(f"{name} {version} jars not found in {lib}: run `make jars` (or `make test`)")
    return lib


def cassandra_lib(version: str | None = None) -> Path:
    """The jars of Cassandra ``version`` (default: the pinned one, or $CASSANDRA_LIB) in the cache."""
    if version is None or version == CASSANDRA_VERSION:
        return _lib("CASSANDRA_LIB", "cassandra", CASSANDRA_VERSION)
    return _lib("", "cassandra", version)


def zookeeper_lib() -> Path:
    return _lib("ZOOKEEPER_LIB", "zookeeper", ZOOKEEPER_VERSION)


def classpath(lib: Path) -> str:
    return ":".join(str(p) for p in sorted(lib.glob("*.jar")))
