"""Random secrets handed to people (links, sessions, API tokens) and their stored hashes."""

from __future__ import annotations

import hashlib
import secrets


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """SHA-256 is enough here: the tokens are long random values, not passwords."""
    return hashlib.sha256(token.encode()).hexdigest()
