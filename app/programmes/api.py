"""The programmes API under /api/v1: the catalogue, records, edits, workflow and versions.

The routes are thin: ``content.validate`` (through the service) checks every field,
``deps.load_context`` decides once what the caller may see and do, and the service runs the
workflow. Reading needs no account; members-only programmes exist only for members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

# One problem-details model for the whole API (it should move to app.kit).
from app.applications.schemas import Problem
from app.auth.api_deps import ApiCoordinator, Caller, api_member
from app.auth.deps import DbSession
from app.kit.api import (
    NothingToChange,
    Responses,
    bearer_scheme,
    problem_response,
    sent_token,
    split_codes,
)
from app.kit.errors import NotFound
from app.kit.i18n import _
from app.members import profile_service
from app.members.models import Member
from app.programmes import content, deps, repository, service
from app.programmes.deps import ProgrammeContext
from app.programmes.models import Programme, ProgrammeVersion
from app.programmes.schemas import (
    ProgrammeContentOut,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePage,
    ProgrammePatch,
    ReviewIn,
    StaleChange,
    StaleProblem,
    SubmitIn,
    ValidationProblem,
    VersionDetail,
    VersionList,
    VersionOut,
    WorkingVersionOut,
)
from app.vocabularies import service as vocabularies

router = APIRouter(prefix="/api/v1", tags=["programmes"], dependencies=[Depends(bearer_scheme)])

WriteMember = Annotated[Member, Depends(api_member("write"))]

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Codes per filter; more alternatives than this are not a search anyone types.
MAX_FILTER_CODES = 50
PUBLISHED_STATES = ("published", "superseded")


UNAUTHENTICATED: Responses = {401: problem_response("No valid token or session", Problem)}
FORBIDDEN: Responses = {
    403: problem_response(
        "Membership lapsed, the token's scope is too narrow, or not allowed", Problem
    )
}
NOT_FOUND: Responses = {
    404: problem_response("No such programme, or not visible to the caller", Problem)
}
INVALID: Responses = {
    422: problem_response("Invalid input: one entry per field under `errors`", ValidationProblem)
}
ETAG_HEADER = {
    "ETag": {
        "description": "The revision to send as If-Match with PATCH (only for those who may edit)",
        "schema": {"type": "string"},
    }
}
WRONG_STATE: Responses = {
    409: problem_response("The workflow step is not possible in the programme's state", Problem)
}


# --- reading -----------------------------------------------------------------------------


def _catalogue_filters(
    session: Session, given: Mapping[str, Sequence[str] | None]
) -> dict[str, list[str]]:
    """The filters asked for; an unknown code is an error naming the parameter."""
    terms = vocabularies.snapshot(session)
    filters: dict[str, list[str]] = {}
    errors: list[dict[str, Any]] = []
    for name in repository.FILTER_FIELDS:
        codes = split_codes(given.get(name))
        if not codes:
            continue
        if name == "countries":
            codes = [code.upper() for code in codes]
        elif name == "languages":
            codes = [code.lower() for code in codes]
        # Retired codes stay on older records, so they still filter.
        known = [term.code for term in terms.vocabulary(name)]
        try:
            terms.check(name, codes, keep=known)
        except vocabularies.UnknownCodes as problem:
            errors.append({"loc": ("query", name), "msg": problem.message, "type": "value_error"})
        filters[name] = codes[:MAX_FILTER_CODES]
    if errors:
        raise RequestValidationError(errors)
    return filters


def _full_content(data: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot with every field (older snapshots may lack newer fields)."""
    return ProgrammeContentOut.model_validate({**content.empty_content(), **data}).model_dump()


def _programme_out(
    programme: Programme,
    data: Mapping[str, Any],
    *,
    version: int | None,
    adaptation_ids: list[int],
    revision: str | None = None,
    working: WorkingVersionOut | None = None,
) -> ProgrammeOut:
    return ProgrammeOut.model_validate(
        {
            **_full_content(data),
            "id": programme.id,
            "status": programme.status,
            "published_at": programme.published_at,
            "content_updated_at": programme.content_updated_at,
            "archived": programme.is_archived,
            "archive_reason": programme.archive_reason,
            "adaptation_ids": adaptation_ids,
            "version": version,
            "revision": revision,
            "working_version": working,
        }
    )


