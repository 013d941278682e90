"""The daily digest of saved searches: what is new since each search was last checked.

For every saved search with alerts on of a member in good standing, the search runs as
that member (members-only records included, since it is their search) twice: for
programmes published or re-rated since the last check, and with the same text and filters
for evaluations published since then. A member gets at most one e-mail per run, listing
each of their searches that found something. Each search is checked at most once in
``MIN_INTERVAL``, so running the job twice in a day sends nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import get_settings
from app.db import utcnow
from app.members.models import Member
from app.outbox import service as outbox
from app.search import saved as saved_searches
from app.search.saved import SavedSearch
from app.search.service import SearchQuery, search

logger = logging.getLogger("portal.search.alerts")

# Less than a day, so a job that runs daily with some drift never skips a day.
MIN_INTERVAL = timedelta(hours=20)
ITEMS_PER_SEARCH = 20
ALERT_KINDS = ("programme", "evaluation")
_RECORD_PATHS = {"programme": "/programmes/", "evaluation": "/evaluations/"}


@dataclass
class DigestItem:
    title: str
    link: str


@dataclass
class DigestSection:
    """New records of one kind for one saved search."""

    kind: str
    items: list[DigestItem]
    more: int
    more_link: str


@dataclass
class DigestEntry:
    """One saved search in a digest."""

    name: str
    link: str
    unsubscribe: str
    sections: list[DigestSection] = field(default_factory=list)


@dataclass
class DigestReport:
    checked: int = 0
    sent: int = 0


def _base_url() -> str:
    return get_settings().base_url.rstrip("/")


def _kind_query(saved_query: str, kind: str) -> SearchQuery:
    """The saved text and filters for ``kind``, newest first (facets it lacks are dropped)."""
    params = parse_qs(saved_query, keep_blank_values=False)
    params.pop("page", None)
    params["type"] = [kind]
    params["sort"] = ["newest"]
    params["per_page"] = [str(ITEMS_PER_SEARCH)]
    return SearchQuery.from_params(params)


def new_for(session: Session, member: Member, saved: SavedSearch) -> DigestEntry:
    """What ``saved`` finds for ``member`` that is new since its last check."""
    base = _base_url()
    entry = DigestEntry(
        name=saved.name,
        link=f"{base}/search?{saved.query}",
        unsubscribe=saved_searches.unsubscribe_url(saved.id),
    )
    for kind in ALERT_KINDS:
        query = _kind_query(saved.query, kind)
        result = search(session, member, query, since=saved.last_checked_at)
        if not result.hits:
            continue
        items = [
            DigestItem(title=hit.record.title, link=f"{base}{_RECORD_PATHS[kind]}{hit.record_id}")
            for hit in result.hits
        ]
        entry.sections.append(
            DigestSection(
                kind=kind,
                items=items,
                more=max(0, result.total - len(items)),
                more_link=f"{base}/search?{query.query_string(per_page='')}",
            )
        )
    return entry


def _due(session: Session, now: datetime) -> list[tuple[SavedSearch, Member]]:
    statement = (
        select(SavedSearch, Member)
        .join(Member, Member.id == SavedSearch.member_id)
        .where(
            SavedSearch.alerts_enabled.is_(True),
            Member.status == "active",
            SavedSearch.last_checked_at <= now - MIN_INTERVAL,
        )
        .order_by(SavedSearch.member_id, SavedSearch.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two processes running the job at once never send the same digest twice.
        statement = statement.with_for_update(skip_locked=True, of=SavedSearch)
    return [(row[0], row[1]) for row in session.execute(statement)]


def digest_headers(member_id: int) -> dict[str, str]:
    """One-click unsubscribe (RFC 8058) from every alert of the member, for the outbox."""
    url = saved_searches.member_unsubscribe_url(member_id)
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def send_digests(session: Session, now: datetime | None = None) -> DigestReport:
    """Queue one digest per member whose saved searches found something new; in ``session``."""
    now = now or utcnow()
    report = DigestReport()
    by_member: dict[int, list[tuple[SavedSearch, Member]]] = defaultdict(list)
    for saved, member in _due(session, now):
        by_member[member.id].append((saved, member))
    for rows in by_member.values():
        member = rows[0][1]
        entries = []
        for saved, _member in rows:
            report.checked += 1
            entry = new_for(session, member, saved)
            saved.last_checked_at = now
            if entry.sections:
                saved.last_sent_at = now
                entries.append(entry)
        if not entries:
            continue
        # The language the member used when they last saved a search.
        language = max((saved for saved, _member in rows), key=lambda s: s.created_at).language
        outbox.enqueue(
            session,
            to=member.email,
            template="search_digest",
            context={
                "name": member.full_name,
                "entries": entries,
                "manage_link": f"{_base_url()}/account/searches",
                "unsubscribe_all": saved_searches.member_unsubscribe_url(member.id),
            },
            language_code=language,
            headers=digest_headers(member.id),
        )
        report.sent += 1
    session.flush()
    return report


def run_daily(session_factory: sessionmaker[Session]) -> DigestReport:
    """The daily job: send the digests in one transaction."""
    with session_factory() as session, session.begin():
        report = send_digests(session)
    if report.sent:
        logger.info("Search alerts: %s searches checked, %s digests queued", *vars(report).values())
    return report
