"""pyglue install/status and the migration chain on a real throwaway PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from pyglue import install


def test_head_template_is_at_head(head_url: str) -> None:
    engine = create_engine(head_url)
    with engine.connect() as conn:
        assert install.current_revision(conn) == install.head_revision()
        assert conn.execute(text("SELECT count(*) FROM agentdb.maintenance_runs")).scalar() == 0
    engine.dispose()
