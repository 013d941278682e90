"""What the informational pages show."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.i18n import N_
from app.members import repository as members_repository
from app.organisations import repository as organisations_repository

PRIVACY_NOTICE_VERSION = "2026-11"


@dataclass(frozen=True)
class TargetGroup:
    code: str
    label: str
    includes: str


# The four target groups of the EU strategy; their codes are stable and used by the API.
TARGET_GROUPS: tuple[TargetGroup, ...] = (
    TargetGroup(
        "offenders",
        N_("People who have offended or fear they might offend"),
        N_(
            "Help-seekers who fear they may offend, people in criminal proceedings or "
            "serving a sentence, people after release, and young people with harmful "
            "sexual behaviour."
        ),
    ),
    TargetGroup(
        "parents",
        N_("Parents and carers"),
        N_("Parents, foster and kinship carers, and families."),
    ),
    TargetGroup(
        "schools",
        N_("Schools and educators"),
        N_(
            "Teachers, school staff, whole-school approaches and other professionals "
            "working with children."
        ),
    ),
    TargetGroup(
        "children",
        N_("Children and young people"),
        N_("Children and young people themselves, by age band."),
    ),
)


@dataclass(frozen=True)
class NetworkStatistics:
    members: int
    organisations: int
    countries: int


def network_statistics(session: Session) -> NetworkStatistics:
    """Counts shown on the home page, fetched in one query."""
    statement = select(
        members_repository.active_count_subquery(),
        organisations_repository.count_subquery(),
        members_repository.active_country_count_subquery(),
    )
    members, organisations, countries = session.execute(statement).one()
    return NetworkStatistics(members=members, organisations=organisations, countries=countries)
