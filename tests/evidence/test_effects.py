"""Effect sizes from group statistics, checked against published and independent figures.

Hedges' g is checked against the worked example of Borenstein et al. (2009), chapter 4,
and statsmodels' ``effectsize_smd``; odds and risk ratios against statsmodels'
``Table2x2`` (whose confidence intervals are the Woolf/Katz log-scale intervals used
here). statsmodels and scipy are development dependencies, used in tests only.
"""

# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]
from statsmodels.stats.contingency_tables import Table2x2  # type: ignore[import-untyped]
from statsmodels.stats.meta_analysis import effectsize_smd  # type: ignore[import-untyped]

from app.evidence import effects
from app.evidence.effects import (
    NOTE_ALL_EVENTS,
    NOTE_ZERO_EVENTS,
    Z_95,
    Effect,
    EffectInputError,
    direction,
    hedges_g,
    odds_ratio,
    render_computation,
    risk_ratio,
    se_from_ci,
    to_analysis_scale,
    validate_effect,
)
from app.kit import i18n

TOLERANCE = 1e-9


@pytest.fixture
def german() -> Iterator[None]:
    i18n.set_locale("de")
    try:
        yield
    finally:
        i18n.set_locale("en")


def test_the_normal_quantile_is_the_one_for_95_percent() -> None:
    assert stats.norm.ppf(0.975) == pytest.approx(Z_95, abs=1e-15)


# -- Hedges' g ----------------------------------------------------------------------------


def test_hedges_g_reproduces_the_worked_example_of_borenstein_et_al() -> None:
    # Borenstein et al. (2009), Introduction to Meta-Analysis, section 4.2: means 103 and
    # 100, SDs 5.5 and 4.5, 50 per group -> S_within 5.0249, d 0.5970, J 0.9923, g 0.5924.
    effect = hedges_g(103, 5.5, 50, 100, 4.5, 50)

    assert effect.measure == "smd"
    assert effect.formula_values["sd_pooled"] == pytest.approx(5.0249, abs=5e-5)
    assert effect.formula_values["d"] == pytest.approx(0.5970, abs=5e-5)
    assert effect.formula_values["j"] == pytest.approx(0.9923, abs=5e-5)
    assert effect.estimate == pytest.approx(0.5924, abs=5e-5)
    # The variant used: V = (n1 + n2)/(n1 n2) + g²/(2 (n1 + n2)) = 0.04 + 0.5924²/200.
    assert effect.se**2 == pytest.approx(0.04 + effect.estimate**2 / 200, abs=1e-12)
    assert effect.se**2 == pytest.approx(0.0418, abs=5e-5)


@pytest.mark.parametrize(
    ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
    [
        (103.0, 5.5, 50, 100.0, 4.5, 50),
        (12.1, 3.4, 23, 14.8, 4.1, 19),
        (0.42, 0.11, 8, 0.40, 0.09, 7),
        (55.0, 10.0, 300, 50.0, 12.0, 150),
        (2.0, 1.0, 2, 1.0, 1.0, 2),
    ],
)
def test_hedges_g_agrees_with_statsmodels_and_an_independent_variance(
    mean_t: float, sd_t: float, n_t: int, mean_c: float, sd_c: float, n_c: int
) -> None:
    effect = hedges_g(mean_t, sd_t, n_t, mean_c, sd_c, n_c)
    expected_g, _statsmodels_variance = effectsize_smd(
        np.float64(mean_t), np.float64(sd_t), n_t, np.float64(mean_c), np.float64(sd_c), n_c
    )
    # statsmodels' variance uses a different small-sample variant (N − 3.94); the one used
    # here is 1/n_t + 1/n_c + g²/(2N), computed below along another path.
    variance = 1 / n_t + 1 / n_c + float(expected_g) ** 2 / (2 * (n_t + n_c))
    se = math.sqrt(variance)
    crit = float(stats.norm.ppf(0.975))

    assert effect.estimate == pytest.approx(float(expected_g), abs=TOLERANCE)
    assert effect.se == pytest.approx(se, abs=TOLERANCE)
    assert effect.ci_low == pytest.approx(float(expected_g) - crit * se, abs=TOLERANCE)
    assert effect.ci_high == pytest.approx(float(expected_g) + crit * se, abs=TOLERANCE)


def test_hedges_g_is_negative_when_the_programme_group_scores_lower() -> None:
    higher = hedges_g(10, 2, 30, 8, 2, 30)
    lower = hedges_g(8, 2, 30, 10, 2, 30)

    assert lower.estimate == pytest.approx(-higher.estimate)
    assert lower.ci_low == pytest.approx(-higher.ci_high)


