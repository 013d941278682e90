"""Facets, filters, sorting and paging in memory, from a copy of ``search_document``.

Counting facets with SQL means grouping every matching record's codes, a full pass over
hundreds of thousands of rows per request. Instead each worker keeps the codes of every
findable record in NumPy arrays (a few bytes per code, about 40 MB for 100,000 programmes
and 300,000 evaluations) and answers a request with vector operations over them.

The copy follows the database: a request first reads ``search_state`` (one row); when the
change number moved on, the worker loads only the documents changed since (or everything
after a rebuild). Documents are written in the same transaction as their records, so what a
worker sees is what has been committed. A snapshot is never changed once built: a refresh
builds a new one and swaps it in, so concurrent requests each use a consistent one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import database_name
from app.search.documents import FACETS
from app.search.models import KINDS, SearchState, id_range

Bools = NDArray[np.bool_]
Ints = NDArray[np.int64]
Scores = NDArray[np.float64]
_LOAD_CHUNK = 20_000


@dataclass(frozen=True)
class FieldData:
    """The (slot, code) pairs of one facet field; codes numbered in order of appearance.

    Slots only grow (new documents are appended), so ``slots`` is sorted and ``offsets[s]``
    to ``offsets[s + 1]`` are the pairs of slot ``s``.
    """

    codes: tuple[str, ...]
    slots: NDArray[np.int32]
    values: NDArray[np.int32]
    # 32 bits: a worker holds one per field, each as long as the kind's documents.
    offsets: NDArray[np.int32] = field(default_factory=lambda: np.zeros(1, np.int32))

    def counts(self, scope: Bools) -> NDArray[np.int64]:
        """How many documents in ``scope`` have each code."""
        size = int(np.count_nonzero(scope))
        if size * 8 < len(scope):
            # Few documents: visit their pairs only.
            chosen = np.flatnonzero(scope)
            starts = self.offsets[chosen]
            lengths = self.offsets[chosen + 1] - starts
            total = int(lengths.sum())
            shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
            values = self.values[shift + np.arange(total)]
        else:
            values = self.values[scope[self.slots]]
        return np.bincount(values, minlength=len(self.codes))

    def code_numbers(self, codes: Iterable[str]) -> list[int]:
        index = {code: number for number, code in enumerate(self.codes)}
        return [index[code] for code in codes if code in index]


@dataclass(frozen=True)
class KindData:
    """Every document of one kind ever loaded; ``alive`` marks the current, listed ones."""

    doc_ids: Ints
    record_ids: Ints
    alive: Bools
    public: Bools
    published: Ints  # seconds since the epoch, 0 when unknown
    rated: Ints
    rating_order: Ints  # position in LEVEL_ORDER (best first); len(LEVEL_ORDER) when none
    fields: Mapping[str, FieldData]
    newest_rank: NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))

    @property
    def size(self) -> int:
        return len(self.doc_ids)


@dataclass(frozen=True)
class Snapshot:
    generation: int
    seq: int
    kinds: Mapping[str, KindData]
    # Per kind, by record id: the slot of the record's current document (-1: none).
    slot_of: Mapping[str, NDArray[np.int32]]
    # Answers to searches (see select_page), valid as long as this snapshot.
    answers: dict[Any, tuple[int, dict[str, dict[str, int]], NDArray[np.int32]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Documents matching a query's words (see remembered_match), valid as long as this.
    matches: dict[Any, tuple[Ints, NDArray[np.float64]]] = field(
        default_factory=dict, compare=False, repr=False
    )


@dataclass
class Selection:
    total: int
    record_ids: list[int]
    facets: dict[str, dict[str, int]]


@dataclass
class _Batch:
    """Documents of one kind read from the table, as arrays; facet codes numbered locally."""

    doc_ids: Ints
    record_ids: Ints
    listed: Bools
    public: Bools
    published: Ints
    rated: Ints
    rating_order: Ints
    # field -> (slots relative to the batch, local code numbers, local code list)
    pairs: dict[str, tuple[NDArray[np.int32], NDArray[np.int32], list[str]]]


def _batch(rows: Sequence[Any], names: Sequence[str]) -> _Batch:
    """Rows (id, record_id, kind, listed, visibility, published_ts, rated_ts, rating_order,
    codes) as arrays, with the codes split and numbered in bulk rather than row by row."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * 9
    codes = columns[8]
    counts = np.fromiter(
        (text.count(" ") + 1 if text else 0 for text in codes), np.int64, len(codes)
    )
    words = " ".join(text for text in codes if text).split()
    index: dict[str, int] = {}
    numbers = np.fromiter(
        (index.setdefault(word, len(index)) for word in words), np.int32, len(words)
    )
    slots = np.repeat(np.arange(len(codes), dtype=np.int32), counts)
    token_field = np.full(max(len(index), 1), -1, dtype=np.int32)
    token_code: list[str] = [""] * len(index)
    for word, number in index.items():
        name, _, code = word.partition("=")
        if name in names:
            token_field[number] = names.index(name)
            token_code[number] = code
    pairs = {}
    for position, name in enumerate(names):
        chosen = token_field[numbers] == position if len(numbers) else np.zeros(0, bool)
        tokens = numbers[chosen]
        local_tokens, local_numbers = np.unique(tokens, return_inverse=True)
        pairs[name] = (
            slots[chosen],
            local_numbers.astype(np.int32),
            [token_code[int(token)] for token in local_tokens],
        )
    return _Batch(
        doc_ids=np.asarray(columns[0], dtype=np.int64),
        record_ids=np.asarray(columns[1], dtype=np.int64),
        listed=np.asarray(columns[3], dtype=bool),
        public=np.asarray([v == "public" for v in columns[4]], dtype=bool),
        published=np.asarray(columns[5], dtype=np.int64),
        rated=np.asarray(columns[6], dtype=np.int64),
        rating_order=np.asarray(columns[7], dtype=np.int64),
        pairs=pairs,
    )


