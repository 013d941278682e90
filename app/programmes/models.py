"""Prevention programmes, their versions, review thread, attachments and reports.

A programme row carries the record as the public sees it: the published version's fields
(or, before the first publication, the working draft's), mirrored into columns and into
``programme_term`` so that the catalogue filters on indexed columns. Every version's full
content is kept as a snapshot in ``programme_version.data``; the working version (a draft,
a submission, or one sent back for changes) is edited there while the published version
stays visible.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, utcnow

# draft: never submitted; submitted: waiting for a coordinator; changes_requested: sent
# back to the maintainers; published: in the catalogue; rejected: refused, never published.
PROGRAMME_STATUSES = ("draft", "submitted", "changes_requested", "published", "rejected")
# The state of one version. A published version becomes superseded when the next one is
# approved; a version sent back for changes becomes revised when its maintainers save the
# next version (so the review history keeps what the coordinator saw); a working version
# edited after publication is withdrawn when discarded.
VERSION_STATES = (
    "draft",
    "submitted",
    "changes_requested",
    "revised",
    "published",
    "superseded",
    "rejected",
    "withdrawn",
)
WORKING_STATES = ("draft", "submitted", "changes_requested")
VISIBILITIES = ("public", "members")
REVIEW_DECISIONS = ("approve", "request_changes", "reject")
# What an entry of the review thread records.
THREAD_KINDS = (
    "comment",
    "submit",
    "approve",
    "request_changes",
    "reject",
    "archive",
    "restore",
)
# Multi-valued and single-valued classification fields, mirrored into programme_term.
TERM_FIELDS = (
    "target_groups",
    "target_subgroups",
    "prevention_level",
    "settings",
    "delivery",
    "abuse_addressed",
    "countries",
    "languages",
)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Programme(TimestampMixin, Base):
    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(PROGRAMME_STATUSES)})", name="status_known"),
        CheckConstraint(f"visibility IN ({_in(VISIBILITIES)})", name="visibility_known"),
        CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range_ordered"
        ),
        # The catalogue's base filter and its default order.
        Index("ix_programme_listing", "status", "archived_at", "visibility", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    title: Mapped[str] = mapped_column(String(200), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    content_language: Mapped[str] = mapped_column(String(3), default="en")
    prevention_level: Mapped[str | None] = mapped_column(String(40))
    abuse_addressed: Mapped[str | None] = mapped_column(String(40))
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    manual_available: Mapped[bool] = mapped_column(Boolean, default=False)
    training_required: Mapped[bool] = mapped_column(Boolean, default=False)
    cost: Mapped[str | None] = mapped_column(String(200))
    duration: Mapped[str | None] = mapped_column(String(200))
    start_year: Mapped[int | None] = mapped_column(Integer)
    still_running: Mapped[bool] = mapped_column(Boolean, default=True)
    provider_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    provider_name: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    website: Mapped[str | None] = mapped_column(String(500))
    adapted_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="SET NULL"), index=True
    )
    # The published content's full snapshot (fields above plus lists and translations).
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_version.id", ondelete="SET NULL", use_alter=True)
    )
    published_at: Mapped[datetime | None]
    # When the published content last changed (first publication or an approved edit).
    content_updated_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    archive_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # The current evidence rating (app.evidence), kept here so lists sort and filter by it.
    rating_level: Mapped[str] = mapped_column(String(20), default="not_rated", index=True)

    terms: Mapped[list[ProgrammeTerm]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProgrammeTerm.position"
    )
    translations: Mapped[list[ProgrammeTranslation]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )
    maintainers: Mapped[list[ProgrammeMaintainer]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def codes(self, field: str) -> list[str]:
        """The codes of one classification field (``terms`` must be loaded)."""
        return [term.code for term in self.terms if term.field == field]


class ProgrammeTerm(Base):
    """A vocabulary code on a programme's listed content; the catalogue filters on it."""

    __tablename__ = "programme_term"
    __table_args__ = (Index("ix_programme_term_field_code", "field", "code", "programme_id"),)

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProgrammeTranslation(Base):
    """Title and summary of the listed content in another language."""

    __tablename__ = "programme_translation"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(3), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")


class ProgrammeMaintainer(Base):
    """A member who may edit the programme (its creator first)."""

    __tablename__ = "programme_maintainer"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgrammeVersion(TimestampMixin, Base):
    """One version of a programme's content: a snapshot of every field.

    ``revision`` counts saves of a working version; a save names the revision it started
    from and is refused when another save came first (optimistic locking).
    """

    __tablename__ = "programme_version"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(VERSION_STATES)})", name="state_known"),
        Index("ix_programme_version_programme_number", "programme_id", "number", unique=True),
        Index("ix_programme_version_state", "state", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012


class ProgrammeThreadEntry(Base):
    """The review conversation: submissions, decisions and comments, oldest first."""

    __tablename__ = "programme_thread_entry"
    __table_args__ = (CheckConstraint(f"kind IN ({_in(THREAD_KINDS)})", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_version.id", ondelete="SET NULL")
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """A PDF document of a programme, stored under its SHA-256 outside the web root.

    A version lists the attachments it shows (``data["attachment_ids"]``); a file is
    served with the visibility of the programme whose content lists it.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImplementationReport(TimestampMixin, Base):
    """A member's account of running a programme: where, when, reach and lessons."""

    __tablename__ = "implementation_report"
    __table_args__ = (
        CheckConstraint(f"visibility IN ({_in(VISIBILITIES)})", name="visibility_known"),
        CheckConstraint("people_reached IS NULL OR people_reached >= 0", name="reach_positive"),
        CheckConstraint(
            "end_year IS NULL OR start_year IS NULL OR start_year <= end_year",
            name="years_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL")
    )
    country: Mapped[str] = mapped_column(String(2), index=True)
    setting: Mapped[str | None] = mapped_column(String(40))
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int | None] = mapped_column(Integer)
    people_reached: Mapped[int | None] = mapped_column(Integer)
    what_worked: Mapped[str] = mapped_column(Text, default="")
    what_did_not_work: Mapped[str] = mapped_column(Text, default="")
    adaptations: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
