"""People of the network: their account, role, member type and organisations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin
from app.organisations.models import Organisation

ROLES = ("member", "coordinator", "admin")
MEMBER_TYPES = ("researcher", "practitioner", "policy_maker", "other")

member_organisation = Table(
    "member_organisation",
    Base.metadata,
    Column("member_id", ForeignKey("member.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisation.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Member(TimestampMixin, Base):
    __tablename__ = "member"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'coordinator', 'admin')", name="role_known"),
        CheckConstraint(
            "member_type IN ('researcher', 'practitioner', 'policy_maker', 'other')",
            name="member_type_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index is case-insensitive on both databases.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="member")
    member_type: Mapped[str] = mapped_column(String(16), default="other")
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    last_sign_in_at: Mapped[datetime | None]

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=member_organisation, lazy="raise"
    )
