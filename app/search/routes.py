"""The search page: one GET form over programmes, evaluations, members and organisations.

Everything is in the query string (app.search.service.SearchQuery), so a search can be
shared, bookmarked and restored by the back button, and the page works without JavaScript;
htmx asks for the results block only while the visitor types or ticks a facet.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qs

from fastapi import APIRouter
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import DbSession, Viewer
from app.db import database_name
from app.kit.i18n import N_, _, format_number, get_locale, ngettext
from app.kit.memo import Memo
from app.members import permissions as member_permissions
from app.search import labels
from app.search.backends import MAX_QUERY_CHARS
from app.search.documents import FACETS
from app.search.map import MapRow, europe_map_svg, map_table_rows
from app.search.service import (
    DEFAULT_PER_PAGE,
    SORTS,
    Listing,
    SearchQuery,
    SearchResult,
    kinds_for,
    search,
)
from app.vocabularies import service as vocabularies
from app.web import render, templates, wants_fragment

router = APIRouter()

SEARCH_PATH = "/search"
# Facets with many codes show the most frequent ones; the rest fold into a <details>.
LONG_FIELDS = frozenset({"countries", "languages"})
TOP_CODES = 8
# Page links shown on each side of the current page.
PAGE_WINDOW = 2

KIND_LABELS: dict[str, str] = {
    "programme": N_("Programmes"),
    "evaluation": N_("Evaluations"),
    "member": N_("Members"),
    "organisation": N_("Organisations"),
}
SORT_LABELS: dict[str, str] = {
    "relevance": N_("Best match"),
    "rating": N_("Strongest evidence first"),
    "newest": N_("Newest"),
}


@dataclass(frozen=True)
class FacetOption:
    code: str
    label: str
    count: int
    checked: bool
    href: str


@dataclass
class Facet:
    """One facet field: the options shown, and (long lists) the others under "more"."""

    name: str
    label: str
    options: list[FacetOption] = field(default_factory=list)
    more: list[FacetOption] = field(default_factory=list)


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    value: str
    href: str


@dataclass(frozen=True)
class Tab:
    kind: str
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap
    href: str
    current: bool


def _href(query_string: str) -> str:
    return SEARCH_PATH + ("?" + query_string if query_string else "")


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


def _query_for(request: Request, viewer: Viewer) -> SearchQuery:
    """The visitor's search; a kind the visitor may not search falls back to programmes."""
    params = _params(request)
    query = SearchQuery.from_params(params)
    if query.kind not in kinds_for(viewer):
        params["type"] = ["programme"]
        query = SearchQuery.from_params(params)
    if query.sort == "relevance":
        # The default (best match; without text, the strongest evidence first).
        query.sort = ""
    return query


def _order(session: Session, name: str, codes: list[str]) -> list[str]:
    """Codes in their natural order: the vocabulary's, the label table's, years descending."""
    if name == "year":
        return sorted(codes, key=lambda code: (-int(code) if code.isdigit() else 0, code))
    if name in labels.VOCABULARY_FIELDS:
        terms = vocabularies.snapshot(session)
        positions = {term.code: term.position for term in terms.vocabulary(name)}
        return sorted(codes, key=lambda code: (positions.get(code, 10_000), code))
    table = labels.CODE_LABELS.get(name)
    if table is not None:
        positions = {code: index for index, code in enumerate(table)}
        return sorted(codes, key=lambda code: (positions.get(code, 10_000), code))
    return sorted(codes)


