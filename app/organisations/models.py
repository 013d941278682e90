"""Organisations that members of the network belong to."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin
from app.kit.i18n import N_

ORGANISATION_TYPES = (
    "university",
    "ngo",
    "public_authority",
    "health_service",
    "law_enforcement",
    "other",
)
ORGANISATION_TYPE_LABELS: dict[str, str] = {
    "university": N_("University or research institute"),
    "ngo": N_("Non-governmental organisation"),
    "public_authority": N_("Public authority"),
    "health_service": N_("Health service"),
    "law_enforcement": N_("Law enforcement"),
    "other": N_("Other"),
}


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(
            "organisation_type IN ('university', 'ngo', 'public_authority', "
            "'health_service', 'law_enforcement', 'other')",
            name="organisation_type_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    organisation_type: Mapped[str] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(500))
    # Demo records are fictional and can be told apart (and removed) at any time.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
