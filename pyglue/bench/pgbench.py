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
    with contextlib.suppress(PostgresNotFound):
        if (find_bindir() / "pgbench").is_file():
            return find_bindir() / "pgbench"
    if (on_path := shutil.which("pgbench")) is None:
        raise PostgresNotFound(PGBENCH_HINT)
    return Path(on_path)


def check_binaries() -> None:
    """Both binaries the driver needs, before any dataset is built."""
    find_pgbench(), find_pgbouncer()


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
    """One state at one client count. CPU figures are None when the server is not local."""

    state: str
    clients: int
    tps: float  # operations per second (think transactions and each client's ramp excluded)
    errors: int
    per_operation: list[OpStats]
    server_conns_mean: float  # PgBouncer's sv_active, sampled twice a second
    server_conns_max: int
    clients_waiting_max: int  # PgBouncer's cl_waiting: queued for a server connection
    server_cpu_ms_per_op: float | None  # the PostgreSQL processes' utime+stime / operations
    server_cpu_utilization: float | None  # PostgreSQL CPU s / (run s x the server's cores)
    pgbouncer_cpu_utilization: float | None  # PgBouncer's, on the server's cores too
    client_cpu_utilization: float  # pgbench's CPU s / run s: near 100% the client is the limit
    load_average: float
    error_samples: list[str] = field(default_factory=list)


def _stat(pid: int | str) -> list[str]:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _affinity(pid: int, cores: set[int]) -> None:
    with contextlib.suppress(OSError):  # gone, or not ours to pin
        os.sched_setaffinity(pid, cores)


def _cpu_s(pid: int, *, reaped: bool = False) -> float:
    """utime+stime of `pid`; with `reaped`, plus cutime+cstime (its exited children's)."""
    try:
        fields = _stat(pid)[11 : 15 if reaped else 13]
    except OSError:
        return 0.0
    return sum(int(f) for f in fields) / os.sysconf("SC_CLK_TCK")


class ServerMeter:
    """The local PostgreSQL server's processes, from /proc: pinning and CPU seconds."""

    def __init__(self, url: URL) -> None:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
        backend = Path(f"/proc/{row[0] if row else 0}")
        self.postmaster = int(_stat(backend.name)[1]) if backend.exists() else None

    def processes(self) -> list[int]:
        if self.postmaster is None:
            return []
        children = []
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, IndexError):
                if entry.name.isdigit() and int(_stat(entry.name)[1]) == self.postmaster:
                    children.append(int(entry.name))
        return [self.postmaster, *children]

    def pin(self, cores: set[int]) -> None:
        for pid in self.processes():
            _affinity(pid, cores)

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


def _sample_pools(bouncer: PgBouncer, stop: threading.Event, out: list[tuple[int, int]]) -> None:
    """(sv_active, cl_waiting) of the app's pools, every half second."""
    while not stop.wait(0.5):
        with contextlib.suppress(psycopg.Error):
            pools = [r for r in bouncer.show("POOLS") if r[0] != "pgbouncer"]
            out.append((sum(int(str(r[6])) for r in pools), sum(int(str(r[3])) for r in pools)))


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


def _errors(stderr: str) -> tuple[dict[str, int], list[str]]:
    """Aborted clients per operation (an SQL error aborts a pgbench client), first messages."""
    names, errors, samples = [*MIX, "think"], dict[str, int](), list[str]()
    for match in _ABORTED.finditer(stderr):
        name = names[min(int(match.group(1)), len(MIX))]
        errors[name] = errors.get(name, 0) + 1
        samples += [f"{name}: {match.group(2)[:300]}"][: 5 - len(samples)]
    return errors, samples


@dataclass(frozen=True)
class Setup:
    """What every phase shares: the pooler, the server's processes, the dice, the pinning."""

    bouncer: PgBouncer
    meter: ServerMeter
    picks: dict[str, int]
    think_s: float
    pin: bool


