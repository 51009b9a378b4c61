"""The benchmark's report: a Markdown table, results.json and a log-scale bar chart."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from pyglue.bench import memory_cleanup, output
from pyglue.bench.memory_cleanup import CleanupResult
from pyglue.bench.output import jsonable, ms
from pyglue.bench.run import MODES, RTT_MS, BenchResult, Measurement
from pyglue.bench.scenarios import SCENARIOS, Goal, Scenario
from pyglue.bench.server_side import TableStorage
from pyglue.bench.timing import Timing, ratio

CLEANUP_TOUCH_P95_GOAL_MS = 10.0
TOUCHES = ("touch_expiring", "touch_kept")
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}
TOTALLED = ("column_bytes", "table_bytes", "index_bytes")


def verdict(goal: Goal | None, m: Measurement, scale: str = "full") -> str:
    """PASS or MISS against the issue's goal (set for scale full), by how much when it misses.

    At another scale the goal is not judged: the statements per operation instead.
    """
    if m.skipped:
        return m.skipped
    if m.error or m.baseline is None or m.head is None:
        return "ERROR"
    if m.same_result is False:
        return "MISS (results differ)"
    if goal is None:
        return "no goal"
    if scale != "full":
        return f"{m.baseline_statements} → {m.head_statements} statements; goal judged at full"
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
    "round trips (baseline → head)", f"median at {RTT_MS} ms RTT, modelled (baseline → head)",
    f"median at {RTT_MS} ms RTT, measured (baseline → head)",
    "DB exec ms/op (baseline → head)", "same result", "plan target", "verdict", "load avg",
)  # fmt: skip


def round_trips(statements: int | None) -> int:
    """Per operation: its statements, plus the BEGIN and the closing ROLLBACK of its session."""
    return (statements or 0) + 2


def at_rtt(median_ms: float, statements: int | None) -> float:
    return median_ms + round_trips(statements) * RTT_MS


def scenario_table(result: BenchResult) -> str:
    rows = []
    for m in result.measurements:
        s = SCENARIO_BY_KEY[m.scenario]
        first = [s.title, m.mode, s.plan, s.goal.text if s.goal else "—"]
        if m.baseline is None or m.head is None:
            error = f"{verdict(s.goal, m)}{': ' + m.error if m.error else ''}"
            rows.append([*first, *["—"] * 9, error, "—"])
            continue
        rows.append([
            *first,
            f"{ms(m.baseline.median_ms)} / {ms(m.baseline.p95_ms)}",
            f"{ms(m.head.median_ms)} / {ms(m.head.p95_ms)}",
            f"{ratio(m.baseline.median_ms, m.head.median_ms):.0f}x",
            f"{round_trips(m.baseline_statements)} → {round_trips(m.head_statements)}",
            f"{ms(at_rtt(m.baseline.median_ms, m.baseline_statements))}"
            f" → {ms(at_rtt(m.head.median_ms, m.head_statements))}",
            " → ".join(output.timing_cells(m.baseline_at_rtt, ["median_ms"])
                       + output.timing_cells(m.head_at_rtt, ["median_ms"])),
            f"{_server(m.baseline_server_ms)} → {_server(m.head_server_ms)}",
            "yes" if m.same_result else "NO", _plan_met(s, m), verdict(s.goal, m, result.scale),
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


def _proxy_note(result: BenchResult) -> str:
    if result.proxy_rtt_ms is None:
        return f"Measured RTT column: not run ({result.proxy_error or 'no proxy'})."
    return (
        "The measured column times every cell again right after its direct timing,"
        " through pyglue.bench.proxy, a TCP proxy that holds each chunk each way; it added"
        f" {result.proxy_rtt_ms:.3f} ms per round trip (median SELECT 1 through it minus direct,"
        " taken in turns, after calibration)."
    )


def slower(result: BenchResult) -> list[str]:
    """The cells where head's median is above the baseline's."""
    return [
        f"{SCENARIO_BY_KEY[m.scenario].title} [{m.mode}]"
        for m in result.measurements
        if m.baseline and m.head and m.head.median_ms > m.baseline.median_ms
    ]


def section(result: BenchResult) -> str:
    verdicts = [verdict(SCENARIO_BY_KEY[m.scenario].goal, m) for m in result.measurements]
    counts = {k: sum(v.startswith(k) for v in verdicts) for k in ("PASS", "MISS")}
    goals = (
        f"Goals at head: {counts['PASS']} PASS, {counts['MISS']} MISS."
        if result.scale == "full"
        else "Goals are set for scale full and judged only there."
    )
    late = slower(result)
    parts = [
        f"## agentdb benchmark: scale {result.scale} ({result.rows:,} rows),"
        f" {result.runs} timed runs per cell",
        "",
        f"Dataset generated at baseline in {result.generate_seconds:.1f} s; "
        f"upgrade of the copy to head with the real migrations: {result.upgrade_seconds:.1f} s.",
        f"{goals} Head slower than baseline (median): {', '.join(late) if late else 'nowhere'}."
        f" Machine: {os.cpu_count()} CPUs, 1-minute load average "
        + " → ".join(f"{x:.1f}" for x in result.load_average)
        + " (start → end; above the CPU count, other work shared the machine).",
        f"Round trips: statements + BEGIN + ROLLBACK; the {RTT_MS} ms RTT column adds"
        f" round trips times {RTT_MS} ms to the median measured on loopback (modelled).",
        _proxy_note(result),
        "",
        scenario_table(result),
        "",
        cleanup_table(result),
        "",
        storage_table(result),
    ]
    return "\n".join(parts) + "\n"


def _pairs(results: list[BenchResult]) -> list[tuple[Measurement, Measurement]]:
    """The default prepare mode's cells at the smallest and the largest scale, side by side."""
    small, large = results[0], results[-1]
    return [
        (a, b)
        for a, b in zip(small.measurements, large.measurements, strict=True)
        if a.mode == MODES[0][0] and a.baseline and a.head and b.baseline and b.head
    ]


