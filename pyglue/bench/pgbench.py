"""`pyglue bench loadtest --driver pgbench`: the platform's mix from a C client, through PgBouncer.

One pgbench script per operation and state (pyglue/bench/pgbench/<state>_<op>.sql), weighted
by the mix, plus a think script weighted like all operations together (a user thinks once per
operation on average, so think time never counts as latency). Every client first sleeps a
random ramp of up to one think time and sets its `started` variable; transactions completing
in that ramp are not counted. Clients reach PostgreSQL through a real PgBouncer in transaction
mode with POOL_SIZE server connections. The server (postmaster, its children, PgBouncer) is
pinned to core 0, pgbench and this process to core 1, when the machine has two cores or more.
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
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue.bench import loadops, output
from pyglue.bench.harness import Progress
from pyglue.bench.timing import percentile
from pyglue.dburl import libpq_dsn
from pyglue.errors import PostgresNotFound
from pyglue.testing import PgBouncer, PostgresCluster, find_bindir, find_pgbouncer

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
    try:
        found: Path | None = find_bindir() / "pgbench"
    except PostgresNotFound:
        found = None
    if found is None or not found.is_file():
        on_path = shutil.which("pgbench")
        if on_path is None:
            raise PostgresNotFound(PGBENCH_HINT)
        found = Path(on_path)
    return found


def check_binaries() -> None:
    """Both binaries the driver needs, before any dataset is built."""
    find_pgbench()
    find_pgbouncer()


@dataclass(frozen=True)
class OpStats:
    name: str
    transactions: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class Phase:
    """One state at one client count."""

    state: str
    clients: int
    duration_s: float  # the measured window, after the ramp
    tps: float  # operations per second in the window (think transactions excluded)
    errors: int
    per_operation: list[OpStats]
    server_conns_mean: float  # PgBouncer's sv_active, sampled
    server_conns_max: int
    clients_waiting_max: int  # PgBouncer's cl_waiting: queued for a server connection
    server_cpu_s: float | None  # PostgreSQL processes' utime+stime over the run (None: not local)
    server_cpu_ms_per_op: float | None
    server_cpu_utilization: float | None  # CPU s / (run seconds x server cores)
    load_average: float
    error_samples: list[str] = field(default_factory=list)


def _affinity(pid: int, cores: set[int]) -> None:
    try:
        os.sched_setaffinity(pid, cores)
    except (OSError, AttributeError):  # gone, or not ours to pin
        pass


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            tree[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    return tree


def _cpu_s(pid: int, *, reaped: bool) -> float:
    """utime+stime of `pid`; with `reaped`, plus cutime+cstime (its exited children's)."""
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11 : 15 if reaped else 13]) / os.sysconf("SC_CLK_TCK")


class ServerMeter:
    """The local PostgreSQL server's processes: pinning and CPU seconds, from /proc."""

    def __init__(self, url: URL) -> None:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
        backend = Path(f"/proc/{row[0] if row else 0}/stat")
        self.postmaster = (
            int(backend.read_text().rsplit(")", 1)[1].split()[1]) if backend.exists() else None
        )

    def processes(self) -> list[int]:
        if self.postmaster is None:
            return []
        return [self.postmaster, *_children().get(self.postmaster, [])]

    def pin(self, cores: set[int]) -> None:
        for pid in self.processes():
            _affinity(pid, cores)

    def cpu_s(self) -> float | None:
        total = 0.0
        for n, pid in enumerate(self.processes()):
            try:
                total += _cpu_s(pid, reaped=n == 0)  # the postmaster reaps exited backends
            except OSError:
                continue
        return total if self.postmaster is not None else None


