"""`make demo`: the benchmark at scale small and a short load test, tables printed.

Runs on a throwaway PostgreSQL cluster unless DATABASE_URL is set (then it
creates its databases on that server and drops them at the end).
"""

from __future__ import annotations

import os
import sys

from pyglue import cli

DEMO_OUT = os.environ.get("PYGLUE_DEMO_OUT", "bench-results")


def main() -> int:
    """Run `pyglue bench --scale small` then `pyglue loadtest --users 20,50 --duration 10`."""
    url = os.environ.get("DATABASE_URL")
    where = f"DATABASE_URL ({url.split('@')[-1]})" if url else "a throwaway PostgreSQL cluster"
    print(f"# agentdb demo on {where}\n", flush=True)
    status = cli.main(["bench", "--scale", "small", "--out", DEMO_OUT])
    if status != 0:
        return status
    return cli.main(
        ["loadtest", "--scale", "small", "--users", "20,50", "--duration", "10", "--out", DEMO_OUT]
    )


if __name__ == "__main__":
    sys.exit(main())
