"""Operator intents of one plan: the only plan state that is stored, so it survives failover.

Everything else about a plan (block statuses, which node to launch next) is derived each cycle
from the store and Mesos. What an operator *said* cannot be derived, so it lives here, keyed by
the stable element ids of ``plans.model`` (uuid5 of the element names):

- ``interrupted``: the plan is paused (no block may act).
- ``interrupted_phases`` / ``interrupted_blocks``: ids of paused phases / blocks.
- ``forced_complete``: ids of blocks an operator declared done (sticky until a restart).
- ``restarts``: block id -> restart mark. A block is redone until its work is newer than the
  mark; for a node block the mark is the node's launch count when the restart was asked for,
  so any later launch of the node satisfies it.
- ``canary_continued``: ids of canary phases whose canary an operator accepted.
- ``parameters``: the parameters of an operation plan (e.g. a repair's keyspaces).

The store persists ``to_json()`` opaquely; ``from_json`` refuses malformed documents with
CorruptRecord rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from model.errors import CorruptRecord

INTENTS_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PlanIntents:
    plan: str
    interrupted: bool = False
    interrupted_phases: frozenset[str] = frozenset()
    interrupted_blocks: frozenset[str] = frozenset()
    forced_complete: frozenset[str] = frozenset()
    restarts: Mapping[str, int] = field(default_factory=dict)
    canary_continued: frozenset[str] = frozenset()
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def restart_mark(self, block_id: str) -> int | None:
        return self.restarts.get(block_id)

    def with_changes(self, **changes: Any) -> PlanIntents:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": INTENTS_SCHEMA_VERSION,
            "plan": self.plan,
            "interrupted": self.interrupted,
            "interrupted_phases": sorted(self.interrupted_phases),
            "interrupted_blocks": sorted(self.interrupted_blocks),
            "forced_complete": sorted(self.forced_complete),
            "restarts": dict(sorted(self.restarts.items())),
            "canary_continued": sorted(self.canary_continued),
            "parameters": dict(self.parameters),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "plan intents") -> PlanIntents:
        if not isinstance(data, Mapping):
            raise CorruptRecord(f"{where}: expected a JSON object, got {type(data).__name__}")
        schema = data.get("schema", INTENTS_SCHEMA_VERSION)
        if schema != INTENTS_SCHEMA_VERSION:
            raise CorruptRecord(f"{where}: unknown schema version {schema!r}")
        plan = data.get("plan")
        if not isinstance(plan, str) or not plan:
            raise CorruptRecord(f"{where}: 'plan' must be a non-empty string")
        interrupted = data.get("interrupted", False)
        if not isinstance(interrupted, bool):
            raise CorruptRecord(f"{where}: 'interrupted' must be a boolean")
        restarts = data.get("restarts", {})
        if not isinstance(restarts, Mapping) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in restarts.items()
        ):
            raise CorruptRecord(f"{where}: 'restarts' must map block ids to integers")
        parameters = data.get("parameters", {})
        if not isinstance(parameters, Mapping):
            raise CorruptRecord(f"{where}: 'parameters' must be an object")
        return cls(
            plan=plan,
            interrupted=interrupted,
            interrupted_phases=_id_set(data, "interrupted_phases", where),
            interrupted_blocks=_id_set(data, "interrupted_blocks", where),
            forced_complete=_id_set(data, "forced_complete", where),
            restarts=dict(restarts),
            canary_continued=_id_set(data, "canary_continued", where),
            parameters=dict(parameters),
        )


def _id_set(data: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CorruptRecord(f"{where}: '{key}' must be a list of ids")
    return frozenset(value)
