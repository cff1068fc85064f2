"""The scheduler's state store: framework id, cluster configs and target, task records, intents, peers.

``ZooKeeperStore`` in production, ``MemoryStore`` in unit tests; both pass one contract suite.
The layout in ZooKeeper is drawn in docs/store.md.
"""

from framework.store.base import (
    ANY_VERSION,
    SCHEMA_VERSION,
    ClusterState,
    ConfigVersion,
    Election,
    Store,
    StoreSnapshot,
    Target,
)

__all__ = [
    "ANY_VERSION",
    "SCHEMA_VERSION",
    "ClusterState",
    "ConfigVersion",
    "Election",
    "Store",
    "StoreSnapshot",
    "Target",
]
