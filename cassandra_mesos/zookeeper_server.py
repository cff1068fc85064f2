"""A standalone Apache ZooKeeper server run from the pinned jars, for `cassandra-mesos up` and the tests.

One JVM (JDK 17, small heap) in its own process group, configured by a generated ``zoo.cfg``
under the work dir: loopback client port picked free (ZooKeeper refuses port 0), data dir
beside it, admin server off, only the ``ruok``/``srvr`` four-letter words enabled; the log goes
to ``zookeeper.log`` (rolled at 10 MB), what the JVM prints itself to ``zookeeper.out``.
``start()`` returns once ``srvr`` reports a mode (serving); ``stop()`` ends the whole process
group. A stopped server starts again on the same port and data dir, which is how the store's
outage test takes ZooKeeper away and brings it back with its data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from jvm import classpath, find_java17, zookeeper_lib
from jvm.process import die_with_parent

MAIN_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain"
HOST = "127.0.0.1"

# INFO into a log capped at 4 x 10 MB: `cassandra-mesos up` may run for days.
_LOGBACK = """<configuration>
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${zookeeper.log.file}</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>${zookeeper.log.file}.%i</fileNamePattern>
      <minIndex>1</minIndex><maxIndex>3</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>10MB</maxFileSize>
    </triggeringPolicy>
    <encoder><pattern>%d{ISO8601} %-5level [%thread] %logger{0}: %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
"""


class ZooKeeperStartError(RuntimeError):
    """The server did not come up; the message carries the tail of its log."""


def free_port(host: str = HOST) -> int:
    """A port free on ``host`` right now (ZooKeeper cannot bind port 0 and tell us which it got)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as ZooKeeper binds it
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def four_letter_word(host: str, port: int, word: str, timeout: float = 1.0) -> str:
    """Send a four-letter command (``ruok``, ``srvr``) and return the answer; '' if nobody answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(word.encode("ascii"))
            chunks: list[bytes] = []
            while chunk := s.recv(4096):
                chunks.append(chunk)
    except OSError:
        return ""
    return b"".join(chunks).decode("utf-8", "replace")


class ZooKeeperServer:
    """One standalone ZooKeeper 3.9 server; ``with ZooKeeperServer(work_dir) as zk: zk.hosts``."""

    def __init__(
        self,
        work_dir: Path,
        *,
        port: int | None = None,
        heap_mb: int = 128,
        tick_ms: int = 500,
        fsync: bool = True,
        start_timeout: float = 60.0,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.data_dir = self.work_dir / "data"
        self.config_path = self.work_dir / "zoo.cfg"
        self.log_path = self.work_dir / "zookeeper.log"
        # What the JVM prints itself (class loading errors, crashes), before or beside logback.
        self.out_path = self.work_dir / "zookeeper.out"
        self.logback_path = self.work_dir / "logback.xml"
        # 0 or None: pick a free port now (ZooKeeper would bind an ephemeral one and not say which).
        self.port = port or free_port()
        self._heap_mb = heap_mb
        # tick bounds the session timeouts clients may negotiate (2 to 20 ticks): 1 s to 10 s here.
        self._tick_ms = tick_ms
        self._fsync = fsync
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def hosts(self) -> str:
        """Connection string for kazoo: ``127.0.0.1:<port>``."""
        return f"{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"tickTime={self._tick_ms}",
            f"dataDir={self.data_dir}",
            f"clientPort={self.port}",
            f"clientPortAddress={HOST}",
            "maxClientCnxns=0",
            "admin.enableServer=false",
            "4lw.commands.whitelist=ruok,srvr",
            f"forceSync={'yes' if self._fsync else 'no'}",
            # Keep the data dir small across long `up` sessions.
            "autopurge.snapRetainCount=3",
            "autopurge.purgeInterval=1",
        ]
        self.config_path.write_text("\n".join(lines) + "\n")
        # Logback's default is DEBUG for everything, to stdout.
        self.logback_path.write_text(_LOGBACK)

    def _command(self) -> list[str]:
        return [
            str(find_java17()),
            f"-Xmx{self._heap_mb}m",
            f"-Xms{min(self._heap_mb, 32)}m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xss512k",
            "-Dzookeeper.admin.enableServer=false",
            "-Dzookeeper.jmx.log4j.disable=true",
            f"-Dlogback.configurationFile={self.logback_path}",
            f"-Dzookeeper.log.file={self.log_path}",
            "-cp",
            classpath(zookeeper_lib()),
            MAIN_CLASS,
            str(self.config_path),
        ]

    def start(self) -> ZooKeeperServer:
        """Start the server (same port and data dir as before, if it ran already) and wait until it serves."""
        if self.running:
            return self
        if not _port_free(self.port):
            # Otherwise another server on the port would answer `srvr` for us.
            raise ZooKeeperStartError(f"cannot start ZooKeeper: {self.hosts} is already in use")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        with self.out_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self._command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work_dir,
                start_new_session=True,  # own process group: stop() can end all of it
                preexec_fn=die_with_parent,  # a killed test runner or `up` leaves no server behind
            )
        try:
            self._wait_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_serving(self) -> None:
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc.returncode if self._proc else None
                raise ZooKeeperStartError(
                    f"ZooKeeper exited with code {code} on port {self.port}; see {self.out_path} and "
                    f"{self.log_path}:\n" + self._log_tail()
                )
            # `ruok` says imok as soon as the port is bound, even if the server then fails to load
            # its data; `srvr` reports a mode only once requests are served.
            if "Mode:" in four_letter_word(HOST, self.port, "srvr", timeout=0.5):
                return
            time.sleep(0.1)  # poll interval, not a stand-in for a condition
        raise ZooKeeperStartError(
            f"ZooKeeper did not start serving on {self.hosts} within {self._start_timeout:.0f}s; "
            f"see {self.out_path} and {self.log_path}:\n" + self._log_tail()
        )

    def _log_tail(self, lines: int = 30) -> str:
        tails = []
        for path in (self.out_path, self.log_path):
            try:
                tails += path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
        return "\n".join(tails) or "(no output)"

    def stop(self, timeout: float = 10.0) -> None:
        """End the server's process group: SIGTERM, then SIGKILL if it lingers. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        # Anything the JVM forked (nothing, normally) goes with the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def restart(self) -> ZooKeeperServer:
        self.stop()
        return self.start()

    def __enter__(self) -> ZooKeeperServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
