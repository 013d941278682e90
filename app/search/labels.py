"""Labels of the search page's facets: the name of each field and of each code.

Facets hold codes (vocabulary codes, rating levels, designs...); the page shows them in the
reader's language, each through the domain that owns it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.evidence.content import DESIGN_LABELS, OUTCOME_KIND_LABELS, RISK_OF_BIAS_LABELS
from app.evidence.rating import LEVEL_LABELS
from app.kit.i18n import N_, _
from app.members import vocabulary as member_vocabulary
from app.organisations.models import ORGANISATION_TYPE_LABELS
from app.vocabularies import service as vocabularies

# Fields whose codes are terms of the portal's vocabularies.
VOCABULARY_FIELDS = (
    "target_groups",
    "target_subgroups",
    "countries",
    "languages",
    "prevention_level",
    "settings",
    "delivery",
    "abuse_addressed",
)

FIELD_LABELS: dict[str, str] = {
    "target_groups": N_("Target group"),
    "target_subgroups": N_("Target subgroup"),
    "countries": N_("Country"),
    "languages": N_("Language"),
    "prevention_level": N_("Prevention level"),
    "settings": N_("Setting"),
    "delivery": N_("Delivery"),
    "abuse_addressed": N_("Abuse addressed"),
    "rating": N_("Evidence rating"),
    "design": N_("Study design"),
    "risk_of_bias": N_("Risk of bias"),
    "outcome_kinds": N_("Outcome"),
    "year": N_("Year"),
    "member_type": N_("Member type"),
    "expertise": N_("Expertise"),
    "organisation_type": N_("Type of organisation"),
}

CODE_LABELS: dict[str, dict[str, str]] = {
    "rating": LEVEL_LABELS,
    "design": DESIGN_LABELS,
    "risk_of_bias": RISK_OF_BIAS_LABELS,
    "outcome_kinds": OUTCOME_KIND_LABELS,
    "member_type": member_vocabulary.MEMBER_TYPE_LABELS,
    "expertise": member_vocabulary.EXPERTISE_AREAS,
    "organisation_type": ORGANISATION_TYPE_LABELS,
}


def field_label(field: str) -> str:
    """The name of a facet field in the reader's language ("Country")."""
    return _(FIELD_LABELS[field]) if field in FIELD_LABELS else field


def facet_label(session: Session, field: str, code: str) -> str:
    """The label of ``code`` in facet ``field``, in the reader's language.

    Vocabulary terms are read once per session (app.vocabularies.service.snapshot); unknown
    codes show as themselves, so a filter from an old link can still be removed.
    """
    if field in VOCABULARY_FIELDS:
        return vocabularies.snapshot(session).label(field, code) or code
    return code_label(field, code)


def code_label(field: str, code: str) -> str:
    """The label of a code of a fixed list (rating, design...); no vocabulary needed."""
    labels = CODE_LABELS.get(field)
    if labels is not None:
        return _(labels[code]) if code in labels else code
    return code  # year, and anything without labels
