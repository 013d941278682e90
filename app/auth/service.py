"""Rules of accounts: signing in, passwords, e-mail addresses, sessions. Never commits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.auth import account_tokens, rate_limit, sessions, totp
from app.auth.deps import SESSION_TOKEN_KEY, start_browser_session
from app.auth.models import AccountToken, UserSession
from app.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    password_problem,
    verify_password,
)
from app.config import get_settings
from app.db import utcnow
from app.kit.errors import PermissionDenied, PortalError
from app.kit.i18n import N_, _, get_locale
from app.kit.tokens import hash_token
from app.members import repository as members_repository
from app.members import service as members_service
from app.members.models import Member
from app.outbox import service as outbox
from app.web import flash, redirect

TWO_FACTOR_SIGN_IN_URL = "/sign-in/two-factor"
TWO_FACTOR_SETUP_URL = "/account/security/two-factor"
PENDING_SIGN_IN_KEY = "pending_sign_in"
# Between the password and the second factor; long enough to find the phone.
PENDING_SIGN_IN_LIFETIME = timedelta(minutes=5)
# A second reset mail within this time is not sent: the first link still works.
RESET_MAIL_INTERVAL = timedelta(minutes=1)
# Messages shown once on the next page; the session keeps only the key (and its values).
NOTICES = {
    "password_reset": N_("Your password has been changed. Sign in with your new password."),
    "password_changed": N_(
        "Your password has been changed. Every other browser where you were signed in has "
        "been signed out."
    ),
    "sign_in_expired": N_("The sign-in took too long. Please sign in again."),
    "verification_sent": N_(
        "We have sent a link to %(email)s. Open it to confirm the address; it works for "
        "%(days)s days."
    ),
    "change_email_sent": N_(
        "We have sent a link to %(email)s. Your address changes when you open it; until "
        "then you keep using the current one."
    ),
    "email_verified": N_("Thank you: your e-mail address is confirmed."),
    "email_changed": N_("Your e-mail address is now %(email)s."),
    "session_ended": N_("That session has been signed out."),
    "password_set": N_("Your password is set and you are signed in. Welcome!"),
    "two_factor_enabled": N_("Two-factor authentication is on."),
    "two_factor_disabled": N_("Two-factor authentication is off."),
    "recovery_code_used": N_(
        "You signed in with a recovery code, which now no longer works. Recovery codes "
        "left: %(count)s. If you lost your device, turn two-factor authentication off and "
        "on again with your new device, or create new recovery codes."
    ),
}


class FormError(PortalError):
    """Input a form must show again, with ``message`` at the field ``field``."""

    status_code = 422

    def __init__(
        self, field: str, message: str, status_code: int = 422, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.status_code = status_code
        # Seconds until a paused sign-in may be tried again (status 429).
        self.retry_after = retry_after


def _paused(field: str, paused: rate_limit.Blocked) -> FormError:
    return FormError(field, paused.message(), status_code=429, retry_after=paused.seconds_left())


class AddressTaken(PortalError):
    status_code = 409
    title = N_("This e-mail address is already used by another account")


# Signing in


def safe_next(target: str | None) -> str:
    """Only same-site paths; anything else would be an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def sign_in_with_password(
    session: Session, *, email: str, password: str, ip_address: str | None
) -> Member:
    """The member these credentials belong to; FormError (422 or 429) otherwise."""
    paused = rate_limit.blocked(session, email=email, ip_address=ip_address)
    if paused is not None:
        raise _paused("form", paused)
    member = None
    if len(password) <= MAX_PASSWORD_LENGTH:
        member = members_service.authenticate(session, email, password)
    if member is None:
        rate_limit.record(session, email=email, ip_address=ip_address, succeeded=False)
        # The same answer for an unknown e-mail and a wrong password.
        raise FormError("form", _("The e-mail address or password is not correct."))
    return member


def complete_sign_in(
    request: Request, session: Session, member: Member, next_url: str | None
) -> Response:
    """Finish a sign-in whose first factor succeeded (password, set-password link, SSO).

    With two-factor authentication on, only a pending marker (member and time) is kept and
    the browser goes to the second step; otherwise the member is signed in.
    """
    if not member.can_sign_in:
        raise PermissionDenied(_("This account cannot sign in."))
    target = safe_next(next_url)
    if member.totp_enabled_at is not None:
        request.session[PENDING_SIGN_IN_KEY] = {
            "member_id": member.id,
            "started_at": utcnow().timestamp(),
            "next": target,
        }
        return redirect(TWO_FACTOR_SIGN_IN_URL)
    return _finish_sign_in(request, session, member, target)


