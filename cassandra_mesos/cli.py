"""The `cassandra-mesos` command."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Apache Cassandra clusters on Apache Mesos.")


@app.callback()
def _root() -> None:
    """Apache Cassandra clusters on Apache Mesos."""


def main() -> None:
    app()
