"""The spec's placement rules (Marathon-style ``field:OPERATOR[:value]``) against an agent.

An agent is described by its facts: ``hostname``, each Mesos attribute by name (text as is,
scalars as numbers, sets and ranges as Mesos prints them), and ``zone``/``region`` of its fault
domain. A rule is checked for a node's new placement against the facts of the agents its
cluster's other nodes are on. Pure functions; the offer evaluation calls ``violation``.

Operators, as Marathon defines them:

- ``UNIQUE``: no other node of the cluster on an agent with the same value.
- ``CLUSTER:v`` and ``IS:v``: the value is ``v``.
- ``LIKE:re`` / ``UNLIKE:re``: the value matches the regular expression as a whole / does not
  (an agent without the field never matches).
- ``MAX_PER:n``: at most ``n`` nodes of the cluster per value.
- ``GROUP_BY[:n]``: spread evenly across the values: the agent's value may not already hold more
  nodes than the least used value (with ``n``, values not seen yet count as empty until ``n``
  values hold nodes).

Every operator but ``UNLIKE`` refuses an agent that lacks the field.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from model.cluster import PlacementRule

Facts = Mapping[str, str]


def _attribute_value(attr: Mapping[str, Any]) -> str | None:
    kind = attr.get("type")
    if kind == "TEXT":
        return str((attr.get("text") or {}).get("value", ""))
    if kind == "SCALAR":
        return f"{(attr.get('scalar') or {}).get('value', 0):g}"
    if kind == "SET":
        return "{" + ",".join(str(i) for i in (attr.get("set") or {}).get("item", [])) + "}"
    if kind == "RANGES":
        spans = (attr.get("ranges") or {}).get("range", [])
        return "[" + ",".join(f"{r.get('begin')}-{r.get('end')}" for r in spans) + "]"
    return None


def agent_facts(offer: Mapping[str, Any]) -> dict[str, str]:
    """What placement rules can name about the offer's agent."""
    facts: dict[str, str] = {}
    for attr in offer.get("attributes") or []:
        name, value = attr.get("name"), _attribute_value(attr)
        if name and value is not None:
            facts[str(name)] = value
    fault = (offer.get("domain") or {}).get("fault_domain") or {}
    for level in ("zone", "region"):
        name = (fault.get(level) or {}).get("name")
        if name is not None:
            facts.setdefault(level, str(name))
    if offer.get("hostname"):
        facts["hostname"] = str(offer["hostname"])
    return facts


def _rule_text(rule: PlacementRule) -> str:
    return f"{rule.field}:{rule.operator}" + (f":{rule.value}" if rule.value is not None else "")


def _broken(rule: PlacementRule, facts: Facts, others: Sequence[Facts]) -> str | None:
    """Why ``rule`` refuses the agent, or None."""
    value = facts.get(rule.field)
    op = rule.operator
    if value is None:
        return None if op == "UNLIKE" else f"the agent has no {rule.field!r}"
    if op == "UNIQUE":
        if any(o.get(rule.field) == value for o in others):
            return f"another node of the cluster is on {rule.field} {value!r}"
        return None
    if op in ("CLUSTER", "IS"):
        return None if value == rule.value else f"{rule.field} is {value!r}, not {rule.value!r}"
    if op in ("LIKE", "UNLIKE"):
        matches = re.fullmatch(rule.value or "", value) is not None
        if matches == (op == "LIKE"):
            return None
        return f"{rule.field} {value!r} {'does not match' if op == 'LIKE' else 'matches'} {rule.value!r}"
    counts = Counter(o[rule.field] for o in others if rule.field in o)
    if op == "MAX_PER":
        limit = int(rule.value or 0)
        if counts[value] >= limit:
            return f"{rule.field} {value!r} already holds {counts[value]} node(s) of the cluster"
        return None
    if op == "GROUP_BY":
        expected = int(rule.value) if rule.value else 0  # parse_placement admits digits only
        seen = set(counts) | {value}
        least = 0 if len(seen) < expected else min(counts[v] for v in seen)
        if counts[value] > least:
            return (
                f"{rule.field} {value!r} already holds {counts[value]} node(s) of the cluster, "
                f"another value holds {least}"
            )
        return None
    return f"unknown operator {op}"  # parse_placement admits none; a stored spec could


def violation(rules: Sequence[PlacementRule], facts: Facts, others: Sequence[Facts]) -> str | None:
    """The first rule the agent breaks for a new node, with why, or None when all hold.

    ``others`` are the facts of the agents the cluster's other nodes are on.
    """
    for rule in rules:
        why = _broken(rule, facts, others)
        if why is not None:
            return f"placement {_rule_text(rule)}: {why}"
    return None
