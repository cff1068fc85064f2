"""The agent process: HTTP server on its own loopback IP, registration, ping watchdog, task monitor
and status update streams (docs/localmesos.md "Internal protocol")."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from localmesos.agent import paths, volumes
from localmesos.agent.checkpoint import read_json, read_json_or, write_json
from localmesos.agent.containers import CONTAINER_ENV, kill_container
from localmesos.agent.errors import LaunchError
from localmesos.agent.fetcher import fetch_all
from localmesos.agent.flags import AgentFlags
from localmesos.agent.mesos_endpoints import file_routes, state_json
from localmesos.agent.records import TaskRecord, process_alive, process_start_time
from localmesos.agent.statuses import (
    duration_seconds,
    exit_message,
    is_terminal,
    kill_grace,
    make_status,
    terminal_state,
)
from localmesos.agent.taskenv import task_environment
from localmesos.agent.updates import UpdateStreams

log = logging.getLogger("localmesos.agent")

MONITOR_INTERVAL = 0.1
COMPLETED_KEPT = 200  # finished tasks still shown by /state
REGISTER_BACKOFF_MIN = 0.1
REGISTER_BACKOFF_MAX = 2.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=5)


def id_value(v: Any) -> str:
    """Accept an id object `{"value": ..}` or a bare string."""
    if isinstance(v, dict):
        return str(v.get("value", ""))
    return str(v or "")


def next_backoff(current: float, maximum: float) -> float:
    return min(current * 2, maximum)


class Agent:
    def __init__(self, flags: AgentFlags, clock: Callable[[], float] = time.monotonic) -> None:
        self.flags = flags
        self.clock = clock
        self.agent_id: str | None = None
        self.checkpointed: list[dict[str, Any]] = []
        self.records: dict[tuple[str, str], TaskRecord] = {}
        self.completed: collections.deque[TaskRecord] = collections.deque(maxlen=COMPLETED_KEPT)
        self.start_time = time.time()
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.last_ping = clock()
        self.partitioned = False
        self.healed = asyncio.Event()
        self.healed.set()
        self.need_register = asyncio.Event()
        self.need_register.set()
        self.registered = asyncio.Event()
        self.wake_updates = asyncio.Event()
        self.streams = UpdateStreams(flags.status_update_retry, flags.status_update_retry_max)
        self.port = flags.port
        self.session: aiohttp.ClientSession | None = None
        self.background: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ recovery

    def recover(self) -> None:
        info = read_json_or(paths.agent_info_file(self.flags.work_dir), {})
        self.agent_id = info.get("agent_id")
        self.checkpointed = read_json_or(paths.resources_file(self.flags.work_dir), [])
        volumes.sync_volumes(self.flags.work_dir, self.checkpointed, self.checkpointed)
        for path in paths.task_records(self.flags.work_dir):
            try:
                record = TaskRecord.load(path)
            except (OSError, ValueError, TypeError) as e:
                log.warning("ignoring unreadable task checkpoint %s: %s", path, e)
                continue
            if record.completed:
                continue
            if not record.framework_info.get("checkpoint", False):
                self._drop_uncheckpointed(record)
                continue
            self.records[record.key] = record
            executor_pid_file = record.meta / "executor.pid"
            if record.phase == "launching" and executor_pid_file.exists():
                # The agent died right after starting the executor: adopt it.
                started = read_json(executor_pid_file)
                record.executor_pid, record.executor_start = started["pid"], started["start_time"]
                record.phase = "running"
                record.save()
            if record.phase == "running":
                # Learn how tasks ended while no agent was watching before telling the master.
                self._check_running(record)
            elif record.phase == "launching":
                # The agent died while fetching/launching: the container never started.
                self._enqueue(
                    record,
                    "TASK_FAILED",
                    "SOURCE_AGENT",
                    reason="REASON_EXECUTOR_TERMINATED",
                    message="Abnormal executor termination: unknown container",
                )
                record.phase = "exited"
                record.save()
            log.info(
                "recovered task %s of framework %s (%s, %s)",
                record.task_id,
                record.framework_id,
                record.state,
                record.phase,
            )

    def _drop_uncheckpointed(self, record: TaskRecord) -> None:
        """A framework without `checkpoint` loses its tasks with the agent process (reference §7.7):
        its executors die and nothing is recovered; the master reports them lost."""
        if process_alive(record.executor_pid, record.executor_start) and record.executor_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.executor_pid, signal.SIGKILL)
        pid = read_json_or(record.meta / "forked.pid", {}).get("pid")
        kill_container(record.container_id, pid)
        record.completed = True
        record.save()
        log.info("task %s of non-checkpointing framework %s dropped", record.task_id, record.framework_id)

    # ------------------------------------------------------------------ status updates

    def _enqueue(
        self,
        record: TaskRecord,
        state: str,
        source: str,
        *,
        reason: str | None = None,
        message: str | None = None,
        container_status: dict[str, Any] | None = None,
        healthy: bool | None = None,
    ) -> None:
        status = make_status(
            task_id=record.task_id,
            agent_id=self.agent_id or "",
            state=state,
            source=source,
            reason=reason,
            message=message,
            executor_id=record.task_id,
            container_status=container_status,
        )
        if healthy is not None:
            status["healthy"] = healthy
        record.state = state
        record.latest_status = status
        if not record.silent:
            record.pending.append(status)
        record.save()
        log.info("task %s: %s %s", record.task_id, state, message or "")
        self.wake_updates.set()

    async def _post_master(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        assert self.session is not None
        async with self.session.post(self.flags.master + path, json=body, timeout=HTTP_TIMEOUT) as resp:
            text = await resp.text()
            try:
                data = await resp.json(content_type=None) if text else {}
            except ValueError:
                data = text
            return resp.status, data

    async def _send_update(self, record: TaskRecord, status: dict[str, Any]) -> None:
        body = {
            "framework_id": {"value": record.framework_id},
            "status": status,
            "latest_state": record.state,
        }
        try:
            code, data = await self._post_master(f"/internal/agents/{self.agent_id}/status", body)
        except (aiohttp.ClientError, TimeoutError) as e:
            log.info("status update for task %s not delivered: %s", record.task_id, e)
            return
        if code in (404, 409):  # the master does not know this agent (any more): register again
            log.warning("master does not know agent %s (%s); re-registering", self.agent_id, data)
            self.need_register.set()
        elif code >= 300:
            log.warning("master refused status update for task %s: %s %s", record.task_id, code, data)

    async def update_loop(self) -> None:
        while True:
            # Sleep until woken (new update, ack, registration) or until the next retry is due.
            due = self.streams.next_retry_at()
            timeout = 1.0 if due is None else min(1.0, max(0.01, due - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake_updates.wait(), timeout=timeout)
            self.wake_updates.clear()
            if self.partitioned or not self.registered.is_set() or self.need_register.is_set():
                continue
            sends: list[Awaitable[None]] = []
            for record, update, is_retry in self.streams.due(list(self.records.values()), self.clock()):
                if is_retry:
                    log.info("retrying unacknowledged %s for task %s", update["state"], record.task_id)
                sends.append(self._send_update(record, update))
            if sends:
                await asyncio.gather(*sends)

    def _maybe_complete(self, record: TaskRecord) -> None:
        if record.phase == "exited" and not record.pending and (is_terminal(record.state) or record.silent):
            record.completed = True
            record.save()
            self.records.pop(record.key, None)
            self.streams.forget(record.key)
            self.completed.append(record)

    # ------------------------------------------------------------------ registration and liveness

    def _register_body(self) -> dict[str, Any]:
        tasks = [
            {
                "framework_id": {"value": r.framework_id},
                "framework_info": r.framework_info,
                "task": r.task,
                "state": r.state,
                "status": r.latest_status,
            }
            for r in self.records.values()
            if not r.silent
        ]
        return {
            "agent_id": {"value": self.agent_id} if self.agent_id else None,
            "hostname": self.flags.hostname,
            "ip": self.flags.ip,
            "port": self.port,
            "resources": self.flags.resources,
            "checkpointed_resources": self.checkpointed,
            "attributes": self.flags.attributes,
            "domain": self.flags.domain,
            "tasks": tasks,
        }

    def _adopt_agent_id(self, agent_id: str) -> None:
        if agent_id != self.agent_id:
            log.info("agent id is %s (was %s)", agent_id, self.agent_id)
            self.agent_id = agent_id
            write_json(paths.agent_info_file(self.flags.work_dir), {"agent_id": agent_id})
        slaves = Path(self.flags.work_dir, "slaves")
        (slaves / agent_id).mkdir(parents=True, exist_ok=True)
        paths.point_latest(slaves, agent_id)

    async def registration_loop(self) -> None:
        backoff = REGISTER_BACKOFF_MIN
        while True:
            await self.need_register.wait()
            await self.healed.wait()
            try:
                code, data = await self._post_master("/internal/agents/register", self._register_body())
                if code == 200 and isinstance(data, dict) and data.get("agent_id"):
                    self._adopt_agent_id(id_value(data["agent_id"]))
                    self.last_ping = self.clock()
                    self.need_register.clear()
                    self.streams.resend_all()
                    first = not self.registered.is_set()
                    self.registered.set()
                    self.wake_updates.set()
                    backoff = REGISTER_BACKOFF_MIN
                    log.info(
                        "%s with master as %s", "registered" if first else "re-registered", self.agent_id
                    )
                    if first and self.flags.ready_file:
                        write_json(
                            Path(self.flags.ready_file),
                            {"port": self.port, "agent_id": self.agent_id, "pid": os.getpid()},
                        )
                    continue
                log.warning("master refused registration: %s %s", code, data)
            except (aiohttp.ClientError, TimeoutError) as e:
                log.info("master unreachable for registration: %s", e)
            await asyncio.sleep(backoff)
            backoff = next_backoff(backoff, REGISTER_BACKOFF_MAX)

    async def ping_watchdog(self) -> None:
        while True:
            await asyncio.sleep(min(0.1, self.flags.master_ping_timeout / 5))
            if self.partitioned or self.need_register.is_set() or not self.registered.is_set():
                continue
            if self.clock() - self.last_ping > self.flags.master_ping_timeout:
                log.warning(
                    "no ping from the master for %.1fs; re-registering", self.flags.master_ping_timeout
                )
                self.need_register.set()

    # ------------------------------------------------------------------ tasks

    def _new_record(
        self, framework_id: str, framework_info: dict[str, Any], task: dict[str, Any]
    ) -> TaskRecord:
        task_id = id_value(task.get("task_id"))
        container_id = str(uuid.uuid4())
        agent_id = self.agent_id or "unregistered"
        return TaskRecord(
            framework_id=framework_id,
            framework_info=framework_info,
            task=task,
            container_id=container_id,
            sandbox=str(
                paths.sandbox_dir(self.flags.work_dir, agent_id, framework_id, task_id, container_id)
            ),
            meta_dir=str(
                paths.run_meta_dir(self.flags.work_dir, agent_id, framework_id, task_id, container_id)
            ),
        )

    def _launch_spec(self, record: TaskRecord) -> dict[str, Any]:
        command = record.task.get("command")
        if not isinstance(command, dict) or record.task.get("executor"):
            raise LaunchError("localmesos runs command tasks only (TaskInfo.command without an executor)")
        shell = command.get("shell", True)
        if not command.get("value") and (shell or not command.get("arguments")):
            raise LaunchError("CommandInfo has no 'value' to run")
        env = task_environment(
            framework_id=record.framework_id,
            executor_id=record.task_id,
            sandbox=record.sandbox,
            agent_id=self.agent_id or "",
            agent_ip=self.flags.ip,
            agent_port=self.port,
            checkpoint=bool(record.framework_info.get("checkpoint", False)),
            task=record.task,
            executor_environment=self.flags.executor_environment,
        )
        env[CONTAINER_ENV] = record.container_id
        return {
            "shell": shell,
            "value": command.get("value") or "",
            "arguments": command.get("arguments") or [],
            "env": env,
            "sandbox": record.sandbox,
            "max_completion_time": duration_seconds(record.task.get("max_completion_time")),
            "kill_grace": kill_grace(None, record.task),
            "health_check": record.task.get("health_check"),
            "host": self.flags.ip,
        }

    async def launch(self, record: TaskRecord) -> None:
        sandbox = Path(record.sandbox)
        try:
            sandbox.mkdir(parents=True, exist_ok=True)
            paths.point_latest(sandbox.parent, record.container_id)
            volumes.link_task_volumes(self.flags.work_dir, record.task, sandbox)
            spec = self._launch_spec(record)
            uris = (record.task.get("command") or {}).get("uris") or []
            if uris:
                await asyncio.to_thread(fetch_all, uris, sandbox, record.container_id)
            if record.kill_requested:
                record.phase = "exited"
                self._enqueue(
                    record,
                    "TASK_KILLED",
                    "SOURCE_AGENT",
                    reason="REASON_TASK_KILLED_DURING_LAUNCH",
                    message="Task killed before it was launched",
                )
                return
            write_json(record.meta / "launch.json", spec)
            self._enqueue(record, "TASK_STARTING", "SOURCE_EXECUTOR")
            with open(record.meta / "executor.log", "ab") as out:
                child = subprocess.Popen(
                    [sys.executable, "-m", "localmesos.agent.executor", "--meta-dir", record.meta_dir],
                    cwd=sandbox,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            self.children[child.pid] = child
            record.executor_pid = child.pid
            record.executor_start = process_start_time(child.pid)
            record.phase = "running"
            record.save()
        except (LaunchError, OSError) as e:
            record.phase = "exited"
            self._enqueue(
                record,
                "TASK_FAILED",
                "SOURCE_AGENT",
                reason="REASON_CONTAINER_LAUNCH_FAILED",
                message=f"Failed to launch container: {e}",
            )

    def _check_running(self, record: TaskRecord) -> None:
        meta = record.meta
        if record.state == "TASK_STARTING" and (meta / "forked.pid").exists():
            self._enqueue(
                record, "TASK_RUNNING", "SOURCE_EXECUTOR", container_status=self._container_status(record)
            )
        self._health_updates(record)
        exit_file = meta / "exit.json"
        if not exit_file.exists():
            if process_alive(record.executor_pid, record.executor_start) and not self._reaped(record):
                return
            if not exit_file.exists():  # the executor may have written it just before exiting
                record.phase = "exited"
                self._enqueue(
                    record,
                    "TASK_FAILED",
                    "SOURCE_AGENT",
                    reason="REASON_EXECUTOR_TERMINATED",
                    message="Executor terminated",
                )
                return
        outcome = read_json(exit_file)
        self._reaped(record)
        record.phase = "exited"
        if "launch_error" in outcome:
            self._enqueue(
                record,
                "TASK_FAILED",
                "SOURCE_AGENT",
                reason="REASON_CONTAINER_LAUNCH_FAILED",
                message=f"Failed to launch container: {outcome['launch_error']}",
            )
            return
        wait_status = int(outcome["wait_status"])
        killed = record.kill_requested or bool(outcome.get("killed"))
        if outcome.get("max_completion_time_reached") and not killed:
            self._enqueue(
                record,
                "TASK_FAILED",
                "SOURCE_EXECUTOR",
                reason="REASON_MAX_COMPLETION_TIME_REACHED",
                message=exit_message(wait_status),
            )
            return
        self._enqueue(
            record,
            terminal_state(wait_status, killed),
            "SOURCE_EXECUTOR",
            message=exit_message(wait_status),
            healthy=False if outcome.get("unhealthy") else None,
        )

    def _container_status(self, record: TaskRecord) -> dict[str, Any]:
        pid = read_json_or(record.meta / "forked.pid", {}).get("pid")
        return {
            "container_id": {"value": record.container_id},
            "network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": self.flags.ip}]}],
            "executor_pid": pid,
        }

    def _health_updates(self, record: TaskRecord) -> None:
        """Turn new lines of the executor's `health.jsonl` into TASK_RUNNING updates with `healthy`."""
        try:
            lines = (record.meta / "health.jsonl").read_text().splitlines()
        except FileNotFoundError:
            return
        new = lines[record.health_seq :]
        for line in new:
            record.health_seq += 1
            if record.state != "TASK_RUNNING" or record.kill_requested:
                continue
            self._enqueue(
                record,
                "TASK_RUNNING",
                "SOURCE_EXECUTOR",
                reason="REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
                container_status=self._container_status(record),
                healthy=bool(json.loads(line)["healthy"]),
            )
        if new:
            record.save()

    def _reaped(self, record: TaskRecord) -> bool:
        child = self.children.get(record.executor_pid or -1)
        if child is not None and child.poll() is not None:
            self.children.pop(child.pid, None)
            return True
        return False

    async def monitor_loop(self) -> None:
        while True:
            # Look more often while a task is starting: TASK_RUNNING should follow the fork closely.
            starting = any(r.state == "TASK_STARTING" for r in self.records.values())
            await asyncio.sleep(MONITOR_INTERVAL / 5 if starting else MONITOR_INTERVAL)
            for record in list(self.records.values()):
                try:
                    if record.phase == "running":
                        self._check_running(record)
                    self._maybe_complete(record)
                except (OSError, ValueError, KeyError) as e:
                    log.warning("monitoring task %s failed: %s", record.task_id, e)

    def _signal_kill(self, record: TaskRecord, grace: float) -> None:
        write_json(record.meta / "kill.json", {"grace_period": grace})
        if process_alive(record.executor_pid, record.executor_start) and record.executor_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.executor_pid, signal.SIGTERM)

    # ------------------------------------------------------------------ HTTP handlers

    @web.middleware
    async def partition_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/internal/") and self.partitioned:
            # A partitioned agent does not answer the master at all (the master times out).
            await self.healed.wait()
        return await handler(request)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError as e:
            raise web.HTTPBadRequest(text=f"invalid JSON body: {e}") from e
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        return body

    async def handle_ping(self, request: web.Request) -> web.Response:
        self.last_ping = self.clock()
        return web.json_response({})

    async def handle_run_task(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        task = body.get("task")
        framework_id = id_value(body.get("framework_id"))
        if not isinstance(task, dict) or not id_value(task.get("task_id")) or not framework_id:
            raise web.HTTPBadRequest(text="run_task needs 'framework_id' and 'task' with a 'task_id'")
        record = self._new_record(framework_id, body.get("framework_info") or {}, task)
        existing = self.records.get(record.key)
        if existing is not None and not is_terminal(existing.state):
            log.warning("task %s is already running here; ignoring duplicate run_task", record.task_id)
            return web.json_response({})
        self.records[record.key] = record
        record.save()
        asyncio.get_running_loop().create_task(self.launch(record))
        return web.json_response({})

    async def handle_kill_task(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        key = (id_value(body.get("framework_id")), id_value(body.get("task_id")))
        record = self.records.get(key)
        if record is None or is_terminal(record.state) or record.phase == "exited":
            log.info("kill for unknown or finished task %s ignored", key[1])
            return web.json_response({})
        record.kill_requested = True
        record.save()
        if record.phase == "running":
            if "TASK_KILLING_STATE" in record.capabilities() and record.state != "TASK_KILLING":
                self._enqueue(record, "TASK_KILLING", "SOURCE_EXECUTOR")
            self._signal_kill(record, kill_grace(body.get("kill_policy"), record.task))
        return web.json_response({})

    async def handle_acknowledge(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        key = (id_value(body.get("framework_id")), id_value(body.get("task_id")))
        record = self.records.get(key)
        if record is not None and self.streams.acknowledge(record, body.get("uuid")):
            record.save()
            self._maybe_complete(record)
            self.wake_updates.set()
        return web.json_response({})

    async def handle_checkpoint_resources(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        resources = body.get("resources")
        if not isinstance(resources, list):
            raise web.HTTPBadRequest(text="checkpoint_resources needs a 'resources' list")
        write_json(paths.resources_file(self.flags.work_dir), resources)
        volumes.sync_volumes(self.flags.work_dir, self.checkpointed, resources)
        self.checkpointed = resources
        return web.json_response({})

    async def handle_shutdown_framework(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        framework_id = id_value(body.get("framework_id"))
        for record in list(self.records.values()):
            if record.framework_id != framework_id:
                continue
            record.silent = True
            record.pending.clear()
            record.kill_requested = True
            record.save()
            if record.phase == "running":
                self._signal_kill(record, kill_grace(None, record.task))
            self._maybe_complete(record)
        return web.json_response({})

    async def handle_partition(self, request: web.Request) -> web.Response:
        self.partitioned = True
        self.healed.clear()
        log.warning("partitioned from the master")
        return web.json_response({})

    async def handle_heal(self, request: web.Request) -> web.Response:
        self.partitioned = False
        self.healed.set()
        log.warning("partition healed")
        return web.json_response({})

    async def handle_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "id": self.agent_id,
                "hostname": self.flags.hostname,
                "ip": self.flags.ip,
                "port": self.port,
                "pid": os.getpid(),
                "registered": self.registered.is_set() and not self.need_register.is_set(),
                "partitioned": self.partitioned,
                "resources": self.flags.resources,
                "checkpointed_resources": self.checkpointed,
                "attributes": self.flags.attributes,
                "domain": self.flags.domain,
                "tasks": [
                    {
                        "framework_id": r.framework_id,
                        "task_id": r.task_id,
                        "state": r.state,
                        "container_id": r.container_id,
                        "directory": r.sandbox,
                        "executor_pid": r.executor_pid,
                        "unacknowledged": len(r.pending),
                    }
                    for r in self.records.values()
                ],
            }
        )

    async def handle_mesos_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            state_json(
                agent_id=self.agent_id or "",
                ip=self.flags.ip,
                port=self.port,
                hostname=self.flags.hostname,
                resources=self.flags.resources,
                attributes=self.flags.attributes,
                domain=self.flags.domain,
                master=self.flags.master,
                start_time=self.start_time,
                running=list(self.records.values()),
                completed=list(self.completed),
            )
        )

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.partition_middleware])
        app.add_routes(
            [
                web.post("/internal/ping", self.handle_ping),
                web.post("/internal/run_task", self.handle_run_task),
                web.post("/internal/kill_task", self.handle_kill_task),
                web.post("/internal/acknowledge", self.handle_acknowledge),
                web.post("/internal/checkpoint_resources", self.handle_checkpoint_resources),
                web.post("/internal/shutdown_framework", self.handle_shutdown_framework),
                web.post("/localmesos/partition", self.handle_partition),
                web.post("/localmesos/heal", self.handle_heal),
                web.get("/localmesos/state", self.handle_state),
                web.get("/state", self.handle_mesos_state),
                web.get("/state.json", self.handle_mesos_state),
                web.get("/slave(1)/state", self.handle_mesos_state),
                *file_routes(self.flags.work_dir),
            ]
        )
        return app

    # ------------------------------------------------------------------ lifecycle

    async def serve(self, stop: asyncio.Event) -> None:
        self.recover()
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.flags.ip, self.flags.port, reuse_address=True)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        log.info("agent serving on %s:%d (work dir %s)", self.flags.ip, self.port, self.flags.work_dir)
        self.session = aiohttp.ClientSession()
        loops = (self.registration_loop, self.ping_watchdog, self.monitor_loop, self.update_loop)
        self.background = [asyncio.create_task(loop()) for loop in loops]
        try:
            await stop.wait()
            for record in list(self.records.values()):
                if not record.framework_info.get("checkpoint", False):
                    self._drop_uncheckpointed(record)
        finally:
            for t in self.background:
                t.cancel()
            await asyncio.gather(*self.background, return_exceptions=True)
            await self.session.close()
            await runner.cleanup()
            log.info("agent stopped; task executors keep running")


async def run_agent(flags: AgentFlags) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await Agent(flags).serve(stop)
