"""The application factory: ``uvicorn app.main:create_app --factory``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import psycopg
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from app.applications import api as applications_api
from app.applications import routes as applications_routes
from app.audit import routes as audit_routes
from app.auth import account_routes, oidc, rate_limit, token_routes
from app.auth import routes as auth_routes
from app.auth.deps import MembershipLapsed, SignInRequired, TwoFactorSetupRequired
from app.config import PROJECT_ROOT, Settings, get_settings
from app.db import build_engine, make_session_factory
from app.directory import routes as directory_routes
from app.evidence import api as evidence_api
from app.evidence import export_routes as evidence_export_routes
from app.evidence import rating_routes as evidence_rating_routes
from app.evidence import routes as evidence_routes
from app.health import routes as health_routes
from app.kit import background
from app.kit.csrf import SESSION_COOKIE, CSRFMiddleware
from app.kit.errors import CSRFError, PortalError
from app.kit.i18n import N_, _, format_number
from app.kit.middleware import (
    BodySizeLimitMiddleware,
    ConcurrencyLimitMiddleware,
    LocaleMiddleware,
    SecurityHeadersMiddleware,
)
from app.members import account_routes as membership_routes
from app.members import api as members_api
from app.members import lifecycle, profile_routes
from app.members import routes as members_routes
from app.organisations import api as organisations_api
from app.organisations import routes as organisations_routes
from app.outbox import service as outbox_service
from app.pages import routes as pages_routes
from app.programmes import api as programmes_api
from app.programmes import edit_routes as programmes_edit_routes
from app.programmes import report_routes as programmes_report_routes
from app.programmes import routes as programmes_routes
from app.search import alerts as search_alerts
from app.search import api as search_api
from app.search import engine as search_engine
from app.search import export_routes as search_export_routes
from app.search import routes as search_routes
from app.search import saved_routes as search_saved_routes
from app.vocabularies import api as vocabularies_api
from app.vocabularies import routes as vocabularies_routes
from app.web import redirect, render, wants_fragment

logger = logging.getLogger("portal")

HTTP_TITLES = {
    400: N_("The request could not be understood"),
    401: N_("Please sign in"),
    403: N_("You do not have permission to do this"),
    404: N_("Page not found"),
    405: N_("This action is not allowed here"),
    413: N_("The upload is too large"),
    422: N_("Some of the input is not valid"),
    428: N_("Send the revision you edited"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
    503: N_("The portal is temporarily unavailable"),
}
HTTP_MESSAGES = {
    404: N_(
        "The page you asked for does not exist or has moved. Check the address, or start "
        "again from the home page."
    ),
    500: N_(
        "The error has been logged and nothing you sent was half-saved. Please try again "
        "in a moment."
    ),
}


def error_response(request: Request, status_code: int, detail: str | None = None) -> Response:
    """An error as a JSON problem under /api/, an htmx fragment, or a full page."""
    title = _(HTTP_TITLES.get(status_code, "The request could not be completed"))
    message = detail or (_(HTTP_MESSAGES[status_code]) if status_code in HTTP_MESSAGES else "")
    if request.url.path.startswith("/api/"):
        body = {"type": "about:blank", "title": title, "status": status_code}
        if message:
            body["detail"] = message
        return JSONResponse(body, status_code=status_code, media_type="application/problem+json")
    context = {"status_code": status_code, "title": title, "message": message}
    block = "content" if wants_fragment(request) else None
    return render(request, "errors/error.html", context, block=block, status_code=status_code)


async def _http_exception(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # registered for this type only
        raise exc
    detail = exc.detail if exc.status_code != 404 and isinstance(exc.detail, str) else None
    if detail in HTTP_TITLES.values() or detail == "Not Found":
        detail = None
    response = error_response(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _portal_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, PortalError):  # registered for this type only
        raise exc
    if not request.url.path.startswith("/api/"):
        target = _redirect_for(request, exc)
        if target is not None:
            return redirect(target)
    response = error_response(request, exc.status_code, _(exc.message))
    field_errors = getattr(exc, "errors", None)
    if request.url.path.startswith("/api/") and isinstance(field_errors, dict):
        # The same shape as request validation errors: one entry per field.
        body = json.loads(bytes(response.body))
        body["errors"] = [
            {"loc": ["body", *_error_location(name)], "msg": message, "type": "value_error"}
            for name, message in field_errors.items()
        ]
        response = JSONResponse(
            body, status_code=exc.status_code, media_type="application/problem+json"
        )
    if isinstance(exc, SignInRequired):
        response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
    return response


def _error_location(name: str) -> list[str | int]:
    """A field's place in the body: ``outcomes.0.ci_low`` -> ``["outcomes", 0, "ci_low"]``."""
    return [int(part) if part.isdigit() else part for part in name.split(".")]


def _redirect_for(request: Request, exc: PortalError) -> str | None:
    """Pages send people where they can fix the problem instead of showing an error."""
    if isinstance(exc, SignInRequired):
        return "/sign-in?" + urlencode({"next": request.url.path})
    if isinstance(exc, MembershipLapsed):
        return "/account/membership"
    if isinstance(exc, TwoFactorSetupRequired):
        return "/account/security/two-factor"
    return None


