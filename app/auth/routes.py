"""Signing in (password, then the second factor), signing out, and resetting a password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import Response

from app.auth import account_tokens, sessions
from app.auth import service as auth_service
from app.auth.deps import SESSION_TOKEN_KEY, DbSession, load_viewer
from app.auth.passwords import MIN_PASSWORD_LENGTH
from app.auth.service import FormError
from app.config import get_settings
from app.kit.i18n import _
from app.web import flash, pop_notice, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])


def _sign_in_page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    context.setdefault("errors", {})
    context.setdefault("notice", pop_notice(request))
    return render(request, "auth/sign_in.html", context, status_code=status_code)


@router.get("/sign-in", name="sign_in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return _sign_in_page(request, {"next": auth_service.safe_next(next)})


@router.post("/sign-in")
def sign_in(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the credentials; on failure the form comes back with the e-mail kept."""
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = _("Enter your e-mail address.")
    if not password:
        errors["password"] = _("Enter your password.")
    status_code = 422
    retry_after: int | None = None
    if not errors:
        try:
            member = auth_service.sign_in_with_password(
                session,
                email=email,
                password=password,
                ip_address=auth_service.client_address(request),
            )
        except FormError as error:
            errors[error.field] = error.message
            status_code = error.status_code
            retry_after = error.retry_after
        else:
            return auth_service.complete_sign_in(request, session, member, next)
    context = {"next": auth_service.safe_next(next), "email": email, "errors": errors}
    response = _sign_in_page(request, context, status_code=status_code)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/sign-in/two-factor", name="sign_in_two_factor")
def two_factor_page(request: Request, session: DbSession) -> Response:
    """The second step of signing in: a code from the app or a recovery code."""
    if auth_service.pending_sign_in(request, session) is None:
        flash(request, auth_service.NOTICES["sign_in_expired"])
        return redirect("/sign-in")
    return render(request, "auth/two_factor.html", {"errors": {}})


@router.post("/sign-in/two-factor")
def two_factor(request: Request, session: DbSession, code: Annotated[str, Form()] = "") -> Response:
    """Finish signing in with the second factor."""
    try:
        return auth_service.sign_in_second_factor(request, session, code)
    except FormError as error:
        response = render(
            request,
            "auth/two_factor.html",
            {"errors": {error.field: error.message}},
            status_code=error.status_code,
        )
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response


@router.post("/sign-out", name="sign_out")
def sign_out(request: Request, session: DbSession) -> Response:
    """End this browser's session."""
    token = request.session.get(SESSION_TOKEN_KEY)
    if isinstance(token, str):
        sessions.end(session, token)
    request.session.clear()
    return redirect("/")


# Password reset


@router.get("/password-reset", name="password_reset")
def password_reset_page(request: Request, email: str = "") -> Response:
    """Ask for the e-mail address to send a reset link to."""
    return render(request, "auth/password_reset_request.html", {"email": email[:320], "errors": {}})


@router.post("/password-reset")
def password_reset_request(
    request: Request, session: DbSession, email: Annotated[str, Form()] = ""
) -> Response:
    """Send a link when the account exists; the answer is the same either way."""
    if not email.strip():
        context = {"email": email, "errors": {"email": _("Enter your e-mail address.")}}
        return render(request, "auth/password_reset_request.html", context, status_code=422)
    auth_service.request_password_reset(session, email)
    return redirect("/password-reset/sent")


@router.get("/password-reset/sent", name="password_reset_sent")
def password_reset_sent(request: Request) -> Response:
    """What happens next, the same whether the account exists or not."""
    hours = get_settings().password_reset_hours
    return render(request, "auth/password_reset_sent.html", {"hours": hours})


def _link_problem(request: Request, error: account_tokens.InvalidLink) -> Response:
    context = {"title": _(error.message), "reason": type(error).__name__}
    return render(request, "auth/link_problem.html", context, status_code=error.status_code)


@router.get("/password-reset/{secret}", name="password_reset_form")
def password_reset_form(request: Request, session: DbSession, secret: str) -> Response:
    """The form for a new password, when the link is still valid."""
    try:
        member = auth_service.check_link(session, secret, "reset_password")
    except account_tokens.InvalidLink as error:
        return _link_problem(request, error)
    context = {"email": member.email, "errors": {}, "min_length": MIN_PASSWORD_LENGTH}
    return render(request, "auth/password_reset.html", context)


@router.post("/password-reset/{secret}")
def password_reset(
    request: Request,
    session: DbSession,
    secret: str,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Set the new password; every session ends and the member signs in again."""
    try:
        auth_service.reset_password(session, secret, password)
    except account_tokens.InvalidLink as error:
        return _link_problem(request, error)
    except FormError as error:
        member = auth_service.check_link(session, secret, "reset_password")
        context = {
            "email": member.email,
            "errors": {error.field: error.message},
            "min_length": MIN_PASSWORD_LENGTH,
        }
        return render(request, "auth/password_reset.html", context, status_code=422)
    request.session.clear()
    flash(request, auth_service.NOTICES["password_reset"])
    return redirect("/sign-in")
