"""The benchmark's report: a Markdown table, results.json and a log-scale bar chart."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from pyglue.bench import memory_cleanup, output
from pyglue.bench.memory_cleanup import CleanupResult
from pyglue.bench.output import jsonable, ms
from pyglue.bench.run import MODES, BenchResult, Measurement
from pyglue.bench.scenarios import SCENARIOS, Goal, Scenario
from pyglue.bench.server_side import TableStorage
from pyglue.bench.timing import Timing, ratio

CLEANUP_TOUCH_P95_GOAL_MS = 10.0
TOUCHES = ("touch_expiring", "touch_kept")
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}
TOTALLED = ("column_bytes", "table_bytes", "index_bytes")


def verdict(goal: Goal | None, m: Measurement) -> str:
    """PASS or MISS against the issue's goal, saying by how much when it misses."""
    if m.skipped:
        return m.skipped
    if m.error or m.baseline is None or m.head is None:
        return "ERROR"
    if m.same_result is False:
        return "MISS (results differ)"
    if goal is None:
        return "no goal"
    if goal.p95_max_ms is not None and m.head.p95_ms > goal.p95_max_ms:
        return f"MISS (p95 {ms(m.head.p95_ms)} ms)"
    if goal.speedup_min is not None:
        speedup = ratio(m.baseline.median_ms, m.head.median_ms)
        if speedup < goal.speedup_min:
            return f"MISS ({speedup:.1f}x)"
    return "PASS"


def _server(value: float | None) -> str:
    if value is None:
        return "—"
    return ms(value) if value >= 0.01 else f"{value:.3f}"


def _plan_met(scenario: Scenario, m: Measurement) -> str:
    if scenario.plan_target_ms is None or m.head is None:
        return "—"
    return "met" if m.head.p95_ms <= scenario.plan_target_ms else "missed"


SCENARIO_HEADER = (
    "scenario", "prepare mode", "plan (before → target)", "goal at head",
    "baseline median / p95 ms", "head median / p95 ms", "speed-up (median)",
    "statements (baseline → head)", "DB exec ms/op (baseline → head)", "same result",
    "plan target", "verdict", "load avg",
)  # fmt: skip


def scenario_table(result: BenchResult) -> str:
    rows = []
    for m in result.measurements:
        s = SCENARIO_BY_KEY[m.scenario]
        first = [s.title, m.mode, s.plan, s.goal.text if s.goal else "—"]
        if m.baseline is None or m.head is None:
            error = f"{verdict(s.goal, m)}{': ' + m.error if m.error else ''}"
            rows.append([*first, *["—"] * 7, error, "—"])
            continue
        rows.append([
            *first,
            f"{ms(m.baseline.median_ms)} / {ms(m.baseline.p95_ms)}",
            f"{ms(m.head.median_ms)} / {ms(m.head.p95_ms)}",
            f"{ratio(m.baseline.median_ms, m.head.median_ms):.0f}x",
            f"{m.baseline_statements} → {m.head_statements}",
            f"{_server(m.baseline_server_ms)} → {_server(m.head_server_ms)}",
            "yes" if m.same_result else "NO", _plan_met(s, m), verdict(s.goal, m),
            _server(m.load_average),
        ])  # fmt: skip
    return output.table(SCENARIO_HEADER, rows)


def _p95(timing: Timing | None) -> float:
    return timing.p95_ms if timing else math.inf


def cleanup_verdicts(cleanup: list[CleanupResult]) -> str:
    """Head against the goals: rows/s at least the naive DELETE's, touches' p95 ≤ 10 ms."""
    by = {r.state: r for r in cleanup}
    base, head = by["baseline"], by["head"]
    p95, base_p95 = (max(_p95(r.latency[op]) for op in TOUCHES) for r in (head, base))
    why = [] if head.rows_per_second >= base.rows_per_second else ["rows/s"]
    why += [] if p95 <= CLEANUP_TOUCH_P95_GOAL_MS else ["touch p95"]
    return (
        f"Goals at head: rows/s ≥ the naive DELETE's ({head.rows_per_second:,.0f} against"
        f" {base.rows_per_second:,.0f}), touch p95 ≤ {CLEANUP_TOUCH_P95_GOAL_MS:g} ms"
        f" ({p95:.2f} ms; the baseline's {base_p95:.2f} ms):"
        f" {'MISS (' + ', '.join(why) + ')' if why else 'PASS'}."
    )


def cleanup_table(result: BenchResult) -> str:
    if result.cleanup_error:
        return f"Memory cleanup: {result.cleanup_error}"
    same = {True: "yes", False: "NO", None: "—"}[result.cleanup_same_result]
    return (
        memory_cleanup.table(result.cleanup)
        + "\n\n"
        + cleanup_verdicts(result.cleanup)
        + f" Both states left the same rows (per type/importance): {same}."
    )


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f} MB"


