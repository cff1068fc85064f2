"""The sidecar: the command of every node task. It renders the node's Cassandra configuration,
supervises the Cassandra JVM and serves /health, /ready and /status on the node's sidecar port."""
