"""The load test's table and the issue's goal at 500 users."""

from __future__ import annotations

from pyglue.bench import loadops
from pyglue.bench.loadtest import Phase

GOAL_P95_MS = 25.0
GOAL_UTILIZATION = 0.15
PLAN_UTILIZATION = (0.80, 0.15)


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def phase_verdict(phase: Phase) -> str:
    """PASS/MISS for head phases (zero errors, every p95 ≤ 25 ms, utilization ≤ 15%)."""
    if phase.state != "head":
        return "— (contrast)"
    why = []
    if phase.errors:
        why.append(f"{phase.errors} errors")
    slow = [
        op.name for op in phase.per_operation if op.timing is None or op.timing.p95_ms > GOAL_P95_MS
    ]
    if slow:
        why.append("p95 > 25 ms: " + ", ".join(slow))
    if phase.pool_utilization > GOAL_UTILIZATION:
        why.append(f"pool {phase.pool_utilization:.0%}")
    return "PASS" if not why else "MISS (" + "; ".join(why) + ")"


def markdown(
    phases: list[Phase], *, think_s: float, scale: str, left_out: dict[str, str] | None = None
) -> str:
    names = list(loadops.MIX)
    header = (
        "| users | state | ops/s | errors | pool utilization | client loop lag p95 ms"
        " | client CPU ms/op | load avg | "
        + " | ".join(f"{n} p50/p95/p99 ms" for n in names)
        + " | verdict |"
    )
    lines = [
        f"## agentdb load test: scale {scale}, think time {think_s:g} s (±50%),"
        f" pool {phases[0].pool_size if phases else 0} connections per state",
        "",
        "Goal at head, 500 users: zero errors, every operation's p95 ≤ 25 ms, pool utilization"
        " ≤ 15% (the plan: connection usage 80% → 15%, 100 → 500 concurrent users).",
        "",
        header,
        "|" + "---|" * (9 + len(names)),
    ]
    for phase in phases:
        by_name = {op.name: op for op in phase.per_operation}
        cells = []
        for n in names:
            op = by_name.get(n)
            if op is None or op.timing is None:
                cells.append("left out" if n in (left_out or {}) else "—")
                continue
            t = op.timing
            err = f" ({op.errors} err)" if op.errors else ""
            cells.append(f"{_ms(t.median_ms)} / {_ms(t.p95_ms)} / {_ms(t.p99_ms)}{err}")
        lines.append(
            f"| {phase.users} | {phase.state} | {phase.throughput:.1f} | {phase.errors}"
            f" | {phase.pool_utilization:.1%} | {_ms(phase.loop_lag_p95_ms)}"
            f" | {phase.client_cpu_ms_per_op:.1f} | {phase.load_average:.1f} | "
            + " | ".join(cells)
            + f" | {phase_verdict(phase)} |"
        )
    for name, reason in (left_out or {}).items():
        lines.append(f"\n{name}: left out at head ({reason}).")
    samples = [s for p in phases for s in p.error_samples]
    if samples:
        lines += ["", "First errors:", *(f"- {s}" for s in samples[:10])]
    return "\n".join(lines) + "\n"
