"""Every query of the programme domain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.kit.pagination import Page, paginate
from app.members import permissions as member_permissions
from app.members.models import CoordinatorCountry, Member
from app.programmes.models import (
    ImplementationReport,
    Programme,
    ProgrammeMaintainer,
    ProgrammeTerm,
    ProgrammeTranslation,
    ProgrammeVersion,
)

# Catalogue filters: query parameter (= field name) -> several codes allowed.
FILTER_FIELDS = (
    "target_groups",
    "countries",
    "languages",
    "prevention_level",
    "settings",
    "delivery",
    "abuse_addressed",
    "target_subgroups",
)
SORTS = ("newest", "title", "updated", "evidence")


@dataclass
class CatalogueQuery:
    """What a catalogue request asks for; codes within a field are alternatives."""

    filters: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""
    sort: str = "newest"
    include_archived: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> CatalogueQuery:
        filters = {
            name: [code for code in params.get(name, []) if code][:50]
            for name in FILTER_FIELDS
            if any(params.get(name, []))
        }
        sort_values = list(params.get("sort", []))
        sort = sort_values[0] if sort_values and sort_values[0] in SORTS else "newest"
        text_values = list(params.get("q", []))
        archived = list(params.get("archived", []))
        return cls(
            filters=filters,
            text=(text_values[0] if text_values else "").strip()[:200],
            sort=sort,
            include_archived=bool(archived and archived[0] in ("1", "true", "on")),
        )


def listed_condition(viewer: Member | None):  # type: ignore[no-untyped-def]
    """The programmes ``viewer`` may find: published, and public unless a member looks."""
    condition = Programme.status == "published"
    if not member_permissions.is_member(viewer):
        condition = and_(condition, Programme.visibility == "public")
    return condition


def catalogue_statement(viewer: Member | None, query: CatalogueQuery) -> Select[Programme]:
    statement = select(Programme).where(listed_condition(viewer))
    if not query.include_archived:
        statement = statement.where(Programme.archived_at.is_(None))
    for name, codes in query.filters.items():
        statement = statement.where(
            exists().where(
                ProgrammeTerm.programme_id == Programme.id,
                ProgrammeTerm.field == name,
                ProgrammeTerm.code.in_(codes),
            )
        )
    if query.text:
        pattern = "%" + query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        statement = statement.where(
            or_(
                Programme.title.ilike(pattern, escape="\\"),
                Programme.summary.ilike(pattern, escape="\\"),
                exists().where(
                    ProgrammeTranslation.programme_id == Programme.id,
                    or_(
                        ProgrammeTranslation.title.ilike(pattern, escape="\\"),
                        ProgrammeTranslation.summary.ilike(pattern, escape="\\"),
                    ),
                ),
            )
        )
    if query.sort == "evidence":
        from app.evidence.rating import LEVEL_ORDER

        strength = case(
            {level: position for position, level in enumerate(LEVEL_ORDER)},
            value=Programme.rating_level,
            else_=len(LEVEL_ORDER),
        )
        statement = statement.order_by(strength, Programme.published_at.desc(), Programme.id.desc())
    elif query.sort == "title":
        statement = statement.order_by(func.lower(Programme.title), Programme.id)
    elif query.sort == "updated":
        statement = statement.order_by(Programme.content_updated_at.desc(), Programme.id.desc())
    else:
        statement = statement.order_by(Programme.published_at.desc(), Programme.id.desc())
    return statement


# Catalogue sorts the search index answers (it holds listed, unarchived programmes only).
_INDEXED_SORTS = {"newest": "newest", "evidence": "rating"}


def catalogue(
    session: Session, viewer: Member | None, query: CatalogueQuery, page: int, per_page: int
) -> Page[Programme]:
    """One page of the catalogue, with every programme's terms loaded.

    Filters, text, the newest and strongest-evidence sorts go through the search index
    (in-memory facets, full-text index: fast at any size); sorting by title or date of
    change and including archived programmes query the tables.
    """
    if not query.include_archived and query.sort in _INDEXED_SORTS:
        from app.search import service as search_service

        found = search_service.search(
            session,
            viewer,
            search_service.SearchQuery(
                text=query.text,
                kind="programme",
                filters=query.filters,
                sort=_INDEXED_SORTS[query.sort],
                page=page,
                per_page=per_page,
            ),
            load=False,
        )
        ids = [hit.record_id for hit in found.hits]
        records = search_service.load_records(session, "programme", ids)
        items = [records[i] for i in ids if i in records]
        return Page(items=items, total=found.total, page=page, per_page=per_page)
    statement = catalogue_statement(viewer, query).options(selectinload(Programme.terms))
    return paginate(session, statement, page, per_page)


def load(session: Session, programme_id: int) -> Programme | None:
    """A programme with its terms, translations and maintainers."""
    return session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(
            selectinload(Programme.terms),
            selectinload(Programme.translations),
            selectinload(Programme.maintainers),
        )
    )


def adaptations(session: Session, viewer: Member | None, programme_id: int) -> list[Programme]:
    """Listed programmes recorded as adaptations of this one."""
    return list(
        session.scalars(
            select(Programme)
            .where(Programme.adapted_from_id == programme_id, listed_condition(viewer))
            .options(selectinload(Programme.terms))
            .order_by(Programme.title)
        )
    )


def versions(session: Session, programme_id: int, *, all_states: bool) -> list[ProgrammeVersion]:
    """The versions of a programme, newest first: published ones, or all for its editors."""
    statement = select(ProgrammeVersion).where(ProgrammeVersion.programme_id == programme_id)
    if not all_states:
        statement = statement.where(ProgrammeVersion.state.in_(("published", "superseded")))
    return list(session.scalars(statement.order_by(ProgrammeVersion.number.desc())))


def review_queue(session: Session, countries: frozenset[str] | None) -> list[ProgrammeVersion]:
    """Submitted versions of programmes in ``countries`` (None: all), oldest first."""
    statement = (
        select(ProgrammeVersion)
        .join(Programme, Programme.id == ProgrammeVersion.programme_id)
        .where(ProgrammeVersion.state == "submitted")
        .order_by(ProgrammeVersion.submitted_at, ProgrammeVersion.id)
    )
    if countries is not None:
        statement = statement.where(
            exists().where(
                ProgrammeTerm.programme_id == Programme.id,
                ProgrammeTerm.field == "countries",
                ProgrammeTerm.code.in_(sorted(countries)),
            )
        )
    return list(session.scalars(statement))


def maintained_by(session: Session, member_id: int) -> list[Programme]:
    """The programmes a member maintains, most recently changed first."""
    return list(
        session.scalars(
            select(Programme)
            .join(ProgrammeMaintainer, ProgrammeMaintainer.programme_id == Programme.id)
            .where(ProgrammeMaintainer.member_id == member_id)
            .order_by(Programme.updated_at.desc(), Programme.id.desc())
        )
    )


def reports(
    session: Session, viewer: Member | None, programme_id: int
) -> list[ImplementationReport]:
    statement = select(ImplementationReport).where(
        ImplementationReport.programme_id == programme_id
    )
    if not member_permissions.is_member(viewer):
        statement = statement.where(ImplementationReport.visibility == "public")
    return list(
        session.scalars(
            statement.order_by(
                ImplementationReport.start_year.desc(), ImplementationReport.id.desc()
            )
        )
    )


def reviewers_of(session: Session, countries: Sequence[str]) -> list[Member]:
    """Coordinators in good standing who review a programme of ``countries``."""
    national = select(CoordinatorCountry.member_id).where(
        CoordinatorCountry.country.in_(sorted(countries))
    )
    return list(
        session.scalars(
            select(Member)
            .where(
                Member.role.in_(("coordinator", "admin")),
                Member.status == "active",
                Member.totp_enabled_at.is_not(None),
                or_(Member.id.in_(national), Member.coordinates_network.is_(True)),
            )
            .order_by(Member.id)
        )
    )
