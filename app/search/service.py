"""One search across programmes, evaluations, members and organisations.

:class:`SearchQuery` is what a request asks for (the page, the API and saved searches read
it from the same query parameters); :func:`search` answers it for one viewer: the text goes
to the database's full-text index, filters, facet counts, sorting and paging to the facet
engine, and the page's records are loaded in one query. Visibility is applied before
anything is counted: a visitor who is not a member never sees members-only records, nor
counts that include them, and only members search members and organisations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlencode

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.db import database_name
from app.evidence.models import Evaluation
from app.kit.memo import Memo
from app.members import permissions as member_permissions
from app.members.models import Member
from app.organisations.models import Organisation
from app.programmes.models import Programme
from app.search import engine
from app.search import index as search_index
from app.search.backends import MAX_QUERY_CHARS, Terms, for_dialect
from app.search.documents import FACETS, fold
from app.search.models import KINDS, SearchDocument, document_id

SORTS = ("relevance", "rating", "newest")
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
MAX_CODES = 50
PUBLIC_KINDS = ("programme", "evaluation")
# Query parameters the API documents in the singular; the page uses the field names.
ALIASES = {
    "target_group": "target_groups",
    "subgroup": "target_subgroups",
    "country": "countries",
    "language": "languages",
    "setting": "settings",
    "outcome_kind": "outcome_kinds",
}


def kinds_for(viewer: Member | None) -> tuple[str, ...]:
    """What ``viewer`` may search: members also search members and organisations."""
    return KINDS if member_permissions.is_member(viewer) else PUBLIC_KINDS


def _int(values: Sequence[str], default: int, low: int, high: int) -> int:
    try:
        number = int(values[0]) if values else default
    except ValueError:
        return default
    return max(low, min(high, number))


@dataclass
class SearchQuery:
    """A search as query parameters: ``q``, ``type``, one parameter per facet, ``sort``,
    ``page`` and ``per_page``. Unknown parameters and out-of-range numbers are ignored."""

    text: str = ""
    kind: str = "programme"
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = ""
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    truncated: bool = False

    # The order of the parameters in a query string: these, the kind's facets, then these.
    _ORDER_HEAD: ClassVar[tuple[str, ...]] = ("q", "type")
    _ORDER_TAIL: ClassVar[tuple[str, ...]] = ("sort", "page", "per_page")

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> SearchQuery:
        raw = (list(params.get("q", [])) or [""])[0]
        kind = (list(params.get("type", [])) or ["programme"])[0]
        kind = kind if kind in KINDS else "programme"
        filters: dict[str, list[str]] = {}
        for name, values in params.items():
            canonical = ALIASES.get(name, name)
            if canonical not in FACETS[kind]:
                continue
            codes = [code.strip() for value in values for code in value.split(",")]
            chosen = filters.setdefault(canonical, [])
            for code in codes:
                if code and code not in chosen and len(chosen) < MAX_CODES:
                    chosen.append(code[:40])
        sort = (list(params.get("sort", [])) or [""])[0]
        return cls(
            text=raw[:MAX_QUERY_CHARS].strip(),
            kind=kind,
            filters={name: codes for name, codes in filters.items() if codes},
            sort=sort if sort in SORTS else "",
            page=_int(list(params.get("page", [])), 1, 1, MAX_PAGE),
            per_page=_int(list(params.get("per_page", [])), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
            truncated=len(raw) > MAX_QUERY_CHARS,
        )

    @property
    def effective_sort(self) -> str:
        """Relevance when there is text; else best evidence first for programmes."""
        if self.sort and (self.sort != "relevance" or self.text):
            return self.sort
        if self.text:
            return "relevance"
        return "rating" if self.kind == "programme" else "newest"

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query parameters of this search (with ``changes``), in a stable order."""
        values: dict[str, Any] = {
            "q": self.text,
            "type": self.kind,
            "sort": self.sort,
            "page": self.page if self.page != 1 else "",
            "per_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else "",
            **{name: list(codes) for name, codes in self.filters.items()},
        }
        values.update(changes)
        pairs: list[tuple[str, str]] = []
        for name in (*self._ORDER_HEAD, *FACETS[self.kind], *self._ORDER_TAIL):
            value = values.get(name)
            if isinstance(value, list | tuple):
                pairs += [(name, str(code)) for code in value]
            elif value not in (None, ""):
                if name == "type" and value == "programme":
                    continue
                pairs.append((name, str(value)))
        return pairs

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    def toggled(self, name: str, code: str) -> str:
        """The query string with ``code`` of facet ``name`` added or removed (page 1)."""
        codes = list(self.filters.get(name, []))
        codes = [c for c in codes if c != code] if code in codes else [*codes, code]
        return self.query_string(**{name: codes, "page": ""})

    def toggler(self, name: str) -> Callable[[str], str]:
        """``toggled`` for many codes of one field: the other parameters are encoded once.

        A page links every facet option (a hundred or more); this gives the same strings as
        :meth:`toggled` at a fraction of the cost.
        """
        order = {key: index for index, key in enumerate(self._ORDER_HEAD)}
        order.update({key: len(order) + index for index, key in enumerate(FACETS[self.kind])})
        order.update({key: len(order) + index for index, key in enumerate(self._ORDER_TAIL)})
        position = order[name]
        pairs = self.params(**{name: [], "page": ""})
        before = urlencode([pair for pair in pairs if order[pair[0]] < position])
        after = urlencode([pair for pair in pairs if order[pair[0]] > position])
        current = list(self.filters.get(name, []))

        def toggle(code: str) -> str:
            codes = [c for c in current if c != code] if code in current else [*current, code]
            middle = urlencode([(name, c) for c in codes])
            return "&".join(part for part in (before, middle, after) if part)

        return toggle


