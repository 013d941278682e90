"""The search index: one row per findable record, and the change counter.

``search_document`` is written in the same transaction as the record it describes
(:mod:`app.search.index`). The text itself is indexed by the database: on SQLite two FTS5
tables (``search_fts_en`` with the Porter stemmer for English text, ``search_fts`` for every
other language), on PostgreSQL the table ``search_text`` with ``tsvector`` columns built with
the text search configuration of each part's language; both are created by the migration,
not by this model. What the facet engine (:mod:`app.search.engine`) keeps in memory is
stored ready to load in bulk: ``codes`` (the facet codes as space-separated ``field=code``
words), the sort keys as integers.

Every write takes the next value of ``search_state.seq`` (a row lock on PostgreSQL, so the
values follow the order of commits); a worker that has seen ``seq`` N only needs the rows
with a higher one. A record that is no longer findable keeps its row with ``listed`` false.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

KINDS = ("programme", "evaluation", "member", "organisation")
# A document's id is its kind's base plus the record's id: the ids of one kind form a range,
# which the full-text indexes search alone (FTS5 seeks by rowid range).
KIND_SHIFT = 40


def document_id(kind: str, record_id: int) -> int:
    return ((KINDS.index(kind) + 1) << KIND_SHIFT) + record_id


def id_range(kind: str) -> tuple[int, int]:
    base = (KINDS.index(kind) + 1) << KIND_SHIFT
    return base, base + (1 << KIND_SHIFT) - 1


class SearchDocument(Base):
    __tablename__ = "search_document"
    __table_args__ = (
        UniqueConstraint("kind", "record_id", name="uq_search_document_record"),
        Index("ix_search_document_seq", "seq"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    language: Mapped[str] = mapped_column(String(3), default="en")
    title: Mapped[str] = mapped_column(Text, default="")
    # What a result shows under its title (summary, abstract or bio), before highlighting.
    summary: Mapped[str] = mapped_column(Text, default="")
    codes: Mapped[str] = mapped_column(Text, default="")
    rating_level: Mapped[str | None] = mapped_column(String(20))
    # Position of the rating in LEVEL_ORDER (best evidence first); past the end when none.
    rating_order: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    # The same instants in seconds since the epoch (0 when unknown), for the engine.
    published_ts: Mapped[int] = mapped_column(BigInteger, default=0)
    rated_ts: Mapped[int] = mapped_column(BigInteger, default=0)
    year: Mapped[int | None] = mapped_column(Integer)


class SearchState(Base):
    """A single row: the change counter and the version of the document shape built."""

    __tablename__ = "search_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Moves on at every full rebuild: workers then reload everything instead of the changes.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    built_version: Mapped[int] = mapped_column(Integer, default=0)
