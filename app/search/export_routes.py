"""Downloads of a search's whole result set: ``/search/export.csv`` and ``/search/export.json``.

They take the same query parameters as the search page (which links to them:
``/search/export.csv?`` + ``SearchQuery.query_string()``), in the same order (``sort``);
``page`` and ``per_page`` are ignored, the whole result set is exported. They hold what the
viewer may find on the page, nothing more: members-only records only for members, member
profiles and organisations only for members, and a member's country or type only when the
member shows it to other members.

The body is streamed: the route runs the search once for the ordered record ids (at most
:data:`EXPORT_LIMIT` integers), then a generator loads the records :data:`CHUNK` at a time
and writes each chunk out before reading the next, so memory stays flat however many
records there are. The generator reads through its own session (a yield dependency with
the default request scope, closed only once the body has been sent): the request's
``DbSession`` is committed and closed before the response starts.

Formats:

- CSV: UTF-8 without a byte order mark, a header row, one row per record. A coded field
  has two columns, the codes and their labels in the reader's language (``countries`` and
  ``countries_labels``), several values joined by "; ". Cells that a spreadsheet would read
  as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) get a
  leading ``'``. Links are absolute URLs.
- JSON: one object ``{"type", "total", "limit", "truncated", "results": [...],
  "exported"}``, valid JSON even when nothing matched; coded fields as ``{"code",
  "label"}`` (or lists of them).

At most :data:`EXPORT_LIMIT` records are exported; when more match, the response has the
header ``X-Portal-Truncated: true`` (and ``X-Portal-Total`` always gives the number that
matched), and the JSON says ``"truncated": true``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import StreamingResponse

from app.auth.deps import DbSession, Viewer, load_viewer
from app.db import get_session
from app.members.models import Member
from app.search import labels, service
from app.search.api import (
    query_from_params,
    record_path,
    run_search,
    visible_programme_links,
)

router = APIRouter(dependencies=[Depends(load_viewer)])

EXPORT_LIMIT = 10_000
CHUNK = 500
# The session the body is read with: the default (request) scope keeps it open until the
# whole body has been sent; the request's DbSession is closed before the body starts.
StreamSession = Annotated[Session, Depends(get_session)]

PLURALS = {
    "programme": "programmes",
    "evaluation": "evaluations",
    "member": "members",
    "organisation": "organisations",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- what a row holds --------------------------------------------------------------------

Shape = Literal["plain", "code", "codes"]


@dataclass(frozen=True)
class Column:
    name: str
    shape: Shape = "plain"
    # The vocabulary (or fixed list) the codes come from; defaults to the column's name.
    vocabulary: str = ""


COLUMNS: dict[str, tuple[Column, ...]] = {
    "programme": (
        Column("id"),
        Column("title"),
        Column("url"),
        Column("summary"),
        Column("rating", "code"),
        Column("target_groups", "codes"),
        Column("target_subgroups", "codes"),
        Column("countries", "codes"),
        Column("languages", "codes"),
        Column("prevention_level", "code"),
        Column("settings", "codes"),
        Column("delivery", "codes"),
        Column("abuse_addressed", "code"),
        Column("published_at"),
    ),
    "evaluation": (
        Column("id"),
        Column("title"),
        Column("url"),
        Column("year"),
        Column("authors"),
        Column("venue"),
        Column("doi"),
        Column("design", "code"),
        Column("risk_of_bias", "code"),
        Column("country", "code", "countries"),
        Column("outcome_kinds", "codes"),
        Column("programme_ids"),
        Column("published_at"),
    ),
    "member": (
        Column("id"),
        Column("title"),
        Column("url"),
        Column("country", "code", "countries"),
        Column("member_type", "code"),
    ),
    "organisation": (
        Column("id"),
        Column("title"),
        Column("url"),
        Column("country", "code", "countries"),
        Column("organisation_type", "code"),
    ),
}

Labeller = Callable[[str, str], str]


def labeller(session: Session) -> Labeller:
    """``label(vocabulary, code)`` in the reader's language: the search page's facet labels."""
    return lambda vocabulary, code: labels.facet_label(session, vocabulary, code)


def _date(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def record_values(
    kind: str, record: Any, base_url: str, links: Mapping[int, list[int]]
) -> dict[str, Any]:
    """The values of a record's columns (codes as codes; labels are added when written)."""
    url = base_url + record_path(kind, record.id)
    if kind == "programme":
        return {
            "id": record.id,
            "title": record.title,
            "url": url,
            "summary": record.summary or "",
            "rating": record.rating_level or "not_rated",
            **{
                name: record.codes(name)
                for name in (
                    "target_groups",
                    "target_subgroups",
                    "countries",
                    "languages",
                    "settings",
                    "delivery",
                )
            },
            "prevention_level": record.prevention_level,
            "abuse_addressed": record.abuse_addressed,
            "published_at": _date(record.published_at),
        }
    if kind == "evaluation":
        return {
            "id": record.id,
            "title": record.title,
            "url": url,
            "year": record.year,
            "authors": [str(author) for author in record.authors or []],
            "venue": record.venue,
            "doi": record.doi,
            "design": record.design,
            "risk_of_bias": record.risk_of_bias,
            "country": record.country,
            "outcome_kinds": sorted({outcome.kind for outcome in record.outcomes}),
            "programme_ids": links.get(record.id, []),
            "published_at": _date(record.published_at),
        }
    if kind == "member":
        member: Member = record
        return {
            "id": member.id,
            "title": member.full_name,
            "url": url,
            "country": member.country if member.field_visibility("country") == "members" else None,
            "member_type": member.member_type
            if member.field_visibility("member_type") == "members"
            else None,
        }
    return {
        "id": record.id,
        "title": record.name,
        "url": url,
        "country": record.country,
        "organisation_type": record.organisation_type,
    }