def _merge(
    old: KindData | None, new: _Batch, names: Sequence[str], dead: Sequence[int]
) -> KindData:
    """``old`` with the batch's listed documents appended and the ``dead`` slots cleared."""
    keep = new.listed
    start = old.size if old is not None else 0
    position = np.cumsum(keep) - 1  # slot of each kept row within the appended part

    def joined(previous: Any, fresh: Any) -> Any:
        fresh = fresh[keep]
        return fresh.copy() if previous is None else np.concatenate([previous, fresh])

    alive = joined(None if old is None else old.alive, np.ones(len(keep), dtype=bool))
    if dead:
        alive[np.asarray(dead, dtype=np.int64)] = False
    fields: dict[str, FieldData] = {}
    for name in names:
        previous = None if old is None else old.fields.get(name)
        slots, values, local_codes = new.pairs.get(
            name, (np.empty(0, np.int32), np.empty(0, np.int32), [])
        )
        codes = list(previous.codes) if previous else []
        known = {code: number for number, code in enumerate(codes)}
        remap = np.zeros(max(len(local_codes), 1), dtype=np.int32)
        for number, code in enumerate(local_codes):
            if code not in known:
                known[code] = len(codes)
                codes.append(code)
            remap[number] = known[code]
        kept = keep[slots] if len(slots) else np.zeros(0, bool)
        new_slots = (position[slots[kept]] + start).astype(np.int32)
        new_values = remap[values[kept]] if len(values) else np.empty(0, np.int32)
        all_slots = new_slots if previous is None else np.concatenate([previous.slots, new_slots])
        fields[name] = FieldData(
            codes=tuple(codes),
            slots=all_slots,
            values=new_values
            if previous is None
            else np.concatenate([previous.values, new_values]),
            offsets=np.searchsorted(all_slots, np.arange(len(alive) + 1)).astype(np.int32),
        )
    data = KindData(
        doc_ids=joined(None if old is None else old.doc_ids, new.doc_ids),
        record_ids=joined(None if old is None else old.record_ids, new.record_ids),
        alive=alive,
        public=joined(None if old is None else old.public, new.public),
        published=joined(None if old is None else old.published, new.published),
        rated=joined(None if old is None else old.rated, new.rated),
        rating_order=joined(None if old is None else old.rating_order, new.rating_order),
        fields=fields,
    )
    # Newest first, ties by the later document: a unique rank per slot for exact paging.
    order = np.lexsort((-data.doc_ids, -data.published))
    rank = np.empty(data.size, dtype=np.int32)
    rank[order] = np.arange(data.size)
    return KindData(**{**data.__dict__, "newest_rank": rank})


