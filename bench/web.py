"""``python -m bench web``: latency of the portal's pages against a bare route of the same size.

Starts uvicorn on loopback with a fresh SQLite database and the demo data, measures each
route with one client in sequence (p50, p95) and prints each page's p50 as a ratio to the
bare route. Figures, not assertions: this machine is shared and noisy.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ROUTES = ["/bench/static", "/healthz", "/", "/about", "/sign-in", "/no-such-page"]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
        "PORTAL_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
    }
    for args in (["db", "upgrade"], ["demo-data"]):
        subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.server:create_bench_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    home = client.get("/")
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        env["BENCH_STATIC_BYTES"] = str(len(home.content))
        server.terminate()
        server.wait()
        # Restart with the bare route sized like the home page.
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.server:create_bench_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        results = _measure(base)
    finally:
        server.terminate()
        server.wait()
    _report(results, len(home.content))


def _measure(base: str) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=10) as client:
        deadline = time.monotonic() + 120
        while True:
            try:
                client.get("/healthz")
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for route in ROUTES:
            for _ in range(20):
                client.get(route)
            samples = []
            for _ in range(REQUESTS):
                started = time.perf_counter()
                client.get(route)
                samples.append((time.perf_counter() - started) * 1000)
            timings[route] = samples
    return timings


def _report(results: dict[str, list[float]], home_bytes: int) -> None:
    bare = statistics.median(results["/bench/static"])
    lines = [
        f"Portal web shell, one client in sequence, {REQUESTS} requests per route",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"bare route body: {home_bytes} bytes (the size of the home page)",
        "",
        f"{'route':<16}{'p50 ms':>9}{'p95 ms':>9}{'p50 / bare':>12}",
    ]
    for route, samples in results.items():
        p50 = statistics.median(samples)
        lines.append(f"{route:<16}{p50:>9.2f}{_percentile(samples, 0.95):>9.2f}{p50 / bare:>12.2f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
