"""Fixtures that start a real localmesos (master + agent processes) for a test and always stop it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localmesos.harness import LocalMesos


@pytest.fixture
def localmesos_factory(tmp_path: Path) -> Iterator[Callable[..., LocalMesos]]:
    """`lm = localmesos_factory(agents=3, attributes=[...])`: started now, torn down after the test."""
    started: list[LocalMesos] = []

    def start(**kwargs: Any) -> LocalMesos:
        lm = LocalMesos(tmp_path / f"lm{len(started)}", **kwargs)
        started.append(lm)
        return lm.__enter__()

    try:
        yield start
    finally:
        for lm in reversed(started):
            lm.close()


@pytest.fixture
def localmesos(localmesos_factory: Callable[..., LocalMesos]) -> LocalMesos:
    """One process agent with the harness defaults (short pings and retries)."""
    return localmesos_factory(agents=1)
