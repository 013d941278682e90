"""The programme catalogue, the programme page, its history and its past versions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import DbSession, Viewer, load_viewer
from app.evidence import views as evidence_views
from app.kit import pagination
from app.kit.errors import NotFound
from app.kit.i18n import N_, _
from app.members import permissions as member_permissions
from app.members.models import Member
from app.members.profile_service import display_name
from app.organisations.models import Organisation
from app.programmes import attachments as programme_attachments
from app.programmes import content, repository, service
from app.programmes import reports as programme_reports
from app.programmes.deps import ProgrammeContext, ViewableProgramme
from app.programmes.models import Programme, ProgrammeVersion
from app.vocabularies import service as vocabularies
from app.vocabularies.builtin import VOCABULARIES
from app.web import render, wants_fragment

router = APIRouter(dependencies=[Depends(load_viewer)])

PER_PAGE = 20
# The filters the catalogue form offers, in the order it shows them.
FORM_FILTERS = (
    "target_groups",
    "countries",
    "languages",
    "prevention_level",
    "settings",
    "delivery",
)
SORT_LABELS = {
    "newest": N_("Newest first"),
    "title": N_("Title (A to Z)"),
    "updated": N_("Recently updated"),
    "evidence": N_("Strongest evidence first"),
}
STATUS_LABELS = {
    "draft": N_("Draft: not submitted yet"),
    "submitted": N_("Submitted: waiting for a coordinator's review"),
    "changes_requested": N_("Changes requested by a coordinator"),
    "published": N_("Published"),
    "rejected": N_("Rejected"),
}
VERSION_STATE_LABELS = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted for review"),
    "changes_requested": N_("Changes requested"),
    "published": N_("Current version"),
    "superseded": N_("Published earlier"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
PUBLISHED_STATES = ("published", "superseded")
# Scalar fields of the listed content, read from the programme row.
ROW_FIELDS = tuple(
    name
    for name in content.FIELDS
    if name not in VOCABULARIES and name not in ("translations", "attachment_ids")
)


# --- the catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    """An active filter, shown as a link that removes it."""

    label: str
    value: str
    href: str


def _multi_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _catalogue_href(pairs: Iterable[tuple[str, str]]) -> str:
    query = urlencode([(key, value) for key, value in pairs if value])
    return "/programmes" + ("?" + query if query else "")


def _query_pairs(query: repository.CatalogueQuery) -> list[tuple[str, str]]:
    """The query string that asks for ``query`` again (without the page)."""
    pairs: list[tuple[str, str]] = [
        (name, code) for name in repository.FILTER_FIELDS for code in query.filters.get(name, [])
    ]
    if query.text:
        pairs.append(("q", query.text))
    if query.sort != "newest":
        pairs.append(("sort", query.sort))
    if query.include_archived:
        pairs.append(("archived", "1"))
    return pairs


def _chips(query: repository.CatalogueQuery, terms: vocabularies.Snapshot) -> list[Chip]:
    pairs = _query_pairs(query)

    def without(pair: tuple[str, str]) -> str:
        return _catalogue_href(item for item in pairs if item != pair)

    chips = [
        Chip(
            label=vocabularies.vocabulary_label(name),
            value=terms.label(name, code),
            href=without((name, code)),
        )
        for name in repository.FILTER_FIELDS
        for code in query.filters.get(name, [])
    ]
    if query.text:
        chips.append(Chip(_("Text"), query.text, without(("q", query.text))))
    if query.include_archived:
        chips.append(Chip(_("Including"), _("archived programmes"), without(("archived", "1"))))
    return chips


@router.get("/programmes", name="programmes")
def catalogue(request: Request, session: DbSession, viewer: Viewer) -> Response:
    """The catalogue: filters, text, sort and pages; htmx asks for the results block only."""
    params = _multi_params(request)
    query = repository.CatalogueQuery.from_params(params)
    page_values = params.get("page") or [""]
    results = repository.catalogue(
        session, viewer, query, pagination.page_number(page_values[0]), PER_PAGE
    )
    terms = vocabularies.snapshot(session)
    pairs = _query_pairs(query)
    context = {
        "query": query,
        "results": results,
        "terms": terms,
        "chips": _chips(query, terms),
        "filters": [
            (
                name,
                vocabularies.vocabulary_label(name),
                terms.choices(name, keep=query.filters.get(name, [])),
                query.filters.get(name, []),
            )
            for name in FORM_FILTERS
        ],
        "sort_choices": [(code, _(label)) for code, label in SORT_LABELS.items()],
        "page_link": lambda number: _catalogue_href([*pairs, ("page", str(number))]),
        "clear_href": "/programmes",
        "is_fragment": wants_fragment(request),
    }
    return render(request, "programmes/catalogue.html", context, block="results")


# --- the programme page ------------------------------------------------------------------


@dataclass(frozen=True)
class Lineage:
    original: Programme | None
    adaptations: list[Programme]


def listed_content(programme: Programme) -> dict[str, Any]:
    """The content the programme row lists, in the shape of a version's data.

    Needs ``terms`` and ``translations`` loaded.
    """
    values: dict[str, Any] = {name: getattr(programme, name) for name in ROW_FIELDS}
    for name, multiple in VOCABULARIES.items():
        codes = programme.codes(name)
        values[name] = codes if multiple else (codes[0] if codes else None)
    values["translations"] = [
        {"language": entry.language, "title": entry.title, "summary": entry.summary}
        for entry in sorted(programme.translations, key=lambda entry: entry.language)
    ]
    return values


def target_groups(
    values: Mapping[str, Any], terms: vocabularies.Snapshot
) -> list[tuple[str, list[str]]]:
    """Each target group's label with the labels of the chosen subgroups under it."""
    groups = []
    subgroups = list(values.get("target_subgroups") or [])
    for group in values.get("target_groups") or []:
        under = [
            terms.label("target_subgroups", code)
            for code in subgroups
            if (term := terms.term("target_subgroups", code)) is not None
            and term.parent_code == group
        ]
        groups.append((terms.label("target_groups", group), under))
    return groups


