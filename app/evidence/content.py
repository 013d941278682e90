"""An evaluation's content: its fields and outcomes, their validation, and citations' DOIs.

Content travels as a plain dict (forms, the API and version snapshots share the shape), so
one function validates everything a person can type. Errors are keyed by field name; an
outcome's fields by ``outcomes.<index>.<field>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.evidence import effects
from app.evidence.models import (
    DESIGNS,
    INPUT_KINDS,
    MEASURES,
    OUTCOME_KINDS,
    RISKS_OF_BIAS,
    VISIBILITIES,
)
from app.kit.i18n import N_, _
from app.organisations.service import clean_website
from app.programmes.models import Programme
from app.vocabularies import service as vocabularies

TITLE_MAX = 400
AUTHOR_MAX = 200
AUTHORS_MAX = 100
VENUE_MAX = 300
ABSTRACT_MAX = 20_000
OUTCOME_NAME_MAX = 300
OUTCOMES_MAX = 50
EARLIEST_YEAR = 1900
SAMPLE_MAX = 100_000_000
FOLLOW_UP_MAX = 600

FIELDS: tuple[str, ...] = (
    "programme_ids",
    "title",
    "authors",
    "year",
    "venue",
    "doi",
    "url",
    "abstract",
    "design",
    "country",
    "sample_size",
    "follow_up_months",
    "risk_of_bias",
    "visibility",
    "outcomes",
)
OUTCOME_FIELDS: tuple[str, ...] = (
    "name",
    "kind",
    "measure",
    "lower_is_better",
    "input_kind",
    "estimate",
    "ci_low",
    "ci_high",
    "n_treatment",
    "n_control",
    "mean_t",
    "sd_t",
    "mean_c",
    "sd_c",
    "events_t",
    "events_c",
)

FIELD_LABELS: dict[str, str] = {
    "programme_ids": N_("Programmes evaluated"),
    "title": N_("Title"),
    "authors": N_("Authors"),
    "year": N_("Year"),
    "venue": N_("Journal or publisher"),
    "doi": N_("DOI"),
    "url": N_("Web address"),
    "abstract": N_("Abstract"),
    "design": N_("Design"),
    "country": N_("Country"),
    "sample_size": N_("Sample size"),
    "follow_up_months": N_("Follow-up (months)"),
    "risk_of_bias": N_("Risk of bias"),
    "visibility": N_("Who can see it"),
    "outcomes": N_("Outcomes"),
}
OUTCOME_FIELD_LABELS: dict[str, str] = {
    "name": N_("Outcome"),
    "kind": N_("Kind of outcome"),
    "measure": N_("Effect measure"),
    "lower_is_better": N_("Lower values are better"),
    "input_kind": N_("What you enter"),
    "estimate": N_("Estimate"),
    "ci_low": N_("95% CI, lower bound"),
    "ci_high": N_("95% CI, upper bound"),
    "n_treatment": N_("Programme group size"),
    "n_control": N_("Comparison group size"),
    "mean_t": N_("Programme group mean"),
    "sd_t": N_("Programme group SD"),
    "mean_c": N_("Comparison group mean"),
    "sd_c": N_("Comparison group SD"),
    "events_t": N_("Events in the programme group"),
    "events_c": N_("Events in the comparison group"),
}
DESIGN_LABELS: dict[str, str] = {
    "rct": N_("Randomised controlled trial"),
    "cluster_rct": N_("Cluster-randomised trial"),
    "quasi_experimental": N_("Quasi-experimental study"),
    "pre_post": N_("Pre/post study"),
    "qualitative": N_("Qualitative study"),
    "case_study": N_("Case study"),
    "systematic_review": N_("Systematic review"),
    "meta_analysis": N_("Meta-analysis"),
    "other": N_("Other design"),
}
RISK_OF_BIAS_LABELS: dict[str, str] = {
    "low": N_("Low"),
    "some_concerns": N_("Some concerns"),
    "high": N_("High"),
    "not_assessed": N_("Not assessed"),
}
OUTCOME_KIND_LABELS: dict[str, str] = {
    "abuse_or_offending": N_("Abuse or offending"),
    "risk_or_protective_factor": N_("Risk or protective factor"),
    "knowledge_or_attitude": N_("Knowledge or attitude"),
    "other": N_("Other outcome"),
}
MEASURE_LABELS: dict[str, str] = {
    "smd": N_("Standardised mean difference (Hedges' g)"),
    "odds_ratio": N_("Odds ratio"),
    "risk_ratio": N_("Risk ratio"),
}
INPUT_KIND_LABELS: dict[str, str] = {
    "effect": N_("An effect size with its 95% confidence interval"),
    "continuous": N_("Means, standard deviations and group sizes"),
    "binary": N_("Events and group sizes"),
}

DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "doi:",
)


def normalise_doi(value: str) -> str:
    """A DOI in its canonical form (``10.xxxx/...``, lower case); ValueError otherwise.

    Accepts the forms people paste: with ``https://doi.org/``, ``doi:`` or surrounding
    spaces. DOIs are case-insensitive, so they are stored in lower case.
    """
    text = value.strip()
    lowered = text.lower()
    for prefix in _DOI_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    if not DOI_PATTERN.fullmatch(text):
        raise ValueError(
            _(
                "Enter a DOI such as 10.1000/xyz123 (it starts with 10., then a slash and "
                "the item's own part)."
            )
        )
    return text.lower()


def label(mapping: Mapping[str, str], code: str | None) -> str:
    if code is None:
        return ""
    return _(mapping[code]) if code in mapping else code


def empty_content() -> dict[str, Any]:
    return {
        "programme_ids": [],
        "title": "",
        "authors": [],
        "year": None,
        "venue": None,
        "doi": None,
        "url": None,
        "abstract": "",
        "design": None,
        "country": None,
        "sample_size": None,
        "follow_up_months": None,
        "risk_of_bias": "not_assessed",
        "visibility": "public",
        "outcomes": [],
    }


def empty_outcome() -> dict[str, Any]:
    return {
        "name": "",
        "kind": None,
        "measure": "smd",
        "lower_is_better": False,
        "input_kind": "effect",
        **dict.fromkeys(OUTCOME_FIELDS[5:]),
    }


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _int(value: Any, key: str, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[key] = _("Enter a whole number.")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,12}", text):
        errors[key] = _("Enter a whole number.")
        return None
    return int(text)


def _float(value: Any, key: str, errors: dict[str, str]) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[key] = _("Enter a number, such as 0.35.")
        return None
    try:
        number = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError):
        errors[key] = _("Enter a number, such as 0.35.")
        return None
    if not math.isfinite(number):
        errors[key] = _("Enter a number, such as 0.35.")
        return None
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def _authors(value: Any) -> list[str]:
    if isinstance(value, str):
        parts = re.split(r"[;\n]", value)
    elif isinstance(value, list | tuple):
        parts = [str(item) for item in value]
    else:
        parts = []
    return [name for name in (_text(part) for part in parts) if name]


def validate(
    session: Session, raw: Mapping[str, Any], *, current: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean ``raw`` content; return it with a message per wrong field.

    Keys missing from ``raw`` keep ``current``'s value, so the API can send only what
    changes. Outcomes entered as group statistics get their effect computed here.
    """
    base = dict(current) if current is not None else empty_content()
    merged = {**base, **{key: value for key, value in raw.items() if key in FIELDS}}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    ids: list[int] = []
    for item in merged.get("programme_ids") or []:
        number = _int(item, "programme_ids", errors)
        if number is not None and number not in ids:
            ids.append(number)
    clean["programme_ids"] = ids
    if not ids and "programme_ids" not in errors:
        errors["programme_ids"] = _("Choose the programme or programmes this study evaluates.")
    elif ids:
        found = set(
            session.scalars(
                select(Programme.id).where(Programme.id.in_(ids), Programme.status == "published")
            )
        )
        missing = [str(number) for number in ids if number not in found]
        if missing:
            errors["programme_ids"] = _(
                "There is no published programme with these numbers: %(numbers)s.",
                numbers=", ".join(missing),
            )

    clean["title"] = _text(merged.get("title"))
    if not clean["title"]:
        errors["title"] = _("Give the title of the study as it was published.")
    elif len(clean["title"]) > TITLE_MAX:
        errors["title"] = _("Keep this under %(count)s characters.", count=TITLE_MAX)

    clean["authors"] = _authors(merged.get("authors"))
    if not clean["authors"]:
        errors["authors"] = _("Name at least one author (Family name, Given names).")
    elif len(clean["authors"]) > AUTHORS_MAX or any(
        len(name) > AUTHOR_MAX for name in clean["authors"]
    ):
        errors["authors"] = _("The list of authors is too long.")

    clean["year"] = _int(merged.get("year"), "year", errors)
    this_year = date.today().year
    if clean["year"] is None and "year" not in errors:
        errors["year"] = _("Give the year the study was published.")
    elif clean["year"] is not None and not EARLIEST_YEAR <= clean["year"] <= this_year:
        errors["year"] = _(
            "Enter a year from %(first)s to %(last)s; a study cannot be from the future.",
            first=str(EARLIEST_YEAR),
            last=str(this_year),
        )

    clean["venue"] = _text(merged.get("venue")) or None
    if clean["venue"] and len(clean["venue"]) > VENUE_MAX:
        errors["venue"] = _("Keep this under %(count)s characters.", count=VENUE_MAX)

    doi = _text(merged.get("doi"))
    clean["doi"] = None
    if doi:
        try:
            clean["doi"] = normalise_doi(doi)
        except ValueError as problem:
            clean["doi"] = doi
            errors["doi"] = str(problem)

    try:
        clean["url"] = clean_website(_text(merged.get("url")))
    except ValueError as problem:
        clean["url"] = _text(merged.get("url"))
        errors["url"] = str(problem)

    abstract = "" if merged.get("abstract") is None else str(merged["abstract"]).strip()
    clean["abstract"] = abstract.replace("\r\n", "\n")
    if len(clean["abstract"]) > ABSTRACT_MAX:
        errors["abstract"] = _("Keep this under %(count)s characters.", count=ABSTRACT_MAX)

    for name, allowed in (
        ("design", DESIGNS),
        ("risk_of_bias", RISKS_OF_BIAS),
        ("visibility", VISIBILITIES),
    ):
        code = _text(merged.get(name)) or None
        clean[name] = code
        if code is None:
            errors[name] = _("Choose one.")
        elif code not in allowed:
            errors[name] = _unknown(name, code, allowed)

    country = (_text(merged.get("country")) or "").upper() or None
    clean["country"] = country
    if country is not None:
        terms = vocabularies.snapshot(session)
        try:
            terms.check("countries", [country], keep=[base.get("country") or ""])
        except vocabularies.UnknownCodes as problem:
            errors["country"] = problem.message

    clean["sample_size"] = _int(merged.get("sample_size"), "sample_size", errors)
    if clean["sample_size"] is not None and not 0 <= clean["sample_size"] <= SAMPLE_MAX:
        errors["sample_size"] = _("The sample size cannot be negative.")
    clean["follow_up_months"] = _int(merged.get("follow_up_months"), "follow_up_months", errors)
    if clean["follow_up_months"] is not None and not (
        0 <= clean["follow_up_months"] <= FOLLOW_UP_MAX
    ):
        errors["follow_up_months"] = _(
            "Enter the months from the end of the programme to the last measurement (0 to "
            "%(max)s).",
            max=FOLLOW_UP_MAX,
        )

    raw_outcomes = merged.get("outcomes") or []
    if not isinstance(raw_outcomes, list):
        raw_outcomes = []
    outcomes: list[dict[str, Any]] = []
    for entry in raw_outcomes[: OUTCOMES_MAX + 1]:
        if isinstance(entry, Mapping) and not _blank_outcome(entry):
            outcomes.append(_clean_outcome(entry, len(outcomes), errors))
    if len(outcomes) > OUTCOMES_MAX:
        errors["outcomes"] = _("Give at most %(count)s outcomes.", count=OUTCOMES_MAX)
    clean["outcomes"] = outcomes[:OUTCOMES_MAX]
    return clean, errors


