"""What a block wants done, as data. The reconciler is the one place that performs actions.

Every cycle the builders derive each block from the store and attach the single next action that
moves it toward its goal. The strategies decide which blocks may act now
(``plans.coordinator.next_work``); the reconciler performs exactly those actions, writes what it
did to the store, and the next cycle sees the result. Nothing here runs anything.

Action types (all frozen, all idempotent: performing one twice is harmless, because the next
cycle re-derives the block from what the first attempt recorded):

``LaunchNode(node, in_place, bootstrap, config_id, ...)``
    Launch the node's Cassandra task.
    - ``in_place=False``: a node that was never placed, or a replacement. Reserve cpus, mem,
      disk and five ports on an agent that satisfies the placement rules, CREATE the persistent
      volume, LAUNCH. ``rack`` names the Cassandra rack the node must be placed in.
    - ``in_place=True``: relaunch on the agent, reservations and volume recorded in the node's
      TaskRecord (same ports, same data); wait for an offer from that agent.
    - ``bootstrap``: whether the node streams its ranges from the cluster on first boot
      (``auto_bootstrap``). False for a member of a brand-new cluster, which instead starts with
      ``initial_tokens`` (balanced, ``model.node.initial_tokens``). Ignored by Cassandra when the
      node has data already (relaunches).
    - ``initial_tokens``: empty means "let Cassandra allocate" (bootstrapping joiners).
    - ``replace_address``: the IP of a dead node this one replaces (``replace_address_first_boot``);
      None otherwise.
    - ``config_id``: the config version to launch with (the store keeps every version a task
      record refers to); ``node_config``: ``model.cluster.node_config_id`` of that version, which
      the builders compare to decide whether a node runs the target config. An in-place launch
      with changed cpus or mem resizes the node's reservations on its agent.
    - ``seed``: whether the node is one of its datacenter's seeds.
    The reconciler must store ``action.record_extra()`` in the new TaskRecord's ``extra``: the
    builders read it back next cycle (``plans.cassandra.records``) to know the node's config
    version, why it was launched and how the cluster was first formed.

    - ``avoid_agent``: (replace) never place the node on this agent.

``DeleteIntent(plan)``
    Delete the plan's intent document: an operation plan (``replace-node-<i>``) is done.

``KillNode(node, task_id, reason)``
    Kill this task (graceful: the sidecar drains on SIGTERM). Used before relaunching a running
    node with a new config or for an operator restart. Kill only ``task_id``; if the node's
    current task differs, the block has moved on and the kill is stale.

``WaitForNode(node, reason)``
    Nothing to do but wait (task starting, Cassandra joining, old task dying). The reconciler
    performs no Mesos call; it may poll the node's sidecar sooner.

``Reconcile()``
    Reconcile every known task with Mesos (explicit, then implicit reconciliation).

``ReleaseNode(node, task_id, agent_id, await_offer)``
    (uninstall) Release what the node holds: on the next offer from ``agent_id``, DESTROY every
    volume and UNRESERVE every reservation labelled with the node's cluster, then delete the
    node's task record. ``await_offer=False``: the agent is gone for good, so nothing can be
    released and the record is deleted at once.

``ForgetCluster()``
    (uninstall) Delete the cluster from the store: its target, configs, intents and peers.

``StartJob(node, task_id, job)``
    (cleanup, repair) Ask the sidecar of ``task_id`` to run ``job`` (``POST /v1/jobs``); starting
    a job the sidecar already knows is harmless. Only if the node's current task is ``task_id``.

``RecordJobResult(plan, node, result)``
    (cleanup, repair) Write how the node's job ended into the plan's request, so the node counts
    as done (or failed) whatever its sidecar forgets later.

``StopJob(node, task_id, job_id)``
    Stop a job a sidecar still runs though no request wants it any more (stopped by an operator,
    or its block restarted): ``DELETE /v1/jobs/<id>``.

``OfferCleanup(request, interrupted, offered_for)``
    After a scale-out: store ``request`` as the ``cleanup`` plan (``interrupted``: offered, it
    waits for an operator's continue; otherwise it runs at once), then remember that the joins of
    ``offered_for`` were offered a cleanup, so it is offered once. Written only if the stored
    cleanup is still ``replaces``, the document the offer was decided on.

``SyncDatacenter(url)``
    A first exchange of datacenter info with the peer framework at ``url`` (PUT then GET its
    ``/v1/clusters/<c>/datacenter``). Like ``Reconcile`` it names what the block waits for: the
    reconciler exchanges with every peer of every cluster when due, with backoff after failures
    (``framework/reconciler/datacenters.py``), whatever the plans say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from model.maintenance import Job, MaintenanceRequest, NodeResult

# Keys of TaskRecord.extra written from LaunchNode.record_extra().
EXTRA_CONFIG_ID = "config_id"
EXTRA_NODE_CONFIG = "node_config"
EXTRA_LAUNCH_REASON = "launch_reason"
EXTRA_GENESIS_NODES = "genesis_nodes"
EXTRA_BOOTSTRAP = "bootstrap"
EXTRA_REPLACE_ADDRESS = "replace_address"


@dataclass(frozen=True)
class LaunchNode:
    node: str
    in_place: bool
    bootstrap: bool
    config_id: str
    reason: str
    node_config: str = ""
    rack: str = ""
    seed: bool = False
    initial_tokens: tuple[int, ...] = ()
    replace_address: str | None = None
    # Size of the cluster when it was first formed; recorded so later cycles can tell members of
    # the original (token-balanced, non-bootstrapping) set from nodes that joined later.
    genesis_nodes: int | None = None
    # Replacement: the agent of the node being replaced; the new placement must be elsewhere.
    avoid_agent: str | None = None

    def record_extra(self) -> Mapping[str, Any]:
        extra: dict[str, Any] = {
            EXTRA_CONFIG_ID: self.config_id,
            EXTRA_NODE_CONFIG: self.node_config,
            EXTRA_LAUNCH_REASON: self.reason,
            EXTRA_BOOTSTRAP: self.bootstrap,
        }
        if self.genesis_nodes is not None:
            extra[EXTRA_GENESIS_NODES] = self.genesis_nodes
        if self.replace_address is not None:
            extra[EXTRA_REPLACE_ADDRESS] = self.replace_address
        return extra


@dataclass(frozen=True)
class KillNode:
    node: str
    task_id: str
    reason: str


@dataclass(frozen=True)
class WaitForNode:
    node: str
    reason: str


@dataclass(frozen=True)
class Reconcile:
    pass


@dataclass(frozen=True)
class SyncDatacenter:
    url: str


@dataclass(frozen=True)
class ReleaseNode:
    node: str
    task_id: str
    agent_id: str
    await_offer: bool = True


@dataclass(frozen=True)
class ForgetCluster:
    pass


@dataclass(frozen=True)
class DeleteIntent:
    plan: str


@dataclass(frozen=True)
class StartJob:
    node: str
    task_id: str
    job: Job


@dataclass(frozen=True)
class RecordJobResult:
    plan: str
    node: str
    result: NodeResult


@dataclass(frozen=True)
class StopJob:
    node: str
    task_id: str
    job_id: str


@dataclass(frozen=True)
class OfferCleanup:
    request: MaintenanceRequest
    interrupted: bool
    offered_for: tuple[str, ...]
    # The stored cleanup document the offer was decided on (None: there was none): the offer is
    # written only over that very document, never over one stored since.
    replaces: Mapping[str, Any] | None = None


Action = (
    LaunchNode
    | KillNode
    | WaitForNode
    | Reconcile
    | SyncDatacenter
    | ReleaseNode
    | ForgetCluster
    | DeleteIntent
    | StartJob
    | RecordJobResult
    | StopJob
    | OfferCleanup
)


def action_asset(action: Action) -> str | None:
    """The node an action touches; two plans never act on the same node in one cycle."""
    if isinstance(action, LaunchNode | KillNode | WaitForNode | ReleaseNode | StartJob | RecordJobResult):
        return action.node
    return None
