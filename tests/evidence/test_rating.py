"""The default rating scheme: every rule, every boundary, and every input to exactly one level."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pytest

from app.evidence import rating
from app.evidence.models import (
    DESIGNS,
    MEASURES,
    OUTCOME_KINDS,
    RATING_LEVELS,
    REVIEW_DESIGNS,
    RIGOROUS_DESIGNS,
    RISKS_OF_BIAS,
)
from app.evidence.rating import (
    LEVEL_DESCRIPTIONS,
    LEVEL_LABELS,
    LEVEL_ORDER,
    RULE_LEVELS,
    RULES,
    OutcomeInput,
    ProgrammeInput,
    Rating,
    Reason,
    StudyInput,
    is_rigorous,
    level_sort_key,
    needs_rereview,
    outcome_direction,
    rate,
)

# CIs on the smd scale, higher is better unless said otherwise.
FAVOURABLE = (0.1, 0.5)
HARMFUL = (-0.5, -0.1)
UNCLEAR = (-0.2, 0.3)

ABUSE = "abuse_or_offending"
RISK = "risk_or_protective_factor"
KNOWLEDGE = "knowledge_or_attitude"
OTHER = "other"


def outcome(
    kind: str = ABUSE,
    ci: tuple[float, float] = FAVOURABLE,
    *,
    measure: str = "smd",
    lower_is_better: bool = False,
    name: str | None = None,
) -> OutcomeInput:
    low, high = ci
    return OutcomeInput(
        name=name or f"{kind} outcome",
        kind=kind,
        measure=measure,
        estimate=(low + high) / 2,
        ci_low=low,
        ci_high=high,
        lower_is_better=lower_is_better,
    )


def study(
    evaluation_id: int,
    *outcomes: OutcomeInput,
    design: str = "rct",
    risk_of_bias: str = "low",
    follow_up_months: int | None = 12,
    title: str | None = None,
    year: int = 2020,
) -> StudyInput:
    return StudyInput(
        evaluation_id=evaluation_id,
        title=title or f"Study {evaluation_id}",
        year=year,
        design=design,
        risk_of_bias=risk_of_bias,
        follow_up_months=follow_up_months,
        outcomes=list(outcomes),
    )


def programme(*studies: StudyInput, manual: bool = True) -> ProgrammeInput:
    return ProgrammeInput(manual_available=manual, studies=list(studies))


def pre_post(evaluation_id: int, *outcomes: OutcomeInput) -> StudyInput:
    return study(evaluation_id, *outcomes, design="pre_post", risk_of_bias="not_assessed")


def review(evaluation_id: int, *outcomes: OutcomeInput, risk_of_bias: str = "low") -> StudyInput:
    return study(evaluation_id, *outcomes, design="systematic_review", risk_of_bias=risk_of_bias)


def assert_rated(
    result: Rating, level: str, rule: str, evaluation_ids: list[int] | None = None
) -> None:
    assert (result.level, result.rule) == (level, rule), result
    if evaluation_ids is not None:
        assert result.evaluation_ids == evaluation_ids


# One programme per rule, each the simplest case that reaches it.
EVERY_RULE: list[tuple[str, ProgrammeInput, str, list[int]]] = [
    ("harmful_rigorous", programme(study(1, outcome(ABUSE, HARMFUL))), "possibly_harmful", [1]),
    (
        "effective_two_rigorous",
        programme(study(1, outcome()), study(2, outcome(), follow_up_months=6)),
        "effective",
        [1, 2],
    ),
    ("effective_review", programme(review(1, outcome())), "effective", [1]),
    ("promising_rigorous", programme(study(1, outcome())), "promising", [1]),
    ("no_effect_rigorous", programme(study(1, outcome(ABUSE, UNCLEAR))), "no_effect", [1]),
    ("prudent_non_rigorous", programme(pre_post(1, outcome())), "prudent", [1]),
    ("pioneering", programme(pre_post(1, outcome(ABUSE, UNCLEAR))), "pioneering", [1]),
    ("not_rated", programme(), "not_rated", []),
]


@pytest.mark.parametrize(
    ("rule", "case", "level", "evaluation_ids"), EVERY_RULE, ids=[row[0] for row in EVERY_RULE]
)
def test_every_rule_is_reached(
    rule: str, case: ProgrammeInput, level: str, evaluation_ids: list[int]
) -> None:
    result = rate(case)
    assert_rated(result, level, rule, evaluation_ids)
    assert result.reasons
    assert all(reason.text for reason in result.reasons)


def test_the_table_covers_every_rule_and_level() -> None:
    assert {row[0] for row in EVERY_RULE} == set(RULES)
    assert {row[2] for row in EVERY_RULE} == set(RATING_LEVELS)
    assert set(RULE_LEVELS) == set(RULES)
    assert all(RULE_LEVELS[row[0]] == row[2] for row in EVERY_RULE)


@pytest.mark.parametrize(
    ("rule", "case", "level"), [row[:3] for row in EVERY_RULE], ids=[row[0] for row in EVERY_RULE]
)
def test_raise_by_is_empty_only_for_effective(rule: str, case: ProgrammeInput, level: str) -> None:
    result = rate(case)
    if level == "effective":
        assert result.raise_by == []
    else:
        assert result.raise_by
        assert all(text.strip() for text in result.raise_by_texts)


def test_not_rated_without_studies() -> None:
    result = rate(programme())
    assert_rated(result, "not_rated", "not_rated", [])
    assert result.raise_by_texts == ["An evaluation of the programme."]
    assert result.label == "Not yet rated"


# --- Rule 1: possibly harmful -------------------------------------------------------------


def test_a_harmful_result_overrules_two_favourable_ones() -> None:
    two_favourable = [study(1, outcome()), study(2, outcome(KNOWLEDGE), follow_up_months=24)]
    assert rate(programme(*two_favourable)).level == "effective"

    result = rate(programme(*two_favourable, study(3, outcome(RISK, HARMFUL), title="Harm")))
    assert_rated(result, "possibly_harmful", "harmful_rigorous", [3])
    assert [reason.evaluation_ids for reason in result.reasons] == [[3]]
    assert "Harm (2020)" in result.reasons[0].text
    assert "risk_or_protective_factor outcome" in result.reasons[0].text


def test_a_harmful_outcome_beside_a_favourable_one_in_the_same_study() -> None:
    result = rate(programme(study(1, outcome(ABUSE), outcome(OTHER, HARMFUL))))
    assert_rated(result, "possibly_harmful", "harmful_rigorous", [1])


@pytest.mark.parametrize("kind", OUTCOME_KINDS)
def test_a_harmful_outcome_of_any_kind_counts(kind: str) -> None:
    assert rate(programme(study(1, outcome(kind, HARMFUL)))).level == "possibly_harmful"


@pytest.mark.parametrize(
    ("design", "risk_of_bias"),
    [("rct", "high"), ("rct", "not_assessed"), ("pre_post", "low"), ("meta_analysis", "low")],
)
def test_a_harmful_result_of_a_study_that_is_not_rigorous_is_not_rule_1(
    design: str, risk_of_bias: str
) -> None:
    result = rate(
        programme(study(1, outcome(ABUSE, HARMFUL), design=design, risk_of_bias=risk_of_bias))
    )
    assert_rated(result, "pioneering", "pioneering", [1])


def test_possibly_harmful_raise_by_asks_for_the_harm_to_be_addressed() -> None:
    result = rate(programme(study(1, outcome(ABUSE, HARMFUL))))
    assert result.raise_by == [rating.RAISE_HARMFUL_ADDRESSED, rating.RAISE_HARMFUL_NEW_EVIDENCE]
    assert "harmful result must be addressed" in result.raise_by_texts[0]


# --- Rule 2a: two rigorous favourable studies, a long follow-up, a manual --------------------


@pytest.mark.parametrize(
    ("follow_up_months", "level"),
    [
        (None, "promising"),
        (0, "promising"),
        (11, "promising"),
        (12, "effective"),
        (36, "effective"),
    ],
)
def test_follow_up_boundary(follow_up_months: int | None, level: str) -> None:
    result = rate(
        programme(
            study(1, outcome(), follow_up_months=follow_up_months),
            study(2, outcome(), follow_up_months=6),
        )
    )
    assert result.level == level


def test_the_long_follow_up_must_be_one_of_the_favourable_studies() -> None:
    result = rate(
        programme(
            study(1, outcome(), follow_up_months=6),
            study(2, outcome(), follow_up_months=6),
            study(3, outcome(ABUSE, UNCLEAR), follow_up_months=24),
        )
    )
    assert_rated(result, "promising", "promising_rigorous", [1, 2])
    assert result.raise_by[0] == rating.RAISE_FOLLOW_UP


def test_a_missing_manual_blocks_effective() -> None:
    studies = [study(1, outcome()), study(2, outcome())]
    assert rate(programme(*studies, manual=True)).level == "effective"
    result = rate(programme(*studies, manual=False))
    assert_rated(result, "promising", "promising_rigorous", [1, 2])
    assert result.raise_by == [rating.RAISE_MANUAL, rating.RAISE_REVIEW]
    assert result.raise_by_texts[0] == "A manual for the programme."


@pytest.mark.parametrize(
    ("kinds", "level", "rule"),
    [
        ((ABUSE, ABUSE), "effective", "effective_two_rigorous"),
        ((ABUSE, KNOWLEDGE), "effective", "effective_two_rigorous"),
        # Knowledge counts for effective ...
        ((KNOWLEDGE, KNOWLEDGE), "effective", "effective_two_rigorous"),
        # ... risk factors do not (they make it promising) ...
        ((RISK, RISK), "promising", "promising_rigorous"),
        ((ABUSE, RISK), "promising", "promising_rigorous"),
        # ... and "other" outcomes count for neither.
        ((OTHER, OTHER), "pioneering", "pioneering"),
        ((ABUSE, OTHER), "promising", "promising_rigorous"),
        ((KNOWLEDGE, OTHER), "pioneering", "pioneering"),
    ],
)
def test_outcome_kinds_that_count_for_effective(
    kinds: tuple[str, str], level: str, rule: str
) -> None:
    result = rate(programme(study(1, outcome(kinds[0])), study(2, outcome(kinds[1]))))
    assert_rated(result, level, rule)


def test_knowledge_counts_for_effective_but_not_for_promising() -> None:
    """One rigorous study favourable on knowledge only matches no rule from 1 to 5: pioneering.

    Rule 2 needs two such studies, rule 3 does not count knowledge, rule 4 needs "none
    favourable", and rule 5 needs only non-rigorous evidence.
    """
    result = rate(programme(study(1, outcome(KNOWLEDGE))))
    assert_rated(result, "pioneering", "pioneering", [1])
    assert rating.RAISE_SECOND_STUDY in result.raise_by
    assert result.raise_by[-1] == rating.RAISE_RIGOROUS_STUDY
    assert any("knowledge_or_attitude outcome" in reason.text for reason in result.reasons)


def test_two_knowledge_studies_without_a_manual_are_pioneering_and_a_manual_would_raise_them() -> (
    None
):
    result = rate(
        programme(study(1, outcome(KNOWLEDGE)), study(2, outcome(KNOWLEDGE)), manual=False)
    )
    assert_rated(result, "pioneering", "pioneering", [1, 2])
    assert result.raise_by == [rating.RAISE_MANUAL, rating.RAISE_RIGOROUS_STUDY]


def test_two_outcomes_of_the_same_study_count_as_one_study() -> None:
    one_study = study(1, outcome(ABUSE, name="Reoffending"), outcome(KNOWLEDGE, name="Attitudes"))
    result = rate(programme(one_study))
    assert_rated(result, "promising", "promising_rigorous", [1])
    assert result.raise_by[0] == rating.RAISE_SECOND_STUDY


def test_the_same_evaluation_given_twice_counts_once() -> None:
    same = study(1, outcome())
    result = rate(programme(same, same))
    assert_rated(result, "promising", "promising_rigorous", [1])


def test_effective_rests_on_the_favourable_rigorous_studies_and_says_why() -> None:
    result = rate(
        programme(
            study(1, outcome(name="Reoffending"), follow_up_months=24, title="Long", year=2018),
            study(2, outcome(KNOWLEDGE, name="Attitudes"), follow_up_months=3, title="Short"),
            study(3, outcome(ABUSE, UNCLEAR), title="Null"),
            pre_post(4, outcome()),
        )
    )
    assert_rated(result, "effective", "effective_two_rigorous", [1, 2])
    texts = [reason.text for reason in result.reasons]
    assert "Long (2018), a rigorous study, shows a favourable effect on: Reoffending." in texts
    assert "Short (2020), a rigorous study, shows a favourable effect on: Attitudes." in texts
    assert "Long (2018) followed participants up for 24 months." in texts
    assert "A manual for the programme is available." in texts
    assert not any("Null" in text for text in texts)


# --- Rule 2b: a review with low risk of bias ------------------------------------------------


@pytest.mark.parametrize(
    ("design", "risk_of_bias", "level", "rule"),
    [
        ("systematic_review", "low", "effective", "effective_review"),
        ("meta_analysis", "low", "effective", "effective_review"),
        ("systematic_review", "some_concerns", "prudent", "prudent_non_rigorous"),
        ("meta_analysis", "high", "prudent", "prudent_non_rigorous"),
        ("meta_analysis", "not_assessed", "prudent", "prudent_non_rigorous"),
    ],
)
def test_a_review_is_effective_only_with_low_risk_of_bias(
    design: str, risk_of_bias: str, level: str, rule: str
) -> None:
    result = rate(programme(study(1, outcome(), design=design, risk_of_bias=risk_of_bias)))
    assert_rated(result, level, rule, [1])


def test_a_review_needs_no_manual_and_outranks_rigorous_studies_without_effect() -> None:
    result = rate(
        programme(study(1, outcome(ABUSE, UNCLEAR)), review(2, outcome(OTHER)), manual=False)
    )
    assert_rated(result, "effective", "effective_review", [2])
    assert "low risk of bias" in result.reasons[0].text


@pytest.mark.parametrize(
    ("outcomes", "level"),
    [
        ((), "pioneering"),
        ((outcome(ABUSE, UNCLEAR),), "pioneering"),
        # Favourable and harmful: the review does not "find it effective".
        ((outcome(ABUSE), outcome(RISK, HARMFUL)), "pioneering"),
        ((outcome(ABUSE), outcome(RISK, UNCLEAR)), "effective"),
    ],
)
def test_what_a_review_must_find(outcomes: tuple[OutcomeInput, ...], level: str) -> None:
    assert rate(programme(review(1, *outcomes))).level == level


def test_when_both_effective_rules_hold_the_first_is_named_and_the_review_is_included() -> None:
    result = rate(programme(study(1, outcome()), study(2, outcome()), review(3, outcome())))
    assert_rated(result, "effective", "effective_two_rigorous", [1, 2, 3])
    assert result.reasons[-1].evaluation_ids == [3]


# --- Rigorous: design and risk of bias ------------------------------------------------------


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("risk_of_bias", RISKS_OF_BIAS)
def test_is_rigorous(design: str, risk_of_bias: str) -> None:
    expected = design in RIGOROUS_DESIGNS and risk_of_bias in ("low", "some_concerns")
    assert is_rigorous(study(1, design=design, risk_of_bias=risk_of_bias)) is expected


@pytest.mark.parametrize(
    ("risk_of_bias", "level"),
    [
        ("low", "promising"),
        ("some_concerns", "promising"),
        ("high", "prudent"),
        ("not_assessed", "prudent"),
    ],
)
def test_risk_of_bias_boundary(risk_of_bias: str, level: str) -> None:
    assert rate(programme(study(1, outcome(), risk_of_bias=risk_of_bias))).level == level


@pytest.mark.parametrize(
    ("design", "level"),
    [
        ("rct", "promising"),
        ("cluster_rct", "promising"),
        ("quasi_experimental", "promising"),
        ("pre_post", "prudent"),
        ("qualitative", "prudent"),
        ("case_study", "prudent"),
        ("other", "prudent"),
    ],
)
def test_design_boundary(design: str, level: str) -> None:
    assert rate(programme(study(1, outcome(), design=design))).level == level


def test_risk_of_bias_high_keeps_two_studies_from_being_effective() -> None:
    result = rate(programme(study(1, outcome()), study(2, outcome(), risk_of_bias="high")))
    assert_rated(result, "promising", "promising_rigorous", [1])
    result = rate(programme(study(1, outcome()), study(2, outcome(), risk_of_bias="some_concerns")))
    assert_rated(result, "effective", "effective_two_rigorous", [1, 2])


# --- Rule 3: promising ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("studies", "raise_by"),
    [
        # One favourable study with a long follow-up: a second one is enough.
        ([study(1, outcome(), follow_up_months=12)], [rating.RAISE_SECOND_STUDY]),
        # One without: the second, or the first, must follow up for 12 months.
        ([study(1, outcome(), follow_up_months=11)], [rating.RAISE_SECOND_STUDY_FOLLOW_UP]),
        # Only risk factors: none counts towards effective yet.
        ([study(1, outcome(RISK))], [rating.RAISE_TWO_STUDIES]),
        # Two favourable studies, both short.
        (
            [study(1, outcome(), follow_up_months=6), study(2, outcome(), follow_up_months=None)],
            [rating.RAISE_FOLLOW_UP],
        ),
    ],
)
def test_promising_says_what_is_missing(studies: list[StudyInput], raise_by: list[str]) -> None:
    with_manual = rate(programme(*studies))
    assert with_manual.level == "promising"
    assert with_manual.raise_by == [*raise_by, rating.RAISE_REVIEW]
    without_manual = rate(programme(*studies, manual=False))
    assert without_manual.raise_by == [*raise_by, rating.RAISE_MANUAL, rating.RAISE_REVIEW]


def test_promising_raise_by_reads_as_a_sentence() -> None:
    result = rate(programme(study(1, outcome(), follow_up_months=3), manual=False))
    assert result.raise_by_texts[:2] == [
        "A second rigorous study with a favourable effect on abuse or offending or on knowledge "
        "or attitudes, one of the two with a follow-up of at least 12 months.",
        "A manual for the programme.",
    ]


def test_promising_rests_only_on_the_favourable_rigorous_studies() -> None:
    result = rate(
        programme(
            study(1, outcome(ABUSE, UNCLEAR), title="Null"),
            study(2, outcome(RISK, name="Empathy"), title="Good"),
            pre_post(3, outcome()),
            study(4, outcome(), risk_of_bias="high"),
        )
    )
    assert_rated(result, "promising", "promising_rigorous", [2])
    assert [reason.text for reason in result.reasons] == [
        "Good (2020), a rigorous study, shows a favourable effect on: Empathy."
    ]


# --- Rule 4: no effect shown ----------------------------------------------------------------


def test_no_effect_rests_on_the_rigorous_studies_and_outranks_non_rigorous_benefit() -> None:
    result = rate(
        programme(
            study(1, outcome(ABUSE, UNCLEAR, name="Reoffending"), title="Null"),
            study(2),  # rigorous, no outcomes recorded
            pre_post(3, outcome()),
        )
    )
    assert_rated(result, "no_effect", "no_effect_rigorous", [1])
    assert result.reasons[0].text == (
        "Null (2020), a rigorous study, finds no clear effect on: Reoffending."
    )
    assert result.raise_by == [rating.RAISE_RIGOROUS_STUDY]


@pytest.mark.parametrize("kind", [KNOWLEDGE, OTHER])
def test_a_rigorous_favourable_result_of_another_kind_is_not_no_effect(kind: str) -> None:
    """'None favourable' means no favourable outcome of any kind: this falls to pioneering."""
    result = rate(programme(study(1, outcome(ABUSE, UNCLEAR)), study(2, outcome(kind))))
    assert_rated(result, "pioneering", "pioneering", [1, 2])


def test_rigorous_studies_without_outcomes_show_nothing() -> None:
    result = rate(programme(study(1), pre_post(2, outcome())))
    assert_rated(result, "pioneering", "pioneering", [1, 2])
    assert result.raise_by == [rating.RAISE_OUTCOMES, rating.RAISE_RIGOROUS_STUDY]
    assert any(
        reason.text == "Study 1 (2020), a rigorous study, has no outcomes recorded."
        for reason in result.reasons
    )


# --- Rule 5: prudent; 6: pioneering ---------------------------------------------------------


def test_prudent_rests_on_the_non_rigorous_studies_pointing_to_benefit() -> None:
    result = rate(
        programme(
            pre_post(1, outcome(OTHER)),
            pre_post(2, outcome(ABUSE, UNCLEAR)),
            study(3, outcome(), design="qualitative", risk_of_bias="low"),
            study(4, outcome(), risk_of_bias="high"),
        )
    )
    assert_rated(result, "prudent", "prudent_non_rigorous", [1, 3, 4])
    assert result.raise_by_texts == [
        "A rigorous study (randomised or quasi-experimental, with low risk of bias or some "
        "concerns) with a favourable effect on abuse or offending or on a risk or protective "
        "factor."
    ]


@pytest.mark.parametrize(
    "studies",
    [
        # Non-rigorous evidence that is mixed does not point to benefit.
        [pre_post(1, outcome()), pre_post(2, outcome(RISK, HARMFUL))],
        [pre_post(1, outcome(), outcome(RISK, HARMFUL))],
        # Non-rigorous evidence without a clear result.
        [pre_post(1, outcome(ABUSE, UNCLEAR))],
        [pre_post(1)],
        # Not only non-rigorous evidence.
        [pre_post(1, outcome()), study(2)],
        [pre_post(1, outcome()), study(2, outcome(OTHER))],
    ],
)
def test_pioneering_catches_the_rest(studies: list[StudyInput]) -> None:
    result = rate(programme(*studies))
    assert_rated(result, "pioneering", "pioneering", [s.evaluation_id for s in studies])
    assert result.raise_by[-1] == rating.RAISE_RIGOROUS_STUDY


def test_pioneering_names_mixed_non_rigorous_results() -> None:
    result = rate(
        programme(pre_post(1, outcome()), pre_post(2, outcome(RISK, HARMFUL)), pre_post(3))
    )
    assert result.reasons[-1].evaluation_ids == [1, 2]
    assert "mixed results" in result.reasons[-1].text


# --- Directions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "ci", "lower_is_better", "direction"),
    [
        # smd: the null value is 0.
        ("smd", (0.1, 0.5), False, "favourable"),
        ("smd", (0.1, 0.5), True, "harmful"),
        ("smd", (-0.5, -0.1), False, "harmful"),
        ("smd", (-0.5, -0.1), True, "favourable"),
        ("smd", (-0.1, 0.5), False, "inconclusive"),
        ("smd", (-0.1, 0.5), True, "inconclusive"),
        # A CI touching the null value is not entirely on one side.
        ("smd", (0.0, 0.5), False, "inconclusive"),
        ("smd", (-0.5, 0.0), False, "inconclusive"),
        ("smd", (-0.5, 0.0), True, "inconclusive"),
        ("smd", (0.0, 0.5), True, "inconclusive"),
        ("smd", (1e-9, 0.5), False, "favourable"),
        ("smd", (0.0, 0.0), False, "inconclusive"),
        # Ratios: the null value is 1, so a CI above 0 but below 1 is not favourable.
        ("odds_ratio", (0.5, 0.9), True, "favourable"),
        ("odds_ratio", (0.5, 0.9), False, "harmful"),
        ("risk_ratio", (1.1, 2.0), True, "harmful"),
        ("risk_ratio", (1.1, 2.0), False, "favourable"),
        ("odds_ratio", (0.8, 1.2), False, "inconclusive"),
        ("risk_ratio", (0.5, 1.0), True, "inconclusive"),
        ("odds_ratio", (1.0, 2.0), False, "inconclusive"),
        ("smd", (0.5, 0.9), False, "favourable"),
        ("smd", (0.8, 1.2), False, "favourable"),
        # Bounds in the wrong order are read in either order.
        ("smd", (0.5, 0.1), False, "favourable"),
        ("risk_ratio", (2.0, 1.1), False, "favourable"),
    ],
)
def test_outcome_direction(
    measure: str, ci: tuple[float, float], lower_is_better: bool, direction: str
) -> None:
    assert (
        outcome_direction(outcome(ABUSE, ci, measure=measure, lower_is_better=lower_is_better))
        == direction
    )


@pytest.mark.parametrize("measure", MEASURES)
def test_a_ci_touching_the_null_value_gives_no_effect(measure: str) -> None:
    null = rating.NULL_VALUES[measure]
    touching = outcome(ABUSE, (null, null + 0.5), measure=measure)
    assert rate(programme(study(1, touching))).level == "no_effect"


@pytest.mark.parametrize(
    ("ci", "lower_is_better", "level"),
    [
        ((0.4, 0.8), True, "promising"),
        ((0.4, 0.8), False, "possibly_harmful"),
        ((1.2, 1.8), False, "promising"),
        ((1.2, 1.8), True, "possibly_harmful"),
    ],
)
def test_lower_is_better_decides_the_side_in_a_rating(
    ci: tuple[float, float], lower_is_better: bool, level: str
) -> None:
    ratio = outcome(ABUSE, ci, measure="risk_ratio", lower_is_better=lower_is_better)
    assert rate(programme(study(1, ratio))).level == level


# --- Inputs, labels, order, reasons -------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: outcome("abuse"),
        lambda: outcome(measure="hedges_g"),
        lambda: study(1, design="randomised"),
        lambda: study(1, risk_of_bias="medium"),
        lambda: study(1, follow_up_months=-1),
    ],
)
def test_unknown_codes_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"unknown|negative"):
        make()


def test_labels_descriptions_and_order_cover_every_level() -> None:
    assert set(LEVEL_LABELS) == set(RATING_LEVELS)
    assert set(LEVEL_DESCRIPTIONS) == set(RATING_LEVELS)
    assert sorted(LEVEL_ORDER) == sorted(RATING_LEVELS)
    assert LEVEL_LABELS["no_effect"] == "No effect shown"
    assert LEVEL_ORDER[0] == "effective"
    assert LEVEL_ORDER[-1] == "possibly_harmful"
    assert sorted(
        ["not_rated", "possibly_harmful", "promising", "effective"], key=level_sort_key
    ) == [
        "effective",
        "promising",
        "not_rated",
        "possibly_harmful",
    ]
    assert all(text.endswith(".") for text in LEVEL_DESCRIPTIONS.values())


def test_a_rating_shows_its_label_and_description() -> None:
    result = rate(programme(study(1, outcome())))
    assert result.label == "Promising"
    assert result.description == LEVEL_DESCRIPTIONS["promising"]


def test_a_reason_keeps_its_message_for_storage_and_translates_when_shown() -> None:
    reason = rate(programme(study(1, outcome(name="Help-seeking"), title="A 100% study"))).reasons[
        0
    ]
    assert (
        reason.message == "%(study)s, a rigorous study, shows a favourable effect on: %(outcomes)s."
    )
    assert (
        reason.text
        == "A 100% study (2020), a rigorous study, shows a favourable effect on: Help-seeking."
    )
    assert Reason.from_dict(reason.to_dict()) == reason


def test_rating_is_pure_and_does_not_depend_on_input_order() -> None:
    studies = [study(1, outcome()), study(2, outcome(KNOWLEDGE)), pre_post(3, outcome())]
    first = rate(programme(*studies))
    assert rate(programme(*studies)) == first
    reversed_ = rate(programme(*reversed(studies)))
    assert (reversed_.level, reversed_.rule) == (first.level, first.rule)
    assert sorted(reversed_.evaluation_ids) == sorted(first.evaluation_ids)


# --- Re-review --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reviewed_on", "today", "flagged"),
    [
        (date(2024, 6, 15), date(2027, 6, 14), False),
        (date(2024, 6, 15), date(2027, 6, 15), False),  # exactly three years: not yet
        (date(2024, 6, 15), date(2027, 6, 16), True),
        (date(2024, 6, 14), date(2027, 6, 15), True),
        (date(2027, 6, 15), date(2027, 6, 15), False),
        (date(2028, 1, 1), date(2027, 6, 15), False),  # reviewed "in the future"
        (date(2020, 1, 1), date(2027, 6, 15), True),
        # Reviewed on a leap day: due on 1 March three years later.
        (date(2024, 2, 29), date(2027, 2, 28), False),
        (date(2024, 2, 29), date(2027, 3, 1), True),
        # Checked on a leap day: three years earlier is 28 February.
        (date(2025, 2, 28), date(2028, 2, 29), False),
        (date(2025, 2, 27), date(2028, 2, 29), True),
        (date(2025, 3, 1), date(2028, 2, 29), False),
    ],
)
def test_needs_rereview(reviewed_on: date, today: date, flagged: bool) -> None:
    assert needs_rereview(reviewed_on, today) is flagged


# --- Every input to exactly one level ------------------------------------------------------


def _oracle(case: ProgrammeInput) -> str:
    """The scheme written again, as plainly as possible, from DOMAIN.md and the readings."""
    studies = {s.evaluation_id: s for s in reversed(case.studies)}.values()
    if not studies:
        return "not_rated"

    def directions(s: StudyInput, kinds: tuple[str, ...] = OUTCOME_KINDS) -> set[str]:
        return {outcome_direction(o) for o in s.outcomes if o.kind in kinds}

    strong = [
        s
        for s in studies
        if s.design in RIGOROUS_DESIGNS
        and s.risk_of_bias != "high"
        and s.risk_of_bias != "not_assessed"
    ]
    weak = [s for s in studies if s not in strong]
    if any("harmful" in directions(s) for s in strong):
        return "possibly_harmful"
    two = [s for s in strong if "favourable" in directions(s, (ABUSE, KNOWLEDGE))]
    if (
        len(two) >= 2
        and max((s.follow_up_months or 0) for s in two) >= 12
        and case.manual_available
    ):
        return "effective"
    if any(
        s.design in REVIEW_DESIGNS
        and s.risk_of_bias == "low"
        and "favourable" in directions(s)
        and "harmful" not in directions(s)
        for s in studies
    ):
        return "effective"
    if any("favourable" in directions(s, (ABUSE, RISK)) for s in strong):
        return "promising"
    if any(s.outcomes for s in strong) and not any("favourable" in directions(s) for s in strong):
        return "no_effect"
    weak_directions = set().union(*(directions(s) for s in weak))
    if not strong and "favourable" in weak_directions and "harmful" not in weak_directions:
        return "prudent"
    return "pioneering"


def _random_programme(rng: random.Random) -> ProgrammeInput:
    # Weighted towards rigorous studies and favourable results, so that every rule is met.
    cis = [FAVOURABLE, FAVOURABLE, FAVOURABLE, HARMFUL, UNCLEAR, (0.0, 0.4), (-0.4, 0.0)]
    studies = []
    for _index in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
        outcomes = []
        for _outcome in range(rng.choice([0, 1, 1, 2, 3])):
            measure = rng.choice(MEASURES)
            low, high = rng.choice(cis)
            shift = rating.NULL_VALUES[measure]
            outcomes.append(
                outcome(
                    rng.choice(OUTCOME_KINDS),
                    (low + shift, high + shift),
                    measure=measure,
                    lower_is_better=rng.random() < 0.5,
                )
            )
        studies.append(
            study(
                rng.randint(1, 6),
                *outcomes,
                design=rng.choice([*RIGOROUS_DESIGNS, *DESIGNS]),
                risk_of_bias=rng.choice(["low", "some_concerns", *RISKS_OF_BIAS]),
                follow_up_months=rng.choice([None, 0, 11, 12, 24]),
            )
        )
    return programme(*studies, manual=rng.random() < 0.7)


def test_every_input_gets_exactly_one_level_by_the_first_rule_that_holds() -> None:
    rng = random.Random(20240229)  # noqa: S311 - reproducible test data
    seen: set[str] = set()
    for _case in range(5000):
        case = _random_programme(rng)
        result = rate(case)
        seen.add(result.rule)
        assert result.level in RATING_LEVELS
        assert result.rule in RULES
        assert RULE_LEVELS[result.rule] == result.level
        assert result.level == _oracle(case), case
        input_ids = [s.evaluation_id for s in case.studies]
        assert set(result.evaluation_ids) <= set(input_ids)
        assert len(result.evaluation_ids) == len(set(result.evaluation_ids))
        assert bool(result.evaluation_ids) == bool(input_ids)
        assert result.reasons
        assert all(
            reason.text and set(reason.evaluation_ids) <= set(input_ids)
            for reason in result.reasons
        )
        assert (result.raise_by == []) == (result.level == "effective")
        assert all(text for text in result.raise_by_texts)
    assert seen == set(RULES)
