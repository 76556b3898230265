"""A throwaway PostgreSQL server for the tests: a real `postgres` in a temporary directory.

The tests start it themselves (no system service, no shared cluster), so a PostgreSQL store is
tested against the real server on any machine that has the binaries, and nothing outlives the
test session. It listens only on 127.0.0.1, trusts every local login, and trades durability
for start-up speed (fsync off, no WAL archiving, small buffers).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: "
    "install Debian's `postgresql` package (apt-get install postgresql)"
)

# Settings for a disposable server: fast to start, fast to write, nothing kept.
SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_buffers": "16MB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "autovacuum": "off",
    "logging_collector": "off",
}

# Users that may own the server when the tests run as root (postgres refuses to run as root).
UNPRIVILEGED_USERS = ("nobody", "postgres")
DEDICATED_USER = "dispatch-pg"


class PostgresUnavailable(RuntimeError):
    """The server binaries are not installed: a skip outside CI, a failure in CI."""


class PostgresStartError(RuntimeError):
    """The binaries are there but the server would not start."""


@dataclass(frozen=True)
class _Owner:
    uid: int
    gid: int
    home: str


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres, searched as .ci/run searches."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=_version_key, reverse=True)
    candidates.extend(Path(p) for p in versioned)
    initdb = shutil.which("initdb")
    if initdb:
        # Debian links some binaries onto PATH; the real directory has them all.
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresUnavailable(INSTALL_HINT)


def _version_key(bindir: str) -> tuple[int, ...]:
    version = Path(bindir).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _unprivileged_owner() -> _Owner | None:
    """None when not root; else a user postgres will run as, created only if none exists."""
    if os.geteuid() != 0:
        return None
    for name in (*UNPRIVILEGED_USERS, DEDICATED_USER):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return _Owner(entry.pw_uid, entry.pw_gid, entry.pw_dir)
    subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", DEDICATED_USER],
        check=True,
        capture_output=True,
    )
    entry = pwd.getpwnam(DEDICATED_USER)
    return _Owner(entry.pw_uid, entry.pw_gid, entry.pw_dir)


def _reachable_by_others(path: Path) -> bool:
    """Whether every directory above `path` lets another user pass through it."""
    return all(os.stat(parent).st_mode & 0o001 for parent in path.resolve().parents)


class PostgresServer:
    """One `postgres` process with its own data directory, started by `start()`."""

    def __init__(self, bindir: Path | None = None, settings: dict[str, str] | None = None) -> None:
        self.bindir = bindir if bindir is not None else find_bindir()
        self.settings = {**SETTINGS, **(settings or {})}
        """postgresql.conf lines: `SETTINGS`, with the caller's changes (the bench's server
        keeps fsync and a production-sized cache)."""
        self.port = 0
        self.root: Path | None = None
        self._owner = _unprivileged_owner()
        self._names = itertools.count(1)
        self._running = False

    @property
    def datadir(self) -> Path:
        assert self.root is not None, "server not started"
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        assert self.root is not None, "server not started"
        return self.root / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self, attempts: int = 5) -> PostgresServer:
        """initdb, then pg_ctl start on a free port; a port taken meanwhile means a new one."""
        if self._running:
            return self
        self.root = Path(tempfile.mkdtemp(prefix="dispatch-pg-"))
        atexit.register(self.stop)
        try:
            self._prepare_root()
            self._initdb()
            for _ in range(attempts):
                self.port = _free_port()
                seen = self._log_size()
                result = self._pg_ctl(
                    "start", "-w", "-t", "60", "-l", str(self.logfile), "-o", f"-p {self.port}"
                )
                if result.returncode == 0:
                    self._running = True
                    return self
                log = self._log_since(seen)
                if "could not bind" not in log and "already in use" not in log:
                    break
            raise PostgresStartError(
                f"pg_ctl start failed ({result.returncode}): {result.stderr.strip()}\n{log}"
            )
        except BaseException:
            self.stop()
            raise

    def create_database(self) -> str:
        """A fresh, uniquely named database; its URL."""
        name = f"test_{next(self._names)}_{uuid.uuid4().hex[:8]}"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with psycopg.connect(self.url(), autocommit=True) as conn:
            if conn.info.server_version >= 150000:
                # Copying template1's files beats logging them to WAL for a throwaway database.
                create = sql.SQL("{} STRATEGY FILE_COPY").format(create)
            conn.execute(create)
        return self.url(name)

    def stop(self) -> None:
        """Stop at once (no checkpoint: nothing is kept) and remove the directory."""
        if self.root is None:
            return
        atexit.unregister(self.stop)
        if self._running or (self.datadir / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate", "-w")
        self._running = False
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def _prepare_root(self) -> None:
        assert self.root is not None
        if self._owner is None:
            return
        if not _reachable_by_others(self.root):
            raise PostgresStartError(
                f"{self.root.parent} is not searchable by other users, so postgres (which "
                "cannot run as root) cannot reach its data there: set TMPDIR to one that is"
            )
        os.chown(self.root, self._owner.uid, self._owner.gid)

    def _initdb(self) -> None:
        assert self.root is not None
        result = self._run(
            [
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.datadir),
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"initdb failed ({result.returncode}): {result.stderr.strip()}"
            )
        settings = {**self.settings, "unix_socket_directories": f"'{self.root}'"}
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# A disposable server.\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bindir / "pg_ctl"), "--pgdata", str(self.datadir), *args])

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """Run a server program, as the unprivileged owner when we are root."""
        assert self.root is not None
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        for key in ("PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGOPTIONS"):
            env.pop(key, None)
        if self._owner is None:
            return subprocess.run(
                argv, cwd=self.root, env=env, capture_output=True, text=True, timeout=120
            )
        env["HOME"] = str(self.root)
        env["USER"] = env["LOGNAME"] = pwd.getpwuid(self._owner.uid).pw_name
        return subprocess.run(
            argv,
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            user=self._owner.uid,
            group=self._owner.gid,
            extra_groups=[],
        )

    def _log_size(self) -> int:
        try:
            return self.logfile.stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        """What the server logged from `offset` on: this attempt's words, not an earlier one's."""
        try:
            with open(self.logfile, "rb") as log:
                log.seek(offset)
                return log.read().decode("utf-8", errors="replace").strip()
        except OSError:
            return ""
