"""``python -m bench web``: latency of the portal's pages against a bare route of the same size.

Starts uvicorn on loopback with a fresh SQLite database and the demo data, measures each
route with one client in sequence (p50, p95) and prints each page's p50 as a ratio to the
bare route. Figures, not assertions: this machine is shared and noisy.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import data, search

ROUTES = ["/healthz", "/", "/about", "/sign-in", "/no-such-page"]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    url = f"sqlite:///{directory / 'bench.db'}"
    for args in (["db", "upgrade"], ["demo-data"]):
        subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=data.portal_env(url),
            cwd=data.ROOT,
            check=True,
            capture_output=True,
        )
    with search.Server(url) as server, httpx.Client(base_url=server.base, timeout=10) as client:
        home_bytes = len(client.get("/").content)
        # The bare route, with a body of the home page's size.
        bare = f"/bench/static/{home_bytes}"
        results = _measure(client, [bare, *ROUTES])
    _report(results, bare, home_bytes)


def _measure(client: httpx.Client, routes: list[str]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for route in routes:
        for _ in range(20):
            client.get(route)
        samples = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(route)
            samples.append((time.perf_counter() - started) * 1000)
        timings[route] = samples
    return timings


def _report(results: dict[str, list[float]], bare_route: str, home_bytes: int) -> None:
    bare = statistics.median(results[bare_route])
    lines = [
        f"Portal web shell, one client in sequence, {REQUESTS} requests per route",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"bare route body: {home_bytes} bytes (the size of the home page)",
        "",
        f"{'route':<22}{'p50 ms':>9}{'p95 ms':>9}{'p50 / bare':>12}",
    ]
    for route, samples in results.items():
        p50 = statistics.median(samples)
        p95 = search.percentile(samples, 0.95)
        lines.append(f"{route:<22}{p50:>9.2f}{p95:>9.2f}{p50 / bare:>12.2f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
