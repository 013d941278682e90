"""ASGI middleware of the web shell: security headers, the request's language, the body
size limit and how many requests a worker handles at once."""

from __future__ import annotations

import asyncio
import weakref

import anyio
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import SUPPORTED_LANGUAGES
from app.kit import i18n

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)


class SecurityHeadersMiddleware:
    """Adds the security headers every response carries; HSTS outside development."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
                )
                if self.hsts:
                    headers.setdefault(
                        "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LocaleMiddleware:
    """Chooses the request's language; ``?lang=`` is remembered in a cookie."""

    def __init__(self, app: ASGIApp, *, secure_cookie: bool) -> None:
        self.app = app
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        locale = i18n.negotiate_locale(request)
        i18n.set_locale(locale)
        scope.setdefault("state", {})["locale"] = locale
        requested = request.query_params.get("lang")
        remember = requested in SUPPORTED_LANGUAGES and requested != request.cookies.get(
            i18n.LANGUAGE_COOKIE
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if remember:
                    cookie = (
                        f"{i18n.LANGUAGE_COOKIE}={locale}; Path=/; Max-Age=31536000; "
                        "SameSite=Lax; HttpOnly"
                    )
                    headers.append(
                        "Set-Cookie", cookie + ("; Secure" if self.secure_cookie else "")
                    )
                headers.append("Vary", "Accept-Language, Cookie")
                headers.setdefault("Content-Language", locale)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class _BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` before they are read in full.

    A declared Content-Length over the limit is refused before any byte is read; a body
    sent without one (chunked) is refused as soon as the bytes received pass the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, on_too_large: ASGIApp) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.on_too_large = on_too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Request(scope).headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self.on_too_large(scope, receive, send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self.on_too_large(scope, receive, send)


class ConcurrencyLimitMiddleware:
    """At most ``limit`` requests inside the portal at once; the others wait, in order.

    Route handlers run in a thread pool and take a database connection from a pool of 15.
    Without a limit at the door, more requests than connections could each hold a
    connection while waiting for a thread (FastAPI validates a response model in the
    thread pool after the handler returned) while the threads wait for connections: every
    request would then wait for ever. A request waiting here holds nothing, so with
    ``limit`` below the pool's size that cannot happen; and a few requests at a time
    finish sooner than many sharing one interpreter lock. Static files are not counted.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        # One semaphore per event loop (tests run the same app in several loops).
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.Semaphore]
        self._semaphores = weakref.WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith("/static/"):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = anyio.Semaphore(self.limit)
        async with semaphore:
            await self.app(scope, receive, send)
