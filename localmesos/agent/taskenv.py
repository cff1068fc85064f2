"""The environment of a command task (reference §7.3): built from scratch, never the agent's own."""

from __future__ import annotations

from typing import Any

from localmesos.agent.errors import LaunchError

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def allocation_role(task: dict[str, Any]) -> str | None:
    for r in task.get("resources") or []:
        role = (r.get("allocation_info") or {}).get("role")
        if role:
            return str(role)
    return None


def command_environment(command: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for var in (command.get("environment") or {}).get("variables") or []:
        name = var.get("name")
        kind = var.get("type", "VALUE")
        if kind == "SECRET":
            raise LaunchError(
                f"Environment variable '{name}' of type 'SECRET' is not supported by localmesos"
            )
        if not name or "value" not in var:
            raise LaunchError(f"Environment variable '{name}' of type 'VALUE' must have a value set")
        out[str(name)] = str(var["value"])
    return out


def task_environment(
    *,
    framework_id: str,
    executor_id: str,
    sandbox: str,
    agent_id: str,
    agent_ip: str,
    agent_port: int,
    checkpoint: bool,
    task: dict[str, Any],
    executor_environment: dict[str, str] | None = None,
) -> dict[str, str]:
    # Agent flag --executor_environment_variables first; Mesos' own variables override it.
    env = dict(executor_environment or {})
    env |= {
        "MESOS_FRAMEWORK_ID": framework_id,
        "MESOS_EXECUTOR_ID": executor_id,
        "MESOS_DIRECTORY": sandbox,
        "MESOS_SANDBOX": sandbox,
        "MESOS_SLAVE_ID": agent_id,
        "MESOS_SLAVE_PID": f"slave(1)@{agent_ip}:{agent_port}",
        "MESOS_AGENT_ENDPOINT": f"{agent_ip}:{agent_port}",
        "MESOS_CHECKPOINT": "1" if checkpoint else "0",
        "MESOS_HTTP_COMMAND_EXECUTOR": "0",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "5secs",
        "LIBPROCESS_PORT": "0",
    }
    if checkpoint:
        env["MESOS_RECOVERY_TIMEOUT"] = "15mins"
        env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = "2secs"
    env.update(command_environment(task.get("command") or {}))
    role = allocation_role(task)
    if role is not None:
        env["MESOS_ALLOCATION_ROLE"] = role
    env.setdefault("PATH", DEFAULT_PATH)
    return env