def _facets(session: Session, query: SearchQuery, result: SearchResult) -> list[Facet]:
    facets = []
    for name in FACETS[query.kind]:
        counts = result.facets.get(name, {})
        chosen = query.filters.get(name, [])
        codes = list(counts) + [code for code in chosen if code not in counts]
        toggle = query.toggler(name)

        def option(
            code: str,
            name: str = name,
            counts: dict[str, int] = counts,
            chosen: list[str] = chosen,
            toggle: Callable[[str], str] = toggle,
        ) -> FacetOption:
            return FacetOption(
                code=code,
                label=labels.facet_label(session, name, code),
                count=counts.get(code, 0),
                checked=code in chosen,
                href=_href(toggle(code)),
            )

        facet = Facet(name=name, label=labels.field_label(name))
        if name in LONG_FIELDS:
            options = sorted(
                (option(code) for code in codes), key=lambda item: (-item.count, item.label)
            )
            top = options[:TOP_CODES]
            # A chosen code always stays in sight, so it can be removed.
            top += [item for item in options[TOP_CODES:] if item.checked]
            facet.options = top
            facet.more = sorted(
                (item for item in options[TOP_CODES:] if not item.checked),
                key=lambda item: item.label.casefold(),
            )
        else:
            facet.options = [option(code) for code in _order(session, name, codes)]
        if facet.options or facet.more:
            facets.append(facet)
    return facets


def _active_filters(session: Session, query: SearchQuery) -> list[ActiveFilter]:
    return [
        ActiveFilter(
            label=labels.field_label(name),
            value=labels.facet_label(session, name, code),
            href=_href(query.toggled(name, code)),
        )
        for name in FACETS[query.kind]
        for code in query.filters.get(name, [])
    ]


def _tabs(query: SearchQuery, viewer: Viewer) -> list[Tab]:
    """One link per kind the visitor may search; the text and sort are kept, filters not."""
    tabs = []
    for kind in kinds_for(viewer):
        changed = SearchQuery(text=query.text, kind=kind, per_page=query.per_page)
        tabs.append(
            Tab(
                kind=kind,
                label=_(KIND_LABELS[kind]),
                href=_href(changed.query_string()),
                current=kind == query.kind,
            )
        )
    return tabs


def _page_links(query: SearchQuery, pages: int) -> list[PageLink]:
    """Page 1, the pages around the current one, the last page; gaps between."""
    wanted = {1, pages, *range(query.page - PAGE_WINDOW, query.page + PAGE_WINDOW + 1)}
    numbers = sorted(number for number in wanted if 1 <= number <= pages)
    links: list[PageLink] = []
    previous = 0
    for number in numbers:
        if number - previous > 1:
            links.append(PageLink(None, "", False))
        links.append(PageLink(number, _href(query.query_string(page=number)), number == query.page))
        previous = number
    return links


def _count_text(result: SearchResult) -> str:
    return ngettext(
        "%(num)s result", "%(num)s results", result.total, num=format_number(result.total)
    )


def _map(query: SearchQuery, result: SearchResult) -> tuple[Markup, tuple[MapRow, ...]] | None:
    if query.kind != "programme":
        return None
    counts = result.facets.get("countries", {})
    return _drawn_map(tuple(sorted(counts.items())), query.query_string(page=""), get_locale())


@lru_cache(maxsize=256)
def _drawn_map(
    counts: tuple[tuple[str, int], ...], query_string: str, locale: str
) -> tuple[Markup, tuple[MapRow, ...]]:
    """The map of a search and its table (the same counts and query give the same drawing
    and rows: remembered)."""
    toggle = SearchQuery.from_params(parse_qs(query_string)).toggler("countries")

    def href(code: str) -> str:
        return _href(toggle(code))

    svg = europe_map_svg(
        dict(counts), href=href, title=_("Programmes per country"), id_prefix="search-map"
    )
    return svg, tuple(map_table_rows(dict(counts), href))


# Rendered facets and maps, by search and index state (see side_parts).
_parts: Memo[tuple[Markup, Markup]] = Memo(128)  # about 60 KB each


