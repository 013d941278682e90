"""Saved searches: a member keeps a search, runs it again, and may get a daily digest of it.

The query is stored normalised (``SearchQuery.query_string``), so the same search typed in
two ways is saved once. The unsubscribe link in a digest carries an HMAC of the saved
search's id made with the application's secret: nothing secret is stored, and the link
stops working when the secret changes or the search is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs

from sqlalchemy import Boolean, ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.config import SUPPORTED_LANGUAGES, get_settings
from app.db import Base, utcnow
from app.kit.errors import PortalError
from app.kit.i18n import N_, _, get_locale
from app.search.service import SearchQuery

MAX_SAVED_PER_MEMBER = 50
NAME_MAX_LENGTH = 100
# A saved query is a normalised query string: 500 characters of text plus filter codes.
QUERY_MAX_LENGTH = 4000
DEFAULT_NAME = N_("Saved search")
_TOKEN_PURPOSE = b"saved-search-unsubscribe:"
_MEMBER_TOKEN_PURPOSE = b"saved-search-unsubscribe-member:"


class SavedSearch(Base):
    """A member's saved search; ``last_checked_at`` is the cut-off for what is new."""

    __tablename__ = "saved_search"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    query: Mapped[str] = mapped_column(Text)
    # The interface language when it was saved: the digest is written in it.
    language: Mapped[str] = mapped_column(String(8), default="en")
    alerts_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime | None]


class InvalidSavedSearch(PortalError):
    """The save form has a problem; ``errors`` says which field."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def normalise(query_string: str) -> SearchQuery:
    """The search a query string asks for, on its first page."""
    params = parse_qs(query_string.lstrip("?"), keep_blank_values=False)
    return SearchQuery.from_params(params)


def normalised_query(query_string: str) -> str:
    return normalise(query_string).query_string(page="")


def default_name(query_string: str) -> str:
    """The query's text, or "Saved search" when it has none."""
    text = normalise(query_string).text
    return text[:NAME_MAX_LENGTH] if text else _(DEFAULT_NAME)


def list_for(session: Session, member_id: int) -> list[SavedSearch]:
    """The member's saved searches, newest first."""
    statement = (
        select(SavedSearch)
        .where(SavedSearch.member_id == member_id)
        .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
    )
    return list(session.scalars(statement))


def get_own(session: Session, member_id: int, saved_id: int) -> SavedSearch | None:
    saved = session.get(SavedSearch, saved_id)
    return saved if saved is not None and saved.member_id == member_id else None


def save(
    session: Session, member_id: int, query_string: str, name: str
) -> tuple[SavedSearch, bool]:
    """Save a search for the member; returns it and whether it is new.

    The same search saved again is not duplicated (its name is updated when one is given).
    """
    query = normalised_query(query_string)
    name = " ".join(name.split())
    if len(query) > QUERY_MAX_LENGTH:
        raise InvalidSavedSearch({"name": _("This search is too long to be saved.")})
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidSavedSearch(
            {"name": _("The name can have at most %(count)s characters.", count=NAME_MAX_LENGTH)}
        )
    existing = session.scalar(
        select(SavedSearch).where(SavedSearch.member_id == member_id, SavedSearch.query == query)
    )
    if existing is not None:
        if name:
            existing.name = name
        return existing, False
    count = session.scalar(
        select(func.count()).select_from(SavedSearch).where(SavedSearch.member_id == member_id)
    )
    if (count or 0) >= MAX_SAVED_PER_MEMBER:
        raise InvalidSavedSearch(
            {
                "name": _(
                    "You have %(count)s saved searches, the most you can keep. Delete one you "
                    "no longer need, then save this one.",
                    count=MAX_SAVED_PER_MEMBER,
                )
            }
        )
    language = get_locale()
    saved = SavedSearch(
        member_id=member_id,
        name=name or default_name(query),
        query=query,
        language=language if language in SUPPORTED_LANGUAGES else "en",
        alerts_enabled=True,
        created_at=utcnow(),
        last_checked_at=utcnow(),
    )
    session.add(saved)
    session.flush()
    return saved, True


def set_alerts(saved: SavedSearch, enabled: bool) -> None:
    """Turn the daily digest on or off; turning it on starts counting "new" from now."""
    if enabled and not saved.alerts_enabled:
        saved.last_checked_at = utcnow()
    saved.alerts_enabled = enabled


def delete(session: Session, saved: SavedSearch) -> None:
    session.delete(saved)
    session.flush()


# --- the unsubscribe links -----------------------------------------------------------------
# ``<id>-<signature>`` turns off one saved search's alerts; ``m<member id>-<signature>`` (the
# digest's List-Unsubscribe header) turns off every alert of the member.


def _signature(purpose: bytes, value: int) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, purpose + str(value).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def unsubscribe_token(saved_id: int) -> str:
    """Enough to turn one saved search's alerts off, nothing else."""
    return f"{saved_id}-{_signature(_TOKEN_PURPOSE, saved_id)}"


def member_unsubscribe_token(member_id: int) -> str:
    """Enough to turn all of one member's alerts off, nothing else."""
    return f"m{member_id}-{_signature(_MEMBER_TOKEN_PURPOSE, member_id)}"


@dataclass
class Unsubscription:
    """What an unsubscribe link turns off."""

    member_id: int
    searches: list[SavedSearch]
    everything: bool


def by_unsubscribe_token(session: Session, token: str) -> Unsubscription | None:
    """What a token names, or None when the token is wrong or its search is gone."""
    raw_id, _separator, signature = token.partition("-")
    everything = raw_id.startswith("m")
    raw_id = raw_id.removeprefix("m")
    if not raw_id.isdigit() or len(raw_id) > 12 or not signature:
        return None
    value = int(raw_id)
    purpose = _MEMBER_TOKEN_PURPOSE if everything else _TOKEN_PURPOSE
    if not hmac.compare_digest(signature.encode(), _signature(purpose, value).encode()):
        return None
    if everything:
        return Unsubscription(value, list_for(session, value), everything=True)
    saved = session.get(SavedSearch, value)
    if saved is None:
        return None
    return Unsubscription(saved.member_id, [saved], everything=False)


def unsubscribe(unsubscription: Unsubscription) -> None:
    for saved in unsubscription.searches:
        saved.alerts_enabled = False


def unsubscribe_path(token: str) -> str:
    return f"/search/alerts/unsubscribe/{token}"


def unsubscribe_url(saved_id: int) -> str:
    return get_settings().base_url.rstrip("/") + unsubscribe_path(unsubscribe_token(saved_id))


def member_unsubscribe_url(member_id: int) -> str:
    token = member_unsubscribe_token(member_id)
    return get_settings().base_url.rstrip("/") + unsubscribe_path(token)