def _unknown(name: str, code: str, allowed: tuple[str, ...]) -> str:
    return _(
        "Unknown code for %(field)s: %(codes)s. Allowed codes: %(allowed)s.",
        field=name,
        codes=code,
        allowed=", ".join(allowed),
    )


def _blank_outcome(entry: Mapping[str, Any]) -> bool:
    """A row of the form nobody filled in (the defaults of its selects do not count)."""
    typed = (
        "name",
        "estimate",
        "ci_low",
        "ci_high",
        "n_treatment",
        "n_control",
        "mean_t",
        "sd_t",
        "mean_c",
        "sd_c",
        "events_t",
        "events_c",
    )
    return all(entry.get(key) in (None, "") for key in typed)


def _clean_outcome(entry: Mapping[str, Any], index: int, errors: dict[str, str]) -> dict[str, Any]:
    prefix = f"outcomes.{index}."
    outcome = empty_outcome()
    local: dict[str, str] = {}
    outcome["name"] = _text(entry.get("name"))
    if not outcome["name"]:
        local["name"] = _("Name the outcome, such as 'Self-reported sexual offending'.")
    elif len(outcome["name"]) > OUTCOME_NAME_MAX:
        local["name"] = _("Keep this under %(count)s characters.", count=OUTCOME_NAME_MAX)
    for name, allowed in (
        ("kind", OUTCOME_KINDS),
        ("measure", MEASURES),
        ("input_kind", INPUT_KINDS),
    ):
        code = _text(entry.get(name)) or None
        outcome[name] = code
        if code is None:
            local[name] = _("Choose one.")
        elif code not in allowed:
            local[name] = _unknown(name, code, allowed)
    outcome["lower_is_better"] = _bool(entry.get("lower_is_better"))
    for name in ("estimate", "ci_low", "ci_high", "mean_t", "sd_t", "mean_c", "sd_c"):
        outcome[name] = _float(entry.get(name), name, local)
    for name in ("n_treatment", "n_control", "events_t", "events_c"):
        outcome[name] = _int(entry.get(name), name, local)
    for name in ("n_treatment", "n_control", "events_t", "events_c"):
        if outcome[name] is not None and name not in local:
            if outcome[name] < 0:
                local[name] = _("This cannot be negative.")
            elif outcome[name] > SAMPLE_MAX:
                local[name] = _("Enter a number of at most %(max)s.", max=SAMPLE_MAX)
    outcome["computation"] = None
    if (
        "measure" not in local
        and "input_kind" not in local
        and not local.keys()
        & {
            "estimate",
            "ci_low",
            "ci_high",
            "mean_t",
            "sd_t",
            "mean_c",
            "sd_c",
            "n_treatment",
            "n_control",
            "events_t",
            "events_c",
        }
    ):
        _compute(outcome, local)
    for name, message in local.items():
        errors[prefix + name] = message
    return outcome


