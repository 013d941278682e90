"""Two-factor authentication: time-based one-time codes (RFC 6238) and recovery codes.

The secret lives in ``member.totp_secret``; two-factor sign-in is on once
``member.totp_enabled_at`` is set, which happens only after the member typed a correct code.
A code is accepted one step (30 seconds) early or late, and never twice: the time step of
the last accepted code is kept in ``member.totp_last_used_step``. Recovery codes are stored
as SHA-256 hashes and each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import RecoveryCode
from app.db import utcnow
from app.members.models import Member

ISSUER = "Prevention Network"
RECOVERY_CODE_COUNT = 10
# Letters and digits that cannot be mistaken for one another when typed from paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
_CODE_PATTERN = re.compile(r"\d{6}")


def new_secret() -> str:
    """A random base32 secret of 160 bits."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code_data_url(uri: str) -> str:
    """The QR code of ``uri`` as an SVG data: URL, for an <img> the CSP allows."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=4))


def grouped(secret: str) -> str:
    """The secret in groups of four characters, easier to type by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def _digits(code: str) -> str:
    return re.sub(r"[\s-]", "", code)


def looks_like_one_time_code(code: str) -> bool:
    return bool(_CODE_PATTERN.fullmatch(_digits(code)))


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step whose code is ``code`` (the current one, or one before or after)."""
    code = _digits(code)
    if not _CODE_PATTERN.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify(session: Session, member: Member, code: str, now: datetime | None = None) -> bool:
    """True for a correct code not used before; it is then used up (also under concurrency)."""
    if not member.totp_secret:
        return False
    step = matching_step(member.totp_secret, code, now)
    if step is None:
        return False
    result = session.execute(
        update(Member)
        .where(
            Member.id == member.id,
            or_(Member.totp_last_used_step.is_(None), Member.totp_last_used_step < step),
        )
        .values(totp_last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    set_committed_value(member, "totp_last_used_step", step)
    return True


def start_enrolment(member: Member) -> str:
    """The secret to show for setting up an app: kept until confirmed, new if there is none."""
    if member.totp_enabled_at is not None:
        raise ValueError("two-factor authentication is already on")
    if not member.totp_secret:
        member.totp_secret = new_secret()
    return member.totp_secret


def confirm_enrolment(
    session: Session, member: Member, code: str, now: datetime | None = None
) -> list[str] | None:
    """Turn two-factor authentication on with a correct code; returns the recovery codes."""
    if member.totp_enabled_at is not None or not verify(session, member, code, now):
        return None
    member.totp_enabled_at = utcnow()
    return create_recovery_codes(session, member)


def disable(session: Session, member: Member) -> None:
    """Turn two-factor authentication off and forget the secret and the recovery codes."""
    member.totp_secret = None
    member.totp_enabled_at = None
    member.totp_last_used_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    session.flush()


def _normalise_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(_normalise_recovery_code(code).encode()).hexdigest()


def format_recovery_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def create_recovery_codes(session: Session, member: Member) -> list[str]:
    """Ten new recovery codes (shown once); earlier codes stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    codes = [
        format_recovery_code(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    session.add_all(
        RecoveryCode(member_id=member.id, code_hash=hash_recovery_code(code)) for code in codes
    )
    session.flush()
    return codes


def use_recovery_code(session: Session, member: Member, code: str) -> bool:
    """True when ``code`` is one of the member's unused recovery codes; it is then used up."""
    if not _normalise_recovery_code(code):
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.member_id == member.id,
            RecoveryCode.code_hash == hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def verify_any(session: Session, member: Member, code: str) -> bool:
    """A one-time code from the app, or else one of the recovery codes."""
    if looks_like_one_time_code(code):
        return verify(session, member, code)
    return use_recovery_code(session, member, code)


def recovery_codes_left(session: Session, member_id: int) -> int:
    statement = (
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.member_id == member_id, RecoveryCode.used_at.is_(None))
    )
    return session.scalar(statement) or 0