def _changed_fields(
    session: Session, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[str]:
    return [change.field for change in content.compare(session, before, after)]


def _quoted(token: str) -> str:
    return f'"{token}"'


def _detail(session: Session, ctx: ProgrammeContext, response: Response) -> ProgrammeOut:
    """The programme as ``ctx.viewer`` sees it; editors also get the revision (and ETag)."""
    programme = ctx.programme
    all_versions = repository.versions(session, programme.id, all_states=True)
    published = next(
        (item for item in all_versions if item.id == programme.published_version_id), None
    )
    # The listed content: the published version's, else the draft's (or the last one's).
    listed = published or ctx.working or (all_versions[0] if all_versions else None)
    revision = None
    working = None
    if ctx.can_edit:
        base = ctx.working or published
        if base is not None:
            revision = service.version_token(base)
            response.headers["ETag"] = _quoted(revision)
        if ctx.working is not None:
            working = WorkingVersionOut(
                number=ctx.working.number,
                state=ctx.working.state,
                token=service.version_token(ctx.working),
                changes=_changed_fields(
                    session, published.data if published else None, ctx.working.data
                ),
            )
    return _programme_out(
        programme,
        listed.data if listed is not None else {},
        version=published.number if published else None,
        adaptation_ids=_adaptation_ids(session, ctx.viewer, [programme.id]).get(programme.id, []),
        revision=revision,
        working=working,
    )


def _published_versions(session: Session, ids: list[int]) -> dict[int, ProgrammeVersion]:
    if not ids:
        return {}
    found = session.scalars(select(ProgrammeVersion).where(ProgrammeVersion.id.in_(ids)))
    return {version.id: version for version in found}


def _adaptation_ids(
    session: Session, viewer: Member | None, programme_ids: list[int]
) -> dict[int, list[int]]:
    """The listed adaptations of each of ``programme_ids``, in one query."""
    adaptations: dict[int, list[int]] = {}
    if not programme_ids:
        return adaptations
    rows = session.execute(
        select(Programme.adapted_from_id, Programme.id)
        .where(
            Programme.adapted_from_id.in_(programme_ids),
            repository.listed_condition(viewer),
        )
        .order_by(Programme.title, Programme.id)
    )
    for original_id, adaptation_id in rows:
        if original_id is not None:
            adaptations.setdefault(original_id, []).append(adaptation_id)
    return adaptations


def _codes_query(description: str) -> Any:
    return Query(
        description=description + " Repeat the parameter or separate codes with commas; "
        "a programme matches if it has any of them."
    )


@router.get(
    "/programmes",
    response_model=ProgrammePage,
    summary="Search the catalogue",
    responses={**UNAUTHENTICATED, **INVALID},
)
def list_programmes(
    session: DbSession,
    caller: Caller,
    target_groups: Annotated[
        list[str] | None, _codes_query("Target group codes: offenders, parents, schools, children.")
    ] = None,
    countries: Annotated[
        list[str] | None, _codes_query("ISO 3166-1 alpha-2 codes, e.g. DE.")
    ] = None,
    languages: Annotated[list[str] | None, _codes_query("ISO 639-1 codes, e.g. de.")] = None,
    prevention_level: Annotated[
        list[str] | None, _codes_query("primary, secondary or tertiary.")
    ] = None,
    settings: Annotated[list[str] | None, _codes_query("Setting codes, e.g. school.")] = None,
    delivery: Annotated[list[str] | None, _codes_query("Delivery codes, e.g. helpline.")] = None,
    abuse_addressed: Annotated[list[str] | None, _codes_query("contact, online or both.")] = None,
    target_subgroups: Annotated[list[str] | None, _codes_query("Target subgroup codes.")] = None,
    q: Annotated[
        str, Query(max_length=200, description="Words in the title or summary (any language)")
    ] = "",
    sort: Annotated[
        Literal["newest", "title", "updated"],
        Query(description="newest (first published), title, or updated (content changed)"),
    ] = "newest",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[
        int, Query(ge=1, description=f"Default {DEFAULT_PER_PAGE}, at most {MAX_PER_PAGE}")
    ] = DEFAULT_PER_PAGE,
    archived: Annotated[bool, Query(description="Include archived programmes")] = False,
) -> ProgrammePage:
    """Published programmes the caller may see, filtered by codes (see /api/v1/vocabularies).

    Filters on different fields all apply; codes within one field are alternatives.
    Anonymous callers see public programmes only, in the items and in ``total``. The
    items carry no ``revision`` or ``working_version``: GET the programme to edit it.
    """
    viewer = caller.member
    filters = _catalogue_filters(
        session,
        {
            "target_groups": target_groups,
            "countries": countries,
            "languages": languages,
            "prevention_level": prevention_level,
            "settings": settings,
            "delivery": delivery,
            "abuse_addressed": abuse_addressed,
            "target_subgroups": target_subgroups,
        },
    )
    query = repository.CatalogueQuery(
        filters=filters, text=q.strip(), sort=sort, include_archived=archived
    )
    results = repository.catalogue(session, viewer, query, page, min(per_page, MAX_PER_PAGE))
    versions = _published_versions(
        session, [item.published_version_id for item in results.items if item.published_version_id]
    )
    adaptations = _adaptation_ids(session, viewer, [item.id for item in results.items])
    items = []
    for programme in results.items:
        published = versions.get(programme.published_version_id or 0)
        items.append(
            _programme_out(
                programme,
                published.data if published else {},
                version=published.number if published else None,
                adaptation_ids=adaptations.get(programme.id, []),
            )
        )
    return ProgrammePage(
        items=items, total=results.total, page=results.page, per_page=results.per_page
    )


@router.get(
    "/programmes/{programme_id}",
    response_model=ProgrammeOut,
    summary="One programme",
    responses={200: {"headers": ETAG_HEADER}, **UNAUTHENTICATED, **NOT_FOUND, **INVALID},
)
def get_programme(
    programme_id: int, session: DbSession, caller: Caller, response: Response
) -> ProgrammeOut:
    """The programme's listed content.

    Maintainers and reviewing coordinators also get ``revision`` (and the same value as the
    ETag header), to send with PATCH, and the ``working_version`` in progress.
    """
    ctx = deps.load_context(session, caller.member, programme_id)
    return _detail(session, ctx, response)


# --- writing -----------------------------------------------------------------------------


@router.post(
    "/programmes",
    response_model=ProgrammeOut,
    status_code=201,
    summary="Create a draft programme",
    responses={
        201: {
            "headers": {
                "Location": {"description": "The new programme", "schema": {"type": "string"}},
                **ETAG_HEADER,
            }
        },
        **UNAUTHENTICATED,
        **FORBIDDEN,
        **INVALID,
    },
)
def create_programme(
    body: ProgrammeIn, session: DbSession, member: WriteMember, response: Response
) -> ProgrammeOut:
    """A new draft, maintained by the caller (a token needs the write scope).

    Codes are checked against the vocabularies: an unknown code is refused with a 422
    naming the field and the allowed codes. Submit the draft for review to publish it.
    """
    programme = service.create(session, member, body.content())
    response.headers["Location"] = f"/api/v1/programmes/{programme.id}"
    return _detail(session, deps.load_context(session, member, programme.id), response)


def _stale_response(
    session: Session, programme: Programme, raw: Mapping[str, Any], stale: service.StaleEdit
) -> JSONResponse:
    """A 409 problem with the fields where the request and the saved version differ."""
    saved = stale.version.data
    yours, _errors = content.validate(session, raw, current=saved, programme_id=programme.id)
    problem = StaleProblem(
        title=_("Someone else saved this programme meanwhile"),
        detail=_(
            "Someone else saved this programme after you read it; nothing was saved. "
            "Compare the changes, then send your edit again with the current revision."
        ),
        revision=stale.token,
        changes=[
            StaleChange(
                field=change.field,
                label=change.label,
                yours=yours.get(change.field),
                saved=saved.get(change.field),
            )
            for change in stale.changes
        ],
    )
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=409,
        media_type="application/problem+json",
        headers={"ETag": _quoted(stale.token)},
    )


