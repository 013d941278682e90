"""A programme's content: its fields, their validation, and a readable comparison.

Content travels as a plain dict (the same shape in forms, the API and the version
snapshots), so one function validates everything a person can type, wherever they type it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.i18n import N_, _
from app.organisations.models import Organisation
from app.organisations.service import clean_website
from app.programmes.models import VISIBILITIES, Programme
from app.vocabularies import service as vocabularies
from app.vocabularies.builtin import VOCABULARIES

TITLE_MAX = 200
SUMMARY_MAX = 1200
DESCRIPTION_MAX = 60_000
SHORT_TEXT_MAX = 200
AGE_MAX = 120
EARLIEST_START_YEAR = 1900

# Vocabulary fields holding several codes, and those holding one.
LIST_FIELDS = tuple(name for name, multiple in VOCABULARIES.items() if multiple)
CODE_FIELDS = tuple(name for name, multiple in VOCABULARIES.items() if not multiple)
TEXT_FIELDS = ("title", "summary", "description")
SHORT_TEXT_FIELDS = ("cost", "duration", "provider_name", "contact_name")
BOOLEAN_FIELDS = ("manual_available", "training_required", "still_running")
INTEGER_FIELDS = ("age_min", "age_max", "start_year")
REFERENCE_FIELDS = ("provider_organisation_id", "adapted_from_id")

# Every field of the content, in the order forms, diffs and the API show them.
FIELDS: tuple[str, ...] = (
    "title",
    "summary",
    "description",
    "content_language",
    "target_groups",
    "target_subgroups",
    "prevention_level",
    "settings",
    "delivery",
    "abuse_addressed",
    "countries",
    "languages",
    "age_min",
    "age_max",
    "manual_available",
    "training_required",
    "cost",
    "duration",
    "start_year",
    "still_running",
    "provider_organisation_id",
    "provider_name",
    "contact_name",
    "contact_email",
    "website",
    "visibility",
    "adapted_from_id",
    "translations",
    "attachment_ids",
)

FIELD_LABELS: dict[str, str] = {
    "title": N_("Title"),
    "summary": N_("Summary in plain language"),
    "description": N_("Description"),
    "content_language": N_("Language of this description"),
    "target_groups": N_("Target groups"),
    "target_subgroups": N_("Target subgroups"),
    "prevention_level": N_("Prevention level"),
    "settings": N_("Settings"),
    "delivery": N_("Delivery"),
    "abuse_addressed": N_("Abuse addressed"),
    "countries": N_("Countries where it runs"),
    "languages": N_("Languages it is delivered in"),
    "age_min": N_("Youngest participants (age)"),
    "age_max": N_("Oldest participants (age)"),
    "manual_available": N_("A manual is available"),
    "training_required": N_("Training is required to deliver it"),
    "cost": N_("Cost to participants"),
    "duration": N_("Duration"),
    "start_year": N_("Year it started"),
    "still_running": N_("Still running"),
    "provider_organisation_id": N_("Provider organisation"),
    "provider_name": N_("Provider (if not listed)"),
    "contact_name": N_("Contact person"),
    "contact_email": N_("Contact e-mail"),
    "website": N_("Website"),
    "visibility": N_("Who can see it"),
    "adapted_from_id": N_("Adapted from"),
    "translations": N_("Translations of title and summary"),
    "attachment_ids": N_("Documents"),
}

VISIBILITY_LABELS: dict[str, str] = {
    "public": N_("Everyone (public)"),
    "members": N_("Members of the network only"),
}

REQUIRED_LISTS = ("target_groups", "countries", "languages")


def field_label(name: str) -> str:
    return _(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def empty_content() -> dict[str, Any]:
    """The content of a new programme before anyone types."""
    return {
        "title": "",
        "summary": "",
        "description": "",
        "content_language": "en",
        **{name: [] for name in LIST_FIELDS},
        **dict.fromkeys(CODE_FIELDS),
        "age_min": None,
        "age_max": None,
        "manual_available": False,
        "training_required": False,
        "cost": None,
        "duration": None,
        "start_year": None,
        "still_running": True,
        "provider_organisation_id": None,
        "provider_name": None,
        "contact_name": None,
        "contact_email": None,
        "website": None,
        "visibility": "public",
        "adapted_from_id": None,
        "translations": [],
        "attachment_ids": [],
    }


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return [str(value)]


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _as_text(value: Any) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _as_int(value: Any, name: str, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[name] = _("Enter a whole number.")
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,9}", text):
        errors[name] = _("Enter a whole number.")
        return None
    return int(text)


def validate(
    session: Session,
    raw: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None = None,
    programme_id: int | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean ``raw`` content; return it with a message per field that is wrong.

    ``current`` is the content being edited: its retired vocabulary codes stay valid, so an
    edit does not force anyone to reclassify. Keys missing from ``raw`` keep ``current``'s
    value (or the empty one), so the API can send only what changes.
    """
    base = dict(current) if current is not None else empty_content()
    merged = {**base, **{key: value for key, value in raw.items() if key in FIELDS}}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    terms = vocabularies.snapshot(session)

    for name in TEXT_FIELDS:
        clean[name] = _as_text(merged.get(name))
    limits = {"title": TITLE_MAX, "summary": SUMMARY_MAX, "description": DESCRIPTION_MAX}
    if not clean["title"]:
        errors["title"] = _("Give the programme a title.")
    if not clean["summary"]:
        errors["summary"] = _(
            "Write a short summary in plain language: what the programme does and for whom."
        )
    for name, limit in limits.items():
        if len(clean[name]) > limit:
            errors[name] = _("Keep this under %(count)s characters.", count=limit)
    if clean["title"]:
        clean["title"] = " ".join(clean["title"].split())

    for name in SHORT_TEXT_FIELDS:
        text = " ".join(_as_text(merged.get(name)).split())
        clean[name] = text or None
        if len(text) > SHORT_TEXT_MAX:
            errors[name] = _("Keep this under %(count)s characters.", count=SHORT_TEXT_MAX)

    kept = {name: set(_as_list(base.get(name))) for name in VOCABULARIES}
    for name in LIST_FIELDS:
        codes = list(dict.fromkeys(_as_list(merged.get(name))))
        if name == "countries":
            codes = [code.upper() for code in codes]
        if name == "languages":
            codes = [code.lower() for code in codes]
        clean[name] = codes
        try:
            terms.check(name, codes, keep=kept[name])
        except vocabularies.UnknownCodes as problem:
            errors[name] = problem.message
    for name in CODE_FIELDS:
        code = _as_text(merged.get(name)) or None
        clean[name] = code
        if code is not None:
            try:
                terms.check(name, [code], keep=kept[name])
            except vocabularies.UnknownCodes as problem:
                errors[name] = problem.message
    required_messages = {
        "target_groups": _("Choose at least one target group."),
        "countries": _("Choose at least one country where the programme runs."),
        "languages": _("Choose at least one language the programme is delivered in."),
    }
    for name in REQUIRED_LISTS:
        if not clean[name] and name not in errors:
            errors[name] = required_messages[name]
    if "target_subgroups" not in errors and "target_groups" not in errors:
        chosen = set(clean["target_groups"])
        strays = [
            code
            for code in clean["target_subgroups"]
            if (term := terms.term("target_subgroups", code)) is not None
            and term.parent_code not in chosen
        ]
        if strays:
            errors["target_subgroups"] = _(
                "These subgroups belong to a target group you did not choose: %(codes)s.",
                codes=", ".join(terms.label("target_subgroups", code) for code in strays),
            )

    language = (_as_text(merged.get("content_language")) or "en").lower()
    clean["content_language"] = language
    if (
        language not in terms.active_codes("languages")
        and language not in kept["languages"]
        and language != base.get("content_language")
    ):
        errors["content_language"] = _(
            "Unknown code for %(field)s: %(codes)s. Allowed codes: %(allowed)s.",
            field="content_language",
            codes=language,
            allowed=", ".join(terms.active_codes("languages")),
        )

    for name in BOOLEAN_FIELDS:
        clean[name] = _as_bool(merged.get(name))

    for name in INTEGER_FIELDS:
        clean[name] = _as_int(merged.get(name), name, errors)
    for name in ("age_min", "age_max"):
        age = clean[name]
        if age is not None and not 0 <= age <= AGE_MAX and name not in errors:
            errors[name] = _("Enter an age from 0 to %(max)s.", max=AGE_MAX)
    if (
        clean["age_min"] is not None
        and clean["age_max"] is not None
        and clean["age_min"] > clean["age_max"]
        and "age_max" not in errors
    ):
        errors["age_max"] = _("The oldest age cannot be below the youngest.")
    start_year = clean["start_year"]
    if start_year is not None and "start_year" not in errors:
        this_year = date.today().year
        if not EARLIEST_START_YEAR <= start_year <= this_year + 1:
            errors["start_year"] = _(
                "Enter a year from %(first)s to %(last)s.",
                first=str(EARLIEST_START_YEAR),
                last=str(this_year + 1),
            )

    email = _as_text(merged.get("contact_email"))
    clean["contact_email"] = None
    if email:
        try:
            clean["contact_email"] = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["contact_email"] = _("Enter an e-mail address such as name@example.org.")
    try:
        clean["website"] = clean_website(_as_text(merged.get("website")))
    except ValueError as problem:
        clean["website"] = _as_text(merged.get("website"))
        errors["website"] = str(problem)

    visibility = _as_text(merged.get("visibility")) or "public"
    clean["visibility"] = visibility
    if visibility not in VISIBILITIES:
        errors["visibility"] = _(
            "Unknown code for %(field)s: %(codes)s. Allowed codes: %(allowed)s.",
            field="visibility",
            codes=visibility,
            allowed=", ".join(VISIBILITIES),
        )

    for name in REFERENCE_FIELDS:
        clean[name] = _as_int(merged.get(name), name, errors)
    organisation_id = clean["provider_organisation_id"]
    if (
        organisation_id is not None
        and "provider_organisation_id" not in errors
        and session.get(Organisation, organisation_id) is None
    ):
        errors["provider_organisation_id"] = _("There is no organisation with this number.")
    original_id = clean["adapted_from_id"]
    if original_id is not None and "adapted_from_id" not in errors:
        original = session.get(Programme, original_id)
        if original is None or not original.is_published:
            errors["adapted_from_id"] = _("There is no published programme with this number.")
        elif programme_id is not None and _in_lineage(session, original_id, programme_id):
            errors["adapted_from_id"] = _(
                "A programme cannot be an adaptation of itself or of its own adaptations."
            )

    clean["translations"] = _clean_translations(
        merged.get("translations"), language, terms, kept["languages"], errors
    )
    clean["attachment_ids"] = [
        int(item) for item in (merged.get("attachment_ids") or []) if str(item).isdigit()
    ]
    return clean, errors