def _concat(batches: Sequence[_Batch], names: Sequence[str]) -> _Batch:
    """The batches of one kind as one (merged once: no growing copies, no repeated sorts)."""
    if len(batches) == 1:
        return batches[0]
    if not batches:
        return _batch([], names)
    pairs: dict[str, tuple[NDArray[np.int32], NDArray[np.int32], list[str]]] = {}
    starts = np.cumsum([0] + [len(batch.doc_ids) for batch in batches])
    for name in names:
        codes: list[str] = []
        known: dict[str, int] = {}
        all_slots, all_values = [], []
        for start, batch in zip(starts, batches, strict=False):
            slots, values, local = batch.pairs[name]
            remap = np.array([known.setdefault(code, len(known)) for code in local], dtype=np.int32)
            all_slots.append(slots + np.int32(start))
            all_values.append(remap[values] if len(values) else values)
        codes = list(known)
        pairs[name] = (np.concatenate(all_slots), np.concatenate(all_values), codes)
    return _Batch(
        doc_ids=np.concatenate([batch.doc_ids for batch in batches]),
        record_ids=np.concatenate([batch.record_ids for batch in batches]),
        listed=np.concatenate([batch.listed for batch in batches]),
        public=np.concatenate([batch.public for batch in batches]),
        published=np.concatenate([batch.published for batch in batches]),
        rated=np.concatenate([batch.rated for batch in batches]),
        rating_order=np.concatenate([batch.rating_order for batch in batches]),
        pairs=pairs,
    )


_SELECT = (
    "SELECT id, record_id, kind, listed, visibility, published_ts, rated_ts, rating_order, codes "
    "FROM search_document"
)


def _load(connection: Connection, old: Snapshot | None, generation: int, seq: int) -> Snapshot:
    """Read every listed document (``old`` is None) or those changed since ``old``."""
    parameters: dict[str, Any]
    if old is None:
        where, parameters = " WHERE listed = :listed", {"listed": True}
    else:
        where, parameters = " WHERE seq > :seq", {"seq": old.seq}
    # Streamed (a server-side cursor on PostgreSQL): a worker never holds every row at once.
    # (On the statement: Connection.execution_options would change the connection itself.)
    result = connection.execute(
        text(_SELECT + where + " ORDER BY id").execution_options(stream_results=True),
        parameters,
    )
    rows_by_kind: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    batches: dict[str, list[_Batch]] = {kind: [] for kind in KINDS}
    while True:
        # Through the result, not its DB-API cursor: a streamed result has already buffered
        # the first row, which the cursor would skip.
        chunk = result.fetchmany(_LOAD_CHUNK)
        if not chunk:
            break
        for row in chunk:
            rows_by_kind.get(row[2], []).append(row)
        for kind, rows in rows_by_kind.items():
            if rows:
                batches[kind].append(_batch(rows, FACETS[kind]))
                rows_by_kind[kind] = []
    result.close()
    kinds: dict[str, KindData] = {}
    for kind in KINDS:
        batch = _concat(batches[kind], FACETS[kind])
        dead: list[int] = []
        if old is not None:
            known = old.slot_of[kind]
            inside = batch.record_ids[batch.record_ids < len(known)]
            slots = known[inside]
            dead = [int(slot) for slot in slots[slots >= 0]]
        kinds[kind] = _merge(
            old.kinds[kind] if old is not None else None, batch, FACETS[kind], dead
        )
    slot_of = {}
    for kind, data in kinds.items():
        live = np.flatnonzero(data.alive)
        top = int(data.record_ids[live].max()) if len(live) else 0
        slots = np.full(top + 1, -1, dtype=np.int32)
        slots[data.record_ids[live]] = live
        slot_of[kind] = slots
    return Snapshot(generation=generation, seq=seq, kinds=kinds, slot_of=slot_of)


# Set on a connection whose open transaction wrote documents (app.search.index), cleared
# when it commits or rolls back. Such a transaction sees changes nobody else sees yet, and
# that may still be undone: what it reads is never kept as the process's snapshot.
UNCOMMITTED = "search_uncommitted"
PRIVATE = "search_private_snapshot"


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_ended(connection: Connection) -> None:
    connection.info.pop(UNCOMMITTED, None)
    connection.info.pop(PRIVATE, None)


@event.listens_for(Engine, "rollback_savepoint")
def _savepoint_undone(connection: Connection, _name: str, _context: object) -> None:
    # What the savepoint wrote is gone, and its change numbers will be given again.
    connection.info.pop(PRIVATE, None)