@router.patch(
    "/programmes/{programme_id}",
    response_model=ProgrammeOut,
    summary="Edit a programme",
    responses={
        200: {"headers": ETAG_HEADER},
        **UNAUTHENTICATED,
        **FORBIDDEN,
        **NOT_FOUND,
        409: {
            "description": "Someone saved in between: what differs, and the current revision",
            "model": StaleProblem,
        },
        **INVALID,
        428: problem_response("No revision sent (If-Match header or revision field)", Problem),
    },
)
def update_programme(
    programme_id: int,
    body: ProgrammePatch,
    session: DbSession,
    member: WriteMember,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(description="The ETag (revision) read with GET; or send the revision field"),
    ] = None,
) -> ProgrammeOut | JSONResponse:
    """Change the fields sent; the others keep their value (maintainers and reviewers).

    A draft (or a version sent back for changes) is changed in place. A published
    programme keeps its listed content: the edit goes into a new working version (see
    ``working_version``), which a coordinator reviews after you submit it. An edit based on
    an older revision is refused with 409 and the fields that differ.
    """
    ctx = deps.require_edit(deps.load_context(session, member, programme_id))
    token = sent_token(if_match, body.revision)
    raw = body.content()
    if not raw:
        raise NothingToChange(_("Send at least one field to change."))
    try:
        service.save(session, member, ctx.programme, raw, token)
    except service.StaleEdit as stale:
        return _stale_response(session, ctx.programme, raw, stale)
    return _detail(session, deps.load_context(session, member, programme_id), response)


