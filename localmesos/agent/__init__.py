"""The localmesos agent: runs command tasks as real processes in real sandboxes (Mesos 1.11 semantics)."""
