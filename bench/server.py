"""The portal plus bare routes, so a benchmark can compare against the framework alone."""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.responses import HTMLResponse

from app.main import create_app

# The largest body /bench/static/{size} serves (a search page is well under this).
MAX_STATIC_BYTES = 4_000_000
SHELL = "<!doctype html><html lang=en><title>b</title><p></p></html>"


def static_page(size: int) -> HTMLResponse:
    """A fixed HTML response whose body is exactly ``size`` bytes (at least the shell)."""
    filler = "x" * max(0, size - len(SHELL))
    return HTMLResponse(f"<!doctype html><html lang=en><title>b</title><p>{filler}</p></html>")


def create_bench_app() -> FastAPI:
    """The portal with ``/bench/static`` (a fixed HTML body of ``BENCH_STATIC_BYTES``) and
    ``/bench/static/{size}`` (a fixed HTML body of ``size`` bytes, built once per size)."""
    app = create_app()
    page = static_page(int(os.environ.get("BENCH_STATIC_BYTES", "10000")))
    sized: dict[int, HTMLResponse] = {}

    @app.get("/bench/static", include_in_schema=False)
    def bench_static() -> HTMLResponse:
        return page

    @app.get("/bench/static/{size:int}", include_in_schema=False)
    def bench_static_sized(size: int) -> HTMLResponse:
        size = max(0, min(size, MAX_STATIC_BYTES))
        if size not in sized:
            sized[size] = static_page(size)
        return sized[size]

    return app
