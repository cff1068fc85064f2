"""The command-line client of the REST API: ``cassandra-mesos cluster|plan|node|cleanup|repair|
backup|restore|connection``.

It only talks HTTP to the API (``--api``, default $CM_API or http://127.0.0.1:9000; ``--token`` or
$CM_TOKEN). Exit codes: 0 done; 2 the request was refused (bad input, unknown name, conflict: any
4xx) or the options are wrong; 1 the server cannot be reached, failed (5xx), or a ``--wait`` ended
in ERROR or timed out.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.client import DEFAULT_API, ApiClient, ApiRefused, ApiUnreachable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2
POLL_S = 1.0

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

ApiOpt = Annotated[str, typer.Option("--api", envvar="CM_API", help="base URL of the API")]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", envvar="CM_TOKEN", help="bearer token for changes", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the raw JSON answer")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="show progress until the plan ends")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="seconds --wait waits at most")]
PlanArg = Annotated[str, typer.Argument(help="plan name")]
PhaseOpt = Annotated[str | None, typer.Option("--phase", help="phase id or name")]
BlockOpt = Annotated[str | None, typer.Option("--block", help="block id or name")]

cluster_app = typer.Typer(no_args_is_help=True, help="Create, inspect, change and remove clusters.")
plan_app = typer.Typer(no_args_is_help=True, help="Show plans and steer them: interrupt, continue...")
node_app = typer.Typer(no_args_is_help=True, help="Nodes of a cluster: list, show, restart, replace.")

STATUS_STYLE = {
    "COMPLETE": "green",
    "RUNNING": "green",
    "TASK_RUNNING": "green",
    "NORMAL": "green",
    "ERROR": "bold red",
    "WAITING": "yellow",
    "UNINSTALLING": "yellow",
}


def _styled(status: str) -> str:
    style = STATUS_STYLE.get(status, "cyan")
    return f"[{style}]{status}[/{style}]"


@contextlib.contextmanager
def _session(api: str, token: str | None) -> Iterator[ApiClient]:
    """The client, with every failure turned into a sentence and its exit code."""
    client = ApiClient(api, token)
    try:
        yield client
    except ApiRefused as exc:
        err.print(f"[bold red]error:[/bold red] {exc.message}", soft_wrap=True)
        for line in exc.errors:
            err.print(f"  - {line}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED if exc.status >= 500 else EXIT_REFUSED) from None
    except ApiUnreachable as exc:
        err.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None
    finally:
        client.close()


def _refuse(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/bold red] {message}", soft_wrap=True)
    return typer.Exit(EXIT_REFUSED)


def _print_json(data: Any) -> None:
    out.print_json(json.dumps(data))


# -- waiting --------------------------------------------------------------------------------------


def wait_for_plan(
    client: ApiClient,
    cluster: str,
    plan: str,
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    gone_when_done: bool = False,
) -> int:
    """Poll GET plan with a progress bar (blocks complete / blocks) until COMPLETE or ERROR.

    A plan seen COMPLETE is read once more before believing it: right after a change the
    scheduler may not have rebuilt the plan yet. ``gone_when_done``: the plan deletes itself
    when it completes (replace-<node>), so a plan seen and then gone is complete.
    """
    deadline = clock() + timeout
    completes = 0
    seen = False
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        bar = progress.add_task(f"{cluster}/{plan}", total=None)
        while True:
            try:
                body = client.get(f"/v1/clusters/{cluster}/plans/{plan}")
            except ApiRefused as exc:
                if exc.status != 404:
                    raise
                body = None  # not built yet, or (gone_when_done) finished
                if gone_when_done and seen:
                    progress.stop()
                    out.print(f"plan {plan} of cluster {cluster} is COMPLETE (done and removed)")
                    return EXIT_OK
            if body is not None:
                seen = True
                blocks = [b for p in body["phases"] for b in p["blocks"]]
                done = sum(1 for b in blocks if b["status"] == "COMPLETE")
                status = body["status"]
                progress.update(
                    bar, total=len(blocks), completed=done, description=f"{cluster}/{plan} {status}"
                )
                if status == "COMPLETE":
                    completes += 1
                    if completes >= 2:
                        progress.stop()
                        out.print(f"plan {plan} of cluster {cluster} is COMPLETE")
                        return EXIT_OK
                else:
                    completes = 0
                if status == "ERROR":
                    progress.stop()
                    err.print(f"[bold red]plan {plan} of cluster {cluster} is in ERROR[/bold red]")
                    for line in body.get("errors", []):
                        err.print(f"  - {line}", soft_wrap=True)
                    for b in blocks:
                        if b["status"] == "ERROR":
                            err.print(f"  - {b['name']}: {b['message']}", soft_wrap=True)
                    return EXIT_FAILED
            if clock() >= deadline:
                progress.stop()
                err.print(f"[bold red]gave up waiting after {timeout:.0f}s[/bold red]; the plan goes on")
                return EXIT_FAILED
            sleep(POLL_S)


def wait_gone(client: ApiClient, cluster: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    with err.status(f"uninstalling {cluster}..."):
        while True:
            try:
                client.get(f"/v1/clusters/{cluster}")
            except ApiRefused as exc:
                if exc.status == 404:
                    out.print(f"cluster {cluster} is gone")
                    return EXIT_OK
                raise
            if time.monotonic() >= deadline:
                err.print(f"[bold red]gave up waiting after {timeout:.0f}s[/bold red]; the uninstall goes on")
                return EXIT_FAILED
            time.sleep(POLL_S)


# -- clusters -------------------------------------------------------------------------------------


def _read_spec_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise _refuse(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise _refuse(f"{path} is not JSON or YAML: {exc}") from None
    if not isinstance(data, dict):
        raise _refuse(f"{path} must hold one JSON/YAML object (the cluster spec)")
    return data


def _parse_sets(pairs: list[str]) -> dict[str, Any]:
    """``--set key=value``: the value is JSON when it parses (numbers, lists...), else a string."""
    out_: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise _refuse(f"--set {pair!r}: expected key=value")
        try:
            out_[key] = json.loads(raw)
        except ValueError:
            out_[key] = raw
    return out_


FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="spec as JSON or YAML")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="field=value (value as JSON), repeatable")]
NodesOpt = Annotated[int | None, typer.Option("--nodes", help="node count")]


def _spec_from_options(file: Path | None, nodes: int | None, sets: list[str] | None) -> dict[str, Any]:
    spec = _read_spec_file(file) if file is not None else {}
    if nodes is not None:
        spec["nodes"] = nodes
    spec.update(_parse_sets(sets or []))
    return spec


@cluster_app.command("create")
def cluster_create(
    name: str,
    nodes: NodesOpt = None,
    file: FileOpt = None,
    set_: SetOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 1800.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Create cluster NAME (defaults make --nodes 3 a complete spec)."""
    spec = _spec_from_options(file, nodes, set_)
    with _session(api, token) as client:
        try:
            client.get(f"/v1/clusters/{name}")
        except ApiRefused as exc:
            if exc.status != 404:
                raise
        else:
            raise _refuse(f"cluster {name} exists already; use 'cluster update'")
        answer = client.put(f"/v1/clusters/{name}", spec)
        out.print(answer["message"])
        if wait:
            raise typer.Exit(wait_for_plan(client, name, "deploy", timeout))


