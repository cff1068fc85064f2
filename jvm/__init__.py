"""Locating what the project runs on the JVM: JDK 17 and the pinned Cassandra and ZooKeeper jars."""

from jvm.locate import (
    CASSANDRA_VERSION,
    ZOOKEEPER_VERSION,
    JarsNotFound,
    JavaNotFound,
    cassandra_lib,
    classpath,
    find_java17,
    java_major,
    zookeeper_lib,
)

__all__ = [
    "CASSANDRA_VERSION",
    "ZOOKEEPER_VERSION",
    "JarsNotFound",
    "JavaNotFound",
    "cassandra_lib",
    "classpath",
    "find_java17",
    "java_major",
    "zookeeper_lib",
]
