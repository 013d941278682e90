"""The member's sign-in and security page: password, e-mail address, sessions, two-factor.

Also the pages behind mailed links: setting the first password and confirming an address.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import Response

from app.auth import account_tokens, sessions, totp
from app.auth import service as auth_service
from app.auth.deps import DbSession, SignedIn, Viewer, load_viewer
from app.auth.passwords import MIN_PASSWORD_LENGTH
from app.auth.service import FormError
from app.config import get_settings
from app.kit.i18n import _
from app.web import flash, pop_notice, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

SECURITY_URL = "/account/security"


def _security_page(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    *,
    error: FormError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The security page, with the form error ``error`` at its field when there is one."""
    token = auth_service.current_session_token(request)
    context: dict[str, Any] = {
        "member": viewer,
        "sessions": auth_service.active_sessions(session, viewer.id, token),
        "pending_change": auth_service.pending_email_change(session, viewer.id),
        "notice": pop_notice(request),
        "errors": {error.field: error.message} if error else {},
        "values": values or {},
        "min_length": MIN_PASSWORD_LENGTH,
    }
    status_code = error.status_code if error else 200
    return render(request, "account/security.html", context, status_code=status_code)


@router.get(SECURITY_URL, name="account_security")
def security_page(request: Request, session: DbSession, viewer: SignedIn) -> Response:
    """Password, e-mail address, two-factor authentication and the signed-in browsers."""
    return _security_page(request, session, viewer)


