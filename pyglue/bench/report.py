"""The benchmark's report: a Markdown table, results.json and a log-scale bar chart."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

from pyglue.bench.run import MODES, BenchResult, Measurement
from pyglue.bench.scenarios import SCENARIOS, Goal, Scenario
from pyglue.bench.timing import ratio

CLEANUP_RATE_GOAL = 100_000.0  # rows/s
CLEANUP_INSERT_P95_GOAL_MS = 10.0
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


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
        return f"MISS (p95 {_ms(m.head.p95_ms)} ms)"
    if goal.speedup_min is not None:
        speedup = ratio(m.baseline.median_ms, m.head.median_ms)
        if speedup < goal.speedup_min:
            return f"MISS ({speedup:.1f}x)"
    return "PASS"


def _server(value: float | None) -> str:
    if value is None:
        return "—"
    return _ms(value) if value >= 0.01 else f"{value:.3f}"


def _plan_met(scenario: Scenario, m: Measurement) -> str:
    if scenario.plan_target_ms is None or m.head is None:
        return "—"
    return "met" if m.head.p95_ms <= scenario.plan_target_ms else "missed"


def scenario_table(result: BenchResult) -> str:
    lines = [
        "| scenario | prepare mode | plan (before → target) | goal at head"
        " | baseline median / p95 ms | head median / p95 ms | speed-up (median)"
        " | statements (baseline → head) | DB exec ms/op (baseline → head)"
        " | same result | plan target | verdict | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in result.measurements:
        s = SCENARIO_BY_KEY[m.scenario]
        goal = s.goal.text if s.goal else "—"
        if m.baseline is None or m.head is None:
            lines.append(
                f"| {s.title} | {m.mode} | {s.plan} | {goal} | — | — | — | — | — | — | — | "
                f"{verdict(s.goal, m)}{': ' + m.error if m.error else ''} | — |"
            )
            continue
        speedup = ratio(m.baseline.median_ms, m.head.median_ms)
        lines.append(
            f"| {s.title} | {m.mode} | {s.plan} | {goal}"
            f" | {_ms(m.baseline.median_ms)} / {_ms(m.baseline.p95_ms)}"
            f" | {_ms(m.head.median_ms)} / {_ms(m.head.p95_ms)}"
            f" | {speedup:.0f}x | {m.baseline_statements} → {m.head_statements}"
            f" | {_server(m.baseline_server_ms)} → {_server(m.head_server_ms)}"
            f" | {'yes' if m.same_result else 'NO'} | {_plan_met(s, m)} | {verdict(s.goal, m)}"
            f" | {_server(m.load_average)} |"
        )
    return "\n".join(lines)


def cleanup_table(result: BenchResult) -> str:
    if result.cleanup_error:
        return f"Memory cleanup: {result.cleanup_error}"
    lines = [
        "| memory cleanup | rows before | rows deleted | seconds | rows/s | concurrent inserts"
        " | insert p50 / p95 / max ms | goal | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result.cleanup:
        ins = run.inserts
        lat = f"{_ms(ins.median_ms)} / {_ms(ins.p95_ms)} / {_ms(ins.max_ms)}" if ins else "—"
        if run.state == "head":
            ok = (
                run.rows_per_second >= CLEANUP_RATE_GOAL
                and ins is not None
                and ins.p95_ms <= CLEANUP_INSERT_P95_GOAL_MS
            )
            why = []
            if run.rows_per_second < CLEANUP_RATE_GOAL:
                why.append(f"{run.rows_per_second:,.0f} rows/s")
            if ins is None or ins.p95_ms > CLEANUP_INSERT_P95_GOAL_MS:
                why.append("insert p95")
            goal = "≥ 100k rows/s, insert p95 ≤ 10 ms"
            text = "PASS" if ok else f"MISS ({', '.join(why)})"
        else:
            goal, text = "— (the plan's code)", "—"
        lines.append(
            f"| {run.state} | {run.rows_before:,} | {run.rows_deleted:,} | {run.seconds:.2f}"
            f" | {run.rows_per_second:,.0f} | {ins.runs if ins else 0} | {lat} | {goal} | {text} |"
        )
    same = {True: "yes", False: "NO", None: "—"}[result.cleanup_same_result]
    lines.append("")
    lines.append(f"Both states left the same rows (per type/importance): {same}.")
    return "\n".join(lines)


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f} MB"


def storage_table(result: BenchResult) -> str:
    if not result.storage:
        return ""
    lines = [
        "| table | json column bytes (baseline) | jsonb column bytes (head) | change"
        " | table baseline → head | indexes baseline → head |",
        "|---|---|---|---|---|---|",
    ]
    base = {t.table: t for t in result.storage["baseline"]}
    totals = [0, 0, 0, 0]
    for t in result.storage["head"]:
        b = base[t.table]
        change = (t.column_bytes - b.column_bytes) / b.column_bytes * 100 if b.column_bytes else 0.0
        lines.append(
            f"| {t.table} | {_mb(b.column_bytes)} | {_mb(t.column_bytes)} | {change:+.0f}%"
            f" | {_mb(b.table_bytes)} → {_mb(t.table_bytes)}"
            f" | {_mb(b.index_bytes)} → {_mb(t.index_bytes)} |"
        )
        totals[0] += b.column_bytes
        totals[1] += t.column_bytes
        totals[2] += b.table_bytes
        totals[3] += t.table_bytes
    change = (totals[1] - totals[0]) / totals[0] * 100 if totals[0] else 0.0
    verdict_text = "met" if change <= -30 else "missed"
    lines.append(
        f"| **all** | {_mb(totals[0])} | {_mb(totals[1])} | {change:+.0f}%"
        f" | {_mb(totals[2])} → {_mb(totals[3])} | |"
    )
    lines.append("")
    lines.append(
        f"The plan's storage target (json 100 MB → jsonb 70 MB, 30% smaller): {verdict_text}"
        f" ({change:+.0f}% here)."
    )
    return "\n".join(lines)


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


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def results_json(result: BenchResult, *, keep_results: bool = False) -> dict[str, Any]:
    data = _jsonable(result)
    assert isinstance(data, dict)
    for m, raw in zip(data["measurements"], result.measurements, strict=True):
        m["verdict"] = verdict(SCENARIO_BY_KEY[raw.scenario].goal, raw)
        if not keep_results:
            del m["baseline_result"], m["head_result"]
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


def write(result: BenchResult, out: Path) -> dict[str, Path]:
    """Write report.md, results.json and bench.png into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"markdown": out / "report.md", "json": out / "results.json"}
    files["markdown"].write_text(markdown(result))
    files["json"].write_text(json.dumps(results_json(result), indent=2) + "\n")
    png = chart(result, out / "bench.png")
    if png is not None:
        files["chart"] = png
    return files
