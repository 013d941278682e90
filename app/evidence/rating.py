"""The default rating scheme of a programme's evidence (DOMAIN.md, "The default rating scheme").

A pure module: it takes plain data (:class:`ProgrammeInput`) and returns a :class:`Rating`,
without a database, a request or any I/O, so every rule and boundary can be tested directly.
The service layer turns the listed outcomes of a programme's published evaluations into a
``ProgrammeInput``.

Definitions
-----------
* A study is **rigorous** when its design is ``rct``, ``cluster_rct`` or
  ``quasi_experimental`` AND its risk of bias is ``low`` or ``some_concerns``.
* An outcome is **favourable** when its 95% CI lies entirely on the beneficial side of no
  effect (0 for ``smd``, 1 for ``odds_ratio`` and ``risk_ratio``), **harmful** when it lies
  entirely on the other side, and **inconclusive** otherwise; ``lower_is_better`` says which
  side is beneficial. "Entirely" is strict: a CI that touches the null value (``ci_low == 0``
  for an smd) is inconclusive. See :func:`outcome_direction`.
* Studies are counted by ``evaluation_id``: two outcomes of the same study are one study.

The rules, checked in this order (the first that holds gives the level)
-----------------------------------------------------------------------
1. ``possibly_harmful`` / ``harmful_rigorous`` -- a rigorous study has a harmful outcome, of
   any kind. Rests on the rigorous studies with a harmful outcome.
2. ``effective``

   a. ``effective_two_rigorous`` -- at least two rigorous studies each have a favourable
      ``abuse_or_offending`` or ``knowledge_or_attitude`` outcome, at least one OF THOSE
      studies has a follow-up of 12 months or more (an unknown follow-up does not count), and
      the programme has a manual. Rests on those favourable studies (and on a review that
      satisfies 2b as well, if there is one).
   b. ``effective_review`` -- a ``systematic_review`` or ``meta_analysis`` with ``low`` risk
      of bias "finds it effective", read as: it has at least one favourable outcome (of any
      kind) and no harmful outcome. Rests on those reviews.
3. ``promising`` / ``promising_rigorous`` -- a rigorous study has a favourable
   ``abuse_or_offending`` or ``risk_or_protective_factor`` outcome. Rests on those studies.
4. ``no_effect`` / ``no_effect_rigorous`` -- at least one rigorous study reports outcomes and
   no rigorous study has a favourable outcome of ANY kind. (Rule 1 has already failed, so all
   rigorous outcomes are inconclusive.) A rigorous study without any outcome recorded shows
   nothing, so it neither shows "no effect" nor counts towards this rule. Rests on the
   rigorous studies with outcomes.
5. ``prudent`` / ``prudent_non_rigorous`` -- there is no rigorous study at all, and the
   non-rigorous evidence "points to benefit", read as: at least one favourable outcome among
   the non-rigorous studies (reviews that did not meet 2b included) and no harmful one.
   Rests on the non-rigorous studies with a favourable outcome.
6. ``pioneering`` / ``pioneering`` -- evaluations exist but none of the above holds. This
   catches, among others: rigorous studies favourable only on ``knowledge_or_attitude`` or
   ``other`` outcomes (not enough for rule 2, not the kinds of rule 3, and not "none
   favourable" for rule 4); rigorous studies without recorded outcomes; non-rigorous evidence
   that is inconclusive or mixed with a harmful result. Rests on every study.
7. ``not_rated`` / ``not_rated`` -- no evaluation at all.

Because the rules are an ``if``/``elif`` chain ending in the two catch-alls 6 and 7, every
input gets exactly one level.

Harmful results of studies that are not rigorous (including reviews) do not make a programme
"possibly harmful" -- rule 1 names rigorous studies only -- but they keep rule 2b and rule 5
from holding.

Translations
------------
Texts are kept as message ids (marked with ``N_``) and translated when shown, so a rating
computed once can be shown in every language: :attr:`Reason.text` translates into the current
locale on access; :attr:`Rating.raise_by` holds message ids, and :attr:`Rating.raise_by_texts`
translates them. :meth:`Reason.to_dict` / :meth:`Reason.from_dict` keep a reason in JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from app.evidence.models import (
    DESIGNS,
    MEASURES,
    OUTCOME_KINDS,
    REVIEW_DESIGNS,
    RIGOROUS_DESIGNS,
    RISKS_OF_BIAS,
)
from app.kit.i18n import N_, _

Direction = Literal["favourable", "harmful", "inconclusive"]

# The value of "no effect" for each effect measure.
NULL_VALUES: dict[str, float] = {"smd": 0.0, "odds_ratio": 1.0, "risk_ratio": 1.0}
RIGOROUS_RISKS_OF_BIAS = ("low", "some_concerns")
# Outcome kinds that count for rule 2a (effective) and rule 3 (promising).
EFFECTIVE_KINDS = ("abuse_or_offending", "knowledge_or_attitude")
PROMISING_KINDS = ("abuse_or_offending", "risk_or_protective_factor")
LONG_FOLLOW_UP_MONTHS = 12
REREVIEW_YEARS = 3

LEVEL_LABELS: dict[str, str] = {
    "possibly_harmful": N_("Possibly harmful"),
    "effective": N_("Effective"),
    "promising": N_("Promising"),
    "no_effect": N_("No effect shown"),
    "prudent": N_("Prudent"),
    "pioneering": N_("Pioneering"),
    "not_rated": N_("Not yet rated"),
}

LEVEL_DESCRIPTIONS: dict[str, str] = {
    "possibly_harmful": N_(
        "At least one rigorous study found a harmful effect: look closely at the evidence "
        "before using the programme."
    ),
    "effective": N_(
        "At least two rigorous studies found a favourable effect, one of them over 12 months "
        "or more, and a manual is available; or a systematic review with low risk of bias "
        "found the programme effective."
    ),
    "promising": N_(
        "At least one rigorous study found a favourable effect on abuse or offending or on a "
        "risk or protective factor; more evidence is needed to call the programme effective."
    ),
    "no_effect": N_("Rigorous studies found no clear effect on the outcomes they measured."),
    "prudent": N_(
        "Only studies that are not rigorous, such as before-and-after or qualitative studies, "
        "have evaluated the programme, and they point to benefit."
    ),
    "pioneering": N_(
        "The programme has been evaluated, but the evidence does not yet allow a clearer "
        "rating; it may be new or innovative."
    ),
    "not_rated": N_("No evaluation of the programme has been recorded yet."),
}

# Best evidence first, for sorting: levels that support using the programme come first,
# then evaluated programmes without support, then programmes without any evaluation, and a
# possible harm last.
LEVEL_ORDER: tuple[str, ...] = (
    "effective",
    "promising",
    "prudent",
    "pioneering",
    "no_effect",
    "not_rated",
    "possibly_harmful",
)

RULES: tuple[str, ...] = (
    "harmful_rigorous",
    "effective_two_rigorous",
    "effective_review",
    "promising_rigorous",
    "no_effect_rigorous",
    "prudent_non_rigorous",
    "pioneering",
    "not_rated",
)
RULE_LEVELS: dict[str, str] = {
    "harmful_rigorous": "possibly_harmful",
    "effective_two_rigorous": "effective",
    "effective_review": "effective",
    "promising_rigorous": "promising",
    "no_effect_rigorous": "no_effect",
    "prudent_non_rigorous": "prudent",
    "pioneering": "pioneering",
    "not_rated": "not_rated",
}

# What would raise a rating (message ids; translated when shown).
RAISE_HARMFUL_ADDRESSED = N_(
    "The harmful result must be addressed: an explanation of it and changes to the programme "
    "that remove its cause."
)
RAISE_HARMFUL_NEW_EVIDENCE = N_(
    "New rigorous studies of the programme as it is now delivered that show no harmful effect."
)
RAISE_SECOND_STUDY = N_(
    "A second rigorous study with a favourable effect on abuse or offending or on knowledge "
    "or attitudes."
)
RAISE_SECOND_STUDY_FOLLOW_UP = N_(
    "A second rigorous study with a favourable effect on abuse or offending or on knowledge "
    "or attitudes, one of the two with a follow-up of at least 12 months."
)
RAISE_TWO_STUDIES = N_(
    "Two rigorous studies with a favourable effect on abuse or offending or on knowledge or "
    "attitudes, one of them with a follow-up of at least 12 months."
)
RAISE_FOLLOW_UP = N_(
    "A follow-up of at least 12 months in one of the rigorous studies with a favourable "
    "effect on abuse or offending or on knowledge or attitudes."
)
RAISE_MANUAL = N_("A manual for the programme.")
RAISE_REVIEW = N_(
    "Alternatively, a systematic review or meta-analysis with low risk of bias that finds the "
    "programme effective."
)
RAISE_RIGOROUS_STUDY = N_(
    "A rigorous study (randomised or quasi-experimental, with low risk of bias or some "
    "concerns) with a favourable effect on abuse or offending or on a risk or protective "
    "factor."
)
RAISE_OUTCOMES = N_(
    "The results of the rigorous studies already recorded: each outcome with its estimate and "
    "confidence interval."
)
RAISE_EVALUATION = N_("An evaluation of the programme.")


@dataclass(frozen=True)
class OutcomeInput:
    """One outcome of a study: its effect estimate and 95% CI on ``measure``'s scale."""

    name: str
    kind: str
    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    lower_is_better: bool

    def __post_init__(self) -> None:
        if self.kind not in OUTCOME_KINDS:
            raise ValueError(f"unknown outcome kind: {self.kind!r}")
        if self.measure not in MEASURES:
            raise ValueError(f"unknown effect measure: {self.measure!r}")


