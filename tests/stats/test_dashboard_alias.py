"""pyglue.dashboard: the old name of pyglue.stats, importable for one release with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest

from pyglue import stats


def test_dashboard_re_exports_stats_with_a_deprecation_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "pyglue.dashboard", raising=False)
    with pytest.warns(
        DeprecationWarning, match="pyglue.dashboard is deprecated: import pyglue.stats"
    ):
        dashboard = importlib.import_module("pyglue.dashboard")
    assert stats.__all__
    for name in stats.__all__:
        assert getattr(dashboard, name) is getattr(stats, name)
