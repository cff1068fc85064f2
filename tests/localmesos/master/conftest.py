from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.localmesos.master.rawhttp import MasterUnderTest, start_master, stop_master


@pytest.fixture
async def master(tmp_path) -> AsyncIterator[MasterUnderTest]:
    m = await start_master(
        tmp_path, simulated_agents=2, simulated_resources="cpus:4;mem:8192;disk:65536;ports:[31000-32000]"
    )
    try:
        yield m
    finally:
        await stop_master(m)
