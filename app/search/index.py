"""Keeping the index in step with the records, in the same transaction.

Every flush that adds, changes or deletes a programme, evaluation, member or organisation (or
a row that belongs to one: translations, terms, outcomes, expertise, languages) marks the
record; after the flush, and before a commit, the marked records' documents are rebuilt
from the tables and written with the next change number. Writes that bypass the unit of
work (bulk statements) call :func:`mark` themselves. :func:`refresh` is also what
``portal generate`` and ``portal db upgrade`` (:func:`rebuild`) use, in batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, event, inspect, select, text, update
from sqlalchemy.orm import Session, UOWTransaction

from app.evidence.models import Evaluation, Outcome, evaluation_programme
from app.members.models import Member, MemberExpertise, MemberLanguage
from app.organisations.models import Organisation
from app.programmes.models import Programme, ProgrammeTerm, ProgrammeTranslation
from app.search import documents
from app.search.backends import for_dialect
from app.search.engine import PRIVATE, UNCOMMITTED
from app.search.models import KINDS, SearchDocument, SearchState, document_id

# Bump when documents change shape: ``portal db upgrade`` then rebuilds the index.
INDEX_VERSION = 1
BATCH = 2_000
_PENDING = "search_pending"

Key = tuple[str, int]

_TRACKED: dict[type, Callable[[Any], Key]] = {
    Programme: lambda o: ("programme", o.id),
    ProgrammeTranslation: lambda o: ("programme", o.programme_id),
    ProgrammeTerm: lambda o: ("programme", o.programme_id),
    Evaluation: lambda o: ("evaluation", o.id),
    Outcome: lambda o: ("evaluation", o.evaluation_id),
    Member: lambda o: ("member", o.id),
    MemberExpertise: lambda o: ("member", o.member_id),
    MemberLanguage: lambda o: ("member", o.member_id),
    Organisation: lambda o: ("organisation", o.id),
}
# A member row changes at every sign-in; only these columns are in the member's document.
_MEMBER_COLUMNS = ("full_name", "status", "country", "member_type", "bio", "profile_visibility")


def _documents() -> Table:
    return cast(Table, SearchDocument.__table__)


def _state() -> Table:
    return cast(Table, SearchState.__table__)


def mark(session: Session, kind: str, record_id: int) -> None:
    """Rebuild this record's document before the transaction commits."""
    session.info.setdefault(_PENDING, set()).add((kind, record_id))


def _relevant(obj: object) -> bool:
    if not isinstance(obj, Member):
        return True
    state = inspect(obj)
    if state.pending or state.deleted or not state.persistent:
        return True
    return any(state.attrs[name].history.has_changes() for name in _MEMBER_COLUMNS)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        key_of = _TRACKED.get(type(obj))
        if key_of is None or not _relevant(obj):
            continue
        kind, record_id = key_of(obj)
        if record_id is not None:
            mark(session, kind, record_id)


@event.listens_for(Session, "after_flush_postexec")
def _apply_after_flush(session: Session, _context: UOWTransaction) -> None:
    _apply(session)


@event.listens_for(Session, "before_commit")
def _apply_before_commit(session: Session) -> None:
    _apply(session)


def apply_pending(session: Session) -> None:
    """Write the documents of the records marked so far (a search in the same transaction
    must see them even when nothing else was flushed since)."""
    _apply(session)


def _apply(session: Session) -> None:
    pending: set[Key] = session.info.pop(_PENDING, set())
    if pending:
        refresh(session.connection(), pending, cascade=True)


def next_seq(connection: Connection) -> int:
    """The next change number (locks the counter row until the transaction ends)."""
    state = _state()
    return int(
        connection.execute(
            update(state).where(state.c.id == 1).values(seq=state.c.seq + 1).returning(state.c.seq)
        ).scalar_one()
    )