def _provider(session: Session, values: Mapping[str, Any]) -> str | None:
    organisation_id = values.get("provider_organisation_id")
    if organisation_id is not None:
        organisation = session.get(Organisation, organisation_id)
        if organisation is not None:
            return organisation.name
    name = values.get("provider_name")
    return str(name) if name else None


def _original(session: Session, viewer: Member | None, original_id: int | None) -> Programme | None:
    """The programme a version adapts, if the viewer may find it."""
    if original_id is None:
        return None
    return session.scalar(
        select(Programme)
        .where(Programme.id == original_id, repository.listed_condition(viewer))
        .options(selectinload(Programme.terms))
    )


def _lineage(session: Session, viewer: Member | None, programme: Programme) -> Lineage:
    """The original and the adaptations the viewer may find, with their terms, in one query.

    The same programmes as ``repository.adaptations`` plus the original, read together
    because the programme page counts its queries.
    """
    related = Programme.adapted_from_id == programme.id
    if programme.adapted_from_id is not None:
        related = or_(related, Programme.id == programme.adapted_from_id)
    found = (
        session.scalars(
            select(Programme)
            .where(related, Programme.id != programme.id, repository.listed_condition(viewer))
            .options(joinedload(Programme.terms))
            .order_by(Programme.title, Programme.id)
        )
        .unique()
        .all()
    )
    original = next((item for item in found if item.id == programme.adapted_from_id), None)
    return Lineage(
        original=original,
        adaptations=[item for item in found if item.adapted_from_id == programme.id],
    )


def _shown_version_data(session: Session, ctx: ProgrammeContext) -> dict[str, Any]:
    """The snapshot the page shows: the published one, or the draft before publication."""
    published = service.published_version(session, ctx.programme)
    if published is not None:
        return dict(published.data)
    if ctx.working is not None:
        return dict(ctx.working.data)
    return {}


@router.get("/programmes/{programme_id:int}", name="programme")
def programme_page(request: Request, session: DbSession, ctx: ViewableProgramme) -> Response:
    """A programme laid out for a practitioner deciding whether to use it."""
    programme = ctx.programme
    values = listed_content(programme)
    version_data = _shown_version_data(session, ctx)
    lineage = _lineage(session, ctx.viewer, programme)
    terms = vocabularies.snapshot(session)
    context = {
        "ctx": ctx,
        "programme": programme,
        "values": values,
        "terms": terms,
        "groups": target_groups(values, terms),
        "provider": _provider(session, values),
        "lineage": lineage,
        "status_label": _(STATUS_LABELS.get(programme.status, programme.status)),
        "working_label": (
            _(VERSION_STATE_LABELS[ctx.working.state])
            if ctx.working is not None and ctx.working.state in VERSION_STATE_LABELS
            else None
        ),
        "attachments": programme_attachments.listed(session, programme, version_data),
        "reports": programme_reports.for_page(session, ctx.viewer, programme.id),
        "evidence": evidence_views.programme_evidence(session, ctx.viewer, programme),
    }
    return render(request, "programmes/detail.html", context)


# --- history and versions ----------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    version: ProgrammeVersion
    state_label: str
    is_published: bool
    submitter: str | None
    reviewer: str | None
    # The version listed before this one, which it is compared with (None: the first one).
    compared_with: ProgrammeVersion | None
    changes: list[content.FieldChange]


