"""At most ``request_concurrency`` requests inside a worker at once (ConcurrencyLimitMiddleware)."""

from __future__ import annotations

import asyncio

import anyio
import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.kit.middleware import ConcurrencyLimitMiddleware
from app.main import create_app


def test_requests_beyond_the_limit_wait_their_turn_and_static_files_do_not() -> None:
    inside = 0
    most = 0

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.02)
        inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limited = ConcurrencyLimitMiddleware(slow_app, limit=3)

    async def run(path: str, count: int) -> list[int]:
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(*(client.get(path) for _ in range(count)))
        return [response.status_code for response in responses]

    assert asyncio.run(run("/search", 12)) == [200] * 12
    assert most == 3
    most = 0
    assert asyncio.run(run("/static/app.css", 12)) == [200] * 12
    assert most == 12


def test_many_api_requests_with_few_threads_never_wait_for_each_other(
    settings: Settings, engine: Engine
) -> None:
    """More requests than database connections, and fewer threads than requests.

    Without the limit at the door, requests that finished their handler hold a connection
    while they wait for a thread (FastAPI validates the response model there) and the
    threads wait for connections: every request would wait until the pool gives up.
    """
    app: FastAPI = create_app(settings.model_copy(update={"request_concurrency": 4}))

    async def run() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 4
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.wait_for(
                asyncio.gather(*(client.get("/api/v1/search?q=help") for _ in range(40))),
                timeout=25,
            )
        return [response.status_code for response in responses]

    try:
        assert asyncio.run(run()) == [200] * 40
    finally:
        app.state.engine.dispose()