def _finish_sign_in(request: Request, session: Session, member: Member, target: str) -> Response:
    rate_limit.record(
        session, email=member.email, ip_address=client_address(request), succeeded=True
    )
    start_browser_session(request, session, member)
    if member.needs_two_factor and member.totp_enabled_at is None:
        return redirect(TWO_FACTOR_SETUP_URL)
    return redirect(target)


def pending_sign_in(request: Request, session: Session) -> Member | None:
    """The member between password and second factor, if that began less than 5 minutes ago."""
    pending = request.session.get(PENDING_SIGN_IN_KEY)
    member = None
    if isinstance(pending, dict):
        started_at = pending.get("started_at")
        member_id = pending.get("member_id")
        age = utcnow().timestamp() - started_at if isinstance(started_at, float | int) else -1
        if isinstance(member_id, int) and 0 <= age <= PENDING_SIGN_IN_LIFETIME.total_seconds():
            member = members_repository.get(session, member_id)
    if member is None or not member.can_sign_in or member.totp_enabled_at is None:
        request.session.pop(PENDING_SIGN_IN_KEY, None)
        return None
    return member


def sign_in_second_factor(request: Request, session: Session, code: str) -> Response:
    """Check the code of the pending sign-in and finish it; FormError (422, 429) otherwise."""
    member = pending_sign_in(request, session)
    if member is None:
        flash(request, NOTICES["sign_in_expired"])
        return redirect("/sign-in")
    used_recovery_code = not totp.looks_like_one_time_code(code)
    check_second_factor(session, member, code, field="code", ip_address=client_address(request))
    pending = request.session.pop(PENDING_SIGN_IN_KEY, {})
    target = safe_next(pending.get("next") if isinstance(pending, dict) else None)
    response = _finish_sign_in(request, session, member, target)
    if used_recovery_code:
        left = totp.recovery_codes_left(session, member.id)
        flash(request, NOTICES["recovery_code_used"], count=left)
        return redirect(TWO_FACTOR_SETUP_URL)
    return response


def check_second_factor(
    session: Session, member: Member, code: str, *, field: str, ip_address: str | None
) -> None:
    """A code from the app or a recovery code, used up; rate-limited like the password."""
    paused = rate_limit.blocked(session, email=member.email, ip_address=ip_address)
    if paused is not None:
        raise _paused(field, paused)
    if not code.strip():
        raise FormError(
            field, _("Enter the 6-digit code from your authenticator app, or a recovery code.")
        )
    if not totp.verify_any(session, member, code):
        rate_limit.record(session, email=member.email, ip_address=ip_address, succeeded=False)
        raise FormError(
            field,
            _(
                "This code is not correct or has already been used. Wait for the next code "
                "in your app and try again."
            ),
        )


def check_current_password(
    session: Session, member: Member, password: str, *, field: str, ip_address: str | None
) -> None:
    """Confirm a sensitive change with the current password (rate-limited like sign-in)."""
    if member.password_hash is None:
        return  # signs in only with single sign-on: there is no password to ask for
    paused = rate_limit.blocked(session, email=member.email, ip_address=ip_address)
    if paused is not None:
        raise _paused(field, paused)
    if len(password) > MAX_PASSWORD_LENGTH or not verify_password(member.password_hash, password):
        rate_limit.record(session, email=member.email, ip_address=ip_address, succeeded=False)
        raise FormError(field, _("Your current password is not correct."))


# Passwords


def _set_password(member: Member, password: str) -> None:
    member.password_hash = hash_password(password)
    member.password_changed_at = utcnow()


def _check_new_password(password: str, email: str, field: str) -> None:
    problem = password_problem(password, email)
    if problem is not None:
        raise FormError(field, problem)


def _mail(session: Session, to: str, template: str, **context: object) -> None:
    outbox.enqueue(
        session, to=to, template=template, context=dict(context), language_code=get_locale()
    )


