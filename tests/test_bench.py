"""The search benchmark's machinery, end to end on a tiny SQLite data set.

Builds a 400-programme data set (reused on the second call), then runs ``python -m bench
search`` against it with a handful of requests, and checks that every query answered with
results and that RESULTS.md holds the figures and a verdict per target. It asserts nothing
about the times: this machine is shared and noisy.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bench import data
from bench.server import create_bench_app, static_page

ROOT = Path(__file__).resolve().parent.parent
SIZE = 400  # 1,200 evaluations: page 50 of the evaluation browse exists


def test_static_page_has_the_asked_size() -> None:
    for size in (0, 100, 81_028):
        body = static_page(size).body
        assert len(body) == max(size, len(static_page(0).body))


def test_sized_bare_route(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    with TestClient(create_bench_app()) as client:
        response = client.get("/bench/static/5000")
        assert response.status_code == 200
        assert len(response.content) == 5000
        assert len(client.get("/bench/static").content) == 10_000


def test_dataset_key_depends_on_the_size() -> None:
    assert data.dataset_key(1000) != data.dataset_key(100_000)
    assert data.dataset_key(1000) == data.dataset_key(1000)


def test_search_bench_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(data, "VAR", tmp_path / "var")
    url = data.sqlite_dataset(SIZE, show=False)
    assert Path(url.removeprefix("sqlite:///")).exists()
    assert data.sqlite_dataset(SIZE, show=False) == url
    assert "reusing" in capsys.readouterr().out

    results = tmp_path / "RESULTS.md"
    env = {
        **os.environ,
        "BENCH_VAR": str(tmp_path / "var"),
        "BENCH_SIZES": str(SIZE),
        "BENCH_DATABASES": "sqlite",
        "BENCH_REQUESTS": "5",
        "BENCH_SECONDS": "0.4",
        "BENCH_CLIENTS": "4",
        "BENCH_WARMUP": "1",
        "BENCH_RESULTS": str(results),
    }
    env.pop("PORTAL_TEST_DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "search"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "reusing" in finished.stdout  # the set built above, not a new one
    report = results.read_text()
    assert f"## sqlite, {SIZE} programmes" in report
    assert "| target | figure | result |" in report
    assert "worker memory < 300 MB" in report
    for surface in ("html", "api"):
        for name in ("text", "facets", "browse p1", "browse p50"):
            row = next(
                line for line in report.splitlines() if line.startswith(f"| {surface} {name} |")
            )
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            # bytes, total, then figures: every query answered with results and was timed.
            assert re.fullmatch(r"[\d,]+", cells[1]), row
            assert re.fullmatch(r"[\d.]+", cells[3]), row
            assert cells[8] == "0", row  # no errors with concurrent clients
