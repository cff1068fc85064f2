"""Cassandra plan builders: pure functions of a ClusterState snapshot and a plan's intents."""
