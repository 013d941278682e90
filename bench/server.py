"""The portal plus one bare route, so a benchmark can compare against the framework alone."""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.responses import HTMLResponse

from app.main import create_app


def create_bench_app() -> FastAPI:
    """The portal with ``/bench/static``: a fixed HTML body as large as the home page."""
    app = create_app()
    body = "x" * int(os.environ.get("BENCH_STATIC_BYTES", "10000"))
    page = HTMLResponse(f"<!doctype html><html lang=en><title>b</title><p>{body}</p></html>")

    @app.get("/bench/static", include_in_schema=False)
    def bench_static() -> HTMLResponse:
        return page

    return app
