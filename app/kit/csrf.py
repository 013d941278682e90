"""CSRF protection for every unsafe request authenticated by the session cookie.

The token lives in the signed session. Forms send it as the ``csrf_token`` field; htmx sends
it as the ``X-CSRF-Token`` header, configured once in the layout. API requests without a
session cookie (a Bearer token, or an anonymous call) are exempt: they carry no ambient
authority a forged request could borrow.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Authorised by a signed token in the path, not by the session: the one-click unsubscribe
# of RFC 8058, which mail providers POST without cookies.
TOKEN_AUTHORISED_PREFIXES = ("/search/alerts/unsubscribe/",)
SESSION_COOKIE = "portal_session"
# Forms larger than this are refused before their token is even looked at.
MAX_FORM_BYTES = 64 * 1024 * 1024


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def _tokens_match(expected: object, given: str | None) -> bool:
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


async def _form_token(scope: Scope, body: bytes) -> str | None:
    content_type = Headers(scope=scope).get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FORM_FIELD)
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        replay = _replaying_receive(body)
        form = await Request(scope, replay).form()
        value = form.get(FORM_FIELD)
        await form.close()
        return value if isinstance(value, str) else None
    return None


def _replaying_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class CSRFMiddleware:
    """Refuses unsafe cookie-authenticated requests whose token does not match the session."""

    def __init__(self, app: ASGIApp, on_failure: ASGIApp) -> None:
        self.app = app
        self.on_failure = on_failure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"].startswith(TOKEN_AUTHORISED_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request = Request(scope)
        has_session_cookie = SESSION_COOKIE in request.cookies
        # Without a session cookie a request carries no ambient authority to abuse: API
        # clients with a Bearer token, and anonymous API calls such as applying to join.
        if not has_session_cookie and (
            headers.get("authorization", "").lower().startswith("bearer ")
            or scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get(SESSION_KEY)
        given = headers.get(HEADER)
        if given is not None:
            if _tokens_match(expected, given):
                await self.app(scope, receive, send)
                return
            await self.on_failure(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None or not _tokens_match(expected, await _form_token(scope, body)):
            await self.on_failure(scope, _replaying_receive(body or b""), send)
            return
        await self.app(scope, _replaying_receive(body), send)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
