"""What an API serializes from a loaded object, identical for both states' classes.

The benchmark's timed call loads and serializes, so the baseline's lazy loads
happen inside the timing; the canonical dicts are then compared between states
(same rows, same numbers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
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


def number(value: Any, places: int = 3) -> str | None:
    """A number as text with fixed decimals, so int/Decimal/float compare equal."""
    if value is None:
        return None
    return f"{float(value):.{places}f}"


def numbers(row: Mapping[str, Any], places: int = 3) -> dict[str, str | None]:
    return {key: number(value, places) for key, value in row.items()}


def _owner_email(doc: Mapping[str, Any]) -> Any:
    owner = doc.get("owner")
    if isinstance(owner, Mapping):
        return owner.get("email")
    return doc.get("owner_email", owner)


def _doc_agent(block: Mapping[str, Any], agents: Mapping[str, Any]) -> dict[str, Any] | None:
    ag = block.get("agent")
    if ag is None and block.get("agent_id") is not None:
        ag = agents.get(str(block["agent_id"]))
    if ag is None:
        return None
    return {"id": str(ag["id"]), "name": ag["name"], "configuration": ag.get("configuration")}


def workflow_from_document(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """agentdb.workflow_document's jsonb in the canonical shape of `workflow`."""
    if doc is None:
        return None
    wf = doc.get("workflow", doc)
    listed = doc.get("agents") or {}
    # agentdb.workflow_document keys the agents by id
    agents = {str(a["id"]): a for a in (listed.values() if isinstance(listed, Mapping) else listed)}
    blocks = sorted(
        doc.get("blocks", wf.get("blocks", [])), key=lambda b: (b["position"], str(b["id"]))
    )
    edges = doc.get("edges", wf.get("edges", []))
    return {
        "id": str(wf["id"]),
        "name": wf["name"],
        "owner": _owner_email(doc) if "owner" in doc or "owner_email" in doc else _owner_email(wf),
        "graph_definition": wf["graph_definition"],
        "blocks": [
            {
                "id": str(b["id"]),
                "type": b["type"],
                "name": b["name"],
                "position": b["position"],
                "config": b["config"],
                "agent": _doc_agent(b, agents),
            }
            for b in blocks
        ],
        "edges": sorted(
            (
                {
                    "id": str(e["id"]),
                    "source": str(e["source_block_id"]),
                    "target": str(e["target_block_id"]),
                }
                for e in edges
            ),
            key=lambda e: e["id"],
        ),
    }


def agent_from_document(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """agentdb.agent_document's jsonb in the canonical shape of `agent`."""
    if doc is None:
        return None
    ag = doc.get("agent", doc)
    return {
        "id": str(ag["id"]),
        "name": ag["name"],
        "owner": _owner_email(doc) if "owner" in doc or "owner_email" in doc else _owner_email(ag),
        "configuration": ag["configuration"],
        "tools": sorted(
            (
                {"id": str(t["id"]), "name": t["name"], "tool_type": t["tool_type"]}
                for t in doc.get("tools", ag.get("tools", []))
            ),
            key=lambda t: (t["name"], t["id"]),
        ),
        "knowledgebases": sorted(
            (
                {"id": str(k["id"]), "name": k["name"]}
                for k in doc.get("knowledgebases", ag.get("knowledgebases", []))
            ),
            key=lambda k: (k["name"], k["id"]),
        ),
    }