def growth_table(results: list[BenchResult]) -> str:
    small, large = results[0], results[-1]
    header = (
        "scenario", "state", f"median ms at {small.scale} ({small.rows:,} rows)",
        f"median ms at {large.scale} ({large.rows:,} rows)", "growth (large / small)",
        "statements", "load avg",
    )  # fmt: skip
    rows = [
        [SCENARIO_BY_KEY[a.scenario].title, state, ms(ta.median_ms), ms(tb.median_ms),
         f"{ratio(tb.median_ms, ta.median_ms):.1f}x", getattr(b, f"{state}_statements"),
         f"{b.load_average or 0:.1f}"]
        for a, b in _pairs(results)
        for state in ("baseline", "head")
        for ta, tb in [(getattr(a, state), getattr(b, state))]
    ]  # fmt: skip
    return (
        f"## How the cost grows with the data: {small.scale} → {large.scale}"
        f" ({large.rows / small.rows:.0f}x the rows), {MODES[0][0]}\n\n"
        + output.table(header, rows)
        + "\n\nGrowth 1x is flat: the cost does not depend on the data's size."
    )


def markdown(results: list[BenchResult]) -> str:
    parts = [section(r) for r in results]
    return "\n".join(parts if len(results) < 2 else [*parts, growth_table(results) + "\n"])


def results_json(results: list[BenchResult]) -> dict[str, Any]:
    """Every scale's result as JSON, each measurement with its verdict and round trips."""
    scales: list[dict[str, Any]] = []
    for result in results:
        data: dict[str, Any] = jsonable(result)
        for m, raw in zip(data["measurements"], result.measurements, strict=True):
            m["verdict"] = verdict(SCENARIO_BY_KEY[raw.scenario].goal, raw, result.scale)
            for state in ("baseline", "head"):
                m[f"{state}_round_trips"] = round_trips(raw.__dict__[f"{state}_statements"])
        scales.append(data)
    measured = [r.proxy_rtt_ms for r in results]
    return {"scales": scales, "rtt_ms_modelled": RTT_MS, "rtt_ms_measured_by_proxy": measured}


def _figure(size: tuple[int, int], panels: int = 1) -> Any:
    """A matplotlib figure and its axes; (None, None) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None, None
    return plt.subplots(1, panels, figsize=size, sharey=panels > 1)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def growth_chart(results: list[BenchResult], path: Path) -> Path | None:
    """Median against rows, log-log: one line per scenario and state."""
    fig, ax = _figure((11, 8))
    if fig is None or len(results) < 2:
        return None
    x = [results[0].rows, results[-1].rows]
    for a, b in _pairs(results):
        for state, style, color in (("baseline", "--", "#c0392b"), ("head", "-", "#27ae60")):
            y = [getattr(a, state).median_ms, getattr(b, state).median_ms]
            label = f"{SCENARIO_BY_KEY[a.scenario].title} ({state})"
            ax.plot(x, y, style, marker="o", label=label, color=color, alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows in the dataset (log)")
    ax.set_ylabel("median latency, ms (log); dashed red: baseline, green: head")
    ax.set_title("agentdb: cost against data size")
    ax.grid(which="both", alpha=0.3)
    return _save(fig, path)


def chart(result: BenchResult, path: Path) -> Path | None:
    """Baseline against head p95 per scenario, one panel per prepare mode, log scale."""
    modes = [name for name, _ in MODES]
    fig, axes = _figure((16, 8), len(modes))
    if fig is None:
        return None
    for ax, mode in zip(axes, modes, strict=True):
        rows = [m for m in result.measurements if m.mode == mode and m.baseline and m.head]
        y = list(range(len(rows)))
        for state, shift, color in (("baseline", 0.2, "#c0392b"), ("head", -0.2, "#27ae60")):
            p95 = [getattr(m, state).p95_ms for m in rows]
            ax.barh([v + shift for v in y], p95, height=0.4, label=f"{state} p95", color=color)
        for i, m in enumerate(rows):
            if target := SCENARIO_BY_KEY[m.scenario].plan_target_ms:
                ax.plot([target], [i], marker="|", markersize=14, color="black")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels([SCENARIO_BY_KEY[m.scenario].title for m in rows], fontsize=8)
        ax.set_xlabel("p95 latency, ms (log scale); | = the plan's target")
        ax.set_title(mode)
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.legend(loc="lower right")
    axes[0].invert_yaxis()  # the y axis is shared: invert it once, first scenario on top
    fig.suptitle(f"agentdb: baseline vs head, scale {result.scale}")
    return _save(fig, path)


def write(results: list[BenchResult], out: Path, extra: str = "", data: Any = None) -> list[Path]:
    """Write report.md, results.json, bench.png (the largest scale) and growth.png into `out`."""
    json_data = results_json(results) | ({} if data is None else data)
    files = output.write(out, {"report.md": markdown(results) + extra, "results.json": json_data})
    pngs = [chart(results[-1], out / "bench.png"), growth_chart(results, out / "growth.png")]
    return [*files, *(p for p in pngs if p is not None)]
