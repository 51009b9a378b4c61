"""Every `pyglue bench` subcommand end to end at tiny sizes: same results, no errors.

These check correctness, never timings: every scenario must return the same
rows and numbers at baseline and at head, and the load test must finish its
phases without a single failed operation.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from pyglue import cli, testing
from pyglue.bench import loadtest, pgbench, report
from pyglue.bench.run import Measurement
from pyglue.bench.scenarios import SCENARIOS, Goal
from pyglue.bench.timing import percentile, summarize
from pyglue.testing import PostgresCluster


@pytest.mark.slow
def test_bench_small_gives_the_same_results_at_both_states(
    pg_cluster: PostgresCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["bench", "scenarios", "--scale", "small", "--runs", "3", "--warmup", "1",
         "--database-url", pg_cluster.url("postgres"), "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    results = json.loads((tmp_path / "results.json").read_text())["scales"][0]
    measurements = results["measurements"]
    assert {m["scenario"] for m in measurements} == {s.key for s in SCENARIOS}
    assert len(measurements) == 2 * len(SCENARIOS)  # both prepare modes
    for m in measurements:
        if m["skipped"]:
            assert m["skipped"].startswith("not available: "), m
            continue
        assert m["error"] is None, m
        assert m["same_result"] is True, m["scenario"]
        assert m["baseline"]["runs"] == 3
        assert m["head"]["runs"] == 3
    # the baseline's N+1: loading a workflow lazily costs more statements than the helper
    workflow = next(m for m in measurements if m["scenario"] == "workflow_orm")
    if not workflow["skipped"]:
        assert workflow["baseline_statements"] > workflow["head_statements"]
        assert workflow["head_statements"] <= 4
    if results["cleanup_error"] is None:
        assert results["cleanup_same_result"] is True
        head_run = next(r for r in results["cleanup"] if r["state"] == "head")
        assert head_run["rows_deleted"] > 0
    else:
        assert results["cleanup_error"].startswith("not available: ")
    assert (tmp_path / "report.md").read_text().startswith("## agentdb benchmark: scale small")
    assert (tmp_path / "bench.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "| scenario | prepare mode |" in out
    # every database the bench created on the server is gone
    with pg_cluster.connect() as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'bench_%'"
        ).fetchall()
    assert left == []


@pytest.mark.slow
def test_loadtest_runs_without_errors(pg_cluster: PostgresCluster, tmp_path: Path) -> None:
    status = cli.main(
        ["bench", "loadtest", "--scale", "small", "--users", "4", "--duration", "3",
         "--think", "0.2", "--database-url", pg_cluster.url("postgres"), "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    phases = json.loads((tmp_path / "loadtest.json").read_text())
    # head runs unless none of its operations is installed yet (then baseline runs alone)
    assert [(p["state"], p["users"]) for p in phases] in (
        [("baseline", 4), ("head", 4)],
        [("baseline", 4)],
    )
    for phase in phases:
        assert phase["errors"] == 0, phase["error_samples"]
        assert phase["operations"] > 0
        assert 0.0 < phase["pool_utilization"] < 1.0
    assert "| users | state | ops/s |" in (tmp_path / "loadtest.md").read_text()


@pytest.mark.slow
def test_loadtest_pgbench_runs_every_script_of_both_states(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    status = cli.main(
        ["bench", "loadtest", "--driver", "pgbench", "--scale", "small", "--clients", "4",
         "--duration", "3", "--think", "0.05", "--database-url", pg_cluster.url("postgres"),
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    phases = json.loads((tmp_path / "loadtest.json").read_text())
    assert [(p["state"], p["clients"]) for p in phases] == [("baseline", 4), ("head", 4)]
    for phase in phases:
        assert phase["errors"] == 0, phase["error_samples"]
        # every operation's script ran, without an error, at both states
        ran = {op["name"]: (op["transactions"] > 0, op["errors"]) for op in phase["per_operation"]}
        assert ran == {name: (True, 0) for name in pgbench.MIX}, phase["state"]
        assert 1 <= phase["server_conns_open_max"] <= pgbench.POOL_SIZE
    text = (tmp_path / "loadtest.md").read_text()
    assert "| clients | state | ops/s | errors | server conns active mean / open max |" in text
    with pg_cluster.connect() as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_%'")
        assert left.fetchall() == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("pgbench", "pgbench not found: install it (apt-get install postgresql-15)"),
        ("pgbouncer", "pgbouncer not found: install it (apt-get install pgbouncer)"),
    ],
)
def test_loadtest_pgbench_names_the_package_of_a_missing_binary(
    missing: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    if missing == "pgbench":
        monkeypatch.setattr(pgbench, "find_bindir", lambda: tmp_path)  # a bindir without it
    else:
        nowhere = functools.partial(testing.find_pgbouncer, fallback=tmp_path / "pgbouncer")
        monkeypatch.setattr(pgbench, "find_pgbouncer", nowhere)
    status = cli.main(["bench", "loadtest", "--driver", "pgbench", "--database-url", "x"])
    assert status == 2
    assert capsys.readouterr().err == f"pyglue: {message}\n"


@pytest.mark.slow
def test_stats_writes_times_writers_and_the_dashboard(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    status = cli.main(
        ["bench", "stats-writes", "--scale", "small", "--seconds", "1", "--rounds", "1",
         "--samples", "3", "--database-url", pg_cluster.url("postgres"), "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    data = json.loads((tmp_path / "stats-writes.json").read_text())
    assert len(data["throughput"]) == 3 * 3 * 2  # writers x spreads x (without, with stats)
    assert all(t["pairs_per_second"] > 0 for t in data["throughput"])
    # idle, then the four rollup reads again while 16 writers of that user run, the
    # reader free, then pinned to one CPU and the writers to the other
    assert [c["timing"]["runs"] for c in data["dashboard"]] == [3, 3, 3, 3, 10] + [3] * 8
    text = (tmp_path / "stats-writes.md").read_text()
    assert "| writers | writing for | without stats | (a) deltas | ratio | goal |" in text
    for when in ("at 0009 (rollups updated in place)", "at head", "after the writers",
                 "after the folds"):  # fmt: skip
        assert f"verify_execution_stats over all history {when}: 0 differing rows" in text
    assert text.count("fold of 1,000,000 pending deltas over") == 2
    with pg_cluster.connect() as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'stats_%'")
        assert left.fetchall() == []


@pytest.mark.slow
def test_memory_cleanup_compares_batched_and_naive(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    status = cli.main(
        ["bench", "memory-cleanup", "--expired", "3000", "--live", "500", "--repeat", "1",
         "--naive", "--database-url", pg_cluster.url("postgres"), "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    results = json.loads((tmp_path / "memory-cleanup.json").read_text())
    assert [(r["state"], r["rows_deleted"]) for r in results] == [
        ("batched", 3000),
        ("naive", 3000),
    ]
    assert (
        "| cleanup | rows deleted | seconds | rows/s | insert p50 / p95 / max ms |"
        in (tmp_path / "memory-cleanup.md").read_text()
    )


def test_retention_retires_a_month_by_drop_and_by_delete(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    status = cli.main(
        ["bench", "retention", "--rows", "2000", "--batch-size", "500",
         "--database-url", pg_cluster.url("postgres"), "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    results = json.loads((tmp_path / "retention.json").read_text())
    assert [(r["case"], r["rows"]) for r in results] == [
        ("drop", 2000),
        ("DELETE, batches of 500", 2000),
    ]
    assert results[1]["wal_bytes"] > 0
    assert "| retire one month | rows | time | WAL |" in (tmp_path / "retention.md").read_text()
    with pg_cluster.connect() as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_retention%'")
        assert left.fetchall() == []


def test_instrument_overhead_reports_the_ratio(
    pg_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["bench", "instrument-overhead", "--rounds", "1", "--statements", "200",
         "--database-url", pg_cluster.url("postgres")]
    )  # fmt: skip
    assert status == 0
    assert "overhead ratio (sum instrumented / sum plain wall time):" in capsys.readouterr().out


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    timing = summarize([3.0, 1.0, 2.0])
    assert (timing.runs, timing.median_ms, timing.min_ms, timing.max_ms) == (3, 2.0, 1.0, 3.0)
    with pytest.raises(ValueError, match="percentile of no values"):
        percentile([], 50)


def test_verdict_says_pass_or_miss_plainly() -> None:
    fast, slow = summarize([0.5, 0.5]), summarize([40.0, 50.0])
    ok = Measurement("dashboard", "m", baseline=slow, head=fast, same_result=True)
    assert report.verdict(Goal("p95 ≤ 1 ms", p95_max_ms=1.0), ok) == "PASS"
    assert report.verdict(Goal("p95 ≤ 0.1 ms", p95_max_ms=0.1), ok) == "MISS (p95 0.50 ms)"
    assert report.verdict(Goal("≥ 30x", speedup_min=30.0), ok) == "PASS"
    assert report.verdict(Goal("≥ 300x", speedup_min=300.0), ok) == "MISS (90.0x)"
    differ = Measurement("dashboard", "m", baseline=slow, head=fast, same_result=False)
    assert report.verdict(None, differ) == "MISS (results differ)"
    skipped = Measurement("dashboard", "m", skipped="not available: x")
    assert report.verdict(None, skipped) == "not available: x"


def test_goals_are_judged_only_at_full_scale_and_round_trips_priced() -> None:
    fast, slow = summarize([0.5, 0.5]), summarize([40.0, 50.0])
    m = Measurement(
        "dashboard", "m", baseline=slow, head=fast, baseline_statements=3, head_statements=1,
        same_result=True,
    )  # fmt: skip
    goal = Goal("p95 ≤ 0.1 ms", p95_max_ms=0.1)
    assert report.verdict(goal, m, "small") == "3 → 1 statements; goal judged at full"
    assert report.verdict(goal, m, "full") == "MISS (p95 0.50 ms)"
    # BEGIN, the statement, ROLLBACK: 3 round trips of 0.5 ms on top of the 0.5 ms measured
    assert report.at_rtt(0.5, 1) == 2.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--runs", "0"], "--runs: must be an integer >= 1, not '0'"),
        (["bench", "--scale", "huge"], "invalid choice: 'huge'"),
        (["loadtest", "--users", "0"], "--users: each count from 1 to 5000"),
        (["loadtest", "--users", "a,b"], "--users takes counts like 100,300,500"),
        (["loadtest", "--duration", "-1"], "--duration: must be > 0"),
        (["loadtest", "--driver", "pgbench", "--clients", "0"], "each count from 1 to 5000"),
        (["loadtest", "--driver", "pgbench", "--clients", "1.5"], "takes counts like 100,300"),
        (["loadtest", "--driver", "pgbench", "--clients", "-5"], "each count from 1 to 5000"),
        (["loadtest", "--driver", "pgbench", "--duration", "0"], "--duration: must be > 0"),
        (["loadtest", "--driver", "nope"], "argument --driver: invalid choice: 'nope'"),
        (["bench", "loadtest", "--think", "0"], "--think: must be > 0"),
        (["bench", "nope"], "invalid choice: 'nope'"),
        (["bench", "stats-writes", "--seconds", "x"], "--seconds: must be an integer >= 1"),
        (["bench", "memory-cleanup", "--repeat", "0"], "--repeat: must be an integer >= 1"),
        (
            ["bench", "instrument-overhead", "--statements", "150"],
            "--statements: must be an integer >= 100, a multiple of 100, not '150'",
        ),
    ],
)
def test_bad_arguments_exit_2_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def _pgbench_phase(state: str, clients: int, errors: int, *p95: float) -> pgbench.Phase:
    ops = [pgbench.OpStats(f"op{i}", 10, 0, (1.0, v, v)) for i, v in enumerate(p95)]
    return pgbench.Phase(state, clients, 10.0, errors, ops, 5.0, 20, 0, 1.0, 0.5, 0.1, 0.1, 1.0)


def test_pgbench_verdict_judges_head_by_the_goal_of_its_client_count() -> None:
    assert pgbench.verdict(_pgbench_phase("head", 500, 0, 9.0, 10.0)) == "PASS"
    assert pgbench.verdict(_pgbench_phase("head", 500, 0, 9.0, 10.5)) == "MISS (p95 > 10 ms: op1)"
    assert pgbench.verdict(_pgbench_phase("head", 5000, 0, 49.0)) == "PASS"
    assert pgbench.verdict(_pgbench_phase("head", 2000, 0, 900.0)) == "PASS"  # no latency goal
    assert pgbench.verdict(_pgbench_phase("head", 100, 3, 1.0)) == "MISS (3 errors)"
    assert pgbench.verdict(_pgbench_phase("baseline", 500, 3, 99.0)) == "— (contrast)"
    text = pgbench.markdown(
        [_pgbench_phase("baseline", 500, 0, 30.0), _pgbench_phase("head", 500, 0, 3.0)],
        think_s=5.0,
        scale="small",
    )
    assert "Server CPU utilization at 500 clients: baseline 50% → head 50%" in text


def test_python_loadtest_flags_rows_where_the_client_saturated() -> None:
    def phase(lag_ms: float, cpu_ms: float) -> loadtest.Phase:
        ops = [loadtest.OperationStats("dashboard", summarize([4.0, 4.0]), 0)]
        return loadtest.Phase("head", 500, 60.0, 100, 0, 10.0, 0.1, 20, ops, lag_ms, cpu_ms, 1.0)

    assert loadtest.client_saturated(phase(1.0, 1.0)) == ""
    assert loadtest.client_saturated(phase(9.3, 1.0)) == "loop lag p95 9.3 ms"
    assert loadtest.client_saturated(phase(1.0, 2.0)) == "client CPU 2.0 ms/op"
    assert loadtest.phase_verdict(phase(9.3, 4.1)) == (
        "CLIENT-BOUND (loop lag p95 9.3 ms, client CPU 4.1 ms/op): not a database figure"
    )
    assert loadtest.phase_verdict(phase(1.0, 1.0)) == "PASS"
