"""The plan/phase/block engine (pure, no I/O) and the Cassandra plan builders (plans.cassandra)."""