@cluster_app.command("update")
def cluster_update(
    name: str,
    nodes: NodesOpt = None,
    file: FileOpt = None,
    set_: SetOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 1800.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Change cluster NAME: the current spec with --file, --nodes and --set applied over it."""
    changes = _spec_from_options(file, nodes, set_)
    if not changes:
        raise _refuse("nothing to change: give --file, --nodes or --set")
    with _session(api, token) as client:
        current = client.get(f"/v1/clusters/{name}")["spec"]
        answer = client.put(f"/v1/clusters/{name}", {**current, **changes})
        out.print(answer["message"])
        if wait:
            raise typer.Exit(wait_for_plan(client, name, "deploy", timeout))


@cluster_app.command("scale")
def cluster_scale(
    name: str,
    nodes: Annotated[int, typer.Argument(help="the new node count (grow only)")],
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 1800.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Grow cluster NAME to NODES nodes; then a cleanup of the older nodes is offered (plan cleanup)."""
    with _session(api, token) as client:
        before = client.get(f"/v1/clusters/{name}")["spec"]["nodes"]
        out.print(client.post(f"/v1/clusters/{name}/scale", {"nodes": nodes})["message"])
        if wait:
            code = wait_for_plan(client, name, "deploy", timeout)
            if code == EXIT_OK and nodes > before:
                spec = client.get(f"/v1/clusters/{name}")["spec"]
                if spec.get("auto_cleanup_after_scale"):
                    out.print(
                        f"a cleanup of the older nodes runs now: `cassandra-mesos plan show {name} cleanup`"
                    )
                else:
                    out.print(
                        "the older nodes still hold data of the ranges they gave away: run the offered "
                        f"cleanup with `cassandra-mesos plan continue {name} cleanup`"
                    )
            raise typer.Exit(code)


@cluster_app.command("list")
def cluster_list(as_json: JsonOpt = False, api: ApiOpt = DEFAULT_API, token: TokenOpt = None) -> None:
    """All clusters with their status."""
    with _session(api, token) as client:
        names = client.get("/v1/clusters")
        infos = [client.get(f"/v1/clusters/{n}") for n in names]
    if as_json:
        _print_json(infos)
        return
    table = Table("cluster", "status", "nodes", "running", "data center", "config")
    for i in infos:
        table.add_row(
            i["name"], _styled(i["status"]), str(i["nodes"]), str(i["nodes_running"]),
            i["spec"]["data_center"], i["config_id"],
        )  # fmt: skip
    out.print(table if infos else "no clusters")


@cluster_app.command("show")
def cluster_show(
    name: str, as_json: JsonOpt = False, api: ApiOpt = DEFAULT_API, token: TokenOpt = None
) -> None:
    """Cluster NAME: status, plans and spec."""
    with _session(api, token) as client:
        info = client.get(f"/v1/clusters/{name}")
    if as_json:
        _print_json(info)
        return
    out.print(f"cluster [bold]{info['name']}[/bold] {_styled(info['status'])} config {info['config_id']}")
    out.print(f"nodes: {info['nodes']} ({info['nodes_running']} running)")
    out.print("plans: " + ", ".join(f"{p} {_styled(s)}" for p, s in info["plans"].items()))
    out.print_json(json.dumps(info["spec"]))


@cluster_app.command("offers")
def cluster_offers(
    name: str, as_json: JsonOpt = False, api: ApiOpt = DEFAULT_API, token: TokenOpt = None
) -> None:
    """Nodes of NAME waiting for an offer that fits, and why each agent's offer did not."""
    with _session(api, token) as client:
        waits = client.get(f"/v1/clusters/{name}/offers")
    if as_json:
        _print_json(waits)
        return
    if not waits:
        out.print(f"no node of {name} is waiting for an offer")
        return
    for w in waits:
        checked = (
            "no offer weighed yet"
            if w["checked_s_ago"] is None
            else f"offers weighed {w['checked_s_ago']:.0f}s ago"
        )
        out.print(f"[bold]{w['node']}[/bold] waiting {w['waiting_s']:.0f}s, {checked}")
        for reason in w["reasons"]:
            out.print(f"  {reason}", markup=False, highlight=False)


@cluster_app.command("delete")
def cluster_delete(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="wait until the cluster is gone")] = False,
    timeout: TimeoutOpt = 1800.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Uninstall cluster NAME: kill its nodes, destroy its data volumes, unreserve."""
    if not yes and not typer.confirm(f"Destroy cluster {name} and all its data?"):
        raise _refuse("not confirmed; nothing done")
    with _session(api, token) as client:
        out.print(client.delete(f"/v1/clusters/{name}")["message"])
        if wait:
            raise typer.Exit(wait_gone(client, name, timeout))


# -- plans ----------------------------------------------------------------------------------------


def print_plan(plan: dict[str, Any]) -> None:
    out.print(f"plan [bold]{plan['name']}[/bold] {_styled(plan['status'])} ({plan['strategy']})")
    for line in plan["errors"]:
        out.print(f"  [red]error:[/red] {line}", soft_wrap=True)
    table = Table("phase", "block", "status", "message", "id")
    for phase in plan["phases"]:
        table.add_row(
            f"[bold]{phase['name']}[/bold]", "", _styled(phase["status"]), phase["strategy"], phase["id"]
        )
        for b in phase["blocks"]:
            table.add_row("", b["name"], _styled(b["status"]), b["message"], b["id"])
    out.print(table)


@plan_app.command("show")
def plan_show(
    cluster: str,
    plan: PlanArg = "deploy",
    as_json: JsonOpt = False,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """A plan of CLUSTER (default deploy), phase by phase, block by block."""
    with _session(api, token) as client:
        body = client.get(f"/v1/clusters/{cluster}/plans/{plan}")
    if as_json:
        _print_json(body)
    else:
        print_plan(body)


@plan_app.command("list")
def plan_list(cluster: str, api: ApiOpt = DEFAULT_API, token: TokenOpt = None) -> None:
    """Names and statuses of the plans of CLUSTER."""
    with _session(api, token) as client:
        info = client.get(f"/v1/clusters/{cluster}")
    for name, status in info["plans"].items():
        out.print(f"{name} {_styled(status)}")


def _verb(
    verb: str, cluster: str, plan: str, phase: str | None, block: str | None, api: str, token: str | None
) -> None:
    params = {k: v for k, v in (("phase", phase), ("block", block)) if v is not None}
    with _session(api, token) as client:
        out.print(client.post(f"/v1/clusters/{cluster}/plans/{plan}/{verb}", params=params)["message"])


def _verb_command(verb: str, doc: str) -> None:
    """Register `plan VERB CLUSTER [PLAN] [--phase] [--block]`: the four verbs differ only in name."""

    def command(
        cluster: str,
        plan: PlanArg = "deploy",
        phase: PhaseOpt = None,
        block: BlockOpt = None,
        api: ApiOpt = DEFAULT_API,
        token: TokenOpt = None,
    ) -> None:
        _verb(verb, cluster, plan, phase, block, api, token)

    command.__doc__ = doc
    plan_app.command(verb)(command)


_verb_command("interrupt", "Pause a plan, phase or block (work already running is not killed).")
_verb_command("continue", "Resume what was interrupted, or accept a canary.")
_verb_command("force-complete", "Declare blocks done without doing them.")
_verb_command(
    "restart", "Redo blocks (a node block relaunches its node in place; a phase of a serial plan rolls)."
)


# -- nodes ----------------------------------------------------------------------------------------


@node_app.command("list")
def node_list(
    cluster: str, as_json: JsonOpt = False, api: ApiOpt = DEFAULT_API, token: TokenOpt = None
) -> None:
    """Launched nodes of CLUSTER."""
    with _session(api, token) as client:
        nodes = client.get(f"/v1/clusters/{cluster}/nodes")
    if as_json:
        _print_json(nodes)
        return
    table = Table("node", "state", "mode", "host", "CQL", "task")
    for n in nodes:
        cql = f"{n['hostname']}:{n['ports']['native_transport']}" if "native_transport" in n["ports"] else ""
        table.add_row(
            n["name"], _styled(n["state"]), _styled(n["mode"]), n["hostname"] or "", cql, n["task_id"]
        )
    out.print(table if nodes else "no node launched yet")


@node_app.command("show")
def node_show(
    cluster: str, node: str, as_json: JsonOpt = False, api: ApiOpt = DEFAULT_API, token: TokenOpt = None
) -> None:
    """NODE of CLUSTER with its live status from its sidecar."""
    with _session(api, token) as client:
        info = client.get(f"/v1/clusters/{cluster}/nodes/{node}")
    if as_json:
        _print_json(info)
        return
    table = Table("field", "value", show_header=False)
    for key, value in info.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    out.print(table)


@node_app.command("restart")
def node_restart(
    cluster: str,
    node: str,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 1800.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Relaunch NODE in place (same agent, data and ports); --wait follows the deploy plan."""
    with _session(api, token) as client:
        out.print(client.post(f"/v1/clusters/{cluster}/nodes/{node}/restart")["message"])
        if wait:
            raise typer.Exit(wait_for_plan(client, cluster, "deploy", timeout))


