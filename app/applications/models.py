"""Membership applications and their conversation between applicant and coordinators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, utcnow

STATUSES = ("submitted", "info_requested", "approved", "rejected", "withdrawn")
OPEN_STATUSES = ("submitted", "info_requested")
DECISIONS = ("approve", "reject", "request_info")


class Application(TimestampMixin, Base):
    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(
            "status IN ('submitted', 'info_requested', 'approved', 'rejected', 'withdrawn')",
            name="status_known",
        ),
        CheckConstraint(
            "member_type IN ('researcher', 'practitioner', 'policy_maker', 'other')",
            name="member_type_known",
        ),
        # One open application per e-mail address, even when two arrive at the same moment.
        Index(
            "uq_application_open_email",
            "email",
            unique=True,
            sqlite_where=text("status IN ('submitted', 'info_requested')"),
            postgresql_where=text("status IN ('submitted', 'info_requested')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    proposed_organisation_name: Mapped[str | None] = mapped_column(String(200))
    proposed_organisation_type: Mapped[str | None] = mapped_column(String(32))
    proposed_organisation_website: Mapped[str | None] = mapped_column(String(500))
    member_type: Mapped[str] = mapped_column(String(16))
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    motivation: Mapped[str] = mapped_column(Text)
    privacy_notice_version: Mapped[str] = mapped_column(String(20))
    privacy_consented_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    # The applicant follows the application through a secret link; only its hash is kept.
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    oidc_provider: Mapped[str | None] = mapped_column(String(64))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # The language the applicant applied in: every e-mail about the application uses it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    messages: Mapped[list[ApplicationMessage]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="ApplicationMessage.id",
    )


class ApplicationMessage(Base):
    """One message of the thread: a coordinator's question or the applicant's answer."""

    __tablename__ = "application_message"
    __table_args__ = (
        CheckConstraint("kind IN ('info_request', 'answer', 'decision')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    # None when the applicant wrote it.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
