"""Composition root: the `cassandra-mesos` command wires localmesos, ZooKeeper, the scheduler and its API."""
