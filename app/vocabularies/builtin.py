"""The seed vocabularies of the portal and their built-in labels.

The codes are stable and used by the API (see DOMAIN.md). Migration 0004 stores the same
codes as terms; coordinators then add, relabel and retire terms in the database. Built-in
labels are translated through the message catalogues; countries and languages take their
names from Babel in the reader's language.
"""

from __future__ import annotations

from app.kit.i18n import N_
from app.members.vocabulary import COUNTRIES, LANGUAGES

# Vocabulary name -> whether a programme holds several codes of it.
VOCABULARIES: dict[str, bool] = {
    "target_groups": True,
    "target_subgroups": True,
    "prevention_level": False,
    "settings": True,
    "delivery": True,
    "abuse_addressed": False,
    "countries": True,
    "languages": True,
}

VOCABULARY_LABELS: dict[str, str] = {
    "target_groups": N_("Target groups"),
    "target_subgroups": N_("Target subgroups"),
    "prevention_level": N_("Prevention level"),
    "settings": N_("Settings"),
    "delivery": N_("Delivery"),
    "abuse_addressed": N_("Abuse addressed"),
    "countries": N_("Countries"),
    "languages": N_("Languages"),
}

# Vocabularies whose labels come from Babel unless a coordinator relabels a term.
BABEL_VOCABULARIES = ("countries", "languages")

TARGET_GROUPS: dict[str, str] = {
    "offenders": N_("People who have offended or fear they might offend"),
    "parents": N_("Parents and carers"),
    "schools": N_("Schools and educators"),
    "children": N_("Children and young people"),
}

# (code, parent target group, label)
TARGET_SUBGROUPS: tuple[tuple[str, str, str], ...] = (
    ("help_seekers", "offenders", N_("Help-seekers who fear they may offend")),
    ("criminal_proceedings", "offenders", N_("People in criminal proceedings or in custody")),
    ("after_release", "offenders", N_("People after release")),
    ("harmful_sexual_behaviour", "offenders", N_("Young people with harmful sexual behaviour")),
    ("parents", "parents", N_("Parents")),
    ("foster_kinship_carers", "parents", N_("Foster and kinship carers")),
    ("families", "parents", N_("Families")),
    ("teachers", "schools", N_("Teachers")),
    ("school_staff", "schools", N_("Other school staff")),
    ("whole_school", "schools", N_("Whole-school approaches")),
    ("child_professionals", "schools", N_("Other professionals working with children")),
    ("age_0_5", "children", N_("Children aged 0 to 5")),
    ("age_6_11", "children", N_("Children aged 6 to 11")),
    ("age_12_17", "children", N_("Young people aged 12 to 17")),
    ("age_18_25", "children", N_("Young adults aged 18 to 25")),
)

PREVENTION_LEVELS: dict[str, str] = {
    "primary": N_("Primary (universal)"),
    "secondary": N_("Secondary (people or settings at risk)"),
    "tertiary": N_("Tertiary (after abuse or offending, to stop recurrence)"),
}

SETTINGS: dict[str, str] = {
    "school": N_("School"),
    "community": N_("Community"),
    "online": N_("Online"),
    "health_care": N_("Health care"),
    "criminal_justice": N_("Criminal justice"),
    "family_home": N_("Family home"),
    "sport_leisure": N_("Sport and leisure"),
    "faith": N_("Faith communities"),
    "workplace": N_("Workplace"),
}

DELIVERY: dict[str, str] = {
    "face_to_face": N_("Face to face"),
    "online": N_("Online"),
    "helpline": N_("Helpline"),
    "self_help": N_("Self-help"),
    "blended": N_("Blended"),
    "campaign": N_("Campaign"),
}

ABUSE_ADDRESSED: dict[str, str] = {
    "contact": N_("Contact abuse"),
    "online": N_("Online abuse"),
    "both": N_("Contact and online abuse"),
}


def builtin_labels() -> dict[tuple[str, str], str]:
    """(vocabulary, code) -> untranslated built-in label, for the vocabularies with one."""
    labels: dict[tuple[str, str], str] = {}
    for name, mapping in (
        ("target_groups", TARGET_GROUPS),
        ("prevention_level", PREVENTION_LEVELS),
        ("settings", SETTINGS),
        ("delivery", DELIVERY),
        ("abuse_addressed", ABUSE_ADDRESSED),
    ):
        for code, label in mapping.items():
            labels[(name, code)] = label
    for code, _parent, label in TARGET_SUBGROUPS:
        labels[("target_subgroups", code)] = label
    return labels


BUILTIN_LABELS = builtin_labels()

# Every seed term as (vocabulary, code, parent_code), in picker order.
SEED_TERMS: tuple[tuple[str, str, str | None], ...] = (
    *(("target_groups", code, None) for code in TARGET_GROUPS),
    *(("target_subgroups", code, parent) for code, parent, _label in TARGET_SUBGROUPS),
    *(("prevention_level", code, None) for code in PREVENTION_LEVELS),
    *(("settings", code, None) for code in SETTINGS),
    *(("delivery", code, None) for code in DELIVERY),
    *(("abuse_addressed", code, None) for code in ABUSE_ADDRESSED),
    *(("countries", code, None) for code in COUNTRIES),
    *(("languages", code, None) for code in LANGUAGES),
)
