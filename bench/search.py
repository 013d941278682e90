"""``python -m bench search``: search latency over HTTP at 1,000 and 100,000 programmes.

For each database (SQLite, PostgreSQL) and size N, builds or reuses the data set
(bench/data.py: ``portal generate --programmes N --evaluations 3N --members N/5 --seed 1``),
starts one uvicorn worker (``BENCH_WORKERS``, default 1; ``bench.server:create_bench_app``),
warms it up, and measures the
fixed queries, each as the HTML page ``/search?...`` and as the API ``/api/v1/search?...``:

- one client in sequence: p50 and p95 (``BENCH_REQUESTS`` requests per query, default 200);
- 20 concurrent clients (``wrk`` with 20 connections, installed by ``make bench`` through
  scripts/install-wrk.sh; without it, or with ``BENCH_CLIENT=python``, an asyncio httpx
  client) for ``BENCH_SECONDS`` seconds per query (default 8): p50, p95,
  errors, requests per second, and that throughput as a ratio to the bare route
  ``/bench/static/{size}`` serving a static HTML body of the same size, measured right after;
- one client's p95 at the largest size divided by its p95 at the smallest, per query;
- the worker's resident memory (VmRSS, and the peak VmHWM) after the run.

Targets (issue 6): one client p95 < 50 ms at 100k; 20 clients p95 < 250 ms with zero errors;
growth 1k -> 100k at most 3x; memory < 300 MB. Prints PASS/FAIL per target and writes
``bench/RESULTS.md`` (or ``BENCH_RESULTS``); exits 0 either way: these are figures, not tests.

Environment: ``BENCH_SIZES`` (default ``1000,100000``), ``BENCH_DATABASES`` (default
``sqlite,postgresql``), ``BENCH_REQUESTS``, ``BENCH_SECONDS``, ``BENCH_CLIENTS`` (20),
``BENCH_WARMUP`` (requests per query before measuring, 5), ``BENCH_RESULTS`` (where to
write the Markdown report), ``BENCH_WORKERS`` (uvicorn workers, 1), ``BENCH_CLIENT``
(``wrk``, the default when installed, or ``python``).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import data

ROOT = data.ROOT
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,100000").split(",") if s.strip()]
DATABASES = [
    d.strip() for d in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",") if d
]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))  # requests per query before measuring
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(ROOT / "bench" / "RESULTS.md")))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
# The load generator of the concurrent clients: wrk (scripts/install-wrk.sh, run by `make
# bench`), else a Python client; BENCH_CLIENT=python chooses the latter.
WRK = shutil.which("wrk") if os.environ.get("BENCH_CLIENT", "wrk") == "wrk" else None

# name -> query string. Words from app/generate.py's phrase banks ("anonymous helpline",
# "school workshop"); codes from the built-in vocabularies. Page 50 browses evaluations:
# at 1,000 programmes the programme browse has only ~43 pages of 20 (page 50 would be empty
# and measure nothing), while 3,000 evaluations give ~150.
QUERIES: dict[str, str] = {
    "text": "q=helpline",
    "facets": "target_group=parents&country=DE",
    "text+3 facets": "q=school&target_group=children&country=FR&country=BE&language=fr",
    "browse p1": "",
    "browse p50": "type=evaluation&page=50",
}
SURFACES = {"html": "/search", "api": "/api/v1/search"}
RECORD_LINK = re.compile(r'href="/(?:programmes|evaluations)/[^"?#/]+"')

# Targets
SEQ_P95_MS = 50.0
CONC_P95_MS = 250.0
GROWTH = 3.0
MEMORY_MB = 300.0


@dataclass(frozen=True)
class Load:
    """What the concurrent clients measured on one path."""

    p50: float  # ms
    p95: float  # ms
    count: int
    errors: int
    rps: float


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Measure:
    """The figures of one query (one surface) on one database at one size."""

    path: str
    status: int = 0
    available: bool = True
    bytes: int = 0
    total: int | None = None  # the API's total, or the record links on the HTML page
    note: str = ""
    seq: list[float] = field(default_factory=list)
    cpu_ms: float = float("nan")  # the worker's CPU time per request, one client
    conc: Load | None = None  # 20 clients on this query
    bare: Load | None = None  # 20 clients on the bare route of the same size
    conc_cpu_ms: float = float("nan")  # the workers' CPU time per request, 20 clients
    bare_cpu_ms: float = float("nan")  # the same for the bare route of the same size

    @property
    def seq_p50(self) -> float:
        return statistics.median(self.seq) if self.seq else float("nan")

    @property
    def seq_p95(self) -> float:
        return percentile(self.seq, 0.95)

    @property
    def conc_p50(self) -> float:
        return self.conc.p50 if self.conc else float("nan")

    @property
    def conc_p95(self) -> float:
        return self.conc.p95 if self.conc else float("nan")

    @property
    def conc_errors(self) -> int:
        return self.conc.errors if self.conc else 0

    @property
    def conc_rps(self) -> float:
        return self.conc.rps if self.conc else float("nan")

    @property
    def bare_rps(self) -> float:
        return self.bare.rps if self.bare else float("nan")

    @property
    def ratio(self) -> float:
        return self.conc_rps / self.bare_rps if self.bare_rps else float("nan")


@dataclass
class Run:
    """One database at one size."""

    database: str
    size: int
    measures: dict[str, Measure] = field(default_factory=dict)  # "html text" -> Measure
    rss_mb: float = 0.0
    hwm_mb: float = 0.0
    rss_start_mb: float = 0.0
    warmup_s: float = 0.0
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, database_url: str) -> None:
        self.port = data.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = data.portal_env(database_url)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.server:create_bench_app",
                "--factory",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
                *(["--workers", str(WORKERS)] if WORKERS > 1 else []),
            ],
            env=self.env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while True:
                try:
                    client.get("/healthz")
                    return self
                except httpx.HTTPError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the bench server did not start") from None
                    time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def workers(self) -> list[int]:
        """The process ids of the workers: the server itself, or its children (--workers)."""
        if self.process is None:
            return []
        if WORKERS <= 1:
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()]
        return pids or [self.process.pid]

    def cpu_seconds(self) -> float:
        """The workers' user + system CPU time so far (all their threads)."""
        total = 0.0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        return total if self.process is not None else float("nan")

    def memory_mb(self, field_name: str = "VmRSS") -> float:
        """The largest ``field_name`` of one worker, in MB."""
        largest = float("nan")
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    value = int(line.split()[1]) / 1024
                    largest = value if largest != largest else max(largest, value)
        return largest