def _release_memory() -> None:
    """Give the memory a full load used for a while back to the system.

    The rows read on the way are freed, but glibc keeps the freed pages of small
    allocations; ``malloc_trim`` returns them (about 100 MB after 400,000 documents).
    Elsewhere than on glibc this does nothing.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


class FacetEngine:
    """The snapshot of one database, refreshed when the database has moved on."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def current(self, connection: Connection) -> Snapshot:
        state = SearchState.__table__.c
        row = connection.execute(select(state.generation, state.seq).where(state.id == 1)).one()
        generation, seq = int(row.generation), int(row.seq)
        if connection.info.get(UNCOMMITTED):
            return self._private(connection, generation, seq)
        snapshot = self._snapshot
        if snapshot is not None and (snapshot.generation, snapshot.seq) == (generation, seq):
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.generation != generation or seq < snapshot.seq:
                snapshot = _load(connection, None, generation, seq)
                _release_memory()
            elif seq > snapshot.seq:
                snapshot = _load(connection, snapshot, generation, seq)
            self._snapshot = snapshot
            return snapshot

    def _private(self, connection: Connection, generation: int, seq: int) -> Snapshot:
        """A snapshot for a transaction with its own uncommitted documents: kept with the
        transaction (until it writes again), never shared."""
        kept = connection.info.get(PRIVATE)
        if kept is not None and (kept.generation, kept.seq) == (generation, seq):
            return cast(Snapshot, kept)
        shared = self._snapshot
        if shared is not None and shared.generation == generation and shared.seq <= seq:
            snapshot = _load(connection, shared, generation, seq) if shared.seq < seq else shared
        else:
            snapshot = _load(connection, None, generation, seq)
        connection.info[PRIVATE] = snapshot
        return snapshot

    def reset(self) -> None:
        with self._lock:
            self._snapshot = None


_engines: dict[str, FacetEngine] = {}
_engines_lock = threading.Lock()


def engine_for(connection: Connection) -> FacetEngine:
    key = database_name(connection)
    with _engines_lock:
        return _engines.setdefault(key, FacetEngine())


