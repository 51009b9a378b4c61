"""The README's example app, run as written: lifespan, instrument, include_router."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from served import serve

README = Path(__file__).parents[2] / "README.md"


def readme_app_source() -> str:
    section = README.read_text().split("## FastAPI endpoints", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_readme_example_app(head_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", head_url)
    monkeypatch.setenv("ADMIN_TOKEN", "t0ken")
    namespace: dict[str, object] = {"__name__": "readme_app"}
    exec(compile(readme_app_source(), str(README), "exec"), namespace)  # noqa: S102
    with serve(namespace["app"], lifespan="on") as http:  # type: ignore[arg-type]
        health = http.get("/health")
        refused = http.get("/memories/cleanup/preview")
        preview = http.get("/memories/cleanup/preview", headers={"Authorization": "Bearer t0ken"})
        stats = http.get("/performance/stats", headers={"Authorization": "Bearer t0ken"})
    assert (health.status_code, health.json()["healthy"]) == (200, True)
    assert (refused.status_code, refused.json()) == (403, {"detail": "admins only"})
    assert preview.status_code == 200
    assert [row["policy_name"] for row in preview.json()] == [
        "episodic_low",
        "long_term_low",
        "short_term",
    ]
    assert stats.json()["slow_query_ms"] == 500