def _link(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


def request_password_reset(session: Session, email: str) -> None:
    """Mail a reset link when the account exists and may sign in; silent otherwise."""
    member = members_repository.get_by_email(session, email)
    if member is None or not member.can_sign_in:
        return
    recent = session.scalar(
        select(func.count())
        .select_from(AccountToken)
        .where(
            AccountToken.member_id == member.id,
            AccountToken.purpose == "reset_password",
            AccountToken.used_at.is_(None),
            AccountToken.created_at > utcnow() - RESET_MAIL_INTERVAL,
        )
    )
    if recent:
        return
    hours = get_settings().password_reset_hours
    secret = account_tokens.issue(session, member, "reset_password", timedelta(hours=hours))
    _mail(
        session,
        member.email,
        "reset_password",
        name=member.full_name,
        link=_link("/password-reset/" + secret),
        hours=hours,
    )


def check_link(session: Session, secret: str, purpose: str) -> Member:
    """The member of a valid link of a member who may sign in; InvalidLink etc. otherwise."""
    _token, member = account_tokens.check(session, secret, purpose)
    if not member.can_sign_in:
        raise account_tokens.InvalidLink()
    return member


def _set_password_through_link(
    session: Session, secret: str, purpose: str, password: str
) -> Member:
    """Use the link once to set ``password``; every session of the member ends."""
    member = check_link(session, secret, purpose)
    _check_new_password(password, member.email, "password")
    account_tokens.consume(session, secret, purpose)
    _set_password(member, password)
    # Opening the link proved the mailbox is theirs.
    if member.email_verified_at is None:
        member.email_verified_at = utcnow()
    sessions.end_all(session, member.id)
    return member


def _mail_password_changed(session: Session, member: Member) -> None:
    _mail(
        session,
        member.email,
        "password_changed",
        name=member.full_name,
        link=_link("/password-reset"),
    )


def reset_password(session: Session, secret: str, password: str) -> Member:
    """Set a new password through a reset link; every session of the member ends."""
    member = _set_password_through_link(session, secret, "reset_password", password)
    # The failures that may have led here no longer block the member.
    rate_limit.record(session, email=member.email, ip_address=None, succeeded=True)
    _mail_password_changed(session, member)
    return member


def set_first_password(session: Session, secret: str, password: str) -> Member:
    """Set the password through the link sent on approval or invitation; confirms the address."""
    return _set_password_through_link(session, secret, "set_password", password)


def change_password(
    session: Session,
    member: Member,
    *,
    current_password: str,
    new_password: str,
    ip_address: str | None,
    keep_token: str | None,
) -> None:
    """Change the password; the member's other sessions end, this one stays."""
    check_current_password(
        session, member, current_password, field="current_password", ip_address=ip_address
    )
    _check_new_password(new_password, member.email, "new_password")
    _set_password(member, new_password)
    sessions.end_all(session, member.id, except_token=keep_token)
    _mail_password_changed(session, member)


# E-mail addresses


def send_verification(session: Session, member: Member) -> None:
    """Mail a link that confirms the member's current address."""
    days = get_settings().email_verification_days
    secret = account_tokens.issue(session, member, "verify_email", timedelta(days=days))
    _mail(
        session,
        member.email,
        "verify_email",
        name=member.full_name,
        link=_link("/account/verify-email/" + secret),
        days=days,
        new_email="",
    )


def normalise_new_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise FormError(
            "new_email", _("Enter an e-mail address such as name@example.org.")
        ) from None


def request_email_change(
    session: Session, member: Member, *, new_email: str, password: str, ip_address: str | None
) -> str:
    """Mail a link to the new address; the address changes only when it is opened."""
    check_current_password(session, member, password, field="email_password", ip_address=ip_address)
    address = normalise_new_email(new_email)
    if address == member.email:
        raise FormError("new_email", _("This is already your e-mail address."))
    if members_repository.get_by_email(session, address) is not None:
        raise FormError("new_email", _("Another account already uses this e-mail address."))
    days = get_settings().email_verification_days
    secret = account_tokens.issue(session, member, "change_email", timedelta(days=days))
    token = session.scalars(
        select(AccountToken).where(AccountToken.token_hash == hash_token(secret))
    ).one()
    token.new_email = address
    _mail(
        session,
        address,
        "verify_email",
        name=member.full_name,
        link=_link("/account/verify-email/" + secret),
        days=days,
        new_email=address,
    )
    session.flush()
    return address


def pending_email_change(session: Session, member_id: int) -> AccountToken | None:
    statement = (
        select(AccountToken)
        .where(
            AccountToken.member_id == member_id,
            AccountToken.purpose == "change_email",
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow(),
        )
        .order_by(AccountToken.created_at.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def check_email_link(session: Session, secret: str) -> tuple[AccountToken, Member]:
    """A valid link to confirm an address (verify_email or change_email)."""
    purpose = session.scalar(
        select(AccountToken.purpose).where(
            AccountToken.token_hash == hash_token(secret),
            AccountToken.purpose.in_(("verify_email", "change_email")),
        )
    )
    if purpose is None:
        raise account_tokens.InvalidLink()
    token, member = account_tokens.check(session, secret, purpose)
    if not member.can_sign_in:
        raise account_tokens.InvalidLink()
    return token, member


def confirm_email_link(session: Session, secret: str) -> tuple[str, Member]:
    """Use an address link: confirm the address, or switch to the new one and tell the old."""
    token, member = check_email_link(session, secret)
    if token.purpose == "verify_email":
        account_tokens.consume(session, secret, "verify_email")
        if member.email_verified_at is None:
            member.email_verified_at = utcnow()
        return "verified", member
    address = token.new_email or ""
    other = members_repository.get_by_email(session, address)
    if not address or (other is not None and other.id != member.id):
        raise AddressTaken()
    account_tokens.consume(session, secret, "change_email")
    old_address = member.email
    member.email = address
    member.email_verified_at = utcnow()
    # Links mailed to the old address must not act on the new one.
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.member_id == member.id,
            AccountToken.purpose.in_(("verify_email", "reset_password", "change_email")),
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _mail(
        session,
        old_address,
        "email_changed",
        name=member.full_name,
        old_email=old_address,
        new_email=address,
        link=_link("/password-reset"),
    )
    session.flush()
    return "changed", member


# Two-factor authentication


def disable_two_factor(
    session: Session, member: Member, *, code: str, ip_address: str | None
) -> None:
    """Turn two-factor authentication off (a code is needed); never for coordinators."""
    if member.needs_two_factor:
        raise FormError(
            "disable_code",
            _("Coordinators and administrators must keep two-factor authentication on."),
            status_code=403,
        )
    check_second_factor(session, member, code, field="disable_code", ip_address=ip_address)
    totp.disable(session, member)


def regenerate_recovery_codes(
    session: Session, member: Member, *, password: str, ip_address: str | None
) -> list[str]:
    """New recovery codes after the password is confirmed; the old ones stop working."""
    if member.totp_enabled_at is None:
        raise FormError("password", _("Two-factor authentication is not on."))
    check_current_password(session, member, password, field="password", ip_address=ip_address)
    return totp.create_recovery_codes(session, member)


# Sessions


@dataclass(frozen=True)
class SessionRow:
    id: int
    created_at: datetime
    last_seen_at: datetime
    ip_address: str | None
    browser: str
    is_current: bool


def active_sessions(
    session: Session, member_id: int, current_token: str | None
) -> list[SessionRow]:
    """The member's live sessions, the current one marked."""
    current_hash = hash_token(current_token) if current_token else None
    return [
        SessionRow(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            ip_address=row.ip_address,
            browser=describe_browser(row.user_agent),
            is_current=row.token_hash == current_hash,
        )
        for row in sessions.list_active(session, member_id)
    ]


def end_session(session: Session, member_id: int, session_id: int) -> bool:
    """End one of the member's own sessions; False when there is no such live session."""
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.member_id == member_id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def current_session_token(request: Request) -> str | None:
    token = request.session.get(SESSION_TOKEN_KEY)
    return token if isinstance(token, str) else None


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_browser(user_agent: str | None) -> str:
    """A short name such as "Firefox on Windows" for a User-Agent header."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    if browser or system:
        return browser or system or ""
    cleaned = re.sub(r"\s+", " ", agent).strip()
    return cleaned[:60] if cleaned else _("Unknown browser")
