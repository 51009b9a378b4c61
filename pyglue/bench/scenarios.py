"""The rows of the performance plan's tables, each with its baseline and head access code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pyglue import queries
from pyglue.bench import baseline, head
from pyglue.bench.context import HISTORY_PAGE_SIZE, Context

Access = Callable[[Session, Context], Any]


@dataclass(frozen=True)
class Goal:
    """The issue's goal at head: a p95 ceiling, or a speed-up over baseline (medians)."""

    text: str
    p95_max_ms: float | None = None
    speedup_min: float | None = None


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    plan: str  # the plan's before -> target, as it wrote them
    plan_target_ms: float | None
    goal: Goal | None
    baseline: Access
    head: Access


def p95(ms: float) -> Goal:
    return Goal(f"p95 ≤ {ms:g} ms", p95_max_ms=ms)


SPEEDUP_30 = Goal("≥ 30x faster", speedup_min=30.0)


def _search(key: str, what: str, base: Access, head_: Access) -> Scenario:
    """A JSON search: a page of 20 matches, the plan's 10 s → 500 ms, the goal 30x faster."""
    title = f"JSON search, 20 rows: {what}"
    return Scenario(key, title, "10000 → 500 ms", 500.0, SPEEDUP_30, base, head_)


def _deep_cursor(ctx: Context) -> queries.HistoryCursor | None:
    """The keyset cursor of the page before the deep page, as pyglue.queries takes it."""
    return None if ctx.deep_cursor is None else queries.HistoryCursor(*ctx.deep_cursor)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "workflow_orm", "workflow loading (ORM helper)", "2000 → 300 ms", 300.0, p95(3),
        lambda s, c: baseline.load_workflow(s, c.sample_workflow_id),
        lambda s, c: head.load_workflow(s, c.sample_workflow_id),
    ),
    Scenario(
        "workflow_document", "workflow loading (document function)", "2000 → 300 ms", 300.0, p95(2),
        lambda s, c: baseline.load_workflow(s, c.sample_workflow_id),
        lambda s, c: head.workflow_document(s, c.sample_workflow_id),
    ),
    Scenario(
        "agent_orm", "agent loading (ORM helper)", "800 → 150 ms", 150.0, p95(1),
        lambda s, c: baseline.load_agent(s, c.sample_agent_id),
        lambda s, c: head.load_agent(s, c.sample_agent_id),
    ),
    Scenario(
        "agent_document", "agent loading (document function)", "800 → 150 ms", 150.0, p95(1),
        lambda s, c: baseline.load_agent(s, c.sample_agent_id),
        lambda s, c: head.agent_document(s, c.sample_agent_id),
    ),
    Scenario(
        "dashboard", "dashboard stats, heaviest user, 30 days", "5000 → 100 ms", 100.0, p95(1),
        lambda s, c: baseline.dashboard_stats(s, c.dashboard_user_id, c.dashboard_since),
        lambda s, c: head.dashboard_stats(s, c.dashboard_user_id, c.dashboard_days),
    ),
    Scenario(
        "dashboard_executions", "dashboard recent executions (50, agent + metrics)",
        "5000 → 100 ms", 100.0, None,
        lambda s, c: baseline.dashboard_executions(s, c.dashboard_user_id),
        lambda s, c: head.dashboard_executions(s, c.dashboard_user_id),
    ),
    Scenario(
        "history", "execution history, page 1 (50 rows)", "2000 → 400 ms", 400.0, p95(2),
        lambda s, c: baseline.workflow_history(s, c.history_user_id, c.history_workflow_id),
        lambda s, c: head.workflow_history(s, c.history_user_id, c.history_workflow_id),
    ),
    Scenario(
        "history_completed", "execution history, status completed (50 rows)", "2000 → 400 ms",
        400.0, p95(2),
        lambda s, c: baseline.workflow_history(
            s, c.history_user_id, c.history_workflow_id, status="completed"
        ),
        lambda s, c: head.workflow_history(
            s, c.history_user_id, c.history_workflow_id, status="completed"
        ),
    ),
    Scenario(
        "history_deep", "execution history, deep page (50 rows)", "2000 → 400 ms", 400.0, p95(2),
        lambda s, c: baseline.workflow_history(
            s, c.history_user_id, c.history_workflow_id, page=c.deep_page
        ),
        lambda s, c: head.workflow_history(
            s, c.history_user_id, c.history_workflow_id, before=_deep_cursor(c)
        ),
    ),
    Scenario(
        "agent_history", "agent execution history, busiest agent (50 rows)", "2000 → 400 ms",
        400.0, p95(2),
        lambda s, c: baseline.agent_history(s, c.agent_history_user_id, c.agent_history_agent_id),
        lambda s, c: head.agent_history(s, c.agent_history_user_id, c.agent_history_agent_id),
    ),
    Scenario(
        "stale_running", "status filtering: stale running check", "3000 → 500 ms", 500.0, p95(2),
        lambda s, c: baseline.stale_running(s),
        lambda s, c: head.stale_running(s),
    ),
    _search("search_provider_astext", "provider, ORM ->> (plan's form)",
            lambda s, c: baseline.agents_by_provider_astext(s, c.provider, c.search_limit),
            lambda s, c: head.agents_by_provider(s, c.provider, c.search_limit)),
    _search("search_provider_cast", "provider, ::jsonb ->>",
            lambda s, c: baseline.agents_by_provider_cast(s, c.provider, c.search_limit),
            lambda s, c: head.agents_by_provider(s, c.provider, c.search_limit)),
    _search("search_provider_like", "provider, text LIKE vs @>",
            lambda s, c: baseline.agents_by_provider_like(
                s, c.provider, c.config_separator, c.search_limit),
            lambda s, c: head.agents_by_config(s, c.provider, c.search_limit)),
    _search("search_node_type_cast", "node type, ::jsonb @>",
            lambda s, c: baseline.workflows_with_node_type_cast(s, c.node_type, c.search_limit),
            lambda s, c: head.workflows_with_node_type(s, c.node_type, c.search_limit)),
    _search("search_node_type_like", "node type, text LIKE",
            lambda s, c: baseline.workflows_with_node_type_like(
                s, c.node_type, c.graph_separator, c.search_limit),
            lambda s, c: head.workflows_with_node_type(s, c.node_type, c.search_limit)),
)  # fmt: skip

assert HISTORY_PAGE_SIZE == 50  # the goal's "50 rows"
