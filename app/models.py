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
from app.evidence.models import (
    Evaluation,
    EvaluationVersion,
    Outcome,
    ProgrammeRating,
    RegistryRating,
    evaluation_programme,
)
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
from app.search.models import SearchDocument, SearchState
from app.search.saved import SavedSearch
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
    "Evaluation",
    "EvaluationVersion",
    "ImplementationReport",
    "Member",
    "MemberExpertise",
    "MemberLanguage",
    "OidcIdentity",
    "Organisation",
    "OutboxMessage",
    "Outcome",
    "Programme",
    "ProgrammeMaintainer",
    "ProgrammeRating",
    "ProgrammeTerm",
    "ProgrammeThreadEntry",
    "ProgrammeTranslation",
    "ProgrammeVersion",
    "RecoveryCode",
    "RegistryRating",
    "SavedSearch",
    "SearchDocument",
    "SearchState",
    "SignInAttempt",
    "UserSession",
    "VocabularyTerm",
    "evaluation_programme",
    "member_organisation",
]

# The search index follows every write of the models above (session events).
import app.search.index  # noqa: F401