def test_hedges_g_shows_its_formula_with_the_numbers() -> None:
    effect = hedges_g(103, 5.5, 50, 100, 4.5, 50)

    assert "Hedges' g" in effect.formula
    assert "J = 1 − 3 / (4 × (50 + 50) − 9) = 0.992" in effect.formula
    assert "g = J × d = 0.592" in effect.formula
    assert "95% CI = g ± 1.96 × SE = 0.192 to 0.993" in effect.formula
    assert effect.notes == []
    assert effect.computation == effect.formula


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ((10.0, 2.0, 1, 8.0, 2.0, 30), "n_t"),
        ((10.0, 2.0, 30, 8.0, 2.0, 0), "n_c"),
        ((10.0, 0.0, 30, 8.0, 2.0, 30), "sd_t"),
        ((10.0, 2.0, 30, 8.0, -1.0, 30), "sd_c"),
        ((math.nan, 2.0, 30, 8.0, 2.0, 30), "mean_t"),
        ((10.0, 2.0, 30, math.inf, 2.0, 30), "mean_c"),
        ((10.0, 2.0, True, 8.0, 2.0, 30), "n_t"),
    ],
)
def test_hedges_g_refuses_impossible_group_statistics(
    arguments: tuple[float, float, int, float, float, int], field: str
) -> None:
    with pytest.raises(EffectInputError) as raised:
        hedges_g(*arguments)

    assert raised.value.field == field
    assert field in raised.value.errors
    assert str(raised.value) == raised.value.message
    assert isinstance(raised.value, ValueError)


# -- odds and risk ratios -------------------------------------------------------------------


def _table(events_t: int, n_t: int, events_c: int, n_c: int, shift: float = 0.0) -> Table2x2:
    cells = np.array([[events_t, n_t - events_t], [events_c, n_c - events_c]], dtype=float)
    return Table2x2(cells + shift, shift_zeros=False)


TABLES = [(12, 100, 25, 100), (3, 40, 9, 38), (150, 1000, 90, 1020), (30, 31, 20, 35)]


@pytest.mark.parametrize(("events_t", "n_t", "events_c", "n_c"), TABLES)
def test_odds_ratio_agrees_with_statsmodels(
    events_t: int, n_t: int, events_c: int, n_c: int
) -> None:
    effect = odds_ratio(events_t, n_t, events_c, n_c)
    table = _table(events_t, n_t, events_c, n_c)
    low, high = table.oddsratio_confint()

    assert effect.measure == "odds_ratio"
    assert effect.estimate == pytest.approx(float(table.oddsratio), rel=TOLERANCE)
    assert effect.se == pytest.approx(float(table.log_oddsratio_se), rel=TOLERANCE)
    assert effect.ci_low == pytest.approx(float(low), rel=TOLERANCE)
    assert effect.ci_high == pytest.approx(float(high), rel=TOLERANCE)
    assert effect.notes == []


@pytest.mark.parametrize(("events_t", "n_t", "events_c", "n_c"), TABLES)
def test_risk_ratio_agrees_with_statsmodels(
    events_t: int, n_t: int, events_c: int, n_c: int
) -> None:
    effect = risk_ratio(events_t, n_t, events_c, n_c)
    table = _table(events_t, n_t, events_c, n_c)
    low, high = table.riskratio_confint()

    assert effect.measure == "risk_ratio"
    assert effect.estimate == pytest.approx(float(table.riskratio), rel=TOLERANCE)
    assert effect.se == pytest.approx(float(table.log_riskratio_se), rel=TOLERANCE)
    assert effect.ci_low == pytest.approx(float(low), rel=TOLERANCE)
    assert effect.ci_high == pytest.approx(float(high), rel=TOLERANCE)
    assert effect.notes == []


def test_a_hand_computed_odds_and_risk_ratio() -> None:
    # 10/50 against 20/50: OR = (10 × 30)/(40 × 20) = 0.375, RR = 0.2/0.4 = 0.5;
    # SE(ln OR) = √(1/10 + 1/40 + 1/20 + 1/30); SE(ln RR) = √(1/10 − 1/50 + 1/20 − 1/50).
    odds = odds_ratio(10, 50, 20, 50)
    risk = risk_ratio(10, 50, 20, 50)

    assert odds.estimate == pytest.approx(0.375)
    assert odds.se == pytest.approx(math.sqrt(0.1 + 0.025 + 0.05 + 1 / 30))
    assert risk.estimate == pytest.approx(0.5)
    assert risk.se == pytest.approx(math.sqrt(0.11))
    assert risk.ci_low == pytest.approx(math.exp(math.log(0.5) - 1.959963984540054 * 0.11**0.5))
    assert "OR = (a × d) / (b × c) = (10 × 30) / (40 × 20) = 0.375" in odds.formula
    assert "(10 / 50) / (20 / 50) = 0.5" in risk.formula