@dataclass
class Hit:
    kind: str
    record_id: int
    record: Any
    title: Markup
    snippet: Markup


@dataclass
class SearchResult:
    query: SearchQuery
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    # The state of the index answered from: (generation, seq), or None when the searching
    # transaction has documents of its own (then nothing about it may be remembered).
    version: tuple[int, int] | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    @property
    def first_number(self) -> int:
        return (self.query.page - 1) * self.query.per_page + 1 if self.hits else 0

    @property
    def last_number(self) -> int:
        return (self.query.page - 1) * self.query.per_page + len(self.hits) if self.hits else 0


def search(
    session: Session,
    viewer: Member | None,
    query: SearchQuery,
    *,
    since: datetime | None = None,
    load: bool = True,
) -> SearchResult:
    """One page of results for ``viewer`` (``kind`` must be one of :func:`kinds_for`).

    ``since``: only records published (or, for programmes, rated) from then on, for alerts.
    ``load``: load the page's records (an export reads them itself).
    """
    allowed = kinds_for(viewer)
    if query.kind not in allowed:
        raise PermissionError(query.kind)
    search_index.apply_pending(session)
    connection = session.connection()
    facet_engine = engine.engine_for(connection)
    snapshot = facet_engine.current(connection)
    public_only = not member_permissions.is_member(viewer)
    terms = Terms.parse(query.text)

    def scope() -> tuple[engine.Bools, engine.Scores | None]:
        base = engine.base_mask(snapshot, query.kind, public_only=public_only)
        if not terms:
            return base, None
        backend = for_dialect(connection.dialect.name)
        ids, scores = engine.remembered_match(
            snapshot,
            (query.kind, terms),
            lambda: backend.match(connection, terms, query.kind),
        )
        mask, score = engine.text_mask(snapshot, query.kind, ids, scores)
        return base & mask, score

    selection = engine.select_page(
        snapshot,
        query.kind,
        scope,
        query.filters,
        sort=query.effective_sort,
        offset=(query.page - 1) * query.per_page,
        limit=query.per_page,
        facet_fields=FACETS[query.kind],
        since=int(since.timestamp()) if since else None,
        # What the scope holds: the visibility and the words (the snapshot fixes the rest).
        remember=("public" if public_only else "members", terms),
    )
    hits = _hits(session, query.kind, selection.record_ids, terms) if load else []
    if not load:
        hits = [
            Hit(query.kind, record_id, None, Markup(""), Markup(""))
            for record_id in selection.record_ids
        ]
    shared = not connection.info.get(engine.UNCOMMITTED)
    return SearchResult(
        query=query,
        total=selection.total,
        hits=hits,
        facets=selection.facets,
        version=(snapshot.generation, snapshot.seq) if shared else None,
    )


