"""Fictional demo data: organisations and people of the network, clearly marked as demo.

Every name is invented; organisations use the reserved ``.example`` domain and people the
``example.org`` domain, so nothing here can be mistaken for, or reach, a real person.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.evidence import demo as evidence_demo
from app.members import repository as members_repository
from app.members import service as members_service
from app.organisations import service as organisations_service
from app.programmes import demo as programmes_demo

# (name, country, type, website)
DEMO_ORGANISATIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Demo Institute for Child Protection Research",
        "DE",
        "university",
        "https://demo-icpr.example",
    ),
    ("Demo Helpline Foundation", "NL", "ngo", "https://demo-helpline.example"),
    (
        "Demo Ministry of Justice, Prevention Unit",
        "PT",
        "public_authority",
        "https://demo-justice.example",
    ),
    ("Demo Centre for Sexual Health", "SE", "health_service", "https://demo-sexual-health.example"),
    ("Demo Schools Safeguarding Network", "IE", "ngo", "https://demo-safeguarding.example"),
    (
        "Demo University of Applied Psychology",
        "AT",
        "university",
        "https://demo-applied-psychology.example",
    ),
    (
        "Demo Police Prevention Office",
        "EE",
        "law_enforcement",
        "https://demo-police-prevention.example",
    ),
    ("Demo Family Support Association", "FR", "ngo", "https://demo-family-support.example"),
    (
        "Demo Regional Health Authority",
        "IT",
        "health_service",
        "https://demo-regional-health.example",
    ),
    ("Demo Observatory on Online Safety", "BE", "other", "https://demo-online-safety.example"),
)

# (full name, e-mail local part, country, member type, role, organisation index)
DEMO_PEOPLE: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("Alma Demo-Richter", "alma.richter", "DE", "researcher", "coordinator", 0),
    ("Bram Demo-Visser", "bram.visser", "NL", "practitioner", "member", 1),
    ("Carla Demo-Sousa", "carla.sousa", "PT", "policy_maker", "coordinator", 2),
    ("David Demo-Lindqvist", "david.lindqvist", "SE", "practitioner", "member", 3),
    ("Eimear Demo-Byrne", "eimear.byrne", "IE", "practitioner", "member", 4),
    ("Felix Demo-Huber", "felix.huber", "AT", "researcher", "member", 5),
    ("Grete Demo-Tamm", "grete.tamm", "EE", "practitioner", "member", 6),
    ("Hélène Demo-Moreau", "helene.moreau", "FR", "practitioner", "member", 7),
    ("Irene Demo-Russo", "irene.russo", "IT", "researcher", "member", 8),
    ("Jonas Demo-Peeters", "jonas.peeters", "BE", "researcher", "admin", 9),
    ("Katrin Demo-Weber", "katrin.weber", "DE", "practitioner", "member", 0),
    ("Luís Demo-Ferreira", "luis.ferreira", "PT", "researcher", "member", 2),
)


@dataclass(frozen=True)
class DemoReport:
    organisations_added: int
    members_added: int
    programmes_added: int = 0
    reports_added: int = 0


def load_demo_data(session: Session) -> DemoReport:
    """Add whatever demo records are missing; existing ones are left as they are."""
    organisations = []
    organisations_added = 0
    for name, country, organisation_type, website in DEMO_ORGANISATIONS:
        organisation, created = organisations_service.get_or_create(
            session,
            name=name,
            country=country,
            organisation_type=organisation_type,
            website=website,
            is_demo=True,
        )
        organisations.append(organisation)
        organisations_added += created
    members_added = 0
    for full_name, local_part, country, member_type, role, organisation_index in DEMO_PEOPLE:
        email = f"{local_part}@example.org"
        if members_repository.get_by_email(session, email) is not None:
            continue
        # Demo accounts cannot sign in: they have no password.
        members_service.create_member(
            session,
            email=email,
            full_name=full_name,
            password=None,
            role=role,
            member_type=member_type,
            country=country,
            organisations=[organisations[organisation_index]],
            is_demo=True,
        )
        members_added += 1
    programmes = programmes_demo.add_demo_programmes(session, organisations)
    evidence_demo.add_demo_evidence(session)  # after the programmes it evaluates
    return DemoReport(
        organisations_added=organisations_added,
        members_added=members_added,
        programmes_added=programmes.programmes_added,
        reports_added=programmes.reports_added,
    )
