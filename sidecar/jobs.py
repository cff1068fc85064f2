"""Maintenance jobs (cleanup, repair, backup, restore) the scheduler asks this node to run, one
at a time.

A job is a sequence of nodetool commands (``model.maintenance.Job.nodetool_commands``), each of
which blocks until Cassandra finishes the work. Starting a job id twice is harmless (the
scheduler re-asks every cycle until it sees the job); a second *different* job while one runs is
refused. Stopping a job kills its nodetool client and tells Cassandra to stop the compactions it
started (``nodetool stop -- CLEANUP`` / ``VALIDATION``): killing the client alone leaves the work
running inside the node. Finished jobs are remembered (the last ``HISTORY``), so the scheduler can
read the outcome after the fact; a sidecar restart forgets them and the scheduler starts the job
again, which is safe for both kinds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable

from model.errors import Conflict
from model.maintenance import (
    BACKUP,
    BACKUP_KINDS,
    CLEANUP,
    JOB_FAILED,
    JOB_RUNNING,
    JOB_STOPPED,
    JOB_SUCCEEDED,
    RESTORE,
    Job,
    JobStatus,
)
from sidecar.backups import BackupError, Backups
from sidecar.nodetool import Nodetool, NodetoolError

log = logging.getLogger(__name__)

HISTORY = 20
# What ``nodetool stop`` must stop inside Cassandra for each kind.
COMPACTION_TYPE = {CLEANUP: "CLEANUP", "repair": "VALIDATION"}


class JobRunner:
    def __init__(
        self,
        nodetool: Nodetool,
        can_run: Callable[[], str | None] = lambda: None,
        backups: Backups | None = None,
    ) -> None:
        """``can_run`` returns why no job may start now (Cassandra not running), or None;
        ``backups`` runs backup and restore jobs (None: they are refused)."""
        self._nodetool = nodetool
        self._can_run = can_run
        self._backups = backups
        self._jobs: OrderedDict[str, JobStatus] = OrderedDict()
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def list(self) -> list[JobStatus]:
        return list(self._jobs.values())

    def get(self, job_id: str) -> JobStatus | None:
        return self._jobs.get(job_id)

    def running(self) -> JobStatus | None:
        return next((j for j in self._jobs.values() if j.running), None)

    def start(self, job: Job) -> tuple[JobStatus, bool]:
        """(its status, whether it was started now). Conflict if another job runs or none may."""
        known = self._jobs.get(job.id)
        if known is not None and known.state != JOB_STOPPED:
            return known, False  # running or ended: the same job is not run twice
        # A stopped job runs again when asked again (its block still wants it done).
        busy = self.running()
        if busy is not None:
            raise Conflict(f"job {busy.id} ({busy.kind}) is running on this node; stop it or wait")
        why = self._can_run()
        if why is not None:
            raise Conflict(f"cannot start {job.kind} now: {why}")
        if job.kind in BACKUP_KINDS and self._backups is None:
            raise Conflict(f"this sidecar cannot run {job.kind} jobs")
        status = JobStatus(job.id, job.kind, JOB_RUNNING, "started")
        self._remember(status)
        self._tasks[job.id] = asyncio.create_task(self._run(job), name=f"job-{job.id}")
        log.info("job %s: %s started (%s)", job.id, job.kind, job.nodetool_commands())
        return status, True

    async def stop(self, job_id: str) -> JobStatus | None:
        """Stop a running job; None if the job is unknown. A finished job is left as it ended."""
        status = self._jobs.get(job_id)
        if status is None or not status.running:
            return status
        task = self._tasks.pop(job_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            compaction = COMPACTION_TYPE.get(status.kind)
            if compaction is not None:
                await self._nodetool.run("stop", "--", compaction, timeout=60)
                message = f"stopped by the scheduler; Cassandra's {compaction} work stopped"
            else:
                message = "stopped by the scheduler"
        except NodetoolError as exc:
            message = f"stopped by the scheduler; stopping Cassandra's work failed: {exc}"
        stopped = JobStatus(status.id, status.kind, JOB_STOPPED, message)
        self._remember(stopped)
        log.info("job %s: %s", job_id, message)
        return stopped

    async def close(self) -> None:
        for job_id in [j.id for j in self._jobs.values() if j.running]:
            await self.stop(job_id)

    async def _run(self, job: Job) -> None:
        step = ["starting"]

        def progress(text: str) -> None:
            step[0] = text
            self._remember(JobStatus(job.id, job.kind, JOB_RUNNING, text))

        try:
            if job.kind == BACKUP and self._backups is not None:
                done = await self._backups.backup(job, progress)
            elif job.kind == RESTORE and self._backups is not None:
                done = await self._backups.restore(job, progress)
            else:
                done = await self._nodetool_steps(job, progress)
        except (NodetoolError, BackupError, OSError) as exc:
            self._remember(JobStatus(job.id, job.kind, JOB_FAILED, f"{step[0]} failed: {exc}"))
            self._tasks.pop(job.id, None)
            log.warning("job %s failed: %s", job.id, exc)
            return
        self._remember(JobStatus(job.id, job.kind, JOB_SUCCEEDED, done))
        self._tasks.pop(job.id, None)
        log.info("job %s succeeded: %s", job.id, done)

    async def _nodetool_steps(self, job: Job, progress: Callable[[str], None]) -> str:
        commands = job.nodetool_commands()
        for i, args in enumerate(commands, 1):
            progress(f"step {i}/{len(commands)}: nodetool {' '.join(args)}")
            # No timeout: a repair of a large keyspace takes hours; stop() cancels it.
            await self._nodetool.run(*args, timeout=float("inf"))
        return f"{len(commands)} nodetool command(s) done"

    def _remember(self, status: JobStatus) -> None:
        self._jobs[status.id] = status
        self._jobs.move_to_end(status.id)
        while len(self._jobs) > HISTORY:
            oldest = next(iter(self._jobs))
            if self._jobs[oldest].running:
                break
            del self._jobs[oldest]
