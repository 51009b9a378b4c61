"""agentdb's Python side: models, eager-loading queries, typed wrappers and install tooling."""

__version__ = "0.1.0"
