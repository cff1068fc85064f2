"""Shared data of every layer: cluster spec, node and task records. Pure data, no I/O."""