_MODELS: dict[str, Any] = {
    "programme": Programme,
    "evaluation": Evaluation,
    "member": Member,
    "organisation": Organisation,
}


def load_records(session: Session, kind: str, record_ids: Sequence[int]) -> dict[int, Any]:
    """The records of one page, in one query (programmes with their terms)."""
    model = _MODELS[kind]
    statement = select(model).where(model.id.in_(list(record_ids)))
    if kind == "programme":
        statement = statement.options(selectinload(Programme.terms))
    elif kind == "evaluation":
        statement = statement.options(selectinload(Evaluation.outcomes))
    return {record.id: record for record in session.scalars(statement)}


@dataclass(frozen=True)
class Listing:
    """A programme or evaluation as a result shows it, read from its search document.

    A page of twenty results is then one query of plain rows instead of some four hundred
    ORM objects (records with their terms). The document changes in the same transaction
    as its record, so it is exactly as current; the names match the records' attributes,
    so templates and the API read either.
    """

    id: int
    seq: int  # the index's change counter when the document was written
    title: str
    summary: str
    content_language: str
    visibility: str
    rating_level: str | None
    year: int | None
    facet_codes: Mapping[str, tuple[str, ...]]  # shared: read only

    def codes(self, name: str) -> list[str]:
        return list(self.facet_codes.get(name, ()))

    def _first(self, name: str) -> str | None:
        codes = self.facet_codes.get(name)
        return codes[0] if codes else None

    @property
    def prevention_level(self) -> str | None:
        return self._first("prevention_level")

    @property
    def design(self) -> str | None:
        return self._first("design")

    @property
    def country(self) -> str | None:
        return self._first("countries")

    @property
    def abstract(self) -> str:
        return self.summary


def decode_codes(encoded: str) -> dict[str, tuple[str, ...]]:
    """The inverse of :func:`app.search.documents.encode_codes`."""
    codes: dict[str, list[str]] = {}
    for pair in encoded.split():
        name, _, code = pair.partition("=")
        codes.setdefault(name, []).append(code)
    return {name: tuple(values) for name, values in codes.items()}


_LISTING_COLUMNS = (
    "record_id",
    "seq",
    "title",
    "summary",
    "language",
    "visibility",
    "rating_level",
    "year",
    "codes",
)
# Listings by database, kind, record and document version (``seq``: a committed document's
# version is never given to other content).
_listings: Memo[Listing] = Memo(4096)  # about 2 KB each


def load_listings(session: Session, kind: str, record_ids: Sequence[int]) -> dict[int, Listing]:
    """The listings of programmes or evaluations from their search documents.

    The versions of the page's documents are read first (one small query); only documents
    not seen in that version are read in full and decoded (a second query). A transaction
    with documents of its own reads them in full, and keeps none.
    """
    d = SearchDocument.__table__.c
    # Flushed first: a pending change writes its documents now, and the transaction is
    # then known to have documents of its own.
    session.flush()
    connection = session.connection()
    wanted = [document_id(kind, record_id) for record_id in record_ids]
    shared = not connection.info.get(engine.UNCOMMITTED)
    database = database_name(connection)
    found: dict[int, Listing] = {}
    if shared and wanted:
        versions = session.execute(select(d.record_id, d.seq).where(d.id.in_(wanted)))
        wanted = []
        for record_id, seq in versions:
            kept = _listings.get((database, kind, record_id, seq))
            if kept is None:
                wanted.append(document_id(kind, record_id))
            else:
                found[record_id] = kept
    if wanted:
        columns = [d[name] for name in _LISTING_COLUMNS]
        for row in session.execute(select(*columns).where(d.id.in_(wanted))):
            listing = _listing(tuple(row))
            found[listing.id] = listing
            if shared:
                _listings.put((database, kind, listing.id, listing.seq), listing)
    return found