@router.post(
    "/programmes/{programme_id}/submit",
    response_model=ProgrammeOut,
    summary="Submit for review",
    responses={**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **WRONG_STATE, **INVALID},
)
def submit_programme(
    programme_id: int,
    session: DbSession,
    member: WriteMember,
    response: Response,
    body: Annotated[SubmitIn | None, Body()] = None,
) -> ProgrammeOut:
    """Send the draft (or the edit in progress) to the coordinators (maintainers)."""
    ctx = deps.require_edit(deps.load_context(session, member, programme_id))
    service.submit(session, member, ctx.programme, body.comment if body else "")
    return _detail(session, deps.load_context(session, member, programme_id), response)


@router.post(
    "/programmes/{programme_id}/review",
    response_model=ProgrammeOut,
    summary="Decide on a submission",
    responses={**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **WRONG_STATE, **INVALID},
)
def review_programme(
    programme_id: int,
    body: ReviewIn,
    session: DbSession,
    coordinator: ApiCoordinator,
    response: Response,
) -> ProgrammeOut:
    """Approve, request changes or reject (coordinators of one of its countries; a token
    needs the coordinate scope). A comment is required unless approving; the submitter is
    told by e-mail."""
    ctx = deps.require_review(deps.load_context(session, coordinator, programme_id))
    service.review(session, coordinator, ctx.programme, body.decision, body.comment)
    return _detail(session, deps.load_context(session, coordinator, programme_id), response)


# --- versions ----------------------------------------------------------------------------


def _member_names(session: Session, versions: Sequence[ProgrammeVersion]) -> dict[int, str]:
    ids = {
        member_id
        for version in versions
        for member_id in (version.submitted_by_id, version.decided_by_id)
        if member_id is not None
    }
    if not ids:
        return {}
    found = session.scalars(select(Member).where(Member.id.in_(ids)))
    return {member.id: profile_service.display_name(member) for member in found}


def _version_out(
    session: Session,
    version: ProgrammeVersion,
    versions: Sequence[ProgrammeVersion],
    names: Mapping[int, str],
) -> dict[str, Any]:
    """A version and the fields it changed against the published version before it."""
    earlier = [
        item for item in versions if item.number < version.number and item.state in PUBLISHED_STATES
    ]
    previous = max(earlier, key=lambda item: item.number) if earlier else None

    def name(member_id: int | None) -> str | None:
        if member_id is None:
            return None
        return names.get(member_id, _("Former member"))

    return {
        "number": version.number,
        "state": version.state,
        "created_at": version.created_at,
        "submitted_at": version.submitted_at,
        "published_at": version.published_at,
        "decided_at": version.decided_at,
        "submitted_by": name(version.submitted_by_id),
        "decided_by": name(version.decided_by_id),
        "changes": _changed_fields(session, previous.data if previous else None, version.data),
    }


def _visible_versions(session: Session, ctx: ProgrammeContext) -> list[ProgrammeVersion]:
    """Every version for maintainers and reviewers; the published ones for others."""
    return repository.versions(session, ctx.programme.id, all_states=ctx.can_see_workflow)


@router.get(
    "/programmes/{programme_id}/versions",
    response_model=VersionList,
    summary="Version history",
    responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID},
)
def list_versions(programme_id: int, session: DbSession, caller: Caller) -> VersionList:
    """Versions newest first, with who submitted and decided and which fields changed.

    Everyone who may see the programme gets its published versions; maintainers and
    reviewers get drafts, submissions and rejected versions too.
    """
    ctx = deps.load_context(session, caller.member, programme_id)
    versions = _visible_versions(session, ctx)
    names = _member_names(session, versions)
    return VersionList(
        items=[
            VersionOut.model_validate(_version_out(session, version, versions, names))
            for version in versions
        ]
    )


@router.get(
    "/programmes/{programme_id}/versions/{number}",
    response_model=VersionDetail,
    summary="One version's content",
    responses={**UNAUTHENTICATED, **NOT_FOUND, **INVALID},
)
def get_version(
    programme_id: int, number: int, session: DbSession, caller: Caller
) -> VersionDetail:
    """The full content of one version, as codes."""
    ctx = deps.load_context(session, caller.member, programme_id)
    versions = _visible_versions(session, ctx)
    version = next((item for item in versions if item.number == number), None)
    if version is None:
        raise NotFound(_("This programme has no such version, or it is not visible to you."))
    names = _member_names(session, [version])
    return VersionDetail.model_validate(
        {
            **_version_out(session, version, versions, names),
            "content": _full_content(version.data),
        }
    )
