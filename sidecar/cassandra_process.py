"""The Cassandra JVM as a supervised child: start, wait, stop by drain then SIGTERM.

Cassandra runs in its own session so a signal aimed at the sidecar's process group (localmesos
kills a task's group) reaches the sidecar alone, which then drains before stopping the JVM.
It also gets PR_SET_PDEATHSIG=SIGKILL: if the sidecar itself dies, the task is over, and a
lingering JVM would hold the volume and ports that the relaunched task needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jvm.process import die_with_parent
from sidecar.nodetool import Nodetool, NodetoolError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StopBudget:
    """How the kill grace period is spent: drain, then SIGTERM, then SIGKILL before Mesos does."""

    drain_s: float
    term_s: float

    @classmethod
    def for_grace(cls, grace_s: float) -> StopBudget:
        # Leave ~10% (at least 1 s) so the sidecar reports the outcome before Mesos' SIGKILL.
        usable = max(grace_s - max(1.0, grace_s * 0.1), grace_s * 0.5)
        drain = usable * 0.6
        return cls(drain_s=drain, term_s=usable - drain)


@dataclass(frozen=True)
class StopResult:
    returncode: int | None  # None: still running after SIGKILL (should not happen)
    drained: bool
    killed: bool


def task_exit_code(returncode: int | None, stop_requested: bool, drained: bool) -> int:
    """The sidecar's exit code: Cassandra's outcome.

    A stop the sidecar was asked for (SIGTERM from Mesos) that ended in the JVM's normal SIGTERM
    exit is a success (0). Otherwise Cassandra's own code; death by signal N is 128+N like a shell.
    """
    if returncode is None:
        return 137
    if stop_requested and returncode in (0, 143, -signal.SIGTERM):
        return 0
    if stop_requested and drained and returncode in (137, -signal.SIGKILL):
        return 0  # drained and flushed, but the JVM did not exit in time: data is safe
    if returncode < 0:
        return 128 - returncode
    return returncode


class CassandraProcess:
    def __init__(
        self,
        command: Sequence[str],
        cwd: Path,
        nodetool: Nodetool,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._command = tuple(command)
        self._cwd = cwd
        self._nodetool = nodetool
        self._env = dict(env) if env is not None else dict(os.environ)
        self._clock = clock
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    async def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("Cassandra was already started by this sidecar")
        log.info("starting Cassandra: %s", " ".join(self._command))
        # stdout/stderr are inherited: they are the task's stdout/stderr files in the sandbox.
        self._proc = await asyncio.create_subprocess_exec(
            *self._command,
            cwd=self._cwd,
            env=self._env,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.info("Cassandra started, pid %d", self._proc.pid)

    async def wait(self) -> int:
        if self._proc is None:
            raise RuntimeError("Cassandra was not started")
        return await self._proc.wait()

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)

    async def _wait_for(self, timeout: float) -> bool:
        if self._proc is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self._proc.wait()), max(timeout, 0.01))
        except TimeoutError:
            return False
        return True

    async def stop(self, grace_s: float) -> StopResult:
        """Drain (flush memtables, stop accepting writes), SIGTERM, and SIGKILL as a last resort."""
        budget = StopBudget.for_grace(grace_s)
        drained = False
        if not self.alive:
            return StopResult(self.returncode, drained=False, killed=False)
        start = self._clock()
        drain: asyncio.Future[Any] = asyncio.ensure_future(self._nodetool.drain(timeout=budget.drain_s))
        exited: asyncio.Future[Any] = asyncio.ensure_future(self.wait())
        done, _ = await asyncio.wait([drain, exited], return_when=asyncio.FIRST_COMPLETED)
        if drain in done:
            try:
                drain.result()
                drained = True
                log.info("Cassandra drained in %.1f s", self._clock() - start)
            except NodetoolError as e:
                log.warning("drain failed, stopping anyway: %s", e)
        else:
            drain.cancel()
        exited.cancel()
        self._signal(signal.SIGTERM)
        remaining = budget.drain_s + budget.term_s - (self._clock() - start)
        if await self._wait_for(max(remaining, 1.0)):
            return StopResult(self.returncode, drained, killed=False)
        log.warning("Cassandra did not exit %.1f s after SIGTERM: SIGKILL", remaining)
        self._signal(signal.SIGKILL)
        await self._wait_for(5.0)
        return StopResult(self.returncode, drained, killed=True)
