"""People of the network: account, role, membership status, profile and organisations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin
from app.organisations.models import Organisation

ROLES = ("member", "coordinator", "admin")
MEMBER_TYPES = ("researcher", "practitioner", "policy_maker", "other")
# active: full member; lapsed: membership ran out, signs in to public content and renewal
# only; suspended: cannot sign in; erased: personal data removed at the member's request.
STATUSES = ("active", "lapsed", "suspended", "erased")
# Profile fields a member may show to all members or only to coordinators.
PROFILE_FIELDS = ("country", "organisations", "member_type", "expertise", "languages", "bio")
VISIBILITY_LEVELS = ("members", "coordinators")

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


class MemberExpertise(Base):
    __tablename__ = "member_expertise"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    area: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class MemberLanguage(Base):
    __tablename__ = "member_language"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)


class CoordinatorCountry(Base):
    """A country a national coordinator looks after."""

    __tablename__ = "coordinator_country"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class Member(TimestampMixin, Base):
    __tablename__ = "member"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'coordinator', 'admin')", name="role_known"),
        CheckConstraint(
            "member_type IN ('researcher', 'practitioner', 'policy_maker', 'other')",
            name="member_type_known",
        ),
        CheckConstraint(
            "status IN ('active', 'lapsed', 'suspended', 'erased')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index is case-insensitive on both databases.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None]
    email_verified_at: Mapped[datetime | None]
    role: Mapped[str] = mapped_column(String(16), default="member")
    # A coordinator (or admin) with this flag looks after the whole network; otherwise
    # only the countries in coordinator_country.
    coordinates_network: Mapped[bool] = mapped_column(Boolean, default=False)
    member_type: Mapped[str] = mapped_column(String(16), default="other", index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    membership_expires_on: Mapped[date | None] = mapped_column(index=True)
    # Days before expiry of the last reminder sent (30 or 7) for the current period.
    last_reminder_days: Mapped[int | None]
    bio: Mapped[str | None] = mapped_column(Text)
    profile_visibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # The time step of the last accepted one-time code, so no code works twice.
    totp_last_used_step: Mapped[int | None]
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    last_sign_in_at: Mapped[datetime | None]

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=member_organisation, lazy="raise"
    )
    expertise: Mapped[list[MemberExpertise]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )
    languages: Mapped[list[MemberLanguage]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )
    coordinator_countries: Mapped[list[CoordinatorCountry]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def can_sign_in(self) -> bool:
        return self.status in ("active", "lapsed")

    @property
    def is_coordinator(self) -> bool:
        return self.role in ("coordinator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def needs_two_factor(self) -> bool:
        """Coordinators and admins must use two-factor authentication."""
        return self.is_coordinator

    def field_visibility(self, field: str) -> str:
        value = (self.profile_visibility or {}).get(field, "members")
        return value if value in VISIBILITY_LEVELS else "members"