async def _validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # registered for this type only
        raise exc
    if request.url.path.startswith("/api/"):
        body = {
            "type": "about:blank",
            "title": _(HTTP_TITLES[422]),
            "status": 422,
            "errors": [
                {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
                for error in exc.errors()
            ],
        }
        return JSONResponse(body, status_code=422, media_type="application/problem+json")
    return error_response(request, 422)


def _is_number_out_of_range(exc: Exception) -> bool:
    """SQLite refuses to bind such a number; PostgreSQL answers numeric_value_out_of_range."""
    if isinstance(exc, OverflowError):
        return True
    return isinstance(exc, DataError) and isinstance(
        exc.orig, psycopg.errors.NumericValueOutOfRange
    )


async def _number_out_of_range(request: Request, exc: Exception) -> Response:
    """An id beyond what the database stores: nothing has it."""
    if not _is_number_out_of_range(exc):
        return await _server_error(request, exc)
    # Logged, so an overflow with another cause does not pass unnoticed as a 404.
    logger.warning("Number out of range on %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 404)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500)


# Room for the other fields of a form that carries the largest allowed file.
FORM_OVERHEAD_BYTES = 1024 * 1024


async def _body_too_large(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    limit = scope["app"].state.settings.max_upload_bytes
    message = _(
        "What you sent is larger than the limit of %(size)s MB. Please send a smaller file; "
        "nothing was saved.",
        size=format_number(limit / (1024 * 1024)),
    )
    response = error_response(request, 413, message)
    await response(scope, receive, send)


async def _csrf_failure(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    error = CSRFError()
    message = _(
        "The form had expired or came from another site. Reload the page and try again; "
        "nothing was changed."
    )
    response = error_response(request, error.status_code, message)
    await response(scope, receive, send)


# A request is matched against the routes in this order, one after the other (some 170):
# the most requested come first. No two routers share a path, so the order changes nothing
# else.
ROUTERS = [
    module.router
    for module in (
        health_routes,
        search_export_routes,
        search_routes,
        search_saved_routes,
        search_api,
        pages_routes,
        auth_routes,
        account_routes,
        oidc,
        token_routes,
        applications_routes,
        members_routes,
        membership_routes,
        profile_routes,
        directory_routes,
        audit_routes,
        organisations_routes,
        vocabularies_routes,
        programmes_edit_routes,
        programmes_routes,
        programmes_report_routes,
        evidence_export_routes,
        evidence_rating_routes,
        evidence_routes,
        applications_api,
        members_api,
        organisations_api,
        vocabularies_api,
        programmes_api,
        evidence_api,
    )
]


def daily_housekeeping(factory: sessionmaker[Session]) -> None:
    """Lapse memberships and send reminders; forget old sign-in attempts."""
    lifecycle.run_sweep(factory)
    with factory() as session, session.begin():
        rate_limit.prune(session)


def background_jobs(app: FastAPI) -> list[background.Job]:
    """The jobs each web process runs: sending queued e-mail, daily membership sweep."""
    settings: Settings = app.state.settings
    factory = app.state.session_factory
    jobs = []
    if settings.outbox_interval_seconds > 0:
        jobs.append(
            background.Job(
                "outbox",
                settings.outbox_interval_seconds,
                lambda: outbox_service.deliver_due(factory, settings),
            )
        )
    # Once a day per process; the sweep is idempotent, so several processes do no harm.
    jobs.append(background.Job("memberships", 24 * 3600, lambda: daily_housekeeping(factory)))
    jobs.append(
        background.Job("search_alerts", 24 * 3600, lambda: search_alerts.run_daily(factory))
    )
    # The search facets load at start, then follow the database every few seconds.
    jobs.append(background.Job("search", 5, lambda: search_engine.keep_fresh(factory)))
    return jobs


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the portal's ASGI application."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = background.start(background_jobs(app)) if settings.run_background_jobs else []
        yield
        await background.stop(tasks)
        app.state.engine.dispose()

    app = FastAPI(
        title="Prevention network portal",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = build_engine(settings.database_url)
    app.state.session_factory = make_session_factory(app.state.engine)

    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(PortalError, _portal_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OverflowError, _number_out_of_range)
    app.add_exception_handler(DataError, _number_out_of_range)
    app.add_exception_handler(Exception, _server_error)

    # Added innermost first: the CSRF check needs the session, which needs nothing else.
    app.add_middleware(CSRFMiddleware, on_failure=_csrf_failure)
    # Outside the CSRF check, which reads form bodies: nothing reads a body over the limit.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
        on_too_large=_body_too_large,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        https_only=not settings.is_development,
        max_age=14 * 24 * 3600,
    )
    app.add_middleware(LocaleMiddleware, secure_cookie=not settings.is_development)
    app.add_middleware(SecurityHeadersMiddleware, hsts=not settings.is_development)
    # Outermost: a request waiting for its turn holds no session, connection nor thread.
    app.add_middleware(ConcurrencyLimitMiddleware, limit=settings.request_concurrency)

    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)

    return app
