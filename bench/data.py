"""Data sets for the search benchmark: SQLite files and PostgreSQL databases, built once.

A data set is ``portal db upgrade`` + ``portal generate --programmes N --evaluations 3N
--members N/5 --seed 1``. It is reused while its key is the same: the key hashes the
generator's parameters and the source of the migrations, ``app/search`` and
``app/generate.py``, so a change to any of them builds the set again. Everything lives under
``var/bench/`` (``BENCH_VAR``):

- ``sqlite/<key>-<N>.db`` (written as ``.part`` first, renamed when complete);
- ``postgresql/data``: a throwaway-style cluster (initdb with trust auth, 127.0.0.1, a free
  port, **fsync off**) kept between runs so its databases can be reused; it is started by
  :class:`PostgresCluster` for a run and stopped at the end. A database ``bench_<key>_<N>``
  is complete when ``postgresql/<name>.done`` exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("BENCH_VAR", str(ROOT / "var" / "bench")))
SEED = 1
SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"  # noqa: S105  (a throwaway server)
# What shapes the stored data: the schema, the generator (and the vocabularies and rating
# rules it uses) and the part of app/search that writes the index. Not the search service,
# the routes or the API: they change often and do not change what is stored.
HASHED = (
    "migrations",
    "app/generate.py",
    "app/vocabularies/builtin.py",
    "app/evidence/rating.py",
    "app/search/models.py",
    "app/search/documents.py",
    "app/search/index.py",
    "app/search/backends.py",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def parameters(size: int) -> list[str]:
    return [
        "--programmes",
        str(size),
        "--evaluations",
        str(3 * size),
        "--members",
        str(max(1, size // 5)),
        "--seed",
        str(SEED),
    ]


def source_hash() -> str:
    digest = hashlib.sha256()
    for name in HASHED:
        path = ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def dataset_key(size: int) -> str:
    digest = hashlib.sha256(source_hash().encode())
    digest.update(" ".join(parameters(size)).encode())
    return digest.hexdigest()[:12]


# BENCH_REUSE_STALE=1: when no data set matches the current key, reuse the newest complete
# one of the same size built from older sources (the report says so). For a tree under
# active development, where a 100k set takes 20 minutes or more to build.
REUSE_STALE = os.environ.get("BENCH_REUSE_STALE", "") not in ("", "0")
STALE_NOTES: list[str] = []


def _newest(paths: Iterable[Path]) -> Path | None:
    found = sorted(paths, key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def portal_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_ENVIRONMENT": "development",
        # As in the container image: two malloc arenas, not one per thread of the worker.
        "MALLOC_ARENA_MAX": "2",
    }


def _portal(args: Iterable[str], database_url: str, *, show: bool) -> None:
    command = [sys.executable, "-m", "app.cli", *args]
    print(f"  + portal {' '.join(args)}", flush=True)
    started = time.monotonic()
    subprocess.run(
        command,
        env=portal_env(database_url),
        cwd=ROOT,
        check=True,
        stdout=None if show else subprocess.DEVNULL,
    )
    print(f"    ({time.monotonic() - started:.0f} s)", flush=True)


def _fill(database_url: str, size: int, *, show: bool) -> None:
    _portal(["db", "upgrade"], database_url, show=show)
    _portal(["generate", *parameters(size)], database_url, show=show)


def sqlite_dataset(size: int, *, show: bool = True) -> str:
    """The URL of a complete SQLite data set of ``size`` programmes (built when missing)."""
    directory = VAR / "sqlite"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{dataset_key(size)}-{size}.db"
    if path.exists():
        print(f"SQLite {size:,}: reusing {path}", flush=True)
        return f"sqlite:///{path}"
    stale = _newest(directory.glob(f"*-{size}.db")) if REUSE_STALE else None
    if stale is not None:
        _reusing_stale("SQLite", size, stale.name)
        _analyzed(stale)
        return f"sqlite:///{stale}"
    part = path.with_suffix(".part")
    for stale in (part, Path(f"{part}-wal"), Path(f"{part}-shm")):
        stale.unlink(missing_ok=True)
    print(f"SQLite {size:,}: building {path}", flush=True)
    _fill(f"sqlite:///{part}", size, show=show)
    part.rename(path)
    return f"sqlite:///{path}"


def _reusing_stale(database: str, size: int, name: str) -> None:
    """Says (now and in the report) that a set built from older sources is measured."""
    note = (
        f"{database} {size:,}: reusing {name}, built from older sources "
        f"(current key {dataset_key(size)})"
    )
    print(note, flush=True)
    STALE_NOTES.append(note)


def _analyzed(path: Path) -> None:
    """Gives an older SQLite set the planner statistics ``portal generate`` now ends with."""
    with sqlite3.connect(path) as connection:
        if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return
        print(f"  ANALYZE {path.name} (built before the generator ran it)", flush=True)
        connection.execute("ANALYZE")


class PostgresCluster:
    """A PostgreSQL cluster under var/bench/postgresql, started for one run."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or VAR / "postgresql"
        self.data = self.directory / "data"
        self.port = 0
        self.bin = self._find_bin()
        self.started = False

    @staticmethod
    def _find_bin() -> Path:
        candidates = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
        )
        for candidate in reversed(candidates):
            if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
                return candidate
        found = shutil.which("initdb")
        if found:
            return Path(found).parent
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")

    def _run(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, cwd=self.directory, check=True, text=True, capture_output=capture
        )

    def version(self) -> str:
        return self._run("postgres", "--version", capture=True).stdout.strip()

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            for done in self.directory.glob("*.done"):
                done.unlink()
            print(f"PostgreSQL: initdb {self.data}", flush=True)
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                capture=True,
            )
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            if Path(f"/proc/{pid}").exists():
                raise RuntimeError(
                    f"the cluster in {self.data} is running (pid {pid}): another bench run "
                    "is using it"
                )
            try:  # left over by a run that was killed
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", capture=True)
            except subprocess.CalledProcessError:
                pid_file.unlink(missing_ok=True)
        self.port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c shared_buffers=256MB"
        )
        print(f"PostgreSQL: pg_ctl start (port {self.port}, fsync off)", flush=True)
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
            "-w",
            "start",
            capture=True,
        )
        self.started = True

    def stop(self) -> None:
        if self.started:
            print("PostgreSQL: pg_ctl stop", flush=True)
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", capture=True)
            self.started = False

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _psql(self, sql: str) -> None:
        self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-q",
            "-c",
            sql,
            capture=True,
        )

    def dataset(self, size: int, *, show: bool = True) -> str:
        """The URL of a complete PostgreSQL data set of ``size`` programmes."""
        name = f"bench_{dataset_key(size)}_{size}"
        done = self.directory / f"{name}.done"
        if done.exists():
            print(f"PostgreSQL {size:,}: reusing database {name}", flush=True)
            return self.url(name)
        stale = _newest(self.directory.glob(f"bench_*_{size}.done")) if REUSE_STALE else None
        if stale is not None:
            _reusing_stale("PostgreSQL", size, stale.stem)
            return self.url(stale.stem)
        print(f"PostgreSQL {size:,}: building database {name}", flush=True)
        self._psql(f"DROP DATABASE IF EXISTS {name}")
        self._psql(f"CREATE DATABASE {name}")
        _fill(self.url(name), size, show=show)
        self.vacuum(name)  # fresh statistics after the bulk inserts
        done.write_text("complete\n")
        return self.url(name)

    def vacuum(self, database: str) -> None:
        self._run(
            "vacuumdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "--analyze",
            database,
            capture=True,
        )


def main() -> None:
    """``python -m bench.data sqlite|postgresql SIZE...``: build data sets ahead of a run."""
    which = sys.argv[1]
    sizes = [int(size) for size in sys.argv[2:]]
    if which == "sqlite":
        for size in sizes:
            print(sqlite_dataset(size))
        return
    cluster = PostgresCluster()
    cluster.start()
    try:
        for size in sizes:
            print(cluster.dataset(size))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
