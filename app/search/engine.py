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

import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, select

from app.evidence.rating import LEVEL_ORDER
from app.search.documents import FACETS
from app.search.models import KINDS, SearchDocument, SearchState, id_range

Bools = NDArray[np.bool_]
Ints = NDArray[np.int64]
_LOAD_CHUNK = 20_000


@dataclass(frozen=True)
class FieldData:
    """The (slot, code) pairs of one facet field; codes numbered in order of appearance."""

    codes: tuple[str, ...]
    slots: NDArray[np.int32]
    values: NDArray[np.int32]

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
    newest_rank: Ints = field(default_factory=lambda: np.empty(0, np.int64))

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


@dataclass
class Selection:
    total: int
    record_ids: list[int]
    facets: dict[str, dict[str, int]]


def _seconds(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


_LEVEL_POSITION = {level: position for position, level in enumerate(LEVEL_ORDER)}


class _Rows:
    """Documents read from the table, column by column (compact ``array`` storage)."""

    def __init__(self) -> None:
        self.doc_ids = array("q")
        self.record_ids = array("q")
        self.listed = array("b")
        self.public = array("b")
        self.published = array("q")
        self.rated = array("q")
        self.rating_order = array("q")
        self.pairs: dict[str, tuple[array[int], array[int], dict[str, int]]] = {}

    def add(self, row: Any, names: Sequence[str], start: int) -> None:
        slot = start + len(self.doc_ids)
        self.doc_ids.append(row.id)
        self.record_ids.append(row.record_id)
        self.listed.append(1 if row.listed else 0)
        self.public.append(1 if row.visibility == "public" else 0)
        self.published.append(_seconds(row.published_at))
        self.rated.append(_seconds(row.rated_at))
        self.rating_order.append(_LEVEL_POSITION.get(row.rating_level or "", len(LEVEL_ORDER)))
        facets = row.facets or {}
        for name in names:
            slots, values, index = self.pairs.setdefault(name, (array("i"), array("i"), {}))
            for code in facets.get(name) or ():
                number = index.setdefault(code, len(index))
                slots.append(slot)
                values.append(number)


def _merge(
    old: KindData | None, rows: _Rows, names: Sequence[str], dead: Sequence[int]
) -> KindData:
    def joined(previous: Any, new: array[int], dtype: Any) -> Any:
        fresh = np.frombuffer(new, dtype=dtype) if len(new) else np.empty(0, dtype)
        return (
            fresh.copy()
            if previous is None
            else np.concatenate([previous, fresh.astype(previous.dtype)])
        )

    alive = joined(None if old is None else old.alive, rows.listed, np.int8).astype(bool)
    if dead:
        alive[np.asarray(dead, dtype=np.int64)] = False
    fields: dict[str, FieldData] = {}
    for name in names:
        previous = None if old is None else old.fields.get(name)
        slots, values, index = rows.pairs.get(name, (array("i"), array("i"), {}))
        codes = list(previous.codes) if previous else []
        known = {code: number for number, code in enumerate(codes)}
        remap = np.zeros(max(len(index), 1), dtype=np.int32)
        for code, number in index.items():
            if code not in known:
                known[code] = len(codes)
                codes.append(code)
            remap[number] = known[code]
        new_values = (
            remap[np.frombuffer(values, dtype=np.int32)] if len(values) else np.empty(0, np.int32)
        )
        new_slots = np.frombuffer(slots, dtype=np.int32) if len(slots) else np.empty(0, np.int32)
        fields[name] = FieldData(
            codes=tuple(codes),
            slots=new_slots.copy()
            if previous is None
            else np.concatenate([previous.slots, new_slots]),
            values=new_values
            if previous is None
            else np.concatenate([previous.values, new_values]),
        )
    data = KindData(
        doc_ids=joined(None if old is None else old.doc_ids, rows.doc_ids, np.int64),
        record_ids=joined(None if old is None else old.record_ids, rows.record_ids, np.int64),
        alive=alive,
        public=joined(None if old is None else old.public, rows.public, np.int8).astype(bool),
        published=joined(None if old is None else old.published, rows.published, np.int64),
        rated=joined(None if old is None else old.rated, rows.rated, np.int64),
        rating_order=joined(None if old is None else old.rating_order, rows.rating_order, np.int64),
        fields=fields,
    )
    # Newest first, ties by the later document: a unique rank per slot for exact paging.
    order = np.lexsort((-data.doc_ids, -data.published))
    rank = np.empty(data.size, dtype=np.int64)
    rank[order] = np.arange(data.size)
    return KindData(**{**data.__dict__, "newest_rank": rank})


def _columns() -> Any:
    t = SearchDocument.__table__.c
    return (
        t.id,
        t.kind,
        t.record_id,
        t.listed,
        t.visibility,
        t.facets,
        t.published_at,
        t.rated_at,
        t.rating_level,
    )


def _load(connection: Connection, old: Snapshot | None, generation: int, seq: int) -> Snapshot:
    t = SearchDocument.__table__.c
    statement = select(*_columns()).order_by(t.id)
    if old is None:
        statement = statement.where(t.listed.is_(True))
    else:
        statement = statement.where(t.seq > old.seq)
    rows_by_kind = {kind: _Rows() for kind in KINDS}
    dead: dict[str, list[int]] = {kind: [] for kind in KINDS}
    result = connection.execution_options(yield_per=_LOAD_CHUNK).execute(statement)
    for row in result:
        kind = row.kind
        if kind not in rows_by_kind:
            continue
        previous = old.kinds[kind] if old else None
        if old is not None:
            known = old.slot_of[kind]
            if row.record_id < len(known) and known[row.record_id] >= 0:
                dead[kind].append(int(known[row.record_id]))
        if row.listed:
            rows_by_kind[kind].add(row, FACETS[kind], previous.size if previous else 0)
    kinds = {
        kind: _merge(old.kinds[kind] if old else None, rows_by_kind[kind], FACETS[kind], dead[kind])
        for kind in KINDS
    }
    slot_of = {}
    for kind, data in kinds.items():
        live = np.flatnonzero(data.alive)
        top = int(data.record_ids[live].max()) if len(live) else 0
        slots = np.full(top + 1, -1, dtype=np.int32)
        slots[data.record_ids[live]] = live
        slot_of[kind] = slots
    return Snapshot(generation=generation, seq=seq, kinds=kinds, slot_of=slot_of)


class FacetEngine:
    """The snapshot of one database, refreshed when the database has moved on."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def current(self, connection: Connection) -> Snapshot:
        state = SearchState.__table__.c
        row = connection.execute(select(state.generation, state.seq).where(state.id == 1)).one()
        generation, seq = int(row.generation), int(row.seq)
        snapshot = self._snapshot
        if snapshot is not None and (snapshot.generation, snapshot.seq) == (generation, seq):
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.generation != generation or seq < snapshot.seq:
                snapshot = _load(connection, None, generation, seq)
            elif seq > snapshot.seq:
                snapshot = _load(connection, snapshot, generation, seq)
            self._snapshot = snapshot
            return snapshot

    def reset(self) -> None:
        with self._lock:
            self._snapshot = None


_engines: dict[str, FacetEngine] = {}
_engines_lock = threading.Lock()


def engine_for(connection: Connection) -> FacetEngine:
    key = connection.engine.url.render_as_string(hide_password=True)
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
        mask[field_data.slots[np.isin(field_data.values, numbers)]] = True
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


def base_mask(snapshot: Snapshot, kind: str, *, public_only: bool) -> Bools:
    data = snapshot.kinds[kind]
    return data.alive & data.public if public_only else data.alive.copy()


def select_page(
    snapshot: Snapshot,
    kind: str,
    base: Bools,
    filters: Mapping[str, Sequence[str]],
    *,
    sort: str,
    score: NDArray[np.float64] | None,
    offset: int,
    limit: int,
    facet_fields: Sequence[str],
    since: int | None = None,
) -> Selection:
    """Filter, count facets, sort and cut one page.

    Codes within a field are alternatives, fields combine. A field's counts are taken with
    every filter but its own, so a chosen code's siblings show what choosing them would add.
    """
    data = snapshot.kinds[kind]
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
        scope = full
        if name in masks:
            scope = base.copy()
            for other, mask in masks.items():
                if other != name:
                    scope &= mask
        counts = np.bincount(
            field_data.values[scope[field_data.slots]], minlength=len(field_data.codes)
        )
        facets[name] = {
            code: int(count) for code, count in zip(field_data.codes, counts, strict=False) if count
        }
    candidates = np.flatnonzero(full)
    total = len(candidates)
    end = min(offset + limit, total)
    if offset >= total or limit <= 0:
        return Selection(total=total, record_ids=[], facets=facets)
    if sort == "relevance" and score is not None:
        # Title matches first, then the strongest evidence, then the newest.
        order = np.lexsort(
            (data.newest_rank[candidates], data.rating_order[candidates], -score[candidates])
        )
        chosen = candidates[order[offset:end]]
    else:
        if sort == "rating":
            key = data.rating_order[candidates] * data.size + data.newest_rank[candidates]
        else:
            key = data.newest_rank[candidates]
        if end < total:
            part = np.argpartition(key, end - 1)[:end]
            chosen = candidates[part[np.argsort(key[part])][offset:end]]
        else:
            chosen = candidates[np.argsort(key)[offset:end]]
    return Selection(
        total=total, record_ids=[int(i) for i in data.record_ids[chosen]], facets=facets
    )
