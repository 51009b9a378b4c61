"""`pyglue bench loadtest --driver pgbench`: the platform's mix from a C client, via PgBouncer.

One script per operation and state (pgbench/<state>_<op>.sql), weighted by the mix, and a think
script weighted like all of them (one think per operation on average, never counted as latency).
Each client's first transaction is a random ramp of up to one think time, not counted. The server
and PgBouncer (transaction mode, POOL_SIZE server connections) run on core 0, pgbench on core 1.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from pyglue.bench import output
from pyglue.bench.harness import Progress
from pyglue.bench.timing import percentile
from pyglue.dburl import libpq_dsn
from pyglue.errors import PostgresNotFound, PyglueError
from pyglue.queries import history_horizon
from pyglue.testing import (
    SUPERUSER,
    PgBouncer,
    PostgresCluster,
    find_bindir,
    find_pgbouncer,
)

SCRIPTS = Path(__file__).with_name("pgbench")
POOL_SIZE = 20
# the platform's mix (pyglue.bench.loadops.MIX) with loading a workflow (the editor) on its own
MIX = {"dashboard": 20, "history": 25, "workflow_load": 10, "run_workflow": 20,
       "chat_turn": 25, "search_agents": 10}  # fmt: skip
PGBENCH_HINT = "pgbench not found: install it (apt-get install postgresql-15)"
SERVER_CORE, CLIENT_CORE = 0, 1
_ABORTED = re.compile(r"client \d+ aborted in command \d+ \(\w+\) of script (\d+); (.*)")


def find_pgbench() -> Path:
    """pgbench beside the server binaries, else on PATH; one line naming the package if absent."""
    with contextlib.suppress(PostgresNotFound):
        if (find_bindir() / "pgbench").is_file():
            return find_bindir() / "pgbench"
    if (on_path := shutil.which("pgbench")) is None:
        raise PostgresNotFound(PGBENCH_HINT)
    return Path(on_path)


def check_binaries() -> None:
    find_pgbench(), find_pgbouncer()  # before any server starts or dataset is built


@dataclass(frozen=True)
class OpStats:
    name: str
    transactions: int
    errors: int
    p50_p95_p99_ms: tuple[float, ...] | None


@dataclass(frozen=True)
class Phase:
    """One state at one client count. CPU figures are None when the server is not local."""

    state: str
    clients: int
    tps: float  # operations per second (think transactions and each client's ramp excluded)
    errors: int
    per_operation: list[OpStats]
    server_conns_active_mean: float  # PgBouncer's sv_active, sampled twice a second
    server_conns_open_max: int  # server connections PgBouncer held open, at most
    clients_waiting_max: int  # PgBouncer's cl_waiting: queued for a server connection
    server_cpu_ms_per_op: float | None  # the PostgreSQL processes' utime+stime / operations
    server_cpu_utilization: float | None  # PostgreSQL CPU s / (run s x the server's cores)
    pgbouncer_cpu_utilization: float | None  # PgBouncer's, on the server's cores too
    client_cpu_utilization: float  # pgbench's CPU s / run s: near 100% the client is the limit
    load_average: float
    error_samples: list[str] = field(default_factory=list)


def _stat(pid: int | str) -> list[str]:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]; [] once it is gone."""
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return []


def _affinity(pids: list[int], cores: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):  # gone, or not ours to pin
            os.sched_setaffinity(pid, cores)


def _cpu_s(pid: int, *, reaped: bool = False) -> float:
    """utime+stime of `pid`; with `reaped`, plus cutime+cstime (its exited children's)."""
    return sum(map(int, _stat(pid)[11 : 15 if reaped else 13])) / os.sysconf("SC_CLK_TCK")


class ServerMeter:
    """The local PostgreSQL server's processes, from /proc: pinning and CPU seconds."""

    def __init__(self, url: URL) -> None:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:  # its backend's parent
            backend = _stat(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
        self.postmaster = int(backend[1]) if backend else None

    def processes(self) -> list[int]:
        pids = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]
        children = [pid for pid in pids if _stat(pid)[1:2] == [str(self.postmaster)]]
        return [self.postmaster, *children] if self.postmaster else []

    def cpu_s(self) -> float | None:
        """The postmaster reaps exited backends: its cutime+cstime hold theirs."""
        pids = self.processes()
        return sum(_cpu_s(pid, reaped=pid == self.postmaster) for pid in pids) if pids else None


