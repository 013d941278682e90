"""Codes members choose from (countries, languages, areas of expertise) and the labels of
the codes a member record holds (member type, role, status).

Country and language names come from Babel in the reader's language; expertise labels are
translated through the catalogues.
"""

from __future__ import annotations

from collections.abc import Collection

from babel import Locale

from app.kit.i18n import N_, _, get_locale

# EU Member States first, then partners of the network beyond the EU.
EU_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip
PARTNER_COUNTRIES = (
    "AL", "BA", "CH", "GB", "GE", "IS", "LI", "MD", "ME", "MK", "NO", "RS", "TR", "UA",
)  # fmt: skip
COUNTRIES = EU_COUNTRIES + PARTNER_COUNTRIES

# The 24 official languages of the EU, then other languages of the network's countries.
EU_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt",
    "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip
OTHER_LANGUAGES = ("ar", "bs", "is", "ka", "lb", "mk", "no", "ro", "ru", "sq", "sr", "tr", "uk")
LANGUAGES = EU_LANGUAGES + tuple(code for code in OTHER_LANGUAGES if code not in EU_LANGUAGES)

EXPERTISE_AREAS: dict[str, str] = {
    "offender_prevention": N_("Prevention with people who have offended or fear they might offend"),
    "parenting_support": N_("Support for parents and carers"),
    "school_programmes": N_("School and education programmes"),
    "child_empowerment": N_("Programmes for children and young people"),
    "online_safety": N_("Online safety"),
    "helplines": N_("Helplines and anonymous support"),
    "clinical_treatment": N_("Clinical assessment and treatment"),
    "criminal_justice": N_("Criminal justice and probation"),
    "victim_support": N_("Support for victims and survivors"),
    "evaluation_methods": N_("Evaluation and research methods"),
    "policy": N_("Policy and legislation"),
    "training": N_("Training of professionals"),
}

# Labels of the member's codes (app.members.models.MEMBER_TYPES, ROLES, STATUSES).
MEMBER_TYPE_LABELS: dict[str, str] = {
    "researcher": N_("Researcher"),
    "practitioner": N_("Practitioner"),
    "policy_maker": N_("Policy maker"),
    "other": N_("Other"),
}
ROLE_LABELS: dict[str, str] = {
    "member": N_("Member"),
    "coordinator": N_("Coordinator"),
    "admin": N_("Administrator"),
}
STATUS_LABELS: dict[str, str] = {
    "active": N_("Active"),
    "lapsed": N_("Lapsed"),
    "suspended": N_("Suspended"),
    "erased": N_("Erased"),
}


def member_type_label(code: str) -> str:
    return _(MEMBER_TYPE_LABELS[code]) if code in MEMBER_TYPE_LABELS else code


def role_label(code: str) -> str:
    return _(ROLE_LABELS[code]) if code in ROLE_LABELS else code


def status_label(code: str) -> str:
    return _(STATUS_LABELS[code]) if code in STATUS_LABELS else code


def _locale() -> Locale:
    return Locale.parse(get_locale())


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return str(_locale().territories.get(code.upper(), code.upper()))


def language_name(code: str | None) -> str:
    if not code:
        return ""
    name = str(_locale().languages.get(code.lower(), code))
    return name[:1].upper() + name[1:]


def expertise_label(code: str) -> str:
    return _(EXPERTISE_AREAS[code]) if code in EXPERTISE_AREAS else code


def country_choices(within: Collection[str] | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name in the reader's language; only ``within`` if given."""
    codes = COUNTRIES if within is None else [code for code in COUNTRIES if code in within]
    return sorted(((code, country_name(code)) for code in codes), key=lambda pair: pair[1])


def language_choices() -> list[tuple[str, str]]:
    return sorted(((code, language_name(code)) for code in LANGUAGES), key=lambda pair: pair[1])


def expertise_choices() -> list[tuple[str, str]]:
    return [(code, _(label)) for code, label in EXPERTISE_AREAS.items()]