def run_phase(setup: Setup, state: str, url: URL, clients: int, duration_s: float) -> Phase:
    """pgbench with `clients` clients for a ramp (up to a think time) plus `duration_s`."""
    lo, hi = int(setup.think_s * 500), max(1, int(setup.think_s * 1500))
    pin, bouncer_pid = setup.pin, int((setup.bouncer.basedir / "pgbouncer.pid").read_text())
    with tempfile.TemporaryDirectory(prefix="pyglue-pgbench-") as tmp:
        command = [
            *(["taskset", "-c", str(CLIENT_CORE)] if pin and shutil.which("taskset") else []),
            str(find_pgbench()), "-n", "-M", "extended", "-c", str(clients), "-j", "1",
            "-T", str(max(1, round(duration_s + hi / 1000))), "--log",
            f"--log-prefix={Path(tmp) / 'log'}", "-D", f"picks={setup.picks[state]}",
            "-D", "started=0", "-D", f"think_lo={lo}", "-D", f"think_hi={hi}",
            *_scripts(state, Path(tmp)), setup.bouncer.conninfo(str(url.database)),
        ]  # fmt: skip
        samples: list[tuple[int, int]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_pools, args=(setup.bouncer, stop, samples))
        cpu, bouncer_cpu = setup.meter.cpu_s(), _cpu_s(bouncer_pid)
        client_cpu, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
        sampler.start()
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        finally:
            stop.set()
            sampler.join()
        elapsed, cpu_after = time.time() - started, setup.meter.cpu_s()
        bouncer_cpu, client = (
            _cpu_s(bouncer_pid) - bouncer_cpu,
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        if result.returncode not in (0, 2):  # 2: some clients aborted (counted as errors)
            raise RuntimeError(f"pgbench failed: {result.stderr.strip()[-1500:]}")
        latencies, window = _read_logs(Path(tmp))
    errors, error_samples = _errors(result.stderr)
    ops = sum(len(latencies[i]) for i in range(len(MIX)))
    cpu = None if cpu is None or cpu_after is None else cpu_after - cpu
    cores = 1 if pin else os.cpu_count() or 1
    client_s = client.ru_utime + client.ru_stime - client_cpu.ru_utime - client_cpu.ru_stime
    return Phase(
        state=state, clients=clients, tps=ops / window if window else 0.0,
        errors=sum(errors.values()),
        per_operation=[
            OpStats(name, len(latencies[i]), errors.get(name, 0),
                    *(percentile(latencies[i], q) if latencies[i] else None for q in (50, 95, 99)))
            for i, name in enumerate(MIX)
        ],
        server_conns_mean=sum(s[0] for s in samples) / len(samples) if samples else 0.0,
        server_conns_max=max((s[0] for s in samples), default=0),
        clients_waiting_max=max((s[1] for s in samples), default=0),
        server_cpu_ms_per_op=cpu * 1000 / ops if cpu is not None and ops else None,
        server_cpu_utilization=cpu / (elapsed * cores) if cpu is not None else None,
        pgbouncer_cpu_utilization=bouncer_cpu / (elapsed * cores) if cpu is not None else None,
        client_cpu_utilization=client_s / elapsed, load_average=os.getloadavg()[0],
        error_samples=error_samples,
    )  # fmt: skip


def run(
    urls: dict[str, URL], counts: list[int], duration_s: float, think_s: float,
    heaviest: Any, progress: Progress,
) -> list[Phase]:  # fmt: skip
    """Every client count against every state in `urls`, one after the other."""
    first = next(iter(urls.values()))
    picks = {state: prepare_picks(url, heaviest) for state, url in urls.items()}
    raise_nofile(max(counts) * 2 + 1000)
    # PgBouncer's helper needs a cluster's port and a directory only: one shaped like the server
    upstream = PostgresCluster(port=first.port or 5432, basedir=Path(tempfile.mkdtemp()))
    upstream.basedir.chmod(0o755)  # PgBouncer runs as the server user when we are root
    bouncer = PgBouncer(upstream, pool_size=POOL_SIZE, max_client_conn=max(counts) + 100)
    phases = []
    try:
        with pinned_client(first, progress, bouncer.start) as pin:
            setup = Setup(bouncer, ServerMeter(first), picks, think_s, pin)
            for clients in counts:
                for state, url in urls.items():
                    progress(f"  pgbench: {state} at {clients} clients, {duration_s:g} s ...")
                    phases.append(run_phase(setup, state, url, clients, duration_s))
                    progress(f"    {phases[-1].tps:.0f} ops/s, {phases[-1].errors} errors")
    finally:
        bouncer.stop()
        shutil.rmtree(upstream.basedir, ignore_errors=True)
    return phases


@contextlib.contextmanager
def pinned_client(
    url: URL, progress: Progress, start_bouncer: Callable[[], PgBouncer] | None = None
) -> Iterator[bool]:
    """The server (and PgBouncer) on core 0, this process and its children on core 1, meanwhile.

    Yields whether it pinned: not on one core, nor when the server is not a local process.
    """
    meter, everything = ServerMeter(url), set(range(os.cpu_count() or 1))
    bouncer = start_bouncer() if start_bouncer else None
    pin = len(everything) >= 2 and meter.postmaster is not None
    if pin:
        meter.pin({SERVER_CORE})
        if bouncer is not None:
            _affinity(int((bouncer.basedir / "pgbouncer.pid").read_text()), {SERVER_CORE})
        _affinity(0, {CLIENT_CORE})
    else:
        progress("  not pinning: one core, or the server is not a local process")
    try:
        yield pin
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


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def markdown(phases: list[Phase], *, think_s: float, scale: str) -> str:
    header = ["clients", "state", "ops/s", "errors", "server conns mean/max", "clients waiting max",
              "PG CPU ms/op", "PG CPU", "PgBouncer CPU", "pgbench CPU", "load avg",
              *(f"{n} p50/p95/p99 ms" for n in MIX), "verdict"]  # fmt: skip
    rows = [
        [p.clients, p.state, f"{p.tps:.1f}", p.errors,
         f"{p.server_conns_mean:.1f} / {p.server_conns_max}", p.clients_waiting_max,
         _ms(p.server_cpu_ms_per_op), _pct(p.server_cpu_utilization),
         _pct(p.pgbouncer_cpu_utilization), _pct(p.client_cpu_utilization),
         f"{p.load_average:.1f}", *(_op(o) for o in p.per_operation), verdict(p)]
        for p in phases
    ]  # fmt: skip
    lines = [
        f"## agentdb load test, pgbench through PgBouncer: scale {scale}, think time {think_s:g} s"
        f" (±50%), transaction pool of {POOL_SIZE} server connections",
        "",
        "Goals at head: zero errors at every client count; every operation's p95 ≤ 10 ms at 500"
        " clients and ≤ 50 ms at 5,000. CPU columns: share of one core over the run (PostgreSQL"
        " and PgBouncer pinned to core 0, pgbench to core 1); PG CPU ms/op: utime+stime of the"
        " PostgreSQL processes per operation. Load avg: 1 minute, at the end of the phase.",
        "",
        output.table(header, rows),
    ]
    at_500 = {p.state: p.server_cpu_utilization for p in phases if p.clients == 500}
    if at_500.get("baseline") is not None and at_500.get("head") is not None:
        lines += ["", f"Server CPU utilization at 500 clients: baseline {_pct(at_500['baseline'])}"
                  f" → head {_pct(at_500['head'])} (the plan: DB load 80% → 15%)."]  # fmt: skip
    samples = [s for p in phases for s in p.error_samples]
    if samples:
        lines += ["", "First errors:", *(f"- {s}" for s in samples[:10])]
    return "\n".join(lines) + "\n"