def test_zero_events_in_a_group_add_half_to_every_cell_and_say_so() -> None:
    odds = odds_ratio(0, 20, 5, 20)
    risk = risk_ratio(0, 20, 5, 20)
    corrected = _table(0, 20, 5, 20, shift=0.5)

    assert odds.estimate == pytest.approx(float(corrected.oddsratio), rel=TOLERANCE)
    assert odds.se == pytest.approx(float(corrected.log_oddsratio_se), rel=TOLERANCE)
    assert risk.estimate == pytest.approx(float(corrected.riskratio), rel=TOLERANCE)
    assert risk.se == pytest.approx(float(corrected.log_riskratio_se), rel=TOLERANCE)
    for effect in (odds, risk):
        assert effect.continuity_corrected
        assert effect.note_ids == (NOTE_ZERO_EVENTS,)
        assert effect.notes == [
            "A continuity correction of 0.5 was added because a group had zero events."
        ]
        assert effect.computation.endswith("because a group had zero events.")
    assert "(0.5 × 15.5) / (20.5 × 5.5)" in odds.formula
    assert "(0.5 / 21) / (5.5 / 21)" in risk.formula


def test_all_events_in_one_group_corrects_the_odds_ratio_only() -> None:
    odds = odds_ratio(20, 20, 12, 20)
    risk = risk_ratio(20, 20, 12, 20)

    assert odds.note_ids == (NOTE_ALL_EVENTS,)
    assert odds.estimate == pytest.approx(float(_table(20, 20, 12, 20, 0.5).oddsratio))
    # The risk ratio is defined without correction: 1 / 0.6, its group-1 SE term is 0.
    assert risk.note_ids == ()
    assert risk.estimate == pytest.approx(1 / 0.6)
    assert risk.se == pytest.approx(float(_table(20, 20, 12, 20).log_riskratio_se))


@pytest.mark.parametrize("compute", [odds_ratio, risk_ratio])
@pytest.mark.parametrize(
    ("events_t", "n_t", "events_c", "n_c", "words"),
    [(0, 30, 0, 25, "neither group had any events"), (30, 30, 25, 25, "both groups had")],
)
def test_no_ratio_is_estimated_from_empty_or_full_tables(
    compute: Callable[[int, int, int, int], Effect],
    events_t: int,
    n_t: int,
    events_c: int,
    n_c: int,
    words: str,
) -> None:
    with pytest.raises(EffectInputError) as raised:
        compute(events_t, n_t, events_c, n_c)

    assert raised.value.field == "events_t"
    assert words in raised.value.message


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ((-1, 20, 5, 20), "events_t"),
        ((21, 20, 5, 20), "events_t"),
        ((3, 20, 5, 0), "n_c"),
        ((3, 20, 6, 5), "events_c"),
        ((3, 20.5, 5, 20), "n_t"),
    ],
)
def test_binary_inputs_are_checked(arguments: tuple[int, int, int, int], field: str) -> None:
    with pytest.raises(EffectInputError) as raised:
        odds_ratio(*arguments)

    assert field in raised.value.errors


def test_binary_effect_picks_the_measure() -> None:
    assert effects.binary_effect("odds_ratio", 10, 50, 20, 50).estimate == pytest.approx(0.375)
    assert effects.binary_effect("risk_ratio", 10, 50, 20, 50).estimate == pytest.approx(0.5)
    with pytest.raises(ValueError, match="effect measures"):
        effects.binary_effect("smd", 10, 50, 20, 50)


# -- formulas in the reader's language ------------------------------------------------------


@pytest.mark.usefixtures("german")
def test_the_formula_numbers_follow_the_locale() -> None:
    effect = hedges_g(103, 5.5, 50, 100, 4.5, 50)

    assert "0,592" in effect.formula
    assert "5,5" in effect.formula


def test_a_stored_computation_renders_again_in_any_language() -> None:
    effect = odds_ratio(0, 20, 5, 20)
    record = json.loads(json.dumps(effect.as_record()))

    assert render_computation(record) == effect.computation
    i18n.set_locale("de")
    try:
        assert "0,069" in render_computation(record)
    finally:
        i18n.set_locale("en")


# -- scales and checks ----------------------------------------------------------------------


def test_se_from_ci_on_each_scale() -> None:
    assert se_from_ci("smd", 0.3, 0.1, 0.5) == pytest.approx(0.4 / (2 * 1.959963984540054))
    assert se_from_ci("odds_ratio", 2.0, 1.0, 4.0) == pytest.approx(
        math.log(4) / (2 * 1.959963984540054)
    )
    assert se_from_ci("risk_ratio", 0.5, 0.25, 1.0) == pytest.approx(
        math.log(4) / (2 * 1.959963984540054)
    )
    # A computed effect's CI gives back its SE.
    effect = risk_ratio(12, 100, 25, 100)
    assert se_from_ci("risk_ratio", effect.estimate, effect.ci_low, effect.ci_high) == (
        pytest.approx(effect.se, rel=1e-12)
    )