def _names(session: Session, member_ids: Iterable[int | None]) -> dict[int, str]:
    """Names of members by id, in one query ("Former member" for erased accounts)."""
    wanted = {member_id for member_id in member_ids if member_id is not None}
    if not wanted:
        return {}
    members = session.scalars(select(Member).where(Member.id.in_(sorted(wanted))))
    return {member.id: display_name(member) for member in members}


def _safe_changes(
    session: Session,
    viewer: Member | None,
    changes: list[content.FieldChange],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> list[content.FieldChange]:
    """The changes, with the title of an original programme only if the viewer may see it."""
    shown = []
    for change in changes:
        if change.field == "adapted_from_id":
            change = dataclasses.replace(
                change,
                before=_original_title(session, viewer, before.get("adapted_from_id")),
                after=_original_title(session, viewer, after.get("adapted_from_id")),
            )
        shown.append(change)
    return shown


def _original_title(session: Session, viewer: Member | None, original_id: Any) -> str:
    if original_id is None or original_id == "":
        return "—"
    title = session.scalar(
        select(Programme.title).where(
            Programme.id == int(original_id), repository.listed_condition(viewer)
        )
    )
    return title if title is not None else _("A programme that is not visible to you")


def _history(
    session: Session, ctx: ProgrammeContext, versions: Sequence[ProgrammeVersion]
) -> list[HistoryEntry]:
    names = _names(
        session,
        [version.submitted_by_id for version in versions]
        + [version.decided_by_id for version in versions],
    )
    oldest_first = sorted(versions, key=lambda version: version.number)
    entries: list[HistoryEntry] = []
    previous_published: ProgrammeVersion | None = None
    for version in oldest_first:
        is_published = version.state in PUBLISHED_STATES
        changes = (
            _safe_changes(
                session,
                ctx.viewer,
                content.compare(session, previous_published.data, version.data),
                previous_published.data,
                version.data,
            )
            if previous_published is not None
            else []
        )
        entries.append(
            HistoryEntry(
                version=version,
                state_label=_(VERSION_STATE_LABELS.get(version.state, version.state)),
                is_published=is_published,
                submitter=names.get(version.submitted_by_id or 0),
                reviewer=names.get(version.decided_by_id or 0),
                compared_with=previous_published,
                changes=changes,
            )
        )
        # Each version is compared with the one listed before it: for editors that includes
        # versions sent back or never published, so every step of a review shows.
        previous_published = version
    entries.reverse()
    return entries


def visible_versions(session: Session, ctx: ProgrammeContext) -> list[ProgrammeVersion]:
    """The versions the viewer may open, newest first.

    Editors see every version; others the published ones, and visitors only those that
    were public: a version published for members stays theirs after the programme opens up.
    """
    versions = repository.versions(session, ctx.programme.id, all_states=ctx.can_see_workflow)
    if ctx.can_see_workflow or member_permissions.is_member(ctx.viewer):
        return versions
    return [version for version in versions if version.data.get("visibility") != "members"]


@router.get("/programmes/{programme_id:int}/history", name="programme_history")
def history(request: Request, session: DbSession, ctx: ViewableProgramme) -> Response:
    """Every published version, newest first, each with what changed; editors see all."""
    versions = visible_versions(session, ctx)
    context = {
        "ctx": ctx,
        "programme": ctx.programme,
        "entries": _history(session, ctx, versions),
    }
    return render(request, "programmes/history.html", context)


@router.get("/programmes/{programme_id:int}/versions/{number:int}", name="programme_version")
def version_page(
    request: Request, session: DbSession, ctx: ViewableProgramme, number: int
) -> Response:
    """One version's content as it was; others than editors see published versions only."""
    versions = visible_versions(session, ctx)
    version = next((item for item in versions if item.number == number), None)
    if version is None:
        raise NotFound(_("This programme has no such version, or it is not visible to you."))
    values = {**content.empty_content(), **version.data}
    original_id = values.get("adapted_from_id")
    terms = vocabularies.snapshot(session)
    context = {
        "ctx": ctx,
        "programme": ctx.programme,
        "version": version,
        "version_date": version.published_at or version.updated_at or version.created_at,
        "state_label": _(VERSION_STATE_LABELS.get(version.state, version.state)),
        "is_current": version.id == ctx.programme.published_version_id,
        "values": values,
        "terms": terms,
        "groups": target_groups(values, terms),
        "provider": _provider(session, values),
        "original": _original(
            session, ctx.viewer, int(original_id) if original_id is not None else None
        ),
    }
    return render(request, "programmes/version.html", context)