_ARGUMENT_FIELDS = {"n_t": "n_treatment", "n_c": "n_control"}


def _compute(outcome: dict[str, Any], local: dict[str, str]) -> None:
    """Fill in (or check) the effect and its CI from what was entered."""
    kind = outcome["input_kind"]
    measure = outcome["measure"]
    if kind == "effect":
        missing = [name for name in ("estimate", "ci_low", "ci_high") if outcome[name] is None]
        for name in missing:
            local[name] = _("Enter the estimate and both bounds of its 95% CI.")
        if not missing:
            local.update(
                effects.validate_effect(
                    measure, outcome["estimate"], outcome["ci_low"], outcome["ci_high"]
                )
            )
        return
    try:
        if kind == "continuous":
            needed: tuple[str, ...] = (
                "mean_t",
                "sd_t",
                "n_treatment",
                "mean_c",
                "sd_c",
                "n_control",
            )
            missing = [name for name in needed if outcome[name] is None]
            for name in missing:
                local[name] = _("Enter the means, SDs and sizes of both groups.")
            if missing:
                return
            if measure != "smd":
                local["measure"] = _(
                    "Means and SDs give a standardised mean difference: choose that measure."
                )
                return
            effect = effects.hedges_g(
                outcome["mean_t"],
                outcome["sd_t"],
                outcome["n_treatment"],
                outcome["mean_c"],
                outcome["sd_c"],
                outcome["n_control"],
            )
        else:
            needed = ("events_t", "n_treatment", "events_c", "n_control")
            missing = [name for name in needed if outcome[name] is None]
            for name in missing:
                local[name] = _("Enter the events and sizes of both groups.")
            if missing:
                return
            if measure == "smd":
                local["measure"] = _("Events give an odds ratio or a risk ratio: choose one.")
                return
            effect = effects.binary_effect(
                measure,
                outcome["events_t"],
                outcome["n_treatment"],
                outcome["events_c"],
                outcome["n_control"],
            )
    except effects.EffectInputError as problem:
        for name, message in problem.errors.items():
            local[_ARGUMENT_FIELDS.get(name, name)] = message
        return
    outcome["estimate"] = effect.estimate
    outcome["ci_low"] = effect.ci_low
    outcome["ci_high"] = effect.ci_high
    outcome["computation"] = effect.as_record()