def _listing(row: tuple[Any, ...]) -> Listing:
    """A document row (the columns of ``_LISTING_COLUMNS``) as a listing."""
    record_id, seq, title, summary, language, visibility, rating_level, year, codes = row
    return Listing(
        id=record_id,
        seq=seq,
        title=title,
        summary=summary,
        content_language=language,
        visibility=visibility,
        rating_level=rating_level,
        year=year,
        facet_codes=decode_codes(codes),
    )


def _hits(session: Session, kind: str, record_ids: list[int], terms: Terms) -> list[Hit]:
    records: Mapping[int, Any] = (
        load_listings(session, kind, record_ids)
        if kind in ("programme", "evaluation")
        else load_records(session, kind, record_ids)
    )
    hits = []
    for record_id in record_ids:
        record = records.get(record_id)
        if record is None:  # removed since the snapshot was taken
            continue
        marked_title, marked_snippet = _marked(*_display(kind, record), terms)
        hits.append(
            Hit(
                kind=kind,
                record_id=record_id,
                record=record,
                title=marked_title,
                snippet=marked_snippet,
            )
        )
    return hits


@lru_cache(maxsize=4096)
def _marked(title: str, text: str, terms: Terms) -> tuple[Markup, Markup]:
    """A result's highlighted title and snippet; the same texts and words give the same
    markup, so a result shown again (another page, the next visitor) is not marked again."""
    return highlight(title, terms), snippet(text, terms)


def _display(kind: str, record: Any) -> tuple[str, str]:
    if kind == "programme":
        return record.title, record.summary or ""
    if kind == "evaluation":
        return record.title, record.abstract or ""
    if kind == "member":
        shown = record.field_visibility("bio") == "members"
        return record.full_name, (record.bio or "") if shown else ""
    return record.name, ""


# --- highlighting ---------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
SNIPPET_CHARS = 240


@lru_cache(maxsize=65_536)
def _fold_word(word: str) -> str:
    """``fold`` for the single words of highlighting (they repeat: remembered)."""
    return fold(word)


class _Matcher:
    """Whether a word of a text matches the query, remembered per word for one query."""

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.seen: dict[str, bool] = {}

    def __call__(self, token: str) -> bool:
        found = self.seen.get(token)
        if found is None:
            if len(self.seen) > 50_000:
                self.seen.clear()
            found = self.seen[token] = _matches(token, self.terms)
        return found


@lru_cache(maxsize=256)
def _matcher(terms: Terms) -> _Matcher:
    return _Matcher(terms)


def _matches(token: str, terms: Terms) -> bool:
    folded = _fold_word(token)
    for position, word in enumerate(terms.words):
        if folded == word:
            return True
        if terms.prefix and position == len(terms.words) - 1 and folded.startswith(word):
            return True
        # A stemmed match: "warning" finds "warn", "warnings" (same start, short ending).
        stem = word[: max(4, len(word) - 3)]
        if len(word) >= 4 and folded.startswith(stem) and abs(len(folded) - len(word)) <= 4:
            return True
    return False


def highlight(text: str, terms: Terms) -> Markup:
    """``text`` escaped, with the words that match the query in ``<mark>``."""
    if not terms:
        return escape(text)
    matches = _matcher(terms)
    out: list[str] = []
    last = 0
    for found in _TOKEN.finditer(text):
        if matches(found.group()):
            out.append(str(escape(text[last : found.start()])))
            out.append(f"<mark>{escape(found.group())}</mark>")
            last = found.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))  # noqa: S704  (every piece escaped above)


def snippet(text: str, terms: Terms, size: int = SNIPPET_CHARS) -> Markup:
    """A window of ``text`` around its first match, cut at word boundaries, highlighted."""
    text = " ".join(text.split())
    start = 0
    if terms:
        matches = _matcher(terms)
        for found in _TOKEN.finditer(text):
            if matches(found.group()):
                start = max(0, found.start() - size // 3)
                break
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = start + size
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    piece = text[start:end]
    prefix = "… " if start else ""
    suffix = " …" if end < len(text) else ""
    return Markup(prefix) + highlight(piece, terms) + Markup(suffix)  # noqa: S704
