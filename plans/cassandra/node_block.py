"""One node's block, derived from its task record, its health and its restart mark.

The goal of a node block: the node's task runs the target config, is newer than any restart
mark, and the node is Up/Normal and answers CQL. Deploy and recovery derive their node blocks
with this one function, so both always agree on a node's next action.

| record / observation                          | status   | action                         |
|-----------------------------------------------|----------|--------------------------------|
| no record                                     | PENDING  | LaunchNode (new placement)     |
| stale (config or restart), task active        | PENDING  | KillNode (drains, then dies)   |
| stale, task KILLING                           | PREPARED | WaitForNode                    |
| task TASK_ERROR                               | ERROR    | none (operator: fix, restart)  |
| task TASK_GONE(_BY_OPERATOR)                  | ERROR    | none (operator: replace)       |
| task terminal otherwise                       | PREPARED | LaunchNode (in place)          |
| current, TASK_STAGING / TASK_STARTING         | STARTING | WaitForNode                    |
| current, TASK_RUNNING, not NORMAL + CQL ready | STARTED  | WaitForNode                    |
| current, TASK_RUNNING, NORMAL + CQL ready     | COMPLETE | none                           |
| current, KILLING / unreachable                | PREPARED | WaitForNode                    |

"Stale config" compares the node config hash recorded at launch with the target's
(``model.cluster.node_config_id``): scaling or changing seeds restarts nobody. A record without
a recorded node config counts as current (no surprise rolling restart).
"""

from __future__ import annotations

from model.node import datacenter_token_offset, is_seed, node_index, node_initial_tokens, node_rack
from model.records import ACTIVE_STATES, TERMINAL_STATES, TaskRecord
from plans.actions import KillNode, LaunchNode, WaitForNode
from plans.cassandra.state import (
    GONE_STATES,
    ClusterState,
    recorded_bootstrap,
    recorded_config_id,
    recorded_node_config,
    recorded_replace_address,
)
from plans.model import Block, Status, new_block


def _status_note(record: TaskRecord) -> str:
    st = record.status or {}
    detail = st.get("message") or st.get("reason") or ""
    return f"{record.state} ({detail})" if detail else record.state


def launch_action(
    state: ClusterState, node: str, *, genesis: int, in_place: bool, reason: str, record: TaskRecord | None
) -> LaunchNode:
    """How to launch ``node`` now. A relaunch repeats the first boot's choices (bootstrap, tokens,
    replace address), because Cassandra applies them again if the first boot never finished."""
    spec = state.spec
    index = node_index(node)
    original = index < genesis
    bootstrap = not original
    replace_address = None
    if record is not None:
        recorded = recorded_bootstrap(record)
        if recorded is not None:
            bootstrap = recorded
        replace_address = recorded_replace_address(record)
    tokens: tuple[int, ...] = ()
    if not bootstrap and original:
        offset = datacenter_token_offset(spec.data_center)
        tokens = tuple(node_initial_tokens(index, genesis, spec.num_tokens, offset))
    return LaunchNode(
        node=node,
        in_place=in_place,
        bootstrap=bootstrap,
        config_id=state.config_id,
        node_config=state.node_config,
        reason=reason,
        rack=node_rack(spec, node),
        seed=is_seed(spec, node),
        initial_tokens=tokens,
        replace_address=replace_address,
        genesis_nodes=genesis,
    )


def node_block(
    state: ClusterState,
    plan: str,
    phase: str,
    node: str,
    *,
    genesis: int,
    restart_mark: int | None,
    reason: str,
    relaunch_reason: str = "relaunch",
    follow_config: bool = True,
) -> Block:
    """The block of ``node`` in ``plan``/``phase``.

    ``reason`` is recorded on a first launch, ``relaunch_reason`` on an in-place relaunch after the
    task ended (recovery records its own, to follow the node until it is ready again).
    ``follow_config=False`` ignores a stale config: only the deploy plan rolls config changes, one
    node at a time; recovery must never stop running nodes for it (its phase is parallel).
    """
    record = state.records.get(node)

    def block(status: Status, message: str, action: LaunchNode | KillNode | WaitForNode | None) -> Block:
        gen = record.launch_count if record is not None else 0
        return new_block(plan, phase, node, status, message, action=action, asset=node, generation=gen)

    if record is None:
        launch = launch_action(state, node, genesis=genesis, in_place=False, reason=reason, record=None)
        how = (
            "bootstrapping into the cluster"
            if launch.bootstrap
            else "joining the new cluster with initial tokens"
        )
        return block(Status.PENDING, f"not launched yet; will launch ({how})", launch)

    task_state = record.state
    recorded = recorded_node_config(record)
    restart_due = restart_mark is not None and record.launch_count <= restart_mark
    stale_config = follow_config and recorded is not None and recorded != state.node_config
    if restart_due or stale_config:
        why = (
            "restart requested by an operator"
            if restart_due
            else f"config {recorded_config_id(record)} -> {state.config_id}"
        )
        redo_reason = "restart" if restart_due else "config-update"
        if task_state == "TASK_KILLING":
            return block(
                Status.PREPARED, f"{why}: old task is being killed", WaitForNode(node, "old task dying")
            )
        if task_state in ACTIVE_STATES:
            return block(
                Status.PENDING, f"{why}: will stop the running task", KillNode(node, record.task_id, why)
            )
        if task_state in TERMINAL_STATES and task_state not in GONE_STATES:
            launch = launch_action(
                state, node, genesis=genesis, in_place=True, reason=redo_reason, record=record
            )
            return block(Status.PREPARED, f"{why}: relaunching in place", launch)

    if task_state == "TASK_ERROR":
        return block(
            Status.ERROR,
            f"{_status_note(record)}: the task is invalid; fix the spec, then restart this block",
            None,
        )
    if task_state in GONE_STATES:
        return block(Status.ERROR, f"{_status_note(record)}: the agent is gone; replace the node", None)
    if task_state in TERMINAL_STATES:
        launch = launch_action(
            state, node, genesis=genesis, in_place=True, reason=relaunch_reason, record=record
        )
        return block(Status.PREPARED, f"{_status_note(record)}: relaunching in place", launch)
    if task_state in ("TASK_STAGING", "TASK_STARTING"):
        return block(Status.STARTING, task_state, WaitForNode(node, "task starting"))
    if task_state == "TASK_RUNNING":
        health = state.health_of(node)
        if health is not None and health.is_ready:
            return block(Status.COMPLETE, "TASK_RUNNING, mode NORMAL, CQL ready", None)
        mode = health.mode if health is not None else "UNKNOWN"
        cql = "ready" if health is not None and health.cql_ready else "not ready"
        return block(
            Status.STARTED, f"TASK_RUNNING, mode {mode}, CQL {cql}", WaitForNode(node, "Cassandra starting")
        )
    return block(
        Status.PREPARED, f"{_status_note(record)}: waiting for the task", WaitForNode(node, task_state)
    )