@router.post(SECURITY_URL + "/password")
def change_password(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    """Change the password; other browsers are signed out."""
    try:
        auth_service.change_password(
            session,
            viewer,
            current_password=current_password,
            new_password=new_password,
            ip_address=auth_service.client_address(request),
            keep_token=auth_service.current_session_token(request),
        )
    except FormError as error:
        return _security_page(request, session, viewer, error=error)
    flash(request, auth_service.NOTICES["password_changed"])
    return redirect(SECURITY_URL)


@router.post(SECURITY_URL + "/email")
def change_email(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    new_email: Annotated[str, Form()] = "",
    email_password: Annotated[str, Form()] = "",
) -> Response:
    """Send a confirmation link to the new address."""
    try:
        address = auth_service.request_email_change(
            session,
            viewer,
            new_email=new_email,
            password=email_password,
            ip_address=auth_service.client_address(request),
        )
    except FormError as error:
        return _security_page(
            request, session, viewer, error=error, values={"new_email": new_email}
        )
    flash(request, auth_service.NOTICES["change_email_sent"], email=address)
    return redirect(SECURITY_URL)


@router.post(SECURITY_URL + "/verify-email")
def send_verification(request: Request, session: DbSession, viewer: SignedIn) -> Response:
    """Mail a link that confirms the current address."""
    if viewer.email_verified_at is None:
        auth_service.send_verification(session, viewer)
        days = get_settings().email_verification_days
        flash(request, auth_service.NOTICES["verification_sent"], email=viewer.email, days=days)
    return redirect(SECURITY_URL)


@router.post(SECURITY_URL + "/sessions/{session_id}/end")
def end_session(
    request: Request, session: DbSession, viewer: SignedIn, session_id: int
) -> Response:
    """Sign out one of the member's other browsers."""
    if auth_service.end_session(session, viewer.id, session_id):
        flash(request, auth_service.NOTICES["session_ended"])
    return redirect(SECURITY_URL)


@router.post(SECURITY_URL + "/sign-out-everywhere")
def sign_out_everywhere(request: Request, session: DbSession, viewer: SignedIn) -> Response:
    """End every session of the member, this one included."""
    sessions.end_all(session, viewer.id)
    request.session.clear()
    return redirect("/")


# Two-factor authentication


def _two_factor_page(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    *,
    error: FormError | None = None,
) -> Response:
    """The two-factor page, with the form error ``error`` at its field when there is one."""
    context: dict[str, Any] = {
        "member": viewer,
        "notice": pop_notice(request),
        "errors": {error.field: error.message} if error else {},
        "required": viewer.needs_two_factor,
    }
    if viewer.totp_enabled_at is None:
        secret = totp.start_enrolment(viewer)
        uri = totp.provisioning_uri(secret, viewer.email)
        context.update(secret=totp.grouped(secret), uri=uri, qr_code=totp.qr_code_data_url(uri))
    else:
        context["codes_left"] = totp.recovery_codes_left(session, viewer.id)
    status_code = error.status_code if error else 200
    return render(request, "account/security_two_factor.html", context, status_code=status_code)


@router.get(SECURITY_URL + "/two-factor", name="account_two_factor")
def two_factor_page(request: Request, session: DbSession, viewer: SignedIn) -> Response:
    """Set up two-factor authentication, or manage it once it is on."""
    return _two_factor_page(request, session, viewer)


@router.post(SECURITY_URL + "/two-factor")
def confirm_two_factor(
    request: Request, session: DbSession, viewer: SignedIn, code: Annotated[str, Form()] = ""
) -> Response:
    """Turn two-factor authentication on with a code from the app; show the recovery codes.

    The recovery codes are shown in this response and stored nowhere else, not even for a
    redirect: that is why a successful POST answers with a page here.
    """
    if viewer.totp_enabled_at is not None:
        return redirect(SECURITY_URL + "/two-factor")
    codes = totp.confirm_enrolment(session, viewer, code) if code.strip() else None
    if codes is None:
        message = _(
            "This code is not correct. Check that the app shows the portal's code and type "
            "the 6 digits it shows now."
        )
        if not code.strip():
            message = _("Enter the 6-digit code your authenticator app shows.")
        return _two_factor_page(request, session, viewer, error=FormError("code", message))
    return _recovery_codes_page(request, codes, just_enabled=True)


def _recovery_codes_page(request: Request, codes: list[str], *, just_enabled: bool) -> Response:
    context = {"codes": codes, "just_enabled": just_enabled}
    response = render(request, "account/security_recovery_codes.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(SECURITY_URL + "/two-factor/recovery-codes")
def regenerate_recovery_codes(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    password: Annotated[str, Form()] = "",
) -> Response:
    """New recovery codes (the password confirms it); the old ones stop working."""
    try:
        codes = auth_service.regenerate_recovery_codes(
            session, viewer, password=password, ip_address=auth_service.client_address(request)
        )
    except FormError as error:
        return _two_factor_page(request, session, viewer, error=error)
    return _recovery_codes_page(request, codes, just_enabled=False)


@router.post(SECURITY_URL + "/two-factor/disable")
def disable_two_factor(
    request: Request,
    session: DbSession,
    viewer: SignedIn,
    disable_code: Annotated[str, Form()] = "",
) -> Response:
    """Turn two-factor authentication off (members only; a code confirms it)."""
    if viewer.totp_enabled_at is None:
        return redirect(SECURITY_URL + "/two-factor")
    try:
        auth_service.disable_two_factor(
            session, viewer, code=disable_code, ip_address=auth_service.client_address(request)
        )
    except FormError as error:
        return _two_factor_page(request, session, viewer, error=error)
    flash(request, auth_service.NOTICES["two_factor_disabled"])
    return redirect(SECURITY_URL)


# Pages behind mailed links


def _link_problem(
    request: Request, error: account_tokens.InvalidLink, *, again_url: str, again_label: str
) -> Response:
    context = {
        "title": _(error.message),
        "reason": type(error).__name__,
        "again_url": again_url,
        "again_label": again_label,
    }
    return render(request, "auth/link_problem.html", context, status_code=error.status_code)


def _set_password_problem(request: Request, error: account_tokens.InvalidLink) -> Response:
    return _link_problem(
        request,
        error,
        again_url="/password-reset",
        again_label=_("Get a new link"),
    )


@router.get("/account/set-password/{secret}", name="set_password")
def set_password_page(request: Request, session: DbSession, secret: str) -> Response:
    """The form for the first password, after approval or an invitation."""
    try:
        member = auth_service.check_link(session, secret, "set_password")
    except account_tokens.InvalidLink as error:
        return _set_password_problem(request, error)
    context = {"member": member, "errors": {}, "min_length": MIN_PASSWORD_LENGTH}
    return render(request, "auth/set_password.html", context)


@router.post("/account/set-password/{secret}")
def set_password(
    request: Request, session: DbSession, secret: str, password: Annotated[str, Form()] = ""
) -> Response:
    """Set the first password; the address is then confirmed and the member signed in."""
    try:
        member = auth_service.set_first_password(session, secret, password)
    except account_tokens.InvalidLink as error:
        return _set_password_problem(request, error)
    except FormError as error:
        member = auth_service.check_link(session, secret, "set_password")
        context = {
            "member": member,
            "errors": {error.field: error.message},
            "min_length": MIN_PASSWORD_LENGTH,
        }
        return render(request, "auth/set_password.html", context, status_code=422)
    response = auth_service.complete_sign_in(request, session, member, SECURITY_URL)
    flash(request, auth_service.NOTICES["password_set"])
    return response


def _email_link_problem(
    request: Request, viewer: Viewer, error: account_tokens.InvalidLink
) -> Response:
    return _link_problem(
        request,
        error,
        again_url=SECURITY_URL if viewer else "/sign-in?next=" + SECURITY_URL,
        again_label=_("Send a new link from your security page"),
    )


@router.get("/account/verify-email/{secret}", name="verify_email")
def verify_email_page(
    request: Request, session: DbSession, viewer: Viewer, secret: str
) -> Response:
    """Confirm an address with one click (a page first, so link scanners change nothing)."""
    try:
        token, member = auth_service.check_email_link(session, secret)
    except account_tokens.InvalidLink as error:
        return _email_link_problem(request, viewer, error)
    address = token.new_email if token.purpose == "change_email" else member.email
    context = {"changing": token.purpose == "change_email", "address": address}
    return render(request, "auth/verify_email.html", context)


@router.post("/account/verify-email/{secret}")
def verify_email(request: Request, session: DbSession, viewer: Viewer, secret: str) -> Response:
    """Confirm the address, or switch to the new one."""
    try:
        outcome, member = auth_service.confirm_email_link(session, secret)
    except account_tokens.InvalidLink as error:
        return _email_link_problem(request, viewer, error)
    if outcome == "changed":
        flash(request, auth_service.NOTICES["email_changed"], email=member.email)
    else:
        flash(request, auth_service.NOTICES["email_verified"])
    if viewer is not None and viewer.id == member.id:
        return redirect(SECURITY_URL)
    return redirect("/sign-in?next=" + SECURITY_URL)
