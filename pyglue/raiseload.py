"""lazy="raise" whose error names the relationship and the pyglue helper that loads it.

Every relationship in `pyglue.models` is `lazy="raise"`: touching one the query
did not load raises instead of running a hidden query. SQLAlchemy's message
("'Workflow.blocks' is not available due to lazy='raise'") says what failed but
not how to fix it; this module's loader says which helper loads it.

The loader is SQLAlchemy's own raise loader with one method overridden, so the
semantics are unchanged: it is registered for `relationship(lazy="raise")`
when this module is imported, which `pyglue.models` does before any mapper is
configured. Relationships of other packages' models keep SQLAlchemy's message.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm.relationships import Relationship
from sqlalchemy.orm.strategies import LazyLoader

from pyglue.errors import PyglueError

MODELS_MODULE = "pyglue.models"
HELPERS_MODULE = "pyglue.queries"

# The one place that says which helper loads which relationship; a test checks
# that every relationship of pyglue.models is listed and that each helper
# really loads what is listed for it.
LOADED_BY: dict[str, str | None] = {
    "Workflow.owner": "get_workflow_with_relations",
    "Workflow.blocks": "get_workflow_with_relations",
    "Workflow.edges": "get_workflow_with_relations",
    "AgentBlock.agent": "get_workflow_with_relations",
    "Agent.owner": "get_agent_with_relations",
    "Agent.tools": "get_agent_with_relations",
    "Agent.knowledgebases": "get_agent_with_relations",
    "AgentExecution.agent": "get_dashboard_executions_optimized",
    "AgentExecution.metrics": "get_dashboard_executions_optimized",
    # No helper loads these: the message tells the caller to add an option.
    # (get_workflow_with_relations returns the workflow its blocks belong to.)
    "AgentBlock.workflow": None,
    "AgentTool.agent": None,
    "ExecutionMetrics.execution": None,
    "WorkflowExecution.workflow": None,
    "AgentMemory.agent": None,
}


class RelationshipNotLoadedError(PyglueError, InvalidRequestError):
    """A lazy="raise" relationship was touched without having been loaded."""

    def __init__(self, relationship: str, helper: str | None) -> None:
        if helper is not None:
            hint = f"load it with {HELPERS_MODULE}.{helper}"
        else:
            hint = (
                "no pyglue.queries helper loads it: add selectinload() (collections) or "
                "joinedload() (many-to-one) to your query"
            )
        super().__init__(f"{relationship} was not loaded (lazy='raise' runs no query); {hint}")
        self.relationship = relationship
        self.helper = helper


def not_loaded_message(relationship: str) -> str:
    """The message touching the unloaded `Class.attribute` of pyglue.models raises."""
    return str(RelationshipNotLoadedError(relationship, LOADED_BY.get(relationship)))


@Relationship.strategy_for(lazy="raise")
class HintingRaiseLoader(LazyLoader):
    """SQLAlchemy's lazy="raise" loader; only the error it raises differs."""

    __slots__ = ()

    def _invoke_raise_load(self, state: Any, passive: Any, lazy: Any) -> NoReturn:
        owner = self.parent_property.parent.class_
        if owner.__module__ == MODELS_MODULE:
            name = f"{owner.__name__}.{self.parent_property.key}"
            raise RelationshipNotLoadedError(name, LOADED_BY.get(name))
        super()._invoke_raise_load(state, passive, lazy)  # type: ignore[no-untyped-call]
        raise AssertionError("SQLAlchemy's raise loader returned")  # it always raises
