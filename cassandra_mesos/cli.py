"""The `cassandra-mesos` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli import register as register_api_commands

app = typer.Typer(no_args_is_help=True, help="Apache Cassandra clusters on Apache Mesos.")


@app.callback()
def _root() -> None:
    """Apache Cassandra clusters on Apache Mesos."""


@app.command()
def scheduler(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="scheduler config file (YAML), see docs/scheduler.md")
    ],
) -> None:
    """Run one scheduler instance: leader election, Mesos framework, REST API."""
    from cassandra_mesos.scheduler import run
    from framework.config import load_config
    from model.errors import InvalidInput

    try:
        cfg = load_config(config)
    except InvalidInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    run(cfg)


@app.command()
def up(
    work_dir: Annotated[
        Path | None, typer.Option("--work-dir", help="new or empty dir for state, logs (default: temp)")
    ] = None,
    api_port: Annotated[int, typer.Option("--api-port", help="REST API port (0: any free port)")] = 9000,
    mesos_port: Annotated[int, typer.Option("--mesos-port", help="localmesos master port (0: any)")] = 5050,
    zk_port: Annotated[int, typer.Option("--zk-port", help="ZooKeeper port (0: any)")] = 2181,
    agents: Annotated[int, typer.Option("--agents", help="localmesos agents")] = 3,
    nodes: Annotated[int, typer.Option("--nodes", help="nodes of the cluster to create (0: none)")] = 3,
    cluster: Annotated[str, typer.Option("--cluster", help="name of the cluster to create")] = "demo",
) -> None:
    """ZooKeeper, localmesos, the scheduler and a Cassandra cluster, in the foreground; Ctrl-C stops all."""
    from cassandra_mesos.up import run_up

    raise typer.Exit(run_up(work_dir, api_port, mesos_port, zk_port, agents, nodes, cluster))


@app.command()
def sidecar() -> None:
    """The command of a node task (not for people): reads CM_NODE_CONFIG, runs and supervises Cassandra."""
    from sidecar.main import main as sidecar_main

    raise typer.Exit(sidecar_main())


# cluster, plan, node, connection: clients of the REST API.
register_api_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
