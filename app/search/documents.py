"""What the index holds about each record: built from the tables, many records at a time.

A document has a title, a summary shown under it, text *parts* in the languages the record
is written in (the original and its translations, each stemmed in its own language), the
vocabulary codes of its facets, and the keys results are sorted by. Only what anyone who may
find the record may also read goes in: a member's profile fields hidden from other members
(shown to coordinators only) are left out, so a search can never reveal them.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from app.evidence.models import Evaluation, Outcome, ProgrammeRating, evaluation_programme
from app.evidence.rating import LEVEL_ORDER
from app.members.models import Member, MemberExpertise, MemberLanguage
from app.organisations.models import Organisation
from app.programmes.models import Programme, ProgrammeTerm, ProgrammeTranslation

# Facet fields per kind (the codes come from the curated vocabularies or fixed lists).
PROGRAMME_FACETS = (
    "target_groups",
    "target_subgroups",
    "countries",
    "languages",
    "prevention_level",
    "settings",
    "delivery",
    "abuse_addressed",
    "rating",
)
EVALUATION_FACETS = (
    "target_groups",
    "countries",
    "design",
    "risk_of_bias",
    "outcome_kinds",
    "year",
)
MEMBER_FACETS = ("countries", "languages", "member_type", "expertise")
ORGANISATION_FACETS = ("countries", "organisation_type")
FACETS: dict[str, tuple[str, ...]] = {
    "programme": PROGRAMME_FACETS,
    "evaluation": EVALUATION_FACETS,
    "member": MEMBER_FACETS,
    "organisation": ORGANISATION_FACETS,
}


LEVEL_POSITION = {level: position for position, level in enumerate(LEVEL_ORDER)}


def encode_codes(facets: dict[str, list[str]]) -> str:
    """``{"countries": ["DE", "AT"]}`` as ``"countries=DE countries=AT"`` (no spaces inside)."""
    return " ".join(
        f"{name}={code.replace(' ', '_')}" for name, codes in facets.items() for code in codes
    )


def fold(text: str) -> str:
    """Lower case without diacritics ("Übung" and "ubung" are the same word to the index)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@dataclass
class Part:
    language: str  # ISO 639-1 code of the text, "" when unknown
    title: str
    body: str


@dataclass
class Document:
    kind: str
    record_id: int
    listed: bool
    visibility: str = "public"
    language: str = ""
    title: str = ""
    summary: str = ""
    parts: list[Part] = field(default_factory=list)
    facets: dict[str, list[str]] = field(default_factory=dict)
    rating_level: str | None = None
    published_at: datetime | None = None
    rated_at: datetime | None = None
    year: int | None = None

    def row(self) -> dict[str, Any]:
        """The ``search_document`` columns (without ``id`` and ``seq``)."""
        return {
            "kind": self.kind,
            "record_id": self.record_id,
            "listed": self.listed,
            "visibility": self.visibility,
            "language": self.language[:3],
            "title": self.title,
            "summary": self.summary,
            "codes": encode_codes(self.facets),
            "rating_level": self.rating_level,
            "rating_order": LEVEL_POSITION.get(self.rating_level or "", len(LEVEL_ORDER)),
            "published_at": self.published_at,
            "rated_at": self.rated_at,
            "published_ts": int(self.published_at.timestamp()) if self.published_at else 0,
            "rated_ts": int(self.rated_at.timestamp()) if self.rated_at else 0,
            "year": self.year,
        }


def build(connection: Connection, kind: str, ids: Sequence[int]) -> dict[int, Document]:
    """Documents of the records ``ids`` of ``kind`` that exist (a deleted one is missing)."""
    builder = _BUILDERS[kind]
    return builder(connection, list(ids)) if ids else {}


