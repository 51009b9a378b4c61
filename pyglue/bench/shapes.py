"""What an API serializes from a loaded object, identical for both states' classes.

The benchmark's timed call loads and serializes, so the baseline's lazy loads
happen inside the timing; the canonical dicts are then compared between states
(same rows, same numbers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any


def _uid(value: object) -> str | None:
    return None if value is None else str(value)


def _ts(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def agent_summary(agent: Any) -> dict[str, Any] | None:
    if agent is None:
        return None
    return {"id": _uid(agent.id), "name": agent.name, "configuration": agent.configuration}


def workflow(wf: Any) -> dict[str, Any] | None:
    """A workflow with its owner, blocks (by position, id), each block's agent, and edges."""
    if wf is None:
        return None
    blocks = sorted(wf.blocks, key=lambda b: (b.position, str(b.id)))
    return {
        "id": _uid(wf.id),
        "name": wf.name,
        "owner": wf.owner.email,
        "graph_definition": wf.graph_definition,
        "blocks": [
            {
                "id": _uid(b.id),
                "type": b.type,
                "name": b.name,
                "position": b.position,
                "config": b.config,
                "agent": agent_summary(b.agent),
            }
            for b in blocks
        ],
        "edges": sorted(
            (
                {
                    "id": _uid(e.id),
                    "source": _uid(e.source_block_id),
                    "target": _uid(e.target_block_id),
                }
                for e in wf.edges
            ),
            key=lambda e: str(e["id"]),
        ),
    }


def agent(ag: Any) -> dict[str, Any] | None:
    """An agent with its owner, tools (by name, id) and knowledgebases (by name, id)."""
    if ag is None:
        return None
    return {
        "id": _uid(ag.id),
        "name": ag.name,
        "owner": ag.owner.email,
        "configuration": ag.configuration,
        "tools": sorted(
            ({"id": _uid(t.id), "name": t.name, "tool_type": t.tool_type} for t in ag.tools),
            key=lambda t: (str(t["name"]), str(t["id"])),
        ),
        "knowledgebases": sorted(
            ({"id": _uid(k.id), "name": k.name} for k in ag.knowledgebases),
            key=lambda k: (str(k["name"]), str(k["id"])),
        ),
    }


def execution_row(e: Any) -> dict[str, Any]:
    return {
        "id": _uid(e.id),
        "status": e.status,
        "started_at": _ts(e.started_at),
        "duration_ms": e.duration_ms,
    }


def executions(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """History rows in the order the query returned them (the order is part of the result)."""
    return [execution_row(e) for e in rows]


def dashboard_executions(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The dashboard's recent executions, each with its agent's name and its metrics."""
    out = []
    for e in rows:
        m = e.metrics
        out.append(
            {
                **execution_row(e),
                "agent": e.agent.name,
                "tokens": None if m is None else m.total_tokens,
                "cost": None if m is None else str(Decimal(m.cost)),
            }
        )
    return out


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
