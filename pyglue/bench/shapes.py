"""What an API serializes from a loaded object, identical for both states' classes.

The benchmark's timed call loads and serializes, so the baseline's lazy loads
happen inside the timing; the canonical dicts are then compared between states
(same rows, same numbers).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any


def _pick(obj: Any, *names: str) -> dict[str, Any]:
    """The named attributes, uuids and timestamps as text, as an API would send them."""
    values = {name: getattr(obj, name) for name in names}
    return {
        name: str(v)
        if isinstance(v, uuid.UUID)
        else v.isoformat()
        if isinstance(v, datetime)
        else v
        for name, v in values.items()
    }


def workflow(wf: Any) -> dict[str, Any] | None:
    """A workflow with its owner, blocks (by position, id), each block's agent, and edges."""
    if wf is None:
        return None
    blocks = sorted(wf.blocks, key=lambda b: (b.position, str(b.id)))
    edges = (_pick(e, "id", "source_block_id", "target_block_id") for e in wf.edges)
    return {
        **_pick(wf, "id", "name", "graph_definition"),
        "owner": wf.owner.email,
        "blocks": [
            {
                **_pick(b, "id", "type", "name", "position", "config"),
                "agent": b.agent and _pick(b.agent, "id", "name", "configuration"),
            }
            for b in blocks
        ],
        "edges": sorted(edges, key=lambda e: e["id"]),
    }


def agent(ag: Any) -> dict[str, Any] | None:
    """An agent with its owner, tools (by name, id) and knowledgebases (by name, id)."""
    if ag is None:
        return None
    tools = (_pick(t, "id", "name", "tool_type") for t in ag.tools)
    knowledgebases = (_pick(k, "id", "name") for k in ag.knowledgebases)
    return {
        **_pick(ag, "id", "name", "configuration"),
        "owner": ag.owner.email,
        "tools": sorted(tools, key=lambda t: (t["name"], t["id"])),
        "knowledgebases": sorted(knowledgebases, key=lambda k: (k["name"], k["id"])),
    }


def executions(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """History rows in the order the query returned them (the order is part of the result)."""
    return [_pick(e, "id", "status", "started_at", "duration_ms") for e in rows]


def dashboard_executions(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The dashboard's recent executions, each with its agent's name and its metrics."""
    return [
        {
            **_pick(e, "id", "status", "started_at", "duration_ms"),
            "agent": e.agent.name,
            "tokens": e.metrics and e.metrics.total_tokens,
            "cost": e.metrics and str(Decimal(e.metrics.cost)),
        }
        for e in rows
    ]


def ids(rows: Iterable[Any]) -> list[str]:
    """The ids of a search result, sorted (a search's order is not part of its result)."""
    return sorted(str(r.id) for r in rows)


def _ns(row: Mapping[str, Any], **related: Any) -> SimpleNamespace:
    return SimpleNamespace(**{**row, **related})


def workflow_from_document(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """agentdb.workflow_document's jsonb in the canonical shape of `workflow`."""
    if doc is None:
        return None
    agents = doc["agents"]  # keyed by id
    blocks = [_ns(b, agent=b["agent_id"] and _ns(agents[b["agent_id"]])) for b in doc["blocks"]]
    edges = [_ns(e) for e in doc["edges"]]
    return workflow(_ns(doc, owner=_ns(doc["owner"]), blocks=blocks, edges=edges))


def agent_from_document(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """agentdb.agent_document's jsonb in the canonical shape of `agent`."""
    if doc is None:
        return None
    tools = [_ns(t) for t in doc["tools"]]
    knowledgebases = [_ns(k) for k in doc["knowledgebases"]]
    return agent(_ns(doc, owner=_ns(doc["owner"]), tools=tools, knowledgebases=knowledgebases))