def _in_lineage(session: Session, original_id: int, programme_id: int) -> bool:
    """Whether ``original_id`` is ``programme_id`` or descends from it (no cycles)."""
    seen: set[int] = set()
    current: int | None = original_id
    while current is not None and current not in seen:
        if current == programme_id:
            return True
        seen.add(current)
        current = session.scalar(select(Programme.adapted_from_id).where(Programme.id == current))
    return False


def _clean_translations(
    value: Any,
    language: str,
    terms: vocabularies.Snapshot,
    kept_languages: set[str],
    errors: dict[str, str],
) -> list[dict[str, str]]:
    entries = value if isinstance(value, list) else []
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    allowed = set(terms.active_codes("languages")) | kept_languages
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        code = _as_text(entry.get("language")).lower()
        title = " ".join(_as_text(entry.get("title")).split())
        summary = _as_text(entry.get("summary"))
        if not code and not title and not summary:
            continue
        cleaned.append({"language": code, "title": title, "summary": summary})
        if code not in allowed:
            errors["translations"] = _("Choose the language of each translation.")
        elif code == language:
            errors["translations"] = _(
                "A translation must be in another language than the description."
            )
        elif code in seen:
            errors["translations"] = _("Give one translation per language.")
        elif not title:
            errors["translations"] = _("Each translation needs at least a title.")
        elif len(title) > TITLE_MAX or len(summary) > SUMMARY_MAX:
            errors["translations"] = _("A translated title or summary is too long.")
        seen.add(code)
    return cleaned