def raise_nofile(needed: int) -> None:
    """Let this process and its children (PgBouncer, pgbench) open `needed` descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        hard = max(hard, needed) if os.geteuid() == 0 else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def prepare_picks(url: URL, heaviest: Any) -> int:
    """public.bench_pick in the database at `url` (pgbench/pick.sql): the number of rows."""
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("SELECT set_config('bench.heaviest', %s, false)", [str(heaviest)])
        conn.execute((SCRIPTS / "pick.sql").read_text())
        row = conn.execute("SELECT count(*) FROM public.bench_pick").fetchone()
    if not row or not row[0]:
        raise ValueError("no user owns both a workflow with an agent block and an agent")
    return int(row[0])


def _scripts(state: str, into: Path) -> list[str]:
    """`-f file@weight` for every operation (wrapped in the ramp) and the think script."""
    args, ramp = [], "\\set started 1\n\\set ramp random(0, :think_hi)\n\\sleep :ramp ms\n"
    for name, weight in MIX.items():
        body, wrapped = (SCRIPTS / f"{state}_{name}.sql").read_text(), into / f"{name}.sql"
        wrapped.write_text(f"\\if :started\n{body}\\else\n{ramp}\\endif\n")
        args += ["-f", f"{wrapped}@{weight}"]
    return [*args, "-f", f"{SCRIPTS / 'think.sql'}@{sum(MIX.values())}"]


def _sample_pools(
    bouncer: PgBouncer, stop: threading.Event, out: list[tuple[int, int, int]]
) -> None:
    """(server connections in a transaction, open, clients waiting) of the app's pools,
    every half second. A sample rarely catches a short transaction at a low load; the open
    count shows the pool's reach (PgBouncer keeps a server connection until it idles out)."""

    def total(*columns: str) -> int:
        return sum(int(str(r[c])) for r in pools for c in columns)

    while not stop.wait(0.5):
        with contextlib.suppress(psycopg.Error):
            pools = [r for r in bouncer.show("POOLS") if r["database"] != "pgbouncer"]
            out.append(
                (
                    total("sv_active"),
                    total("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"),
                    total("cl_waiting"),
                )
            )


def _read_logs(work: Path) -> tuple[dict[int, list[float]], float]:
    """Per script, the latencies (ms) of every client's transactions but its first (the ramp);
    and the seconds between the first and the last of them."""
    latencies: dict[int, list[float]] = defaultdict(list)
    ends: list[float] = []
    for path in work.glob("log*"):
        for line in path.read_text().splitlines():
            parts = line.split()  # client_id transaction_no time script_no time_epoch time_us
            if len(parts) >= 6 and parts[2].isdigit() and parts[1] != "0":
                latencies[int(parts[3])].append(int(parts[2]) / 1000)
                ends.append(int(parts[4]) + int(parts[5]) / 1e6)
    return latencies, (max(ends) - min(ends)) if ends else 0.0


def _pid(bouncer: PgBouncer) -> int:
    return int((bouncer.basedir / "pgbouncer.pid").read_text())


