"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import Response

from app.auth import sessions
from app.auth.deps import SESSION_TOKEN_KEY, DbSession, load_viewer, start_browser_session
from app.kit.i18n import _
from app.members import service as members_service
from app.web import redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])


def _safe_next(target: str | None) -> str:
    """Only same-site paths; anything else would be an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/sign-in", name="sign_in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return render(request, "auth/sign_in.html", {"next": _safe_next(next), "errors": {}})


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
    member = None
    if not errors:
        member = members_service.authenticate(session, email, password)
        if member is None:
            # The same answer for an unknown e-mail and a wrong password.
            errors["form"] = _("The e-mail address or password is not correct.")
    if member is None:
        context = {"next": _safe_next(next), "email": email, "errors": errors}
        return render(request, "auth/sign_in.html", context, status_code=422)
    start_browser_session(request, session, member)
    return redirect(_safe_next(next))


@router.post("/sign-out", name="sign_out")
def sign_out(request: Request, session: DbSession) -> Response:
    """End this browser's session."""
    token = request.session.get(SESSION_TOKEN_KEY)
    if isinstance(token, str):
        sessions.end(session, token)
    request.session.clear()
    return redirect("/")