def _change(before: int, after: int) -> float:
    return (after - before) / before * 100 if before else 0.0


def _storage_row(b: TableStorage, h: TableStorage) -> list[str]:
    return [
        h.table, _mb(b.column_bytes), _mb(h.column_bytes),
        f"{_change(b.column_bytes, h.column_bytes):+.0f}%",
        f"{_mb(b.table_bytes)} → {_mb(h.table_bytes)}",
        f"{_mb(b.index_bytes)} → {_mb(h.index_bytes)}",
    ]  # fmt: skip


def _total(tables: list[TableStorage]) -> TableStorage:
    sums = (sum(getattr(t, name) for t in tables) for name in TOTALLED)
    return TableStorage("**all**", *sums)


def storage_table(result: BenchResult) -> str:
    header = (
        "table", "json column bytes (baseline)", "jsonb column bytes (head)", "change",
        "table baseline → head", "indexes baseline → head",
    )  # fmt: skip
    base, head = result.storage["baseline"], result.storage["head"]
    rows = [_storage_row(b, h) for b, h in zip(base, head, strict=True)]
    b_all, h_all = _total(base), _total(head)
    rows.append([*_storage_row(b_all, h_all)[:-1], ""])
    change = _change(b_all.column_bytes, h_all.column_bytes)
    return output.table(header, rows) + (
        "\n\nThe plan's storage target (json 100 MB → jsonb 70 MB, 30% smaller):"
        f" {'met' if change <= -30 else 'missed'} ({change:+.0f}% here)."
    )


def markdown(result: BenchResult) -> str:
    counts = {"PASS": 0, "MISS": 0}
    for m in result.measurements:
        v = verdict(SCENARIO_BY_KEY[m.scenario].goal, m)
        for key in counts:
            if v.startswith(key):
                counts[key] += 1
    parts = [
        f"## agentdb benchmark: scale {result.scale}, {result.runs} timed runs per cell",
        "",
        f"Dataset generated at baseline in {result.generate_seconds:.1f} s; "
        f"upgrade of the copy to head with the real migrations: {result.upgrade_seconds:.1f} s.",
        f"Goals at head: {counts['PASS']} PASS, {counts['MISS']} MISS."
        f" Machine: {os.cpu_count()} CPUs, 1-minute load average "
        + " → ".join(f"{x:.1f}" for x in result.load_average)
        + " (start → end; above the CPU count, other work shared the machine).",
        "",
        scenario_table(result),
        "",
        cleanup_table(result),
        "",
        storage_table(result),
    ]
    return "\n".join(parts) + "\n"


def results_json(result: BenchResult) -> dict[str, Any]:
    """The result as JSON, each measurement with its verdict."""
    data: dict[str, Any] = jsonable(result)
    for m, raw in zip(data["measurements"], result.measurements, strict=True):
        m["verdict"] = verdict(SCENARIO_BY_KEY[raw.scenario].goal, raw)
    return data


def chart(result: BenchResult, path: Path) -> Path | None:
    """Baseline against head p95 per scenario, one panel per prepare mode, log scale."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    modes = [name for name, _ in MODES]
    fig, axes = plt.subplots(1, len(modes), figsize=(16, 8), sharey=True)
    for ax, mode in zip(axes, modes, strict=True):
        rows = [m for m in result.measurements if m.mode == mode and m.baseline and m.head]
        labels = [SCENARIO_BY_KEY[m.scenario].title for m in rows]
        y = list(range(len(rows)))
        base = [m.baseline.p95_ms for m in rows if m.baseline]
        head_ = [m.head.p95_ms for m in rows if m.head]
        ax.barh([v + 0.2 for v in y], base, height=0.4, label="baseline p95", color="#c0392b")
        ax.barh([v - 0.2 for v in y], head_, height=0.4, label="head p95", color="#27ae60")
        for i, m in enumerate(rows):
            target = SCENARIO_BY_KEY[m.scenario].plan_target_ms
            if target:
                ax.plot([target], [i], marker="|", markersize=14, color="black")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_xlabel("p95 latency, ms (log scale); | = the plan's target")
        ax.set_title(mode)
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.legend(loc="lower right")
    axes[0].invert_yaxis()  # the y axis is shared: invert it once, first scenario on top
    fig.suptitle(f"agentdb: baseline vs head, scale {result.scale}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(result: BenchResult, out: Path) -> list[Path]:
    """Write report.md, results.json and bench.png into `out`."""
    files = output.write(out, {"report.md": markdown(result), "results.json": results_json(result)})
    png = chart(result, out / "bench.png")
    return files if png is None else [*files, png]