def _clocks(meter: ServerMeter, bouncer_pid: int) -> tuple[float | None, float, float, float]:
    """CPU s of PostgreSQL, of PgBouncer, of our children (pgbench, once waited for); wall s."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return meter.cpu_s(), _cpu_s(bouncer_pid), usage.ru_utime + usage.ru_stime, time.time()


def _errors(stderr: str) -> tuple[Counter[str], list[str]]:
    """Aborted clients per operation (an SQL error aborts a pgbench client), first messages."""
    names, found = [*MIX, "think"], _ABORTED.findall(stderr)
    aborted = [(names[min(int(script), len(MIX))], message) for script, message in found]
    return Counter(name for name, _ in aborted), [f"{n}: {m[:300]}" for n, m in aborted[:5]]


def run_phase(
    bouncer: PgBouncer, meter: ServerMeter, pin: bool, think_s: float, picks: int,
    state: str, url: URL, clients: int, duration_s: float,
) -> Phase:  # fmt: skip
    """pgbench with `clients` clients for a ramp (up to a think time) plus `duration_s`."""
    lo, hi, bouncer_pid = int(think_s * 500), max(1, int(think_s * 1500)), _pid(bouncer)
    with tempfile.TemporaryDirectory(prefix="pyglue-pgbench-") as tmp:
        command = [
            *(["taskset", "-c", str(CLIENT_CORE)] if pin and shutil.which("taskset") else []),
            str(find_pgbench()), "-n", "-M", "extended", "-c", str(clients), "-j", "1",
            "-T", str(max(1, round(duration_s + hi / 1000))), "--log",
            f"--log-prefix={Path(tmp) / 'log'}", "-D", f"picks={picks}",
            "-D", "started=0", "-D", f"think_lo={lo}", "-D", f"think_hi={hi}",
            "-D", f"horizon={history_horizon():%Y-%m-%dT%H:%M:%S}",
            *_scripts(state, Path(tmp)), bouncer.conninfo(str(url.database)),
        ]  # fmt: skip
        samples, stop = list[tuple[int, int, int]](), threading.Event()
        sampler = threading.Thread(target=_sample_pools, args=(bouncer, stop, samples))
        before = _clocks(meter, bouncer_pid)
        sampler.start()
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        finally:
            stop.set()
            sampler.join()
        after = _clocks(meter, bouncer_pid)
        if result.returncode not in (0, 2):  # 2: some clients aborted (counted as errors)
            raise RuntimeError(f"pgbench failed: {result.stderr.strip()[-1500:]}")
        latencies, window = _read_logs(Path(tmp))
    errors, error_samples = _errors(result.stderr)
    ops = sum(len(latencies[i]) for i in range(len(MIX)))
    cpu = None if before[0] is None or after[0] is None else after[0] - before[0]
    bouncer_cpu, client_s, elapsed = (a - b for a, b in zip(after[1:], before[1:], strict=True))
    cores = 1 if pin else os.cpu_count() or 1
    cpu_ms = cpu * 1000 / ops if cpu is not None and ops else None
    pg, bouncer_ = (
        (None, None) if cpu is None else (cpu / elapsed / cores, bouncer_cpu / elapsed / cores)
    )
    return Phase(
        state, clients, ops / window if window else 0.0, sum(errors.values()),
        [OpStats(name, len(latencies[i]), errors[name], tuple(
            percentile(latencies[i], q) for q in (50, 95, 99)) if latencies[i] else None)
         for i, name in enumerate(MIX)],
        sum(s[0] for s in samples) / len(samples) if samples else 0.0,
        max((s[1] for s in samples), default=0), max((s[2] for s in samples), default=0), cpu_ms,
        pg, bouncer_,
        client_s / elapsed, os.getloadavg()[0], error_samples,
    )  # fmt: skip


def run(
    urls: dict[str, URL], counts: list[int], duration_s: float, think_s: float,
    heaviest: Any, progress: Progress,
) -> list[Phase]:  # fmt: skip
    """Every client count against every state in `urls`, one after the other."""
    first = next(iter(urls.values()))
    if first.host not in (None, "127.0.0.1", "localhost") or first.username != SUPERUSER:
        raise PyglueError("--driver pgbench: PgBouncer reaches the server as postgres@127.0.0.1")
    picks = {state: prepare_picks(url, heaviest) for state, url in urls.items()}
    raise_nofile(max(counts) * 2 + 1000)
    upstream = PostgresCluster(port=first.port or 5432, basedir=Path(tempfile.mkdtemp()))
    upstream.basedir.chmod(0o755)  # PgBouncer runs as the server user when we are root
    bouncer = PgBouncer(upstream, pool_size=POOL_SIZE, max_client_conn=max(counts) + 100)
    phases = []
    try:
        with pinned_client(first, progress, bouncer.start) as pin:
            meter = ServerMeter(first)
            for clients in counts:
                for state, url in urls.items():
                    progress(f"  pgbench: {state} at {clients} clients, {duration_s:g} s ...")
                    args = (state, url, clients, duration_s)
                    phases.append(run_phase(bouncer, meter, pin, think_s, picks[state], *args))
                    progress(f"    {phases[-1].tps:.0f} ops/s, {phases[-1].errors} errors")
    finally:
        bouncer.stop()
        shutil.rmtree(upstream.basedir, ignore_errors=True)
    return phases


@contextlib.contextmanager
def pinned_client(
    url: URL, progress: Progress, start_bouncer: Callable[[], PgBouncer] | None = None
) -> Iterator[bool]:
    """The server (and PgBouncer) on core 0, this process and its children on core 1, meanwhile;
    whether it pinned (not on one core, nor when the server is not a local process)."""
    meter, everything = ServerMeter(url), set(range(os.cpu_count() or 1))
    bouncer = [_pid(start_bouncer())] if start_bouncer else []
    pin = len(everything) >= 2 and meter.postmaster is not None
    if pin:
        _affinity(meter.processes() + bouncer, {SERVER_CORE})
        _affinity([0], {CLIENT_CORE})
    else:
        progress("  not pinning: one core, or the server is not a local process")
    try:
        yield pin
    finally:
        _affinity([0, *meter.processes()] if pin else [], everything)


GOALS_P95_MS = {500: 10.0, 5000: 50.0}


def verdict(p: Phase) -> str:
    """At head: zero errors at every count; each op's p95 ≤ 10 ms at 500, ≤ 50 ms at 5,000."""
    if p.state != "head":
        return "— (contrast)"
    goal = GOALS_P95_MS.get(p.clients, float("inf"))
    slow = ", ".join(o.name for o in p.per_operation if (o.p50_p95_p99_ms or (0, 1e9))[1] > goal)
    why = [f"{p.errors} errors"] * bool(p.errors) + [f"p95 > {goal:g} ms: {slow}"] * bool(slow)
    return "MISS (" + "; ".join(why) + ")" if why else "PASS"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def markdown(phases: list[Phase], *, think_s: float, scale: str) -> str:
    header = ["clients", "state", "ops/s", "errors", "server conns active mean / open max",
              "clients waiting max",
              "PG CPU ms/op", "PG CPU", "PgBouncer CPU", "pgbench CPU", "load avg",
              *(f"{n} p50/p95/p99 ms" for n in MIX), "verdict"]  # fmt: skip
    rows = [
        [p.clients, p.state, f"{p.tps:.1f}", p.errors,
         f"{p.server_conns_active_mean:.1f} / {p.server_conns_open_max}", p.clients_waiting_max,
         output.latencies([p.server_cpu_ms_per_op]), *map(_share, (p.server_cpu_utilization,
         p.pgbouncer_cpu_utilization, p.client_cpu_utilization)), f"{p.load_average:.1f}",
         *(output.latencies(o.p50_p95_p99_ms, o.errors) for o in p.per_operation), verdict(p)]
        for p in phases
    ]  # fmt: skip
    cpu = {p.state: _share(p.server_cpu_utilization) for p in phases if p.clients == 500}
    return "\n".join([
        f"## agentdb load test, pgbench through PgBouncer: scale {scale}, think time {think_s:g} s"
        f" (±50%), transaction pool of {POOL_SIZE} server connections", "",
        "Goals at head: zero errors at every client count; every operation's p95 ≤ 10 ms at 500"
        " clients and ≤ 50 ms at 5,000. CPU: share of one core over the run (PostgreSQL and"
        " PgBouncer pinned to core 0, pgbench to core 1). Load avg: 1 minute, at the phase's end.",
        "", output.table(header, rows),
        *(["", f"Server CPU utilization at 500 clients: baseline {cpu['baseline']} → head"
           f" {cpu['head']} (the plan: DB load 80% → 15%)."] if len(cpu) == 2 else []),
        *output.first_errors((s for p in phases for s in p.error_samples), 10),
    ]) + "\n"  # fmt: skip
