"""Pure rendering of a node's Cassandra configuration from its NodeConfig and its seeds.

Nothing here touches the disk or the network: :func:`render` returns the file contents and the
JVM command line; :mod:`sidecar.files` writes them. Defaults are production-sane; test and
development sizing comes in through ``NodeConfig.cassandra_yaml`` / ``jvm_options``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from model.node_config import NodeConfig

# Keys of the stock 5.0 cassandra.yaml that Cassandra refuses to start without (reference §3.1),
# plus the choices this project makes; user overrides (cassandra_yaml) are merged on top.
BASE_YAML: Mapping[str, Any] = {
    "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
    "commitlog_sync": "periodic",
    "commitlog_sync_period": "10000ms",
    # mmap'd segments; 'direct' trips over tmpfs and a kernel-bug startup check (reference §5.2).
    "commitlog_disk_access_mode": "legacy",
    "start_native_transport": True,
    "authenticator": "AllowAllAuthenticator",
    "authorizer": "AllowAllAuthorizer",
    "role_manager": "CassandraRoleManager",
}

# Stock jvm-server.options + jvm17-server.options of 5.0 (reference §2.2), minus AlwaysPreTouch
# (touches the whole heap at start), UseNUMA and G1HeapRegionSize=16m (too coarse for small heaps),
# HeapDumpOnOutOfMemoryError (a heap-sized file in the sandbox can fill the task's disk quota).
SERVER_JVM_FLAGS: tuple[str, ...] = (
    "-ea",
    "-da:net.openhft...",
    "-XX:+UseThreadPriorities",
    "-Xss256k",
    "-XX:+UseTLAB",
    "-XX:+ResizeTLAB",
    "-XX:+PerfDisableSharedMem",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.net.preferIPv4Stack=true",
    "-Dchronicle.analytics.disable=true",
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:G1RSetUpdatingPauseTimePercent=5",
    "-XX:MaxGCPauseMillis=300",
    "-XX:InitiatingHeapOccupancyPercent=70",
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports=java.management/com.sun.jmx.remote.security=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports=java.sql/java.sql=ALL-UNNAMED",
    "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
    "-Dcom.sun.management.jmxremote.authenticate=false",
    "-Dcassandra-foreground=yes",
)

CASSANDRA_MAIN = "org.apache.cassandra.service.CassandraDaemon"

LOGBACK_XML = """<configuration scan="false">
  <appender name="SYSTEMLOG" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${cassandra.logdir}/system.log</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy">
      <fileNamePattern>${cassandra.logdir}/system.log.%d{yyyy-MM-dd}.%i.zip</fileNamePattern>
      <maxFileSize>50MB</maxFileSize>
      <maxHistory>7</maxHistory>
      <totalSizeCap>500MB</totalSizeCap>
    </rollingPolicy>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <!-- The task's stdout is not rotated by Mesos: only warnings and errors go there. -->
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter"><level>WARN</level></filter>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="SYSTEMLOG" />
    <appender-ref ref="STDOUT" />
  </root>
</configuration>
"""

# nodetool prints its answer on stdout; anything logged must stay off it (reference §2.6).
LOGBACK_TOOLS_XML = """<configuration scan="false">
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter"><level>WARN</level></filter>
    <encoder><pattern>%-5level %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR" /></root>
</configuration>
"""


@dataclass(frozen=True)
class Seeds:
    """The scheduler's answer: ``{"isSeed": bool, "seeds": ["ip" or "ip:port", ...]}``."""

    is_seed: bool
    seeds: tuple[str, ...]