# ------------------------------------------------------------------------------------------
# Measuring


def _check(measure: Measure, response: httpx.Response, surface: str) -> None:
    measure.status = response.status_code
    measure.bytes = len(response.content)
    if response.status_code == 404 and surface == "api":
        measure.available = False
        measure.note = "no /api/v1/search route yet"
        return
    if response.status_code != 200:
        measure.available = False
        measure.note = f"status {response.status_code}"
        return
    if surface == "api":
        try:
            body = response.json()
        except ValueError:
            measure.available = False
            measure.note = "not JSON"
            return
        measure.total = int(body.get("total", 0))
        if not body.get("results"):
            measure.available = False
            measure.note = f"no results (total {measure.total})"
    else:
        measure.total = len(set(RECORD_LINK.findall(response.text)))
        if not measure.total:
            measure.available = False
            measure.note = "no links to records on the page"


def sequential(client: httpx.Client, path: str, count: int) -> tuple[list[float], int]:
    samples: list[float] = []
    errors = 0
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            errors += 1
    return samples, errors


async def _concurrent(base: str, path: str, seconds: float, clients: int) -> Load:
    samples: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        # One request per connection first, so the timed part has its connections open.
        await asyncio.gather(*(client.get(path) for _ in range(clients)))
        started = time.perf_counter()
        stop = started + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                begun = time.perf_counter()
                try:
                    response = await client.get(path)
                    await response.aread()
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                samples.append((time.perf_counter() - begun) * 1000)

        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Load(
        p50=statistics.median(samples) if samples else float("nan"),
        p95=percentile(samples, 0.95),
        count=len(samples),
        errors=errors,
        rps=len(samples) / elapsed,
    )