def side_parts(
    session: Session, viewer: Viewer, query: SearchQuery, result: SearchResult
) -> tuple[Markup, Markup]:
    """The facets and the map of a search, as HTML.

    They show counts, labels and links that depend only on the search (without its page),
    the reader's language, whether members-only records count, the state of the index and
    the vocabulary's wording: rendered once for those and remembered, so paging, sorting
    back and forth and the many visitors of the same search render them once. Nothing in
    them is personal (no token, no name).
    """
    terms = vocabularies.snapshot(session)
    key: Hashable = None
    if result.version is not None:
        key = (
            database_name(session.connection()),
            result.version,
            terms.edition,
            get_locale(),
            member_permissions.is_member(viewer),
            query.query_string(page=""),
        )
        kept = _parts.get(key)
        if kept is not None:
            return kept
    facets_html = Markup(  # noqa: S704  (a template with autoescaping)
        templates.env.get_template("search/_facets.html").render(
            facets=_facets(session, query, result)
        )
    )
    map_html = Markup(  # noqa: S704  (a template with autoescaping)
        templates.env.get_template("search/_map.html").render(search_map=_map(query, result))
    )
    if key is not None:
        _parts.put(key, (facets_html, map_html))
    return facets_html, map_html


# Rendered results, by record version, query text, language and vocabulary (see hits_html).
_hits: Memo[Markup] = Memo(4096)  # about 1.5 KB each


def hits_html(session: Session, result: SearchResult) -> list[Markup]:
    """The page's results as HTML (templates/search/_hit.html), one piece per result.

    A programme or evaluation is shown from its search document, whose ``seq`` changes with
    every rewrite: with the query's text (the highlighting), the language and the vocabulary's
    edition it decides the markup, which is remembered. Nothing in it depends on who looks
    (the "members only" badge is the record's). Members and organisations are rendered each
    time.
    """
    terms = vocabularies.snapshot(session)
    search_hit = templates.env.get_template("search/_hit.html").module.search_hit  # type: ignore[attr-defined]

    def facet_label(name: str, code: str) -> str:
        return labels.facet_label(session, name, code)

    database = database_name(session.connection())
    pieces = []
    for hit in result.hits:
        key: Hashable = None
        if result.version is not None and isinstance(hit.record, Listing):
            key = (
                database,
                hit.kind,
                hit.record_id,
                hit.record.seq,
                result.query.text,
                get_locale(),
                terms.edition,
            )
            kept = _hits.get(key)
            if kept is not None:
                pieces.append(kept)
                continue
        piece = Markup(search_hit(hit, terms, facet_label))  # noqa: S704  (autoescaped macro)
        if key is not None:
            _hits.put(key, piece)
        pieces.append(piece)
    return pieces


@router.get(SEARCH_PATH, name="search")
def search_page(request: Request, session: DbSession, viewer: Viewer) -> Response:
    """Search programmes and evidence (members also search members and organisations)."""
    query = _query_for(request, viewer)
    result = search(session, viewer, query)
    page_beyond_last = not result.hits and query.page > 1 and result.total > 0
    facets_html, map_html = side_parts(session, viewer, query, result)
    url = _href(query.query_string())
    context: dict[str, object] = {
        "query": query,
        "result": result,
        "url": url,
        "max_chars": MAX_QUERY_CHARS,
        "default_per_page": DEFAULT_PER_PAGE,
        "count_text": _count_text(result),
        "tabs": _tabs(query, viewer),
        "kind_label": _(KIND_LABELS[query.kind]),
        "sort_choices": [(code, _(SORT_LABELS[code])) for code in SORTS],
        "facets_html": facets_html,
        "hits_html": hits_html(session, result),
        "map_html": map_html,
        "active_filters": _active_filters(session, query),
        "clear_href": _href(SearchQuery(kind=query.kind).query_string()),
        "page_links": _page_links(query, result.pages) if result.pages > 1 else [],
        "previous_href": (
            _href(query.query_string(page=query.page - 1))
            if 1 < query.page <= result.pages
            else None
        ),
        "next_href": (
            _href(query.query_string(page=query.page + 1)) if query.page < result.pages else None
        ),
        "first_page_href": _href(query.query_string(page="")),
        "page_beyond_last": page_beyond_last,
        "is_fragment": wants_fragment(request),
    }
    response = render(request, "search/index.html", context, block="results")
    if wants_fragment(request):
        # The address bar holds the whole search, in its canonical form.
        response.headers["HX-Push-Url"] = url
    return response