def reset_all() -> None:
    """Forget every snapshot (tests roll back what they wrote; the next request reloads)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.reset()


# --- answering a request ----------------------------------------------------------------


def _field_mask(data: KindData, name: str, codes: Sequence[str]) -> Bools:
    mask = np.zeros(data.size, dtype=bool)
    field_data = data.fields.get(name)
    if field_data is None:
        return mask
    numbers = field_data.code_numbers(codes)
    if numbers:
        wanted = np.zeros(len(field_data.codes), dtype=bool)
        wanted[numbers] = True
        mask[field_data.slots[wanted[field_data.values]]] = True
    return mask


def text_mask(
    snapshot: Snapshot, kind: str, ids: Ints, scores: NDArray[np.float64]
) -> tuple[Bools, NDArray[np.float64]]:
    """The kind's slots whose documents (``ids``) matched the text, and each slot's score."""
    data = snapshot.kinds[kind]
    mask = np.zeros(data.size, dtype=bool)
    score = np.zeros(data.size, dtype=np.float64)
    known = snapshot.slot_of[kind]
    record_ids = ids - id_range(kind)[0]
    inside = (record_ids >= 0) & (record_ids < len(known))
    slots = known[record_ids[inside]]
    found = slots >= 0
    mask[slots[found]] = True
    score[slots[found]] = scores[inside][found]
    return mask, score


# At most this many remembered text matches per snapshot, and this many ids in all (16 bytes
# each with the score: 16 MB).
_MATCHES_KEPT = 128
_MATCHED_IDS_KEPT = 1_000_000


def remembered_match(
    snapshot: Snapshot,
    key: Hashable,
    match: Callable[[], tuple[Ints, NDArray[np.float64]]],
) -> tuple[Ints, NDArray[np.float64]]:
    """``match()`` (the text index's answer to a query's words), remembered with the snapshot.

    The text index changes only in the transactions that move the snapshot's (generation,
    seq) on, so while the snapshot is current the answer is too: a visitor who refines a
    search with facets, sorts or turns pages does not send the words to the index again.
    A transaction with uncommitted documents has a private snapshot (and so its own memory).
    """
    found = snapshot.matches.get(key)
    if found is None:
        found = match()
        # A copy of the values (taken at once): other threads may add or clear meanwhile.
        kept = sum(len(ids) for ids, _ in tuple(snapshot.matches.values()))
        if len(snapshot.matches) >= _MATCHES_KEPT or kept + len(found[0]) > _MATCHED_IDS_KEPT:
            snapshot.matches.clear()
        if len(found[0]) <= _MATCHED_IDS_KEPT:
            for array in found:
                array.setflags(write=False)  # shared by the requests that follow
            snapshot.matches[key] = found
    return found


def base_mask(snapshot: Snapshot, kind: str, *, public_only: bool) -> Bools:
    data = snapshot.kinds[kind]
    return data.alive & data.public if public_only else data.alive.copy()


# Kept answers per snapshot, and slots in all (4 bytes each: 8 MB).
_ANSWERS_KEPT = 64
_ANSWER_SLOTS_KEPT = 2_000_000

# What a search looks in: the slots it may show, and each slot's text score (None without
# text). Called only when the answer is not kept already.
Scope = Callable[[], tuple[Bools, Scores | None]]


def select_page(
    snapshot: Snapshot,
    kind: str,
    scope: Scope,
    filters: Mapping[str, Sequence[str]],
    *,
    sort: str,
    offset: int,
    limit: int,
    facet_fields: Sequence[str],
    since: int | None = None,
    remember: Hashable = None,
) -> Selection:
    """Filter, count facets, sort and cut one page.

    Codes within a field are alternatives, fields combine. A field's counts are taken with
    every filter but its own, so a chosen code's siblings show what choosing them would add.
    ``remember``: a key that, with the kind, filters, sort and ``since``, identifies what
    ``scope`` returns (the caller's visibility and the query's words): the counts and the
    whole order are then kept with the snapshot, and the same search asked again (another
    page, the next visitor, an htmx refresh) costs a slice only.
    """
    data = snapshot.kinds[kind]
    key = None
    if remember is not None:
        chosen_codes = tuple(
            sorted((name, tuple(sorted(codes))) for name, codes in filters.items() if codes)
        )
        key = (remember, kind, chosen_codes, sort, since)
        answer = snapshot.answers.get(key)
        if answer is not None:
            return _slice(data, answer, offset, limit)
    base, score = scope()
    masks = {name: _field_mask(data, name, codes) for name, codes in filters.items() if codes}
    if since is not None:
        base = base & ((data.published >= since) | (data.rated >= since))
    full = base.copy()
    for mask in masks.values():
        full &= mask
    facets: dict[str, dict[str, int]] = {}
    for name in facet_fields:
        field_data = data.fields.get(name)
        if field_data is None:
            facets[name] = {}
            continue
        in_scope = full
        if name in masks:
            in_scope = base.copy()
            for other, mask in masks.items():
                if other != name:
                    in_scope &= mask
        counts = field_data.counts(in_scope)
        facets[name] = {
            code: int(count) for code, count in zip(field_data.codes, counts, strict=False) if count
        }
    candidates = np.flatnonzero(full)
    total = len(candidates)
    end = min(offset + limit, total)
    if sort == "relevance" and score is not None:
        # Title matches first, then the strongest evidence, then the newest.
        sort_keys: tuple[NDArray[Any], ...] = (
            data.newest_rank[candidates],
            data.rating_order[candidates],
            -score[candidates],
        )
    elif sort == "rating":
        sort_keys = (
            data.rating_order[candidates] * data.size
            + data.newest_rank[candidates].astype(np.int64),
        )
    else:
        sort_keys = (data.newest_rank[candidates],)
    if key is not None and total <= _ANSWER_SLOTS_KEPT:
        ordered = candidates[_order(sort_keys)].astype(np.int32)
        ordered.setflags(write=False)  # shared by the requests that follow
        answer = (total, facets, ordered)
        kept = sum(len(slots) for _, _, slots in tuple(snapshot.answers.values()))
        if len(snapshot.answers) >= _ANSWERS_KEPT or kept + total > _ANSWER_SLOTS_KEPT:
            snapshot.answers.clear()
        snapshot.answers[key] = answer
        return _slice(data, answer, offset, limit)
    if offset >= total or limit <= 0:
        chosen = candidates[:0]
    elif end < total and len(sort_keys) == 1:
        sort_key = sort_keys[0]
        part = np.argpartition(sort_key, end - 1)[:end]
        chosen = candidates[part[np.argsort(sort_key[part])][offset:end]]
    else:
        chosen = candidates[_order(sort_keys)[offset:end]]
    return Selection(
        total=total, record_ids=[int(i) for i in data.record_ids[chosen]], facets=facets
    )


def _order(sort_keys: tuple[NDArray[Any], ...]) -> Ints:
    """Positions in sorted order; the last key sorts first (as ``np.lexsort``)."""
    if len(sort_keys) == 1:
        return np.argsort(sort_keys[0], kind="stable")
    return np.lexsort(sort_keys)


def _slice(
    data: KindData,
    answer: tuple[int, dict[str, dict[str, int]], NDArray[np.int32]],
    offset: int,
    limit: int,
) -> Selection:
    total, facets, ordered = answer
    kept = ordered[offset : offset + limit] if limit > 0 else ordered[:0]
    return Selection(total=total, record_ids=[int(i) for i in data.record_ids[kept]], facets=facets)


def keep_fresh(factory: sessionmaker[Session]) -> None:
    """Load (at start) or refresh this process's snapshot, so that requests rarely wait."""
    with factory() as session, session.begin():
        connection = session.connection()
        engine_for(connection).current(connection)
