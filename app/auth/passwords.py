"""Password hashing with argon2id, and the policy a new password must meet."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.kit.i18n import _

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("a password nobody has, used to keep timing equal")
MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase, short enough that hashing it costs nothing unusual.
MAX_PASSWORD_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; spends the same effort when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common and breached passwords, lower-cased, read once."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(
            line.rstrip("\n").lower() for line in lines if line.strip() and line[0] != "#"
        )


def password_problem(password: str, email: str | None) -> str | None:
    """What is wrong with ``password`` as a new password for ``email``, or None.

    At least 12 characters and no composition rules (length is what makes a password
    strong); refused when it is a well-known password or the member's own e-mail address.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return _(
            "Choose a password of at least %(count)s characters. A few unrelated words make "
            "a strong password that is easy to remember.",
            count=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Choose a password of at most %(count)s characters.", count=MAX_PASSWORD_LENGTH)
    if email and password.strip().lower() == email.strip().lower():
        return _("Your password must not be your e-mail address.")
    if password.lower() in common_passwords():
        return _(
            "This password is on a list of commonly used or leaked passwords, so it is easy "
            "to guess. Choose another one."
        )
    return None
