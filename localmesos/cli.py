"""The `localmesos` command: `run` (supervisor), `master`, `agent`, `ctl` (admin API verbs)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from localmesos.admin import AGENT_ACTIONS, AdminClient, AdminError
from localmesos.supervisor import RunConfig, SupervisorError, read_info, run_supervisor


def _run_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="start a master and N agents and serve the admin API (foreground)")
    p.add_argument("--work-dir", required=True)
    p.add_argument("--port", type=int, default=5050, help="master port (0 = ephemeral)")
    p.add_argument("--agents", type=int, default=1)
    p.add_argument("--ip-base", default="127.0.1.", help="agent i binds <ip-base><i+1>")
    p.add_argument(
        "--agent-resources",
        action="append",
        default=[],
        help="default cpus:4;mem:8192;disk:65536;ports:[31000-32000]; once for all agents or once per agent",
    )
    p.add_argument(
        "--attributes",
        action="append",
        default=[],
        help="Mesos attributes; give once for all agents or once per agent",
    )
    p.add_argument(
        "--domain",
        action="append",
        default=[],
        help='Mesos fault domain JSON {"fault_domain":{"region":{"name":..},"zone":{"name":..}}}; '
        "give once for all agents or once per agent",
    )
    p.add_argument("--simulated", action="store_true", help="agents simulated inside the master (benchmarks)")
    p.add_argument("--admin-port", type=int, default=0)
    p.add_argument("--allocation-interval", type=float, default=None)
    p.add_argument("--heartbeat-interval", type=float, default=None)
    p.add_argument("--agent-ping-timeout", type=float, default=15.0)
    p.add_argument("--max-agent-ping-timeouts", type=int, default=5)
    p.add_argument("--status-update-retry", type=float, default=None)
    p.add_argument(
        "--stop-with-parent",
        action="store_true",
        help="stop everything when the process that started `run` dies (used by the test harness)",
    )
    p.add_argument(
        "--executor-environment-variables",
        default=None,
        help="JSON object passed to every agent: the environment of executors and tasks",
    )


def _ctl_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ctl", help="fault controls of a running `localmesos run`")
    p.add_argument("--work-dir", required=True)
    verbs = p.add_subparsers(dest="target", required=True)
    a = verbs.add_parser("agent")
    a.add_argument("action", choices=AGENT_ACTIONS)
    a.add_argument("index", type=int)
    m = verbs.add_parser("master")
    m.add_argument("action", choices=["restart"])
    verbs.add_parser("state")


def _run(ns: argparse.Namespace) -> None:
    resources = ns.agent_resources or [RunConfig.agent_resources]
    config = RunConfig(
        work_dir=Path(ns.work_dir).resolve(),
        port=ns.port,
        agents=ns.agents,
        ip_base=ns.ip_base,
        agent_resources=resources[0],
        per_agent_resources=tuple(resources) if len(resources) > 1 else (),
        attributes=tuple(ns.attributes),
        domains=tuple(ns.domain),
        simulated=ns.simulated,
        admin_port=ns.admin_port,
        allocation_interval=ns.allocation_interval,
        heartbeat_interval=ns.heartbeat_interval,
        agent_ping_timeout=ns.agent_ping_timeout,
        max_agent_ping_timeouts=ns.max_agent_ping_timeouts,
        status_update_retry=ns.status_update_retry,
        executor_environment=ns.executor_environment_variables,
        stop_with_parent=ns.stop_with_parent,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor %(levelname)s %(message)s")
    asyncio.run(run_supervisor(config))


def _ctl(ns: argparse.Namespace) -> None:
    client = AdminClient(read_info(ns.work_dir)["admin"])
    if ns.target == "agent":
        client.agent(ns.action, ns.index)
    elif ns.target == "master":
        client.restart_master()
    else:
        print(json.dumps(client.state(), indent=2))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["master"]:
        # The master has its own flag parser; hand the rest of the command line to it.
        os.execv(sys.executable, [sys.executable, "-m", "localmesos.master", *args[1:]])
    if args[:1] == ["agent"]:
        from localmesos.agent.__main__ import main as agent_main

        agent_main(args[1:])
        return
    parser = argparse.ArgumentParser(prog="localmesos", description="A single-machine Apache Mesos 1.11.")
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    sub.add_parser("master", help="run the master (flags: see `localmesos master --help`)")
    sub.add_parser("agent", help="run one agent (flags: see `localmesos agent --help`)")
    _ctl_parser(sub)
    ns = parser.parse_args(args)
    try:
        _run(ns) if ns.command == "run" else _ctl(ns)
    except (SupervisorError, AdminError) as e:
        raise SystemExit(f"localmesos: {e}") from None
    except KeyboardInterrupt:
        pass