@dataclass(frozen=True)
class NodePaths:
    """Where a node's files live on the agent; all absolute."""

    sandbox: Path
    volume: Path  # persistent: data, commitlog, hints, saved caches
    conf: Path  # regenerated on every launch
    logs: Path
    tmp: Path
    cassandra_lib: Path
    java: Path

    @classmethod
    def for_sandbox(cls, node: NodeConfig, sandbox: Path, cassandra_lib: Path, java: Path) -> NodePaths:
        return cls(
            sandbox=sandbox,
            volume=sandbox / node.volume_path,
            conf=sandbox / "cassandra-conf",
            logs=sandbox / "logs",
            tmp=sandbox / "tmp",
            cassandra_lib=cassandra_lib,
            java=java,
        )

    @property
    def data(self) -> Path:
        """Cassandra's data_file_directories entry, on the persistent volume."""
        return self.volume / "data"

    @property
    def cassandra_yaml(self) -> Path:
        return self.conf / "cassandra.yaml"

    @property
    def rackdc(self) -> Path:
        return self.conf / "cassandra-rackdc.properties"

    @property
    def logback(self) -> Path:
        return self.conf / "logback.xml"

    @property
    def logback_tools(self) -> Path:
        return self.conf / "logback-tools.xml"

    @property
    def pidfile(self) -> Path:
        return self.sandbox / "cassandra.pid"


@dataclass(frozen=True)
class RenderedConfig:
    cassandra_yaml: str
    rackdc: str
    logback: str
    logback_tools: str
    command: tuple[str, ...]

    def files(self, paths: NodePaths) -> dict[Path, str]:
        return {
            paths.cassandra_yaml: self.cassandra_yaml,
            paths.rackdc: self.rackdc,
            paths.logback: self.logback,
            paths.logback_tools: self.logback_tools,
        }


def seed_list(node: NodeConfig, seeds: Seeds) -> str:
    """The ``seeds`` parameter of SimpleSeedProvider: this node first when it is a seed.

    Entries without a port get Cassandra's default, which is this node's own storage port
    (reference §3.3); the scheduler should send ``ip:port`` when nodes use different ports.
    """
    ordered: list[str] = []
    if seeds.is_seed:
        ordered.append(f"{node.listen_address}:{node.ports.storage}")
    for s in seeds.seeds:
        entry = s.strip()
        if entry and entry not in ordered:
            ordered.append(entry)
    return ",".join(ordered)


def cassandra_yaml(node: NodeConfig, seeds: Seeds, paths: NodePaths) -> dict[str, Any]:
    conf: dict[str, Any] = dict(BASE_YAML)
    conf.update(
        {
            "cluster_name": node.cluster,
            "num_tokens": node.num_tokens,
            "auto_bootstrap": node.auto_bootstrap,
            "endpoint_snitch": "GossipingPropertyFileSnitch",
            "seed_provider": [
                {
                    "class_name": "org.apache.cassandra.locator.SimpleSeedProvider",
                    "parameters": [{"seeds": seed_list(node, seeds)}],
                }
            ],
            "listen_address": node.listen_address,
            "rpc_address": node.listen_address,
            "storage_port": node.ports.storage,
            "ssl_storage_port": node.ports.ssl_storage,
            "native_transport_port": node.ports.native_transport,
            "data_file_directories": [str(paths.data)],
            "commitlog_directory": str(paths.volume / "commitlog"),
            "hints_directory": str(paths.volume / "hints"),
            "saved_caches_directory": str(paths.volume / "saved_caches"),
            "cdc_raw_directory": str(paths.volume / "cdc_raw"),
        }
    )
    if node.initial_token is not None:
        conf["initial_token"] = node.initial_token
    elif node.num_tokens > 1:
        # Without this every vnode token is random: badly unbalanced small rings (reference §3.6).
        conf["allocate_tokens_for_local_replication_factor"] = 3
    conf.update(node.cassandra_yaml)
    return conf


def rackdc(node: NodeConfig) -> str:
    return f"dc={node.data_center}\nrack={node.rack}\n"