@node_app.command("replace")
def node_replace(
    cluster: str,
    node: str,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 1800.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Replace NODE by a new node on another agent; --wait follows the plan replace-NODE."""
    with _session(api, token) as client:
        out.print(client.post(f"/v1/clusters/{cluster}/nodes/{node}/replace")["message"])
        if wait:
            raise typer.Exit(wait_for_plan(client, cluster, f"replace-{node}", timeout, gone_when_done=True))


# -- maintenance: cleanup, repair -----------------------------------------------------------------

MaintenanceNodesOpt = Annotated[
    str, typer.Option("--nodes", help="comma-separated node names, or * for every launched node")
]
KeyspacesOpt = Annotated[
    str | None,
    typer.Option("--key-spaces", help="comma-separated keyspaces (default: all)", show_default=False),
]
TablesOpt = Annotated[
    str | None,
    typer.Option(
        "--column-families", help="comma-separated tables of the one keyspace given", show_default=False
    ),
]


def _maintenance_app(kind: str, what: str) -> typer.Typer:
    """`KIND start CLUSTER [--nodes] [--key-spaces] [--column-families] [--wait]` and `KIND stop
    CLUSTER`: cleanup and repair differ only in name."""
    app = typer.Typer(no_args_is_help=True, help=f"{what} Runs one node at a time as plan {kind}.")

    @app.command("start")
    def start(
        cluster: str,
        nodes: MaintenanceNodesOpt = "*",
        key_spaces: KeyspacesOpt = None,
        column_families: TablesOpt = None,
        wait: WaitOpt = False,
        timeout: TimeoutOpt = 86400.0,
        api: ApiOpt = DEFAULT_API,
        token: TokenOpt = None,
    ) -> None:
        body: dict[str, Any] = {"nodes": [n.strip() for n in nodes.split(",") if n.strip()]}
        if key_spaces is not None:
            body["key_spaces"] = key_spaces
        if column_families is not None:
            body["column_families"] = column_families
        with _session(api, token) as client:
            out.print(client.put(f"/v1/clusters/{cluster}/{kind}/start", body)["message"])
            if wait:
                raise typer.Exit(wait_for_plan(client, cluster, kind, timeout))

    start.__doc__ = f"Start a {kind} of CLUSTER; --wait follows the plan {kind}."

    _stop_command(app, kind)
    return app


LocationOpt = Annotated[
    str, typer.Option("--location", help="file:///dir: a directory every agent mounts at the same path")
]
backup_app = typer.Typer(
    no_args_is_help=True, help="Back up every node's tables to a shared directory (plan backup)."
)
restore_app = typer.Typer(no_args_is_help=True, help="Restore a backup into the same nodes (plan restore).")


@backup_app.command("start")
def backup_start(
    cluster: str,
    name: Annotated[str, typer.Argument(help="the backup's name")],
    location: LocationOpt,
    key_spaces: KeyspacesOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 86400.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Back up CLUSTER as NAME under --location; --wait follows the plan backup."""
    body: dict[str, Any] = {"backup_name": name, "external_location": location}
    if key_spaces is not None:
        body["key_spaces"] = key_spaces
    with _session(api, token) as client:
        out.print(client.put(f"/v1/clusters/{cluster}/backup/start", body)["message"])
        if wait:
            raise typer.Exit(wait_for_plan(client, cluster, "backup", timeout))


@restore_app.command("start")
def restore_start(
    cluster: str,
    name: Annotated[str, typer.Argument(help="the backup's name")],
    location: LocationOpt,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = 86400.0,
    api: ApiOpt = DEFAULT_API,
    token: TokenOpt = None,
) -> None:
    """Restore backup NAME from --location into CLUSTER's tables; --wait follows the plan restore."""
    body = {"backup_name": name, "external_location": location}
    with _session(api, token) as client:
        out.print(client.put(f"/v1/clusters/{cluster}/restore/start", body)["message"])
        if wait:
            raise typer.Exit(wait_for_plan(client, cluster, "restore", timeout))


def _stop_command(app: typer.Typer, kind: str) -> None:
    def stop(cluster: str, api: ApiOpt = DEFAULT_API, token: TokenOpt = None) -> None:
        with _session(api, token) as client:
            out.print(client.put(f"/v1/clusters/{cluster}/{kind}/stop")["message"])

    stop.__doc__ = f"Stop the {kind} of CLUSTER: its plan goes, the work running on nodes is stopped."
    app.command("stop")(stop)


_stop_command(backup_app, "backup")
_stop_command(restore_app, "restore")


def connection(
    cluster: str, as_json: JsonOpt = False, api: ApiOpt = DEFAULT_API, token: TokenOpt = None
) -> None:
    """CQL contact points of CLUSTER (running, CQL-ready nodes), one per line."""
    with _session(api, token) as client:
        body = client.get(f"/v1/clusters/{cluster}/connection")
    if as_json:
        _print_json(body)
        return
    for address in body["address"]:
        out.print(address)
    if not body["address"]:
        err.print("no node is ready for CQL yet")


def register(app: typer.Typer) -> None:
    """Add the API client commands to the ``cassandra-mesos`` command."""
    app.add_typer(cluster_app, name="cluster")
    app.add_typer(plan_app, name="plan")
    app.add_typer(node_app, name="node")
    app.add_typer(
        _maintenance_app(
            "cleanup", "Remove data nodes no longer own (nodetool cleanup), e.g. after a scale-out."
        ),
        name="cleanup",
    )
    app.add_typer(
        _maintenance_app("repair", "Anti-entropy repair: full, primary range (nodetool repair -full -pr)."),
        name="repair",
    )
    app.add_typer(backup_app, name="backup")
    app.add_typer(restore_app, name="restore")
    app.command("connection")(connection)