def _wrk(base: str, path: str, seconds: float, clients: int) -> Load:
    """``clients`` connections of wrk (one thread: it needs little CPU, the server the rest),
    each sending its next request when the last is answered."""
    finished = subprocess.run(
        [
            WRK or "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",  # whole seconds only
            "--timeout",
            "30s",
            "-s",
            str(ROOT / "bench" / "wrk_report.lua"),
            base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    line = [line for line in finished.stdout.splitlines() if line.startswith("{")][-1]
    figures = json.loads(line)
    return Load(
        p50=figures["p50_us"] / 1000,
        p95=figures["p95_us"] / 1000,
        count=figures["requests"],
        errors=figures["errors"],
        rps=figures["requests"] / (figures["duration_us"] / 1_000_000),
    )


def concurrent(base: str, path: str, seconds: float, clients: int) -> Load:
    if WRK:
        return _wrk(base, path, seconds, clients)
    return asyncio.run(_concurrent(base, path, seconds, clients))


def measure_run(database: str, size: int, url: str) -> Run:
    run = Run(database, size)
    began = time.monotonic()
    with Server(url) as server, httpx.Client(base_url=server.base, timeout=60) as client:
        run.rss_start_mb = server.memory_mb()
        warm = time.monotonic()
        for surface, route in SURFACES.items():
            for name, query in QUERIES.items():
                path = f"{route}?{query}" if query else route
                measure = Measure(path)
                _check(measure, client.get(path), surface)
                run.measures[f"{surface} {name}"] = measure
        for measure in run.measures.values():  # warm up: a few more of each
            if measure.available:
                for _ in range(WARMUP):
                    client.get(measure.path)
        run.warmup_s = time.monotonic() - warm
        print(f"  warm-up {run.warmup_s:.1f} s; results per query:", flush=True)
        for key, measure in run.measures.items():
            shown = measure.note or (
                f"total {measure.total:,}"
                if key.startswith("api")
                else f"{measure.total} record links"
            )
            print(f"    {key:<20} {measure.bytes:>8,} B  {shown}   {measure.path}", flush=True)

        for key, measure in run.measures.items():
            if not measure.available:
                continue
            cpu = server.cpu_seconds()
            measure.seq, _errors = sequential(client, measure.path, REQUESTS)
            measure.cpu_ms = (server.cpu_seconds() - cpu) * 1000 / REQUESTS
            print(
                f"  1 client   {key:<20} p50 {measure.seq_p50:7.1f} ms  p95 "
                f"{measure.seq_p95:7.1f} ms  worker CPU {measure.cpu_ms:6.1f} ms/request",
                flush=True,
            )
        for key, measure in run.measures.items():
            if not measure.available:
                continue
            cpu = server.cpu_seconds()
            measure.conc = concurrent(server.base, measure.path, SECONDS, CLIENTS)
            measure.conc_cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(1, measure.conc.count)
            cpu = server.cpu_seconds()
            measure.bare = concurrent(
                server.base, f"/bench/static/{measure.bytes}", SECONDS / 2, CLIENTS
            )
            measure.bare_cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(1, measure.bare.count)
            print(
                f"  {CLIENTS} clients {key:<20} p50 {measure.conc_p50:7.1f} ms  p95 "
                f"{measure.conc_p95:7.1f} ms  errors {measure.conc_errors}  "
                f"{measure.conc_rps:6.1f} req/s  bare {measure.bare_rps:6.1f} req/s  "
                f"ratio {measure.ratio:.2f}  worker CPU {measure.conc_cpu_ms:.1f} ms/request "
                f"(bare {measure.bare_cpu_ms:.1f})",
                flush=True,
            )
        run.rss_mb = server.memory_mb()
        run.hwm_mb = server.memory_mb("VmHWM")
        print(f"  worker memory: VmRSS {run.rss_mb:.0f} MB (peak {run.hwm_mb:.0f} MB)", flush=True)
    run.seconds = time.monotonic() - began
    return run


# ------------------------------------------------------------------------------------------
# Verdicts and the report


@dataclass
class Verdict:
    target: str
    figure: str
    passed: bool | None  # None: not measured


def verdicts(runs: list[Run]) -> list[Verdict]:
    out: list[Verdict] = []
    largest = max(SIZES)
    smallest = min(SIZES)
    for database in DATABASES:
        by_size = {run.size: run for run in runs if run.database == database}
        big = by_size.get(largest)
        if big is None:
            continue
        measured = [m for m in big.measures.values() if m.available and m.seq]
        missing = [k for k, m in big.measures.items() if not m.available]
        if measured:
            worst = max(big.measures.items(), key=lambda kv: kv[1].seq_p95 if kv[1].seq else -1)
            out.append(
                Verdict(
                    f"{database} {largest:,}: 1 client p95 < {SEQ_P95_MS:.0f} ms, every query",
                    f"worst {worst[1].seq_p95:.1f} ms ({worst[0]})",
                    all(m.seq_p95 < SEQ_P95_MS for m in measured),
                )
            )
            worst = max(big.measures.items(), key=lambda kv: kv[1].conc_p95 if kv[1].conc else -1.0)
            errors = sum(m.conc_errors for m in measured)
            out.append(
                Verdict(
                    f"{database} {largest:,}: {CLIENTS} clients p95 < {CONC_P95_MS:.0f} ms, "
                    "0 errors",
                    f"worst {worst[1].conc_p95:.1f} ms ({worst[0]}), {errors} errors",
                    all(m.conc_p95 < CONC_P95_MS for m in measured) and errors == 0,
                )
            )
        small = by_size.get(smallest)
        if small is not None and smallest != largest:
            growths = [
                (key, m.seq_p95 / small.measures[key].seq_p95)
                for key, m in big.measures.items()
                if m.seq and small.measures.get(key) and small.measures[key].seq
            ]
            if growths:
                worst_key, worst_growth = max(growths, key=lambda kv: kv[1])
                out.append(
                    Verdict(
                        f"{database}: p95 growth {smallest:,} -> {largest:,} <= {GROWTH:.0f}x",
                        f"worst {worst_growth:.2f}x ({worst_key})",
                        worst_growth <= GROWTH,
                    )
                )
        out.append(
            Verdict(
                f"{database} {largest:,}: worker memory < {MEMORY_MB:.0f} MB",
                f"VmRSS {big.rss_mb:.0f} MB (peak {big.hwm_mb:.0f} MB)",
                big.rss_mb < MEMORY_MB,
            )
        )
        if missing:
            out.append(
                Verdict(
                    f"{database} {largest:,}: every query measured",
                    "not measured: " + ", ".join(f"{k} ({big.measures[k].note})" for k in missing),
                    None,
                )
            )
    return out


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN -> "-"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


START_LOAD = load_average()


def machine() -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "unknown"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    system = platform.platform()
    os_release = Path("/etc/os-release")
    if os_release.exists():
        for line in os_release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"
    lines = [
        f"- CPU: {cpu}; `nproc`: {os.cpu_count()}, shared with other work: load average "
        f"(1, 5, 15 min) {START_LOAD} at the start of the run, {load_average()} at the end. "
        "Wall-clock times include waiting for a core; the worker's CPU time per request "
        "(from /proc/<pid>/stat) does not, and is the steadier figure on a busy machine.",
        f"- memory: {memory}",
        f"- OS: {system}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
    ]
    if "postgresql" in DATABASES:
        try:
            lines.append(f"- {data.PostgresCluster().version()}")
        except (RuntimeError, subprocess.CalledProcessError) as error:
            lines.append(f"- PostgreSQL: {error}")
    return lines


def command() -> str:
    env = [
        f"{name}={shlex.quote(os.environ[name])}"
        for name in (
            "BENCH_SIZES",
            "BENCH_DATABASES",
            "BENCH_REQUESTS",
            "BENCH_SECONDS",
            "BENCH_CLIENTS",
            "BENCH_REUSE_STALE",
            "BENCH_WORKERS",
            "BENCH_CLIENT",
        )
        if name in os.environ
    ]
    return " ".join([*env, "make bench"])


def report(runs: list[Run], started: datetime, results: list[Verdict]) -> str:
    largest, smallest = max(SIZES), min(SIZES)
    out = [
        "# Search benchmark results",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `{command()}` "
        "(the search part alone: `.venv/bin/python -m bench search`).",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Set-up",
        "",
        "- Data: `portal db upgrade` + `portal generate --programmes N --evaluations 3N "
        "--members N/5 --seed 1` per database and size (bench/data.py; reused from "
        "var/bench/ while the generator, the migrations and app/search are unchanged).",
        *[f"- **{note}** (BENCH_REUSE_STALE=1)" for note in data.STALE_NOTES],
        "- PostgreSQL: a cluster of its own under var/bench/postgresql, 127.0.0.1, a free "
        "port, **fsync=off, synchronous_commit=off, full_page_writes=off** (durability off: "
        "fine for a read benchmark, never for production), shared_buffers=256MB, "
        "`vacuumdb --analyze` after generating; started for the run and stopped at the end.",
        f"- Server: {WORKERS} uvicorn worker{'s' if WORKERS > 1 else ''}, "
        "`bench.server:create_bench_app` (the portal plus bare routes), access log off, "
        "`MALLOC_ARENA_MAX=2` (as in the container image), the portal's default "
        "`PORTAL_REQUEST_CONCURRENCY` (requests handled at once per worker), on the same "
        f"{os.cpu_count()} cores as the client."
        + (
            " CPU per request: the workers' sum; memory: the largest worker." if WORKERS > 1 else ""
        ),
        "- Viewer: anonymous (public records only).",
        f"- One client: {REQUESTS} requests per query in sequence after a warm-up "
        "(httpx, keep-alive).",
        (
            f"- {CLIENTS} clients: `wrk -t1 -c{CLIENTS}` ({WRK}; scripts/install-wrk.sh), each "
            f"connection sending its next request when the last one is answered, for "
            f"{max(1, round(SECONDS))} s per query; then the bare route `/bench/static/<bytes>` "
            "(a static HTML body of the same size as that query's response) for "
            f"{max(1, round(SECONDS / 2))} s in the same run. p50/p95 from wrk's latency "
            "histogram (bench/wrk_report.lua); errors: failed connections, reads, writes, "
            "timeouts (30 s) and statuses other than 2xx/3xx."
            if WRK
            else f"- {CLIENTS} clients: wrk is not installed, so an asyncio httpx client "
            f"with {CLIENTS} connections, each sending its next request when the last one is "
            f"answered, for {SECONDS:g} s per query; then the bare route `/bench/static/<bytes>` "
            f"(a static HTML body of the same size as that query's response) for "
            f"{SECONDS / 2:g} s in the same run. The client is Python and shares the cores "
            "with the server: the bare route's throughput is partly limited by the client, so "
            "the ratios flatter the portal somewhat."
        ),
        "- Memory: the worker's VmRSS from /proc/<pid>/status after all its measurements "
        "(VmHWM = its peak).",
        "",
        "## Queries",
        "",
        "| name | query string | notes |",
        "| --- | --- | --- |",
    ]
    notes = {
        "browse p1": "first page of the programme browse (sorted by evidence rating)",
        "browse p50": "page 50 of the evaluation browse (page 50 of programmes is past the "
        "last page at 1,000)",
    }
    for name, query in QUERIES.items():
        out.append(f"| {name} | `{query or '(none)'}` | {notes.get(name, '')} |")
    out += ["", "Each is measured as the HTML page `/search?…` and the API `/api/v1/search?…`.", ""]

    out += [
        "## Verdict",
        "",
        "Where the time goes, and what would meet the targets: bench/ANALYSIS.md (written by "
        "hand from a run's figures and profiles; `python -m bench.profile URL PATH` profiles "
        "one page in-process).",
        "",
        "| target | figure | result |",
        "| --- | --- | --- |",
    ]
    for verdict in results:
        state = {True: "PASS", False: "**FAIL**", None: "not measured"}[verdict.passed]
        out.append(f"| {verdict.target} | {verdict.figure} | {state} |")

    for run in runs:
        out += [
            "",
            f"## {run.database}, {run.size:,} programmes",
            "",
            f"Worker memory after the run: VmRSS {run.rss_mb:.0f} MB (peak {run.hwm_mb:.0f} MB; "
            f"{run.rss_start_mb:.0f} MB before the first search). Warm-up {run.warmup_s:.1f} s.",
            "",
            "| query | bytes | total | 1 client p50 ms | p95 ms | CPU ms/req | "
            f"{CLIENTS} clients p50 ms | p95 ms | errors | req/s | bare req/s | ratio | "
            "CPU ms/req | bare CPU ms/req |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
            "---: | ---: |",
        ]
        for key, m in run.measures.items():
            if not m.available:
                out.append(f"| {key} | {m.bytes:,} | {m.note} | | | | | | | | | | | |")
                continue
            total = f"{m.total:,}" if key.startswith("api") else f"{m.total} on page"
            out.append(
                f"| {key} | {m.bytes:,} | {total} | {_fmt(m.seq_p50)} | {_fmt(m.seq_p95)} | "
                f"{_fmt(m.cpu_ms)} | "
                f"{_fmt(m.conc_p50)} | {_fmt(m.conc_p95)} | {m.conc_errors} | "
                f"{_fmt(m.conc_rps)} | {_fmt(m.bare_rps)} | {_fmt(m.ratio, 2)} | "
                f"{_fmt(m.conc_cpu_ms)} | {_fmt(m.bare_cpu_ms, 2)} |"
            )

    if smallest != largest:
        out += [
            "",
            f"## Growth: one client's p95 at {largest:,} / at {smallest:,}",
            "",
            "| query | " + " | ".join(DATABASES) + " |",
            "| --- |" + " ---: |" * len(DATABASES),
        ]
        keys = [f"{s} {q}" for s in SURFACES for q in QUERIES]
        for key in keys:
            cells = []
            for database in DATABASES:
                by_size = {r.size: r for r in runs if r.database == database}
                big, small = by_size.get(largest), by_size.get(smallest)
                if big and small and big.measures[key].seq and small.measures[key].seq:
                    cells.append(f"{big.measures[key].seq_p95 / small.measures[key].seq_p95:.2f}x")
                else:
                    cells.append("-")
            out.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def print_verdicts(results: list[Verdict]) -> None:
    print()
    print(f"{'target':<64} {'figure':<52} result")
    for verdict in results:
        state = {True: "PASS", False: "FAIL", None: "NOT MEASURED"}[verdict.passed]
        print(f"{verdict.target:<64} {verdict.figure:<52} {state}")


def main() -> None:
    started = datetime.now(UTC)
    print(
        f"Search benchmark: sizes {SIZES}, databases {DATABASES}, {REQUESTS} sequential "
        f"requests and {SECONDS:g} s with {CLIENTS} clients per query",
        flush=True,
    )
    runs: list[Run] = []
    cluster = data.PostgresCluster() if "postgresql" in DATABASES else None
    try:
        if cluster is not None:
            cluster.start()
        for database in DATABASES:
            for size in SIZES:
                if database == "sqlite":
                    url = data.sqlite_dataset(size)
                elif cluster is not None:
                    url = cluster.dataset(size)
                else:
                    continue
                print(f"== {database}, {size:,} programmes", flush=True)
                runs.append(measure_run(database, size, url))
    finally:
        if cluster is not None:
            cluster.stop()
    results = verdicts(runs)
    print_verdicts(results)
    RESULTS.write_text(report(runs, started, results))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