# --- writing -----------------------------------------------------------------------------


def safe_cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    text = "; ".join(str(item) for item in value) if isinstance(value, list | tuple) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_header(kind: str) -> list[str]:
    names: list[str] = []
    for column in COLUMNS[kind]:
        names.append(column.name)
        if column.shape == "code":
            names.append(column.name + "_label")
        elif column.shape == "codes":
            names.append(column.name + "_labels")
    return names


def csv_row(kind: str, values: Mapping[str, Any], label: Labeller) -> list[str]:
    cells: list[str] = []
    for column in COLUMNS[kind]:
        value = values.get(column.name)
        vocabulary = column.vocabulary or column.name
        if column.shape == "code":
            cells += [safe_cell(value), safe_cell(label(vocabulary, value) if value else "")]
        elif column.shape == "codes":
            codes = list(value or [])
            cells += [safe_cell(codes), safe_cell([label(vocabulary, code) for code in codes])]
        else:
            cells.append(safe_cell(value))
    return cells


def json_item(kind: str, values: Mapping[str, Any], label: Labeller) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for column in COLUMNS[kind]:
        value = values.get(column.name)
        vocabulary = column.vocabulary or column.name
        if column.shape == "code":
            item[column.name] = (
                {"code": value, "label": label(vocabulary, value)} if value else None
            )
        elif column.shape == "codes":
            item[column.name] = [
                {"code": code, "label": label(vocabulary, code)} for code in value or []
            ]
        else:
            item[column.name] = value
    return item


@dataclass
class Export:
    """The ordered ids of a search's results and how to read them in chunks."""

    kind: str
    viewer: Member | None
    total: int
    record_ids: list[int]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.record_ids)

    def values(self, session: Session, base_url: str) -> Iterator[list[dict[str, Any]]]:
        """The column values of the records, one list per chunk (deleted ones left out)."""
        for start in range(0, len(self.record_ids), CHUNK):
            chunk = self.record_ids[start : start + CHUNK]
            records = service.load_records(session, self.kind, chunk)
            links = (
                visible_programme_links(session, self.viewer, chunk)
                if self.kind == "evaluation"
                else {}
            )
            yield [
                record_values(self.kind, records[record_id], base_url, links)
                for record_id in chunk
                if record_id in records
            ]


def prepare(session: Session, viewer: Member | None, request: Request) -> Export:
    """Run the search of the request's parameters for the first EXPORT_LIMIT ids."""
    query = query_from_params(request.query_params.multi_items())
    everything = replace(query, page=1, per_page=EXPORT_LIMIT)
    result = run_search(session, viewer, everything, load=False)
    return Export(
        kind=query.kind,
        viewer=viewer,
        total=result.total,
        record_ids=[hit.record_id for hit in result.hits],
    )


def _headers(export: Export, extension: str) -> dict[str, str]:
    filename = f"search-{PLURALS[export.kind]}-{date.today().isoformat()}.{extension}"
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        # Members-only records may be among them: no shared cache may keep them.
        "Cache-Control": "private, no-cache",
        "X-Portal-Total": str(export.total),
        "X-Portal-Truncated": "true" if export.truncated else "false",
    }


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


def csv_lines(export: Export, session: Session, base_url: str) -> Iterator[str]:
    """The CSV file, one piece per chunk of records."""
    label = labeller(session)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_header(export.kind))
    for chunk in export.values(session, base_url):
        for values in chunk:
            writer.writerow(csv_row(export.kind, values, label))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def json_pieces(export: Export, session: Session, base_url: str) -> Iterator[str]:
    """The JSON document, opened first, one piece per chunk of records, then closed."""
    label = labeller(session)
    yield (
        "{"
        + f'"type": {json.dumps(export.kind)}, "total": {export.total}, '
        + f'"limit": {EXPORT_LIMIT}, "truncated": {json.dumps(export.truncated)}, '
        + '"results": ['
    )
    exported = 0
    for chunk in export.values(session, base_url):
        pieces = []
        for values in chunk:
            separator = "," if exported else ""
            pieces.append(
                separator + json.dumps(json_item(export.kind, values, label), ensure_ascii=False)
            )
            exported += 1
        yield "\n".join(pieces)
    yield f'], "exported": {exported}}}\n'


@router.get("/search/export.csv", name="search_export_csv")
def export_csv(
    request: Request, session: DbSession, stream_session: StreamSession, viewer: Viewer
) -> StreamingResponse:
    """The whole result set of the search (up to EXPORT_LIMIT records) as CSV."""
    export = prepare(session, viewer, request)
    return StreamingResponse(
        csv_lines(export, stream_session, _base_url(request)),
        media_type="text/csv; charset=utf-8",
        headers=_headers(export, "csv"),
    )


@router.get("/search/export.json", name="search_export_json")
def export_json(
    request: Request, session: DbSession, stream_session: StreamSession, viewer: Viewer
) -> StreamingResponse:
    """The whole result set of the search (up to EXPORT_LIMIT records) as JSON."""
    export = prepare(session, viewer, request)
    return StreamingResponse(
        json_pieces(export, stream_session, _base_url(request)),
        media_type="application/json",
        headers=_headers(export, "json"),
    )
