"""Terms of the curated vocabularies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin


class VocabularyTerm(TimestampMixin, Base):
    """One code of one vocabulary.

    The code never changes once used. ``labels`` holds labels coordinators gave per UI
    language; a seed term without one uses its translated built-in label (or Babel's name for
    countries and languages). A retired term stays on the records that use it and leaves the
    pickers.
    """

    __tablename__ = "vocabulary_term"
    __table_args__ = (UniqueConstraint("vocabulary", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(32), index=True)
    code: Mapped[str] = mapped_column(String(40))
    # Subgroups of target groups name their group here.
    parent_code: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retired_at: Mapped[datetime | None]
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
