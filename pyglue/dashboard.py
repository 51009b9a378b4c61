"""Deprecated alias of `pyglue.stats`, kept importable for one release."""

from __future__ import annotations

import warnings

from pyglue.stats import *  # noqa: F403
from pyglue.stats import __all__ as __all__

warnings.warn(
    "pyglue.dashboard is deprecated: import pyglue.stats (the execution-stats wrappers)",
    DeprecationWarning,
    stacklevel=2,
)
