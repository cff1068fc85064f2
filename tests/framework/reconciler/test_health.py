"""Sidecar health as the reconciler keeps it: a nodetool timeout must not undo a finished block."""

from __future__ import annotations

import pytest

from framework.reconciler.health import carry_mode
from model.node import NodeHealth

UN = NodeHealth("NORMAL", True, "t1")


@pytest.mark.parametrize(
    ("previous", "observed", "kept"),
    [
        # /status timed out (nodetool under load) but CQL answers: still UN.
        (UN, NodeHealth("UNKNOWN", True, "t1"), NodeHealth("NORMAL", True, "t1")),
        # CQL stopped answering too: not ready any more.
        (UN, NodeHealth("UNKNOWN", False, "t1"), NodeHealth("UNKNOWN", False, "t1")),
        # A real change of mode is taken at once.
        (UN, NodeHealth("LEAVING", True, "t1"), NodeHealth("LEAVING", True, "t1")),
        # A new task never inherits the mode of the old one.
        (UN, NodeHealth("UNKNOWN", True, "t2"), NodeHealth("UNKNOWN", True, "t2")),
        # Nothing known before: unknown stays unknown.
        (None, NodeHealth("UNKNOWN", True, "t1"), NodeHealth("UNKNOWN", True, "t1")),
        (NodeHealth("JOINING", False, "t1"), UN, UN),
    ],
)
def test_carry_mode(previous: NodeHealth | None, observed: NodeHealth, kept: NodeHealth) -> None:
    assert carry_mode(previous, observed) == kept
    assert carry_mode(previous, observed).is_ready == kept.is_ready
