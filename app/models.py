"""Every domain's models, imported so that Alembic sees one metadata."""

from app.applications.models import Application, ApplicationMessage
from app.audit.models import AuditEvent
from app.auth.models import (
    AccountToken,
    ApiToken,
    OidcIdentity,
    RecoveryCode,
    SignInAttempt,
    UserSession,
)
from app.db import Base
from app.members.models import (
    CoordinatorCountry,
    Member,
    MemberExpertise,
    MemberLanguage,
    member_organisation,
)
from app.organisations.models import Organisation
from app.outbox.models import OutboxMessage
from app.programmes.models import (
    Attachment,
    ImplementationReport,
    Programme,
    ProgrammeMaintainer,
    ProgrammeTerm,
    ProgrammeThreadEntry,
    ProgrammeTranslation,
    ProgrammeVersion,
)
from app.vocabularies.models import VocabularyTerm

__all__ = [
    "AccountToken",
    "ApiToken",
    "Application",
    "ApplicationMessage",
    "Attachment",
    "AuditEvent",
    "Base",
    "CoordinatorCountry",
    "ImplementationReport",
    "Member",
    "MemberExpertise",
    "MemberLanguage",
    "OidcIdentity",
    "Organisation",
    "OutboxMessage",
    "Programme",
    "ProgrammeMaintainer",
    "ProgrammeTerm",
    "ProgrammeThreadEntry",
    "ProgrammeTranslation",
    "ProgrammeVersion",
    "RecoveryCode",
    "SignInAttempt",
    "UserSession",
    "VocabularyTerm",
    "member_organisation",
]
