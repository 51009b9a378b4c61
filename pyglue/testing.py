"""A throwaway PostgreSQL cluster started from the installed binaries, and a PgBouncer before it.

Used by the test suite and by `make demo`. The cluster lives in a temporary
directory, listens on 127.0.0.1 (a free port) and on a Unix socket in that
directory, and is stopped and removed at interpreter exit, on SIGTERM/SIGHUP,
and by `stop()`. As root it runs the server as an unprivileged OS user,
because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import psycopg
from psycopg import sql

from pyglue.errors import PostgresNotFound

SERVER_USER = os.environ.get("PYGLUE_PG_OS_USER", "postgres")
SUPERUSER = "postgres"
INSTALL_HINT = (
    "PostgreSQL server binaries not found: install them "
    "(apt-get install postgresql-15 postgresql-15-cron) or put pg_config on PATH"
)


ON_PATH = "pg_config on PATH"


def find_bindir(pg_config: str | None = ON_PATH, roots: list[Path] | None = None) -> Path:
    """The directory holding initdb/pg_ctl: from pg_config, else the newest /usr/lib/postgresql."""
    candidates: list[Path] = []
    if pg_config == ON_PATH:
        pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            out = subprocess.run(
                [pg_config, "--bindir"], check=True, capture_output=True, text=True
            ).stdout.strip()
            candidates.append(Path(out))
    versions = sorted(
        (
            p
            for root in roots or [Path("/usr/lib/postgresql")]
            for p in root.glob("*/bin")
            if p.parent.name.isdigit()
        ),
        key=lambda p: int(p.parent.name),
        reverse=True,
    )
    candidates.extend(versions)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PostgresNotFound(INSTALL_HINT)


def _pkglibdir(bindir: Path) -> Path:
    out = subprocess.run(
        [str(bindir / "pg_config"), "--pkglibdir"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if out:
        return Path(out)
    return bindir.parent / "lib"


def available_preload_libraries(bindir: Path) -> list[str]:
    """pg_cron and pg_stat_statements, those of them that are installed."""
    libdir = _pkglibdir(bindir)
    return [lib for lib in ("pg_cron", "pg_stat_statements") if (libdir / f"{lib}.so").exists()]


def extension_installed(bindir: Path, name: str) -> bool:
    """Whether the server in `bindir` has extension `name`: its library and its control file."""
    sharedir = subprocess.run(
        [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    ).stdout.strip()
    control = Path(sharedir or bindir.parent) / "extension" / f"{name}.control"
    return (_pkglibdir(bindir) / f"{name}.so").exists() and control.exists()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def run_as_server_user(args: list[str], *, cwd: Path) -> None:
    """Run a server binary, as the unprivileged SERVER_USER when we are root.

    `cwd` must be a directory that user can enter: initdb and pg_ctl fail when
    the caller's working directory is private (a root-only checkout).
    """
    kwargs: dict[str, object] = {}
    if os.geteuid() == 0:
        user = _ensure_os_user(SERVER_USER)
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    result = subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-2000:]}")


@dataclass
class PostgresCluster:
    """One running throwaway cluster; use `start()` or the `throwaway_cluster()` context."""

    cron_database: str = "agentdb"
    bindir: Path = field(default_factory=find_bindir)
    port: int = field(default_factory=_free_port)
    basedir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pyglue-pg-")))
    preload: list[str] = field(default_factory=list)
    extra_settings: dict[str, str] = field(default_factory=dict)
    # loaded before pg_cron and pg_stat_statements (citus must come first)
    extra_preload: list[str] = field(default_factory=list)
    _running: bool = False

    @property
    def datadir(self) -> Path:
        return self.basedir / "data"

    @property
    def version(self) -> int:
        return int((self.datadir / "PG_VERSION").read_text().strip())

    def url(self, dbname: str = "postgres", *, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def _run_as_server_user(self, args: list[str]) -> None:
        run_as_server_user(args, cwd=self.basedir)

    def start(self) -> PostgresCluster:
        if os.geteuid() == 0:
            user = _ensure_os_user(SERVER_USER)
            os.chown(self.basedir, user.pw_uid, user.pw_gid)
        self._run_as_server_user(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.datadir),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )  # fmt: skip
        self.preload = [*self.extra_preload, *available_preload_libraries(self.bindir)]
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.basedir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
            "shared_buffers": "'256MB'",
            "max_wal_size": "'4GB'",
            "timezone": "'UTC'",
            "shared_preload_libraries": f"'{','.join(self.preload)}'",
            "cron.database_name": f"'{self.cron_database}'",
            "cron.use_background_workers": "on",
            "max_worker_processes": "32",
            "log_min_messages": "warning",
        }
        settings.update(self.extra_settings)
        if "pg_cron" not in self.preload:
            del settings["cron.database_name"], settings["cron.use_background_workers"]
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# pyglue throwaway cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._run_as_server_user(
            [
                str(self.bindir / "pg_ctl"),
                "-D", str(self.datadir),
                "-l", str(self.basedir / "server.log"),
                "-w", "-t", "60",
                "start",
            ]
        )  # fmt: skip
        self._running = True
        _LIVE.append(self)
        self.create_database(self.cron_database)
        return self

    def stop(self) -> None:
        if self._running:
            self._running = False
            with contextlib.suppress(RuntimeError):
                self._run_as_server_user(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.datadir),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ]
                )
        shutil.rmtree(self.basedir, ignore_errors=True)
        if self in _LIVE:
            _LIVE.remove(self)

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit psycopg connection to one of the cluster's databases."""
        return psycopg.connect(self.conninfo(dbname), autocommit=True)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create `name` (a file copy of `template` when given) and return its URL."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with self.connect() as conn:
            conn.execute(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


PGBOUNCER_HINT = "pgbouncer not found: install it (apt-get install pgbouncer)"


def find_pgbouncer(fallback: Path = Path("/usr/sbin/pgbouncer")) -> Path:
    """The pgbouncer binary: on PATH, else Debian's /usr/sbin/pgbouncer."""
    found = shutil.which("pgbouncer") or fallback
    if not Path(found).is_file():
        raise PostgresNotFound(PGBOUNCER_HINT)
    return Path(found)


@dataclass
class PgBouncer:
    """A real PgBouncer in transaction pooling mode before a running cluster.

    Every role of the cluster can log in (auth_query as the superuser, trust
    as the cluster has it); `pool_size` server connections per database and
    role, up to `max_client_conn` clients. Like the cluster, it runs as the
    unprivileged server user when we are root (PgBouncer refuses root), and
    is stopped at interpreter exit.
    """

    cluster: PostgresCluster
    pool_size: int = 20
    max_client_conn: int = 10_000
    port: int = field(default_factory=_free_port)
    binary: Path = field(default_factory=find_pgbouncer)
    _running: bool = False

    @property
    def basedir(self) -> Path:
        return self.cluster.basedir / f"pgbouncer-{self.port}"

    def url(self, dbname: str = "postgres", *, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def start(self) -> PgBouncer:
        self.basedir.mkdir()
        (self.basedir / "users.txt").write_text(f'"{SUPERUSER}" ""\n')
        settings = {
            "listen_addr": "127.0.0.1",
            "listen_port": str(self.port),
            "unix_socket_dir": "",
            "pool_mode": "transaction",
            "auth_type": "trust",
            "auth_file": str(self.basedir / "users.txt"),
            "auth_user": SUPERUSER,
            "admin_users": SUPERUSER,
            "max_client_conn": str(self.max_client_conn),
            "default_pool_size": str(self.pool_size),
            "max_db_connections": "0",
            # psycopg and SQLAlchemy send these at connect; a pooled server
            # connection cannot keep per-client settings anyway
            "ignore_startup_parameters": "extra_float_digits,options",
            "logfile": str(self.basedir / "pgbouncer.log"),
            "pidfile": str(self.basedir / "pgbouncer.pid"),
        }
        lines = ["[databases]", f"* = host=127.0.0.1 port={self.cluster.port}", "[pgbouncer]"]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        (self.basedir / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:
            user = _ensure_os_user(SERVER_USER)
            for path in (self.basedir, *self.basedir.iterdir()):
                os.chown(path, user.pw_uid, user.pw_gid)
        run_as_server_user(
            [str(self.binary), "-d", str(self.basedir / "pgbouncer.ini")], cwd=self.basedir
        )
        self._running = True
        _LIVE.append(self)
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.conninfo(), autocommit=True, prepare_threshold=None):
                    return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def show(self, what: str) -> list[dict[str, object]]:
        """A SHOW command of PgBouncer's admin console (POOLS, STATS, CLIENTS, SERVERS ...),
        each row by column name: the columns' order changes between PgBouncer releases."""
        if not what.isalpha():
            raise ValueError(f"not a SHOW command: {what!r}")
        conninfo = self.conninfo("pgbouncer")
        with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
            cursor = conn.cursor()
            cursor.execute(f"SHOW {what.upper()}")
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def stop(self) -> None:
        if self._running:
            self._running = False
            pidfile = self.basedir / "pgbouncer.pid"
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGTERM)  # immediate shutdown (SIGINT waits for clients)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    os.kill(pid, 0)  # raises once the process is gone
                    time.sleep(0.02)
        if self in _LIVE:
            _LIVE.remove(self)


_LIVE: list[PostgresCluster | PgBouncer] = []


def _stop_all() -> None:
    # PgBouncers first: they were started after the cluster they serve
    for process in sorted(_LIVE, key=lambda p: isinstance(p, PostgresCluster)):
        process.stop()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _stop_all()
    raise SystemExit(128 + signum)


atexit.register(_stop_all)
for _sig in (signal.SIGTERM, signal.SIGHUP):  # SIGINT raises KeyboardInterrupt: atexit runs
    if signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _on_signal)


@contextlib.contextmanager
def throwaway_cluster(cron_database: str = "agentdb") -> Iterator[PostgresCluster]:
    """Start a cluster for the duration of the `with` block."""
    cluster = PostgresCluster(cron_database=cron_database).start()
    try:
        yield cluster
    finally:
        cluster.stop()
