"""Where each document lives under the store root (the tree drawn in docs/store.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from model.errors import InvalidInput

DEFAULT_ROOT = "/cassandra-mesos/default"

# One znode name: what cluster, node, plan, datacenter and config names may be.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ROOT = re.compile(r"^(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})+$")


def check_name(kind: str, name: object) -> str:
    """``name`` if it can be one znode name, else InvalidInput saying which ``kind`` of name is wrong."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"invalid {kind} name {name!r}: use 1-128 letters, digits, '_', '.' or '-', "
            "starting with a letter, digit or '_'"
        )
    return name


def check_root(root: str) -> str:
    if not _ROOT.match(root):
        raise InvalidInput(f"invalid store root {root!r}: an absolute ZooKeeper path such as {DEFAULT_ROOT}")
    return root


@dataclass(frozen=True)
class Layout:
    root: str

    @property
    def schema(self) -> str:
        return f"{self.root}/schema"

    @property
    def generation(self) -> str:
        """Bumped by every write transaction: snapshots compare it, watches listen to it."""
        return f"{self.root}/generation"

    @property
    def framework_id(self) -> str:
        return f"{self.root}/framework_id"

    @property
    def leader(self) -> str:
        return f"{self.root}/leader"

    @property
    def clusters(self) -> str:
        return f"{self.root}/clusters"

    def cluster(self, cluster: str) -> str:
        return f"{self.clusters}/{check_name('cluster', cluster)}"

    def target(self, cluster: str) -> str:
        return f"{self.cluster(cluster)}/target"

    def configs(self, cluster: str) -> str:
        return f"{self.cluster(cluster)}/configs"

    def config(self, cluster: str, config_id: str) -> str:
        return f"{self.configs(cluster)}/{check_name('config id', config_id)}"

    def tasks(self, cluster: str) -> str:
        return f"{self.cluster(cluster)}/tasks"

    def task(self, cluster: str, node: str) -> str:
        return f"{self.tasks(cluster)}/{check_name('node', node)}"

    def intents(self, cluster: str) -> str:
        return f"{self.cluster(cluster)}/intents"

    def intent(self, cluster: str, plan: str) -> str:
        return f"{self.intents(cluster)}/{check_name('plan', plan)}"

    def peers(self, cluster: str) -> str:
        return f"{self.cluster(cluster)}/peers"

    def peer(self, cluster: str, data_center: str) -> str:
        return f"{self.peers(cluster)}/{check_name('data center', data_center)}"

    def cluster_dirs(self, cluster: str) -> tuple[str, ...]:
        """The directories every cluster has, created with it."""
        return (self.configs(cluster), self.tasks(cluster), self.intents(cluster), self.peers(cluster))