def refresh(connection: Connection, keys: Iterable[Key], *, cascade: bool = False) -> None:
    """Rebuild the documents of these records (a record gone or no longer listed is unlisted).

    ``cascade``: a programme's evaluations show its target groups, so they follow it.
    """
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, record_id in keys:
        by_kind[kind].add(record_id)
    if cascade and by_kind.get("programme"):
        link = evaluation_programme.c
        by_kind["evaluation"].update(
            connection.scalars(
                select(link.evaluation_id).where(
                    link.programme_id.in_(sorted(by_kind["programme"]))
                )
            )
        )
    if not any(by_kind.values()):
        return
    connection.info[UNCOMMITTED] = True
    connection.info.pop(PRIVATE, None)
    seq = next_seq(connection)
    for kind in KINDS:
        ids = sorted(by_kind.get(kind, ()))
        for start in range(0, len(ids), BATCH):
            _write(connection, kind, ids[start : start + BATCH], seq)


def _write(connection: Connection, kind: str, ids: list[int], seq: int) -> None:
    table = _documents()
    backend = for_dialect(connection.dialect.name)
    built = documents.build(connection, kind, ids)
    doc_ids = {record_id: document_id(kind, record_id) for record_id in ids}
    existing = set(
        connection.scalars(select(table.c.id).where(table.c.id.in_(list(doc_ids.values()))))
    )
    unlisted = [doc_ids[i] for i in ids if doc_ids[i] in existing and not _listed(built.get(i))]
    if unlisted:
        connection.execute(
            update(table).where(table.c.id.in_(unlisted)).values(listed=False, seq=seq)
        )
        backend.remove(connection, unlisted)
    written: list[tuple[int, documents.Document]] = []
    updates, inserts = [], []
    for record_id in ids:
        document = built.get(record_id)
        if document is None or not document.listed:
            continue
        row = {**document.row(), "seq": seq}
        if doc_ids[record_id] in existing:
            updates.append({**row, "doc_id": doc_ids[record_id]})
        else:
            inserts.append({**row, "id": doc_ids[record_id]})
        written.append((doc_ids[record_id], document))
    if updates:
        columns: dict[str, Any] = {name: bindparam(name) for name in updates[0] if name != "doc_id"}
        connection.execute(
            update(table).where(table.c.id == bindparam("doc_id")).values(columns), updates
        )
    if inserts:
        connection.execute(table.insert(), inserts)
    backend.write(connection, written)


def _listed(document: documents.Document | None) -> bool:
    return document is not None and document.listed


_SOURCES = {
    "programme": Programme.__table__,
    "evaluation": Evaluation.__table__,
    "member": Member.__table__,
    "organisation": Organisation.__table__,
}


def rebuild(connection: Connection, progress: Callable[[str, int, int], None] | None = None) -> int:
    """Build every document again from the tables; returns the number of listed documents.

    The change number moves on, so every worker reloads its facet data.
    """
    table = _documents()
    connection.info[UNCOMMITTED] = True
    for_dialect(connection.dialect.name).clear(connection)
    connection.execute(table.delete())
    seq = next_seq(connection)
    listed = 0
    for kind in KINDS:
        source = _SOURCES[kind]
        ids = list(connection.scalars(select(source.c.id).order_by(source.c.id)))
        for start in range(0, len(ids), BATCH):
            _write(connection, kind, ids[start : start + BATCH], seq)
            if progress:
                progress(kind, min(start + BATCH, len(ids)), len(ids))
        listed += int(
            connection.scalar(
                select(text("count(*)"))
                .select_from(table)
                .where(table.c.kind == kind, table.c.listed.is_(True))
            )
            or 0
        )
    state = _state()
    connection.execute(
        update(state)
        .where(state.c.id == 1)
        .values(built_version=INDEX_VERSION, generation=state.c.generation + 1)
    )
    return listed


def needs_rebuild(connection: Connection) -> bool:
    state = _state()
    version = connection.scalar(select(state.c.built_version).where(state.c.id == 1))
    return version != INDEX_VERSION