@dataclass(frozen=True)
class StudyInput:
    """One published evaluation of the programme, with its listed outcomes."""

    evaluation_id: int
    title: str
    year: int
    design: str
    risk_of_bias: str
    follow_up_months: int | None
    outcomes: list[OutcomeInput] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"unknown design: {self.design!r}")
        if self.risk_of_bias not in RISKS_OF_BIAS:
            raise ValueError(f"unknown risk of bias: {self.risk_of_bias!r}")
        if self.follow_up_months is not None and self.follow_up_months < 0:
            raise ValueError("follow_up_months must not be negative")


@dataclass(frozen=True)
class ProgrammeInput:
    manual_available: bool
    studies: list[StudyInput] = field(default_factory=list)


@dataclass(frozen=True)
class Reason:
    """One sentence explaining a rating, with the studies it names.

    ``message`` is an untranslated message id with ``%(name)s`` placeholders filled from
    ``params``; :attr:`text` gives the sentence in the current locale.
    """

    message: str
    evaluation_ids: list[int] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return _(self.message, **self.params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "params": dict(self.params),
            "evaluation_ids": list(self.evaluation_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(
            message=str(data["message"]),
            evaluation_ids=[int(value) for value in data.get("evaluation_ids", [])],
            params={str(key): str(value) for key, value in data.get("params", {}).items()},
        )


@dataclass(frozen=True)
class Rating:
    """The outcome of :func:`rate`.

    ``rule`` is a stable code from :data:`RULES`; ``evaluation_ids`` are the studies the
    rating rests on, in input order; ``raise_by`` holds message ids (translate when shown, or
    use :attr:`raise_by_texts`) and is empty only for ``effective``.
    """

    level: str
    rule: str
    reasons: list[Reason]
    raise_by: list[str]
    evaluation_ids: list[int]

    @property
    def label(self) -> str:
        return _(LEVEL_LABELS[self.level])

    @property
    def description(self) -> str:
        return _(LEVEL_DESCRIPTIONS[self.level])

    @property
    def raise_by_texts(self) -> list[str]:
        return [_(message) for message in self.raise_by]


def outcome_direction(outcome: OutcomeInput) -> Direction:
    """Whether an outcome's 95% CI lies entirely on the beneficial or the harmful side.

    The null value is 0 for ``smd`` and 1 for ``odds_ratio`` and ``risk_ratio``. With
    ``lower_is_better`` the beneficial side is below the null value, otherwise above it.
    "Entirely" is strict: a CI whose bound equals the null value (``ci_low == 0`` for an
    smd, ``ci_high == 1`` for a ratio where lower is better) touches "no effect" and is
    ``"inconclusive"``, as is any CI containing it. The bounds are taken in either order.
    """
    null = NULL_VALUES[outcome.measure]
    low, high = sorted((outcome.ci_low, outcome.ci_high))
    if low > null:
        above = True
    elif high < null:
        above = False
    else:
        return "inconclusive"
    return "harmful" if above == outcome.lower_is_better else "favourable"


def is_rigorous(study: StudyInput) -> bool:
    """Randomised or quasi-experimental, with low risk of bias or some concerns."""
    return study.design in RIGOROUS_DESIGNS and study.risk_of_bias in RIGOROUS_RISKS_OF_BIAS


def is_qualifying_review(study: StudyInput) -> bool:
    """A systematic review or meta-analysis with low risk of bias that finds it effective.

    "Finds it effective": at least one favourable outcome (of any kind) and no harmful one.
    """
    return (
        study.design in REVIEW_DESIGNS
        and study.risk_of_bias == "low"
        and bool(_outcome_names(study, "favourable"))
        and not _outcome_names(study, "harmful")
    )


def needs_rereview(reviewed_on: date, today: date) -> bool:
    """Whether a rating reviewed on ``reviewed_on`` is older than three years on ``today``.

    Exactly: ``reviewed_on`` is before the same calendar day three years before ``today``;
    when that day does not exist (``today`` is 29 February and three years earlier is not a
    leap year) it is 28 February. A rating exactly three years old is not yet flagged; a
    rating reviewed on 29 February 2024 is flagged from 1 March 2027.
    """
    return reviewed_on < rereview_cutoff(today)


def rereview_cutoff(today: date) -> date:
    """Ratings reviewed before this day are due for re-review on ``today``."""
    return _years_before(today, REREVIEW_YEARS)


def level_sort_key(level: str) -> int:
    """The position of ``level`` in :data:`LEVEL_ORDER` (best evidence first)."""
    return LEVEL_ORDER.index(level)


def rate(programme: ProgrammeInput) -> Rating:
    """Rate a programme's evidence by the first rule of the default scheme that holds."""
    studies = _unique_studies(programme.studies)
    if not studies:
        return Rating(
            level="not_rated",
            rule="not_rated",
            reasons=[Reason(N_("No evaluation of the programme has been published yet."))],
            raise_by=[RAISE_EVALUATION],
            evaluation_ids=[],
        )

    rigorous = [study for study in studies if is_rigorous(study)]
    non_rigorous = [study for study in studies if not is_rigorous(study)]

    # 1. Possibly harmful.
    harmful = [study for study in rigorous if _outcome_names(study, "harmful")]
    if harmful:
        return Rating(
            level="possibly_harmful",
            rule="harmful_rigorous",
            reasons=[
                _study_reason(
                    N_("%(study)s, a rigorous study, shows a harmful effect on: %(outcomes)s."),
                    study,
                    _outcome_names(study, "harmful"),
                )
                for study in harmful
            ],
            raise_by=[RAISE_HARMFUL_ADDRESSED, RAISE_HARMFUL_NEW_EVIDENCE],
            evaluation_ids=_ids(harmful),
        )

    # 2. Effective.
    towards_effective = [
        study for study in rigorous if _outcome_names(study, "favourable", EFFECTIVE_KINDS)
    ]
    long_follow_up = [study for study in towards_effective if _has_long_follow_up(study)]
    reviews = [study for study in studies if is_qualifying_review(study)]
    review_reasons = [
        _study_reason(
            N_(
                "%(study)s, a systematic review or meta-analysis with low risk of bias, finds "
                "a favourable effect on: %(outcomes)s."
            ),
            study,
            _outcome_names(study, "favourable"),
        )
        for study in reviews
    ]
    if len(towards_effective) >= 2 and long_follow_up and programme.manual_available:
        reasons = [
            Reason(
                N_(
                    "At least two rigorous studies show a favourable effect on abuse or "
                    "offending or on knowledge or attitudes."
                ),
                _ids(towards_effective),
            ),
            *(_favourable_reason(study, EFFECTIVE_KINDS) for study in towards_effective),
            *(_follow_up_reason(study) for study in long_follow_up),
            Reason(N_("A manual for the programme is available.")),
            *review_reasons,
        ]
        return Rating(
            level="effective",
            rule="effective_two_rigorous",
            reasons=reasons,
            raise_by=[],
            evaluation_ids=_ids([*towards_effective, *reviews]),
        )
    if reviews:
        return Rating(
            level="effective",
            rule="effective_review",
            reasons=review_reasons,
            raise_by=[],
            evaluation_ids=_ids(reviews),
        )

    # 3. Promising.
    promising = [
        study for study in rigorous if _outcome_names(study, "favourable", PROMISING_KINDS)
    ]
    if promising:
        return Rating(
            level="promising",
            rule="promising_rigorous",
            reasons=[_favourable_reason(study, PROMISING_KINDS) for study in promising],
            raise_by=[
                *_missing_for_effective(towards_effective, programme.manual_available),
                RAISE_REVIEW,
            ],
            evaluation_ids=_ids(promising),
        )

    # 4. No effect shown.
    rigorous_with_results = [study for study in rigorous if study.outcomes]
    any_rigorous_favourable = any(_outcome_names(study, "favourable") for study in rigorous)
    if rigorous_with_results and not any_rigorous_favourable:
        return Rating(
            level="no_effect",
            rule="no_effect_rigorous",
            reasons=[
                _study_reason(
                    N_("%(study)s, a rigorous study, finds no clear effect on: %(outcomes)s."),
                    study,
                    _outcome_names(study, "inconclusive"),
                )
                for study in rigorous_with_results
            ],
            raise_by=[RAISE_RIGOROUS_STUDY],
            evaluation_ids=_ids(rigorous_with_results),
        )

    # 5. Prudent.
    pointing_to_benefit = [study for study in non_rigorous if _outcome_names(study, "favourable")]
    any_non_rigorous_harm = any(_outcome_names(study, "harmful") for study in non_rigorous)
    if not rigorous and pointing_to_benefit and not any_non_rigorous_harm:
        return Rating(
            level="prudent",
            rule="prudent_non_rigorous",
            reasons=[
                Reason(N_("No rigorous study has evaluated the programme yet.")),
                *(
                    _study_reason(
                        N_(
                            "%(study)s, a study that is not rigorous, points to a favourable "
                            "effect on: %(outcomes)s."
                        ),
                        study,
                        _outcome_names(study, "favourable"),
                    )
                    for study in pointing_to_benefit
                ),
            ],
            raise_by=[RAISE_RIGOROUS_STUDY],
            evaluation_ids=_ids(pointing_to_benefit),
        )

    # 6. Pioneering.
    reasons = [
        Reason(
            N_(
                "The programme has been evaluated, but the evidence does not meet the "
                "conditions of any other level."
            ),
            _ids(studies),
        ),
        *(
            _study_reason(
                N_(
                    "%(study)s, a rigorous study, shows a favourable effect only on outcomes "
                    "that do not count towards a higher level on their own: %(outcomes)s."
                ),
                study,
                _outcome_names(study, "favourable"),
            )
            for study in rigorous
            if _outcome_names(study, "favourable")
        ),
        *(
            _study_reason(N_("%(study)s, a rigorous study, has no outcomes recorded."), study, [])
            for study in rigorous
            if not study.outcomes
        ),
    ]
    if any_non_rigorous_harm and pointing_to_benefit:
        reasons.append(
            Reason(
                N_(
                    "Studies that are not rigorous show mixed results: favourable on some "
                    "outcomes and harmful on others."
                ),
                _ids(
                    [
                        study
                        for study in non_rigorous
                        if _outcome_names(study, "favourable") or _outcome_names(study, "harmful")
                    ]
                ),
            )
        )
    raise_by: list[str] = []
    if towards_effective:
        raise_by.extend(_missing_for_effective(towards_effective, programme.manual_available))
    if any(not study.outcomes for study in rigorous):
        raise_by.append(RAISE_OUTCOMES)
    raise_by.append(RAISE_RIGOROUS_STUDY)
    return Rating(
        level="pioneering",
        rule="pioneering",
        reasons=reasons,
        raise_by=raise_by,
        evaluation_ids=_ids(studies),
    )


def _unique_studies(studies: Iterable[StudyInput]) -> list[StudyInput]:
    """The studies in input order; a repeated ``evaluation_id`` is counted once."""
    seen: set[int] = set()
    unique: list[StudyInput] = []
    for study in studies:
        if study.evaluation_id not in seen:
            seen.add(study.evaluation_id)
            unique.append(study)
    return unique


def _ids(studies: Iterable[StudyInput]) -> list[int]:
    return [study.evaluation_id for study in _unique_studies(studies)]


def _outcome_names(
    study: StudyInput, direction: Direction, kinds: tuple[str, ...] = OUTCOME_KINDS
) -> list[str]:
    """The names of ``study``'s outcomes of ``kinds`` going in ``direction``, each once."""
    names: list[str] = []
    for outcome in study.outcomes:
        if (
            outcome.kind in kinds
            and outcome_direction(outcome) == direction
            and outcome.name not in names
        ):
            names.append(outcome.name)
    return names


def _has_long_follow_up(study: StudyInput) -> bool:
    return study.follow_up_months is not None and study.follow_up_months >= LONG_FOLLOW_UP_MONTHS


def _study_label(study: StudyInput) -> str:
    return f"{study.title} ({study.year})"


def _study_reason(message: str, study: StudyInput, outcomes: list[str]) -> Reason:
    return Reason(
        message,
        [study.evaluation_id],
        {"study": _study_label(study), "outcomes": ", ".join(outcomes)},
    )


def _favourable_reason(study: StudyInput, kinds: tuple[str, ...]) -> Reason:
    return _study_reason(
        N_("%(study)s, a rigorous study, shows a favourable effect on: %(outcomes)s."),
        study,
        _outcome_names(study, "favourable", kinds),
    )


def _follow_up_reason(study: StudyInput) -> Reason:
    return Reason(
        N_("%(study)s followed participants up for %(months)s months."),
        [study.evaluation_id],
        {"study": _study_label(study), "months": str(study.follow_up_months)},
    )


def _missing_for_effective(towards_effective: list[StudyInput], manual: bool) -> list[str]:
    """What rule 2a still lacks, given the rigorous studies that already count towards it."""
    missing: list[str] = []
    long_follow_up = any(_has_long_follow_up(study) for study in towards_effective)
    if not towards_effective:
        missing.append(RAISE_TWO_STUDIES)
    elif len(towards_effective) == 1:
        missing.append(RAISE_SECOND_STUDY if long_follow_up else RAISE_SECOND_STUDY_FOLLOW_UP)
    elif not long_follow_up:
        missing.append(RAISE_FOLLOW_UP)
    if not manual:
        missing.append(RAISE_MANUAL)
    return missing


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that is not a leap year
        return day.replace(year=day.year - years, day=28)
