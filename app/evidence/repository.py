"""Every query of the evidence pages: the list of evaluations, versions, the review queue."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.evidence.models import (
    DESIGNS,
    OUTCOME_KINDS,
    RISKS_OF_BIAS,
    Evaluation,
    EvaluationVersion,
    Outcome,
    evaluation_programme,
)
from app.kit.pagination import Page, paginate
from app.members import permissions as member_permissions
from app.members.models import Member
from app.programmes import repository as programme_repository
from app.programmes.models import Programme, ProgrammeTerm

SORTS = ("newest", "oldest", "title")
# Filters where several codes may be given; codes within one filter are alternatives.
CODE_FILTERS: dict[str, tuple[str, ...] | None] = {
    "design": DESIGNS,
    "risk_of_bias": RISKS_OF_BIAS,
    "country": None,  # any two-letter code; the vocabulary labels it
    "outcome_kind": OUTCOME_KINDS,
}
YEAR_MIN = 1000
YEAR_MAX = 9999
TEXT_MAX = 200
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _first(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = list(params.get(name, []))
    return values[0].strip() if values and values[0] is not None else ""


def _year(text: str) -> int | None:
    return int(text) if text.isdigit() and YEAR_MIN <= int(text) <= YEAR_MAX else None


def _id(text: str) -> int | None:
    # Beyond 63 bits no row exists; treat such a number as no filter at all.
    return int(text) if text.isdigit() and 0 < int(text) < 2**63 else None


@dataclass
class EvidenceQuery:
    """What a request of the evidence list asks for. Empty filters mean "any"."""

    design: list[str] = field(default_factory=list)
    risk_of_bias: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    outcome_kind: list[str] = field(default_factory=list)
    year: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    programme_id: int | None = None
    text: str = ""
    sort: str = "newest"

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> EvidenceQuery:
        """The query a multi-dict of parameters (a query string, a form) asks for.

        Unknown codes, impossible years and ids are dropped rather than refused: a list
        page shows what it can.
        """
        codes: dict[str, list[str]] = {}
        for name, allowed in CODE_FILTERS.items():
            chosen: list[str] = []
            for value in params.get(name, []):
                code = (value or "").strip()
                if name == "country":
                    code = code.upper()
                    if not _COUNTRY.fullmatch(code):
                        continue
                elif allowed is not None and code not in allowed:
                    continue
                if code not in chosen:
                    chosen.append(code)
            codes[name] = chosen[:50]
        sort = _first(params, "sort")
        return cls(
            design=codes["design"],
            risk_of_bias=codes["risk_of_bias"],
            country=codes["country"],
            outcome_kind=codes["outcome_kind"],
            year=_year(_first(params, "year")),
            year_from=_year(_first(params, "year_from")),
            year_to=_year(_first(params, "year_to")),
            programme_id=_id(_first(params, "programme_id")),
            text=" ".join(_first(params, "q").split())[:TEXT_MAX],
            sort=sort if sort in SORTS else "newest",
        )

    def to_params(self, *, with_sort: bool = True) -> list[tuple[str, str]]:
        """The query as parameters again (for links to other pages and exports)."""
        params: list[tuple[str, str]] = []
        for name in CODE_FILTERS:
            params.extend((name, code) for code in getattr(self, name))
        for name in ("year", "year_from", "year_to", "programme_id"):
            value = getattr(self, name)
            if value is not None:
                params.append((name, str(value)))
        if self.text:
            params.append(("q", self.text))
        if with_sort and self.sort != "newest":
            params.append(("sort", self.sort))
        return params

    @property
    def is_filtered(self) -> bool:
        return bool(self.to_params(with_sort=False))


def listed_condition(viewer: Member | None) -> ColumnElement[bool]:
    """The evaluations ``viewer`` may find: published, and public unless a member looks."""
    condition: ColumnElement[bool] = Evaluation.status == "published"
    if not member_permissions.is_member(viewer):
        condition = and_(condition, Evaluation.visibility == "public")
    return condition


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_condition(text: str) -> ColumnElement[bool]:
    """Title or authors contain ``text`` (case-insensitive for ASCII letters).

    Authors are a JSON list, searched in its text form. Depending on the database and
    the serialiser that text holds non-ASCII letters as themselves or as ``\\uXXXX``
    escapes, so both spellings of the search text are tried.
    """
    authors = cast(Evaluation.authors, Text)
    conditions = [
        Evaluation.title.ilike(_like(text), escape="\\"),
        authors.ilike(_like(text), escape="\\"),
    ]
    as_json = json.dumps(text)[1:-1]
    if as_json != text:
        conditions.append(authors.ilike(_like(as_json), escape="\\"))
    return or_(*conditions)


def evidence_statement(viewer: Member | None, query: EvidenceQuery) -> Select[Any]:
    """The listed evaluations ``query`` selects for ``viewer``, in the order it asks for."""
    statement = select(Evaluation).where(listed_condition(viewer))
    if query.design:
        statement = statement.where(Evaluation.design.in_(query.design))
    if query.risk_of_bias:
        statement = statement.where(Evaluation.risk_of_bias.in_(query.risk_of_bias))
    if query.country:
        statement = statement.where(Evaluation.country.in_(query.country))
    if query.outcome_kind:
        statement = statement.where(
            exists().where(
                Outcome.evaluation_id == Evaluation.id, Outcome.kind.in_(query.outcome_kind)
            )
        )
    if query.year is not None:
        statement = statement.where(Evaluation.year == query.year)
    if query.year_from is not None:
        statement = statement.where(Evaluation.year >= query.year_from)
    if query.year_to is not None:
        statement = statement.where(Evaluation.year <= query.year_to)
    if query.programme_id is not None:
        statement = statement.where(
            exists().where(
                evaluation_programme.c.evaluation_id == Evaluation.id,
                evaluation_programme.c.programme_id == query.programme_id,
            )
        )
    if query.text:
        statement = statement.where(_text_condition(query.text))
    if query.sort == "title":
        statement = statement.order_by(func.lower(Evaluation.title), Evaluation.id)
    elif query.sort == "oldest":
        statement = statement.order_by(Evaluation.year, Evaluation.id)
    else:
        statement = statement.order_by(
            Evaluation.year.desc(), Evaluation.published_at.desc(), Evaluation.id.desc()
        )
    return statement


def list_evaluations(
    session: Session, viewer: Member | None, query: EvidenceQuery, page: int, per_page: int
) -> Page[Evaluation]:
    """One page of the listed evaluations with their outcomes loaded (two queries)."""
    statement = evidence_statement(viewer, query).options(selectinload(Evaluation.outcomes))
    return paginate(session, statement, page, per_page)


def all_evaluations(
    session: Session, viewer: Member | None, query: EvidenceQuery, limit: int = 10_000
) -> list[Evaluation]:
    """Every listed evaluation ``query`` selects (for exports), outcomes loaded."""
    statement = (
        evidence_statement(viewer, query).options(selectinload(Evaluation.outcomes)).limit(limit)
    )
    return list(session.scalars(statement))


def programmes_of(
    session: Session, viewer: Member | None, evaluation_ids: Iterable[int]
) -> dict[int, list[Programme]]:
    """The programmes (visible to ``viewer``) each evaluation evaluates, by title; one query."""
    ids = sorted(set(evaluation_ids))
    found: dict[int, list[Programme]] = {evaluation_id: [] for evaluation_id in ids}
    if not ids:
        return found
    rows = session.execute(
        select(evaluation_programme.c.evaluation_id, Programme)
        .join(Programme, Programme.id == evaluation_programme.c.programme_id)
        .where(
            evaluation_programme.c.evaluation_id.in_(ids),
            programme_repository.listed_condition(viewer),
        )
        .order_by(func.lower(Programme.title), Programme.id)
    ).all()
    for evaluation_id, programme in rows:
        found[evaluation_id].append(programme)
    return found


def programmes_by_id(
    session: Session, viewer: Member | None, programme_ids: Iterable[int]
) -> list[Programme]:
    """Programmes by id that ``viewer`` may see (for a working version's snapshot)."""
    ids = sorted(set(programme_ids))
    if not ids:
        return []
    return list(
        session.scalars(
            select(Programme)
            .where(Programme.id.in_(ids), programme_repository.listed_condition(viewer))
            .order_by(func.lower(Programme.title), Programme.id)
        )
    )


def evaluations_for_programme(
    session: Session, viewer: Member | None, programme_id: int
) -> list[Evaluation]:
    """The listed evaluations of one programme, newest first, outcomes loaded."""
    return list(
        session.scalars(
            evidence_statement(viewer, EvidenceQuery(programme_id=programme_id)).options(
                selectinload(Evaluation.outcomes)
            )
        )
    )


def published_programme_choices(session: Session) -> list[tuple[int, str]]:
    """Every published programme as (id, title), for the programmes select of the form."""
    return [
        (programme_id, title)
        for programme_id, title in session.execute(
            select(Programme.id, Programme.title)
            .where(Programme.status == "published")
            .order_by(func.lower(Programme.title), Programme.id)
        ).all()
    ]


def versions(session: Session, evaluation_id: int, *, all_states: bool) -> list[EvaluationVersion]:
    """The versions of an evaluation, newest first: published ones, or all for its editors."""
    statement = select(EvaluationVersion).where(EvaluationVersion.evaluation_id == evaluation_id)
    if not all_states:
        statement = statement.where(EvaluationVersion.state.in_(("published", "superseded")))
    return list(session.scalars(statement.order_by(EvaluationVersion.number.desc())))


@dataclass(frozen=True)
class QueueItem:
    """A submitted version waiting for review, with who may review it."""

    version: EvaluationVersion
    evaluation: Evaluation
    # The study's country and the countries of the programmes the version names.
    countries: frozenset[str]


def review_queue(session: Session, countries: frozenset[str] | None) -> list[QueueItem]:
    """Submitted versions a coordinator of ``countries`` (None: the network) reviews.

    Oldest first. A version belongs to a country through the study's country or through
    a programme it evaluates (its snapshot names the programmes: a submitted evaluation
    is not linked to them until it is published). Three queries at most.
    """
    rows = session.execute(
        select(EvaluationVersion, Evaluation)
        .join(Evaluation, Evaluation.id == EvaluationVersion.evaluation_id)
        .where(EvaluationVersion.state == "submitted")
        .order_by(EvaluationVersion.submitted_at, EvaluationVersion.id)
    ).all()
    programme_ids: set[int] = set()
    for version, _evaluation in rows:
        programme_ids.update(_ids(version.data.get("programme_ids")))
    programme_countries: dict[int, set[str]] = {}
    if programme_ids:
        for programme_id, code in session.execute(
            select(ProgrammeTerm.programme_id, ProgrammeTerm.code).where(
                ProgrammeTerm.programme_id.in_(sorted(programme_ids)),
                ProgrammeTerm.field == "countries",
            )
        ).all():
            programme_countries.setdefault(programme_id, set()).add(code)
    queue: list[QueueItem] = []
    for version, evaluation in rows:
        scope: set[str] = set()
        country = version.data.get("country") or evaluation.country
        if country:
            scope.add(str(country))
        for programme_id in _ids(version.data.get("programme_ids")):
            scope.update(programme_countries.get(programme_id, ()))
        if countries is None or scope & countries:
            queue.append(QueueItem(version, evaluation, frozenset(scope)))
    return queue


def _ids(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, int) and not isinstance(item, bool)]