def raise_nofile(needed: int) -> None:
    """Let this process and its children (PgBouncer, pgbench) open `needed` descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard < needed and os.geteuid() == 0:
        hard = needed
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def prepare_picks(url: URL, population: list[loadops.PlatformUser]) -> int:
    """public.bench_pick in the database at `url` (pick.sql): the number of rows."""
    rows = [
        (n, u.id, w, u.agent_ids[i % len(u.agent_ids)], loadops.PROVIDERS[n % 6])
        for n, (i, u, w) in enumerate(
            ((i, u, w) for u in population for i, w in enumerate(u.workflow_ids)), start=1
        )
    ]
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute((SCRIPTS / "pick.sql").read_text())
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO public.bench_pick (n, user_id, workflow_id, agent_id, provider)"
                " VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
        conn.execute((SCRIPTS / "pick_fill.sql").read_text())
    return len(rows)


def _scripts(state: str, into: Path) -> list[str]:
    """`-f file@weight` for every operation (wrapped in the ramp) and the think script."""
    args = []
    for name, weight in MIX.items():
        body = (SCRIPTS / f"{state}_{name}.sql").read_text()
        wrapped = into / f"{state}_{name}.sql"
        ramp = "\\set started 1\n\\set ramp random(0, :think_hi)\n\\sleep :ramp ms\n"
        wrapped.write_text(f"\\if :started\n{body}\\else\n{ramp}\\endif\n")
        args += ["-f", f"{wrapped}@{weight}"]
    return [*args, "-f", f"{SCRIPTS / 'think.sql'}@{sum(MIX.values())}"]


def _sample_pools(bouncer: PgBouncer, stop: threading.Event, out: list[tuple[int, int]]) -> None:
    while not stop.wait(0.5):
        try:
            rows = bouncer.show("POOLS")
        except psycopg.Error:
            continue
        pools = [
            r for r in rows if r[0] != "pgbouncer"
        ]  # (database, user, cl_active, cl_waiting, ..., sv_active, ...)
        out.append((sum(int(str(r[6])) for r in pools), sum(int(str(r[3])) for r in pools)))


def run_phase(
    state: str, url: URL, bouncer: PgBouncer, meter: ServerMeter, clients: int,
    duration_s: float, think_s: float, picks: int, pin: bool,
) -> Phase:  # fmt: skip
    """pgbench with `clients` clients for the ramp plus `duration_s`, through `bouncer`."""
    think_ms = think_s * 1000
    lo, hi = int(think_ms * 0.5), max(1, int(think_ms * 1.5))
    with tempfile.TemporaryDirectory(prefix="pyglue-pgbench-") as tmp:
        work = Path(tmp)
        command = [
            *(["taskset", "-c", str(CLIENT_CORE)] if pin and shutil.which("taskset") else []),
            str(find_pgbench()), "-n", "-M", "extended", "-c", str(clients), "-j", "1",
            "-T", str(max(1, round(duration_s + hi / 1000))), "--log",
            f"--log-prefix={work / 'log'}", "-D", f"picks={picks}", "-D", "started=0",
            "-D", f"think_lo={lo}", "-D", f"think_hi={hi}", *_scripts(state, work),
            bouncer.conninfo(str(url.database)),
        ]  # fmt: skip
        samples: list[tuple[int, int]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_pools, args=(bouncer, stop, samples))
        cpu_before, started = meter.cpu_s(), time.time()
        sampler.start()
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        finally:
            stop.set()
            sampler.join()
        elapsed, cpu_after = time.time() - started, meter.cpu_s()
        if result.returncode not in (0, 2):  # 2: some clients aborted (counted as errors)
            raise RuntimeError(f"pgbench failed: {result.stderr.strip()[-1500:]}")
        latencies, counts = _read_logs(work)
    names = list(MIX)
    errors: dict[str, int] = defaultdict(int)
    samples_text = []
    for line in result.stderr.splitlines():
        match = _ABORTED.search(line)
        if match:
            script = int(match.group(1))
            errors[names[script] if script < len(names) else "think"] += 1
            if len(samples_text) < 5:
                samples_text.append(
                    f"{names[script] if script < len(names) else 'think'}: {match.group(2)[:300]}"
                )
    window = duration_s  # pgbench runs the ramp (up to one think time) plus duration_s
    ops = sum(counts[n] for n in range(len(names)))
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    server_cores = 1 if pin else os.cpu_count() or 1
    per_op = [
        OpStats(
            name,
            len(latencies[i]),
            errors[name],
            *(percentile(latencies[i], q) if latencies[i] else None for q in (50, 95, 99)),
        )  # fmt: skip
        for i, name in enumerate(names)
    ]
    return Phase(
        state=state, clients=clients, duration_s=window,
        tps=sum(len(latencies[i]) for i in range(len(names))) / window,
        errors=sum(errors.values()), per_operation=per_op,
        server_conns_mean=sum(s[0] for s in samples) / len(samples) if samples else 0.0,
        server_conns_max=max((s[0] for s in samples), default=0),
        clients_waiting_max=max((s[1] for s in samples), default=0),
        server_cpu_s=cpu, server_cpu_ms_per_op=cpu * 1000 / ops if cpu is not None and ops else None,
        server_cpu_utilization=cpu / (elapsed * server_cores) if cpu is not None else None,
        load_average=os.getloadavg()[0], error_samples=samples_text,
    )  # fmt: skip


def _read_logs(work: Path) -> tuple[dict[int, list[float]], dict[int, int]]:
    """Per script: latencies (ms) of every client's transactions but its first (the ramp)."""
    latencies: dict[int, list[float]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for path in work.glob("log*"):
        for line in path.read_text().splitlines():
            parts = line.split()  # client_id transaction_no time script_no time_epoch time_us ...
            if len(parts) < 6 or not parts[2].isdigit():
                continue
            script = int(parts[3])
            counts[script] += 1
            if parts[1] != "0":
                latencies[script].append(int(parts[2]) / 1000)
    return latencies, counts


def run(
    urls: dict[str, URL], counts: list[int], duration_s: float, think_s: float,
    heaviest: Any, progress: Progress,
) -> list[Phase]:  # fmt: skip
    """Every client count against every state in `urls`, one after the other."""
    first = next(iter(urls.values()))
    engine = create_engine(first.set(drivername="postgresql+psycopg"), poolclass=NullPool)
    try:
        with Session(engine) as session:
            population = loadops.population(session, 200, heaviest)
    finally:
        engine.dispose()
    picks = {state: prepare_picks(url, population) for state, url in urls.items()}
    raise_nofile(max(counts) * 2 + 1000)
    upstream = PostgresCluster(port=first.port or 5432, basedir=Path(tempfile.mkdtemp()))
    upstream.basedir.chmod(0o755)  # PgBouncer runs as the server user when we are root
    bouncer = PgBouncer(upstream, pool_size=POOL_SIZE, max_client_conn=max(counts) + 100)
    meter = ServerMeter(first)
    pin = (os.cpu_count() or 1) >= 2 and meter.postmaster is not None
    if not pin:
        progress("  not pinning: one core, or the server is not a local process")
    phases = []
    try:
        bouncer.start()
        if pin:
            meter.pin({SERVER_CORE})
            pid = (bouncer.basedir / "pgbouncer.pid").read_text().strip()
            _affinity(int(pid), {SERVER_CORE})
            _affinity(0, {CLIENT_CORE})
        for clients in counts:
            for state, url in urls.items():
                progress(f"  pgbench: {state} at {clients} clients for {duration_s:g} s ...")
                phase = run_phase(
                    state, url, bouncer, meter, clients, duration_s, think_s, picks[state], pin
                )
                progress(f"    {phase.tps:.0f} ops/s, {phase.errors} errors")
                phases.append(phase)
    finally:
        bouncer.stop()
        shutil.rmtree(upstream.basedir, ignore_errors=True)
        if pin:
            _affinity(0, set(range(os.cpu_count() or 1)))
            meter.pin(set(range(os.cpu_count() or 1)))
    return phases


@contextlib.contextmanager
def pinned_client(url: URL, progress: Progress) -> Iterator[None]:
    """The server on core 0 and this process (the Python driver's client) on core 1, meanwhile."""
    meter, everything = ServerMeter(url), set(range(os.cpu_count() or 1))
    pin = len(everything) >= 2 and meter.postmaster is not None
    if pin:
        meter.pin({SERVER_CORE})
        _affinity(0, {CLIENT_CORE})
    else:
        progress("  not pinning: one core, or the server is not a local process")
    try:
        yield
    finally:
        if pin:
            _affinity(0, everything)
            meter.pin(everything)


GOALS_P95_MS = {500: 10.0, 5000: 50.0}


def verdict(phase: Phase) -> str:
    """At head: zero errors at every count; each op's p95 ≤ 10 ms at 500, ≤ 50 ms at 5,000."""
    if phase.state != "head":
        return "— (contrast)"
    why = [f"{phase.errors} errors"] if phase.errors else []
    goal = GOALS_P95_MS.get(phase.clients)
    if goal is not None:
        slow = [o.name for o in phase.per_operation if o.p95_ms is None or o.p95_ms > goal]
        why += [f"p95 > {goal:g} ms: " + ", ".join(slow)] if slow else []
    return "PASS" if not why else "MISS (" + "; ".join(why) + ")"


def _ms(value: float | None) -> str:
    return "—" if value is None else output.ms(value)


def _op(stats: OpStats) -> str:
    cells = " / ".join(_ms(v) for v in (stats.p50_ms, stats.p95_ms, stats.p99_ms))
    return cells + (f" ({stats.errors} err)" if stats.errors else "")


def markdown(phases: list[Phase], *, think_s: float, scale: str) -> str:
    header = ["clients", "state", "ops/s", "errors", "server conns mean/max", "clients waiting max",
              "PG CPU ms/op", "PG CPU util", "load avg", *(f"{n} p50/p95/p99 ms" for n in MIX),
              "verdict"]  # fmt: skip
    rows = [
        [p.clients, p.state, f"{p.tps:.1f}", p.errors,
         f"{p.server_conns_mean:.1f} / {p.server_conns_max}", p.clients_waiting_max,
         _ms(p.server_cpu_ms_per_op),
         "—" if p.server_cpu_utilization is None else f"{p.server_cpu_utilization:.0%}",
         f"{p.load_average:.1f}", *(_op(o) for o in p.per_operation), verdict(p)]
        for p in phases
    ]  # fmt: skip
    lines = [
        f"## agentdb load test (pgbench via PgBouncer): scale {scale}, think time {think_s:g} s"
        f" (±50%), PgBouncer transaction pool of {POOL_SIZE} server connections",
        "",
        "Goals at head: zero errors at every client count; every operation's p95 ≤ 10 ms at 500"
        " clients and ≤ 50 ms at 5,000. PG CPU: utime+stime of the PostgreSQL processes over the"
        " run; util = CPU s / (run s × the server's cores: 1 when pinned). Load avg: 1 minute, at"
        " the end of the phase.",
        "",
        output.table(header, rows),
    ]
    at_500 = {p.state: p.server_cpu_utilization for p in phases if p.clients == 500}
    if at_500.get("baseline") is not None and at_500.get("head") is not None:
        lines += ["", f"Server CPU utilization at 500 clients: baseline {at_500['baseline']:.0%}"
                  f" → head {at_500['head']:.0%} (the plan: DB load 80% → 15%)."]  # fmt: skip
    samples = [s for p in phases for s in p.error_samples]
    if samples:
        lines += ["", "First errors:", *(f"- {s}" for s in samples[:10])]
    return "\n".join(lines) + "\n"