@pytest.mark.parametrize(
    ("measure", "estimate", "low", "high"),
    [("smd", 0.3, 0.5, 0.1), ("smd", 0.3, 0.3, 0.3), ("odds_ratio", 1.0, 0.0, 2.0)],
)
def test_se_from_ci_refuses_invalid_intervals(
    measure: str, estimate: float, low: float, high: float
) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        se_from_ci(measure, estimate, low, high)


def test_to_analysis_scale() -> None:
    assert to_analysis_scale("smd", -0.4) == -0.4
    assert to_analysis_scale("odds_ratio", math.e) == pytest.approx(1.0)
    assert to_analysis_scale("risk_ratio", 1.0) == 0.0
    assert effects.from_analysis_scale("risk_ratio", 0.0) == 1.0
    with pytest.raises(ValueError, match="greater than zero"):
        to_analysis_scale("risk_ratio", 0.0)
    with pytest.raises(ValueError, match="effect measures"):
        to_analysis_scale("hazard_ratio", 1.0)


@pytest.mark.parametrize(
    ("measure", "estimate", "low", "high", "expected"),
    [
        ("smd", 0.3, 0.1, 0.5, set()),
        ("smd", 0.1, 0.1, 0.5, set()),  # an estimate on a bound is inside the CI
        ("smd", -0.2, -0.5, 0.1, set()),
        ("smd", 0.6, 0.1, 0.5, {"estimate"}),
        ("smd", 0.3, 0.5, 0.1, {"ci_high"}),
        ("smd", 0.3, 0.3, 0.3, {"ci_high"}),
        ("odds_ratio", 1.5, 1.1, 2.0, set()),
        ("odds_ratio", 0.0, 0.5, 2.0, {"estimate"}),
        ("odds_ratio", -1.0, -2.0, 2.0, {"estimate", "ci_low"}),
        ("risk_ratio", 0.8, 0.0, 1.2, {"ci_low"}),
        ("risk_ratio", 2.5, 1.2, 2.0, {"estimate"}),
        ("smd", math.nan, 0.1, 0.5, {"estimate"}),
        ("hazard_ratio", 1.0, 0.5, 2.0, {"measure"}),
    ],
)
def test_validate_effect(
    measure: str, estimate: float, low: float, high: float, expected: set[str]
) -> None:
    assert set(validate_effect(measure, estimate, low, high)) == expected


def test_validate_effect_messages_are_clear() -> None:
    assert validate_effect("smd", 0.6, 0.1, 0.5) == {
        "estimate": "The confidence interval must contain the estimate."
    }
    assert validate_effect("risk_ratio", 0.0, 0.5, 2.0) == {
        "estimate": "A ratio must be greater than zero."
    }
    assert validate_effect("smd", 0.3, 0.5, 0.1) == {
        "ci_high": "The lower bound of the confidence interval must be below the upper bound."
    }


# -- direction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "low", "high", "lower_is_better", "expected"),
    [
        ("smd", 0.1, 0.5, False, "favourable"),
        ("smd", 0.1, 0.5, True, "harmful"),
        ("smd", -0.5, -0.1, True, "favourable"),
        ("smd", -0.5, -0.1, False, "harmful"),
        ("smd", -0.1, 0.5, False, "unclear"),
        # A CI that ends exactly at no effect touches it: not entirely on one side.
        ("smd", 0.0, 0.5, False, "unclear"),
        ("smd", -0.5, 0.0, True, "unclear"),
        ("odds_ratio", 0.4, 0.9, True, "favourable"),
        ("odds_ratio", 0.4, 0.9, False, "harmful"),
        ("risk_ratio", 1.1, 2.0, False, "favourable"),
        ("risk_ratio", 1.1, 2.0, True, "harmful"),
        ("risk_ratio", 0.8, 1.2, True, "unclear"),
        ("risk_ratio", 0.5, 1.0, True, "unclear"),
        ("risk_ratio", 1.0, 1.5, False, "unclear"),
        # A ratio below 1 is not "below zero": 0.4 to 0.9 is on the low side of 1.
        ("risk_ratio", 0.4, 0.9, False, "harmful"),
    ],
)
def test_direction(
    measure: str, low: float, high: float, lower_is_better: bool, expected: str
) -> None:
    assert direction(measure, low, high, lower_is_better) == expected
