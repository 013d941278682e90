"""Jobs that run inside the web process: the outbox worker and the daily sweeps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

logger = logging.getLogger("portal.background")


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[], object]


async def _loop(job: Job) -> None:
    while True:
        try:
            await run_in_threadpool(job.run)
        except Exception:
            logger.exception("Background job %s failed; it runs again later", job.name)
        await asyncio.sleep(job.interval_seconds)


def start(jobs: list[Job]) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(_loop(job), name=job.name) for job in jobs]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
