"""``python -m bench.profile DATABASE_URL PATH [REQUESTS] [SORT] [LINES]``: a page's costs.

Runs the bench app in this process with FastAPI's thread pool replaced by a direct call, so
cProfile sees the route's own work (it only profiles the calling thread), sends PATH
REQUESTS times (default 20, after 5 to warm up) through an in-process ASGI transport and
prints the profile sorted by SORT (default ``cumulative``). No HTTP server, no sockets:
the figures are the application's CPU cost, inflated by the profiler's own overhead.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
import httpx

from bench import data


async def _inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


async def _profile(path: str, requests: int, sort: str, lines: int) -> None:
    from bench.server import create_bench_app

    app = create_bench_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for _ in range(5):
            response = await client.get(path)
        profiler = cProfile.Profile()
        cpu = time.process_time()
        profiler.enable()
        for _ in range(requests):
            response = await client.get(path)
        profiler.disable()
        cpu_ms = (time.process_time() - cpu) * 1000 / requests
        print(
            f"{path}: status {response.status_code}, {len(response.content):,} bytes, "
            f"{cpu_ms:.1f} ms CPU per request under the profiler"
        )
        pstats.Stats(profiler).sort_stats(sort).print_stats(lines)


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    os.environ.update(
        {"PORTAL_DATABASE_URL": argv[0], "PORTAL_SECRET_KEY": data.SECRET},
    )
    # Run sync routes and dependencies in this thread, so the profiler sees them.
    for module in (fastapi.routing, fastapi.dependencies.utils):
        setattr(module, "run_in_threadpool", _inline)  # noqa: B010
    requests = int(argv[2]) if len(argv) > 2 else 20
    sort = argv[3] if len(argv) > 3 else "cumulative"
    lines = int(argv[4]) if len(argv) > 4 else 60
    asyncio.run(_profile(argv[1], requests, sort, lines))


if __name__ == "__main__":
    main(sys.argv[1:])