def _grouped(rows: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def _programmes(connection: Connection, ids: list[int]) -> dict[int, Document]:
    p = Programme.__table__.c
    rows = connection.execute(
        select(
            p.id,
            p.status,
            p.archived_at,
            p.visibility,
            p.content_language,
            p.title,
            p.summary,
            p.description,
            p.rating_level,
            p.published_at,
            p.provider_name,
        ).where(p.id.in_(ids))
    ).all()
    t = ProgrammeTerm.__table__.c
    terms = _grouped(
        connection.execute(
            select(t.programme_id, t.field, t.code)
            .where(t.programme_id.in_(ids))
            .order_by(t.programme_id, t.field, t.position)
        )
    )
    tr = ProgrammeTranslation.__table__.c
    translations = _grouped(
        connection.execute(
            select(tr.programme_id, tr.language, tr.title, tr.summary).where(
                tr.programme_id.in_(ids)
            )
        )
    )
    r = ProgrammeRating.__table__.c
    rated = dict(
        connection.execute(
            select(r.programme_id, func.max(r.created_at))
            .where(r.programme_id.in_(ids))
            .group_by(r.programme_id)
        ).all()
    )
    documents = {}
    for row in rows:
        facets: dict[str, list[str]] = defaultdict(list)
        for _, name, code in terms.get(row.id, []):
            if name in PROGRAMME_FACETS:
                facets[name].append(code)
        facets["rating"] = [row.rating_level or "not_rated"]
        parts = [
            Part(
                row.content_language or "",
                row.title,
                "\n".join(
                    value for value in (row.summary, row.description, row.provider_name) if value
                ),
            )
        ]
        parts += [
            Part(language, title or "", summary or "")
            for _, language, title, summary in translations.get(row.id, [])
        ]
        rated_at = rated.get(row.id)
        documents[row.id] = Document(
            kind="programme",
            record_id=row.id,
            listed=row.status == "published" and row.archived_at is None,
            visibility=row.visibility,
            language=row.content_language or "",
            title=row.title,
            summary=row.summary or "",
            parts=parts,
            facets=dict(facets),
            rating_level=row.rating_level or "not_rated",
            published_at=row.published_at,
            rated_at=_aware(rated_at) if isinstance(rated_at, datetime) else None,
            year=row.published_at.year if row.published_at else None,
        )
    return documents


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _evaluations(connection: Connection, ids: list[int]) -> dict[int, Document]:
    e = Evaluation.__table__.c
    rows = connection.execute(
        select(
            e.id,
            e.status,
            e.visibility,
            e.title,
            e.abstract,
            e.authors,
            e.venue,
            e.year,
            e.design,
            e.country,
            e.risk_of_bias,
            e.published_at,
        ).where(e.id.in_(ids))
    ).all()
    o = Outcome.__table__.c
    outcomes = _grouped(
        connection.execute(
            select(o.evaluation_id, o.name, o.kind)
            .where(o.evaluation_id.in_(ids))
            .order_by(o.evaluation_id, o.position)
        )
    )
    link = evaluation_programme.c
    linked = _grouped(
        connection.execute(
            select(link.evaluation_id, link.programme_id).where(link.evaluation_id.in_(ids))
        )
    )
    programme_ids = sorted({programme_id for rows_ in linked.values() for _, programme_id in rows_})
    t = ProgrammeTerm.__table__.c
    programme_groups = _grouped(
        connection.execute(
            select(t.programme_id, t.code).where(
                t.programme_id.in_(programme_ids), t.field == "target_groups"
            )
        )
        if programme_ids
        else []
    )
    groups = {
        evaluation_id: sorted(
            {
                code
                for _, programme_id in pairs
                for _, code in programme_groups.get(programme_id, [])
            }
        )
        for evaluation_id, pairs in linked.items()
    }
    documents = {}
    for row in rows:
        names = [name for _, name, _ in outcomes.get(row.id, [])]
        kinds = sorted({kind for _, _, kind in outcomes.get(row.id, [])})
        authors = "; ".join(str(author) for author in (row.authors or []))
        facets = {
            "target_groups": groups.get(row.id, []),
            "countries": [row.country] if row.country else [],
            "design": [row.design],
            "risk_of_bias": [row.risk_of_bias],
            "outcome_kinds": kinds,
            "year": [str(row.year)],
        }
        body = "\n".join(value for value in (row.abstract, *names, authors, row.venue) if value)
        documents[row.id] = Document(
            kind="evaluation",
            record_id=row.id,
            listed=row.status == "published",
            visibility=row.visibility,
            language="en",
            title=row.title,
            summary=row.abstract or "",
            parts=[Part("en", row.title, body)],
            facets={name: codes for name, codes in facets.items() if codes},
            published_at=row.published_at,
            year=row.year,
        )
    return documents


def _shown(visibility: dict[str, Any] | None, name: str) -> bool:
    """The profile field is shown to members (the rule of ``Member.field_visibility``)."""
    return bool((visibility or {}).get(name, "members") != "coordinators")


def _members(connection: Connection, ids: list[int]) -> dict[int, Document]:
    m = Member.__table__.c
    rows = connection.execute(
        select(
            m.id, m.full_name, m.status, m.country, m.member_type, m.bio, m.profile_visibility
        ).where(m.id.in_(ids))
    ).all()
    x = MemberExpertise.__table__.c
    expertise = _grouped(
        connection.execute(select(x.member_id, x.area).where(x.member_id.in_(ids)))
    )
    lang = MemberLanguage.__table__.c
    spoken = _grouped(
        connection.execute(select(lang.member_id, lang.language).where(lang.member_id.in_(ids)))
    )
    documents = {}
    for row in rows:
        visibility = row.profile_visibility if isinstance(row.profile_visibility, dict) else {}
        facets: dict[str, list[str]] = {}
        if row.country and _shown(visibility, "country"):
            facets["countries"] = [row.country]
        if _shown(visibility, "languages"):
            facets["languages"] = sorted(code for _, code in spoken.get(row.id, []))
        if _shown(visibility, "member_type"):
            facets["member_type"] = [row.member_type]
        if _shown(visibility, "expertise"):
            facets["expertise"] = sorted(area for _, area in expertise.get(row.id, []))
        bio = (row.bio or "") if _shown(visibility, "bio") else ""
        documents[row.id] = Document(
            kind="member",
            record_id=row.id,
            listed=row.status == "active",
            visibility="members",
            title=row.full_name,
            summary=bio,
            parts=[Part("", row.full_name, bio)],
            facets={name: codes for name, codes in facets.items() if codes},
        )
    return documents


def _organisations(connection: Connection, ids: list[int]) -> dict[int, Document]:
    o = Organisation.__table__.c
    rows = connection.execute(
        select(o.id, o.name, o.country, o.organisation_type).where(o.id.in_(ids))
    ).all()
    return {
        row.id: Document(
            kind="organisation",
            record_id=row.id,
            listed=True,
            visibility="members",
            title=row.name,
            parts=[Part("", row.name, "")],
            facets={"countries": [row.country], "organisation_type": [row.organisation_type]},
        )
        for row in rows
    }


_BUILDERS = {
    "programme": _programmes,
    "evaluation": _evaluations,
    "member": _members,
    "organisation": _organisations,
}