# --- comparison --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions, ready to show."""

    field: str
    label: str
    before: str
    after: str
    # For long texts: the changed words, as (kind, text) with kind "same", "removed", "added".
    words: list[tuple[str, str]] | None = None


def display_value(
    session: Session, name: str, value: Any, terms: vocabularies.Snapshot | None = None
) -> str:
    """A field's value as a reader sees it (labels instead of codes)."""
    terms = terms or vocabularies.snapshot(session)
    if value is None or value == "" or value == []:
        return "—"
    if name in LIST_FIELDS:
        return ", ".join(terms.label(name, code) for code in value)
    if name in CODE_FIELDS:
        return terms.label(name, value)
    if name == "content_language":
        return terms.label("languages", value)
    if name in BOOLEAN_FIELDS:
        return _("Yes") if value else _("No")
    if name == "visibility":
        return _(VISIBILITY_LABELS[value]) if value in VISIBILITY_LABELS else str(value)
    if name == "provider_organisation_id":
        organisation = session.get(Organisation, value)
        return organisation.name if organisation else f"#{value}"
    if name == "adapted_from_id":
        original = session.get(Programme, value)
        return original.title if original else f"#{value}"
    if name == "translations":
        return "; ".join(
            f"{terms.label('languages', entry.get('language'))}: {entry.get('title', '')}"
            for entry in value
        )
    if name == "attachment_ids":
        return _("%(count)s documents", count=str(len(value)))
    return str(value)


def _word_diff(before: str, after: str) -> list[tuple[str, str]]:
    old_words = before.split()
    new_words = after.split()
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(("same", " ".join(old_words[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", " ".join(old_words[i1:i2])))
        if j2 > j1:
            pieces.append(("added", " ".join(new_words[j1:j2])))
    return pieces


def compare(
    session: Session, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[FieldChange]:
    """The fields that differ from ``before`` to ``after`` (all set fields if no before)."""
    terms = vocabularies.snapshot(session)
    old = dict(before) if before is not None else empty_content()
    changes: list[FieldChange] = []
    for name in FIELDS:
        old_value, new_value = old.get(name), after.get(name)
        if _normalised(old_value) == _normalised(new_value):
            continue
        words = None
        if name in ("summary", "description") and old_value and new_value:
            words = _word_diff(str(old_value), str(new_value))
        changes.append(
            FieldChange(
                field=name,
                label=field_label(name),
                before=display_value(session, name, old_value, terms),
                after=display_value(session, name, new_value, terms),
                words=words,
            )
        )
    return changes


def _normalised(value: Any) -> Any:
    if value in (None, "", []):
        return None
    return value
