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


# cluster, plan, node, connection: clients of the REST API.
register_api_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
