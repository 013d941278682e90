"""The search API under /api/v1: one search across programmes, evaluations, members and
organisations, with facet counts.

The route is thin: :meth:`SearchQuery.from_params` reads the same query parameters as the
search page (so a page's URL can be replayed against the API), :func:`service.search`
applies visibility, text, filters, sorting and paging, and this module turns the page's hits
into JSON. Reading needs no account: anonymous callers find public programmes and
evaluations only, and nothing members-only is counted in ``total`` or ``facets``; members
(a Bearer token or the browser's session) also find members-only records, member profiles
and organisations.

Unknown facet codes are not an error: like on the page, a code nobody uses simply matches
nothing (a vocabulary may gain the code later, and a shared URL should keep working).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import unescape
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Query
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request

from app.applications.schemas import Problem
from app.auth.api_deps import Caller
from app.auth.deps import DbSession, MembershipLapsed, SignInRequired
from app.db import database_name
from app.evidence.models import evaluation_programme
from app.kit.api import Responses, bearer_scheme, problem_response
from app.kit.errors import PermissionDenied
from app.kit.i18n import N_
from app.kit.memo import Memo
from app.members import permissions as member_permissions
from app.members import profile_service
from app.members.models import Member
from app.programmes import repository as programme_repository
from app.programmes.models import Programme
from app.search import labels, service
from app.search.schemas import (
    EvaluationResult,
    MemberResult,
    NormalisedQuery,
    OrganisationResult,
    ProgrammeResult,
    SearchPage,
    SearchRating,
)
from app.search.service import DEFAULT_PER_PAGE, MAX_PER_PAGE, SearchQuery, SearchResult

router = APIRouter(prefix="/api/v1", tags=["search"], dependencies=[Depends(bearer_scheme)])

Sort = Literal["relevance", "rating", "newest"]
UNAUTHENTICATED: Responses = {
    401: problem_response(
        "Not signed in (type=member or organisation), or the token is not valid", Problem
    )
}
FORBIDDEN: Responses = {
    403: problem_response(
        "type=member or organisation by someone who is not a member in good standing", Problem
    )
}
INVALID: Responses = {422: problem_response("A parameter is not valid (type, sort, page)", Problem)}

_MEMBERS_ONLY = N_("Only members of the network can search members and organisations.")


# --- the query ---------------------------------------------------------------------------


def _codes(description: str) -> Any:
    return Query(
        description=description + " Repeat the parameter or separate codes with commas; a "
        "record matches if it has any of them. An unknown code matches nothing."
    )


CodeList = list[str] | None


def search_parameters(
    request: Request,
    q: Annotated[
        str,
        Query(
            description="Words to find, in any language (titles, summaries, descriptions, "
            "outcomes, translations). Operators are not interpreted; longer than 500 "
            "characters is cut (``truncated``). Empty: browse with the filters."
        ),
    ] = "",
    type: Annotated[
        Literal["programme", "evaluation", "member", "organisation"],
        Query(description="What to search; member and organisation for members only"),
    ] = "programme",
    target_groups: Annotated[CodeList, _codes("Target group codes (alias target_group).")] = None,
    target_group: Annotated[CodeList, _codes("Alias of target_groups.")] = None,
    target_subgroups: Annotated[CodeList, _codes("Target subgroup codes (alias subgroup).")] = None,
    subgroup: Annotated[CodeList, _codes("Alias of target_subgroups.")] = None,
    countries: Annotated[
        CodeList, _codes("ISO 3166-1 alpha-2 codes, e.g. DE (alias country).")
    ] = None,
    country: Annotated[CodeList, _codes("Alias of countries.")] = None,
    languages: Annotated[CodeList, _codes("ISO 639-1 codes, e.g. de (alias language).")] = None,
    language: Annotated[CodeList, _codes("Alias of languages.")] = None,
    prevention_level: Annotated[CodeList, _codes("primary, secondary or tertiary.")] = None,
    settings: Annotated[CodeList, _codes("Setting codes (alias setting).")] = None,
    setting: Annotated[CodeList, _codes("Alias of settings.")] = None,
    delivery: Annotated[CodeList, _codes("Delivery codes.")] = None,
    abuse_addressed: Annotated[CodeList, _codes("contact, online or both.")] = None,
    rating: Annotated[
        CodeList, _codes("Evidence rating levels of programmes, e.g. effective, not_rated.")
    ] = None,
    design: Annotated[CodeList, _codes("Evaluation designs, e.g. rct.")] = None,
    risk_of_bias: Annotated[CodeList, _codes("Risk of bias of evaluations, e.g. low.")] = None,
    outcome_kinds: Annotated[
        CodeList, _codes("Outcome kinds of evaluations (alias outcome_kind).")
    ] = None,
    outcome_kind: Annotated[CodeList, _codes("Alias of outcome_kinds.")] = None,
    year: Annotated[CodeList, _codes("Years of evaluations, e.g. 2021.")] = None,
    member_type: Annotated[CodeList, _codes("Member types (members only).")] = None,
    expertise: Annotated[CodeList, _codes("Expertise areas (members only).")] = None,
    organisation_type: Annotated[CodeList, _codes("Organisation types (members only).")] = None,
    sort: Annotated[
        Literal["relevance", "rating", "newest"] | None,
        Query(
            description="relevance (needs q), rating (strongest evidence first) or newest; "
            "default: relevance with q, else rating for programmes and newest otherwise"
        ),
    ] = None,
    page: Annotated[
        int,
        Query(ge=1, description="From 1; a page beyond the last is empty (total stays right)"),
    ] = 1,
    per_page: Annotated[
        int,
        Query(
            ge=1,
            description=f"Results per page: default {DEFAULT_PER_PAGE}, at most "
            f"{MAX_PER_PAGE} (larger values are capped to {MAX_PER_PAGE})",
        ),
    ] = DEFAULT_PER_PAGE,
) -> SearchQuery:
    """The search the query parameters ask for (the declared parameters document and check
    them; the search page's own reading of them decides, so both agree)."""
    return query_from_params(request.query_params.multi_items())


def query_from_params(items: Iterable[tuple[str, str]]) -> SearchQuery:
    """A :class:`SearchQuery` from query parameter pairs; country codes upper case and
    language codes lower case, as the vocabularies hold them."""
    params: dict[str, list[str]] = {}
    for name, value in items:
        if name in ("countries", "country"):
            value = value.upper()
        elif name in ("languages", "language"):
            value = value.lower()
        params.setdefault(name, []).append(value)
    return SearchQuery.from_params(params)


SearchParameters = Annotated[SearchQuery, Depends(search_parameters)]


def check_kind(viewer: Member | None, query: SearchQuery) -> None:
    """Members and organisations are for members: 401 when not signed in, else 403."""
    if query.kind in service.kinds_for(viewer):
        return
    if viewer is None:
        raise SignInRequired(_MEMBERS_ONLY)
    if viewer.status == "lapsed":
        raise MembershipLapsed()
    raise PermissionDenied(_MEMBERS_ONLY)


def run_search(
    session: Session, viewer: Member | None, query: SearchQuery, *, load: bool = True
) -> SearchResult:
    """:func:`service.search` with the permission check turned into the right error."""
    check_kind(viewer, query)
    try:
        return service.search(session, viewer, query, load=load)
    except PermissionError as refused:  # kinds_for changed its mind: same answer
        raise PermissionDenied(_MEMBERS_ONLY) from refused


# --- the answer --------------------------------------------------------------------------


def record_path(kind: str, record_id: int) -> str:
    """The page of a record (organisations: the directory of their members)."""
    if kind == "programme":
        return f"/programmes/{record_id}"
    if kind == "evaluation":
        return f"/evaluations/{record_id}"
    if kind == "member":
        return f"/directory/{record_id}"
    return f"/directory?organisation={record_id}"


_MARKED = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def highlighted_words(*pieces: Markup) -> list[str]:
    """The words in ``<mark>`` in highlighted text, each once, in order of appearance."""
    words = [unescape(found) for piece in pieces for found in _MARKED.findall(str(piece))]
    return list(dict.fromkeys(words))


def plain(text: Markup) -> str:
    """Highlighted, escaped text as plain text."""
    return unescape(re.sub(r"</?mark>", "", str(text)))


def visible_programme_links(
    session: Session, viewer: Member | None, evaluation_ids: Sequence[int]
) -> dict[int, list[int]]:
    """The linked programmes of each evaluation that ``viewer`` may see, in one query."""
    links: dict[int, list[int]] = {}
    if not evaluation_ids:
        return links
    link = evaluation_programme.c
    # The page's links first, then which of their programmes are listed: two small lookups
    # (as one join, SQLite without statistics started from every listed programme).
    pairs = session.execute(
        select(link.evaluation_id, link.programme_id)
        .where(link.evaluation_id.in_(list(evaluation_ids)))
        .order_by(link.evaluation_id, link.programme_id)
    ).all()
    linked = sorted({programme_id for _, programme_id in pairs})
    visible = (
        set(
            session.scalars(
                select(Programme.id).where(
                    Programme.id.in_(linked), programme_repository.listed_condition(viewer)
                )
            )
        )
        if linked
        else set()
    )
    rows = [(e, p) for e, p in pairs if p in visible]
    for evaluation_id, programme_id in rows:
        links.setdefault(evaluation_id, []).append(programme_id)
    return links


def _result(hit: service.Hit, links: Mapping[int, list[int]]) -> Any:
    common: dict[str, Any] = {
        "id": hit.record_id,
        "title": plain(hit.title),
        "snippet": plain(hit.snippet),
        "highlights": highlighted_words(hit.title, hit.snippet),
        "url": record_path(hit.kind, hit.record_id),
    }
    record = hit.record
    if hit.kind == "programme":
        return ProgrammeResult(
            **common,
            target_groups=record.codes("target_groups"),
            countries=record.codes("countries"),
            languages=record.codes("languages"),
            prevention_level=record.prevention_level,
            rating=SearchRating(
                level=record.rating_level or "not_rated",
                label=labels.code_label("rating", record.rating_level or "not_rated"),
            ),
        )
    if hit.kind == "evaluation":
        return EvaluationResult(
            **common,
            year=record.year,
            design=record.design,
            country=record.country,
            programme_ids=links.get(record.id, []),
        )
    if hit.kind == "member":
        return MemberResult(
            **common,
            name=profile_service.display_name(record),
            country=record.country if record.field_visibility("country") == "members" else None,
        )
    return OrganisationResult(**common, name=record.name, country=record.country)


# The visible programme links of a page of evaluations, by database, index state, the
# viewer's right to members-only programmes and the page's evaluations.
_page_links: Memo[dict[int, list[int]]] = Memo(256)


def _links(session: Session, viewer: Member | None, result: SearchResult) -> dict[int, list[int]]:
    """:func:`visible_programme_links` of the page, kept while the index state is the same.

    A link, and a programme's status or visibility, change only with a document of the
    index (an evaluation's or a programme's), so with each new state (``result.version``).
    """
    ids = [hit.record_id for hit in result.hits]
    if result.version is None:
        return visible_programme_links(session, viewer, ids)
    key = (
        database_name(session.connection()),
        result.version,
        member_permissions.is_member(viewer),
        tuple(ids),
    )
    links = _page_links.get(key)
    if links is None:
        links = visible_programme_links(session, viewer, ids)
        _page_links.put(key, links)
    return links


def search_page(session: Session, viewer: Member | None, result: SearchResult) -> SearchPage:
    """The API's answer for one page of results."""
    query = result.query
    links = _links(session, viewer, result) if query.kind == "evaluation" else {}
    return SearchPage(
        query=NormalisedQuery(
            q=query.text,
            type=query.kind,
            filters=query.filters,
            sort=cast(Sort, query.effective_sort),  # one of service.SORTS
            page=query.page,
            per_page=query.per_page,
        ),
        type=query.kind,
        total=result.total,
        page=query.page,
        per_page=query.per_page,
        pages=result.pages,
        results=[_result(hit, links) for hit in result.hits],
        facets=result.facets,
        truncated=query.truncated,
    )


@router.get(
    "/search",
    response_model=SearchPage,
    summary="Search programmes, evaluations, members and organisations",
    responses={**UNAUTHENTICATED, **FORBIDDEN, **INVALID},
)
def search(session: DbSession, caller: Caller, query: SearchParameters) -> SearchPage:
    """One page of results with the facet counts of the whole result set.

    Anonymous callers find published public programmes and evaluations; members (Bearer
    token or browser session) also members-only records, and with ``type=member`` or
    ``type=organisation`` member profiles and organisations. Nothing the caller may not see
    is counted in ``total`` or ``facets``. ``per_page`` is capped at 100; a page beyond the
    last is empty with the right ``total``; an unknown facet code matches nothing.
    """
    result = run_search(session, caller.member, query)
    return search_page(session, caller.member, result)