def heap_flags(node: NodeConfig) -> list[str]:
    # Fixed heap (Xms = Xmx) so the task's memory is claimed up front; direct memory is capped at
    # half the heap instead of the JVM default (= Xmx) so heap + off-heap stay within the task.
    direct = max(128, node.heap_mb // 2)
    return [f"-Xms{node.heap_mb}M", f"-Xmx{node.heap_mb}M", f"-XX:MaxDirectMemorySize={direct}M"]


def jvm_command(node: NodeConfig, paths: NodePaths) -> tuple[str, ...]:
    lib = paths.cassandra_lib
    cmd: list[str] = [str(paths.java), *SERVER_JVM_FLAGS, *heap_flags(node)]
    jamm = sorted(lib.glob("jamm-*.jar"))
    if jamm:
        cmd.append(f"-javaagent:{jamm[-1]}")
    cmd += [
        f"-Dcassandra.jmx.local.port={node.ports.jmx}",
        f"-Dlogback.configurationFile={paths.logback}",
        f"-Dcassandra.logdir={paths.logs}",
        f"-Dcassandra.storagedir={paths.volume}",
        f"-Dcassandra-pidfile={paths.pidfile}",
        f"-Dcassandra.config={paths.cassandra_yaml.as_uri()}",
        f"-Dcassandra-rackdc.properties={paths.rackdc.as_uri()}",
        f"-Djava.io.tmpdir={paths.tmp}",
        f"-Djna.tmpdir={paths.tmp}",
    ]
    if node.replace_address is not None:
        # The _first_boot variant is ignored once bootstrap completed, so a relaunch after the
        # replacement finished does not try to replace again (reference §6, dcos #362/#403).
        cmd.append(f"-Dcassandra.replace_address_first_boot={node.replace_address}")
    cmd += list(node.jvm_options)
    cmd += ["-cp", f"{paths.conf}:{lib}/*", CASSANDRA_MAIN]
    return tuple(cmd)


def render(node: NodeConfig, seeds: Seeds, paths: NodePaths) -> RenderedConfig:
    return RenderedConfig(
        cassandra_yaml=dump_yaml(cassandra_yaml(node, seeds, paths)),
        rackdc=rackdc(node),
        logback=LOGBACK_XML,
        logback_tools=LOGBACK_TOOLS_XML,
        command=jvm_command(node, paths),
    )


def dump_yaml(conf: Mapping[str, Any]) -> str:
    header = "# Written by the cassandra-mesos sidecar on every launch; edits are lost.\n"
    return header + yaml.safe_dump(dict(conf), sort_keys=False, default_flow_style=False)


def nodetool_command(paths: NodePaths, jmx_port: int, args: Sequence[str]) -> tuple[str, ...]:
    """A nodetool JVM: small heap, C1 only, serial GC — it lives ~2 s (reference §2.6)."""
    client_flags = [
        f for f in SERVER_JVM_FLAGS if f.startswith(("--add-", "-Djdk.attach", "-Djava.net.preferIPv4Stack"))
    ]
    return (
        str(paths.java),
        "-Xmx128m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Xshare:auto",
        *client_flags,
        f"-Dlogback.configurationFile={paths.logback_tools}",
        f"-Dcassandra.logdir={paths.logs}",
        f"-Djava.io.tmpdir={paths.tmp}",
        # nodetool appends to ~/.cassandra/nodetool.history; a task's HOME may be unwritable.
        f"-Duser.home={paths.sandbox}",
        "-cp",
        f"{paths.cassandra_lib}/*",
        "org.apache.cassandra.tools.NodeTool",
        "-h",
        "127.0.0.1",
        "-p",
        str(jmx_port),
        *args,
    )


JMX_STATUS_SOURCE = Path(__file__).with_name("JmxStatus.java")


def jmx_status_command(paths: NodePaths, jmx_port: int, classes: Path | None = None) -> tuple[str, ...]:
    """The resident status helper (``sidecar.node_status``): nothing is built or shipped but its
    source. With ``classes`` (where ``compile_jmx_status`` put it) it runs compiled; without, the
    JDK's source launcher compiles it in memory at every start (and keeps the compiler's classes:
    ≈45 MiB more). It needs no Cassandra classes: every value it reads over JMX is a JDK type."""
    launch = ("-cp", str(classes), "JmxStatus") if classes is not None else (str(JMX_STATUS_SOURCE),)
    return (
        str(paths.java),
        "-Xmx64m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Xss512k",
        f"-Djava.io.tmpdir={paths.tmp}",
        f"-Duser.home={paths.sandbox}",
        *launch,
        "127.0.0.1",
        str(jmx_port),
    )
