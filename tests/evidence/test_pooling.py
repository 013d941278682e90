"""DerSimonian–Laird pooling, checked against statsmodels' ``combine_effects``.

statsmodels (a development dependency, used in tests only) is the independent
implementation the issue asks for: ``combine_effects(eff, var, method_re="dl")``. It takes
effects and variances on the analysis scale; here they are derived from the 2×2 tables or
confidence intervals separately from the portal's code, and the portal's results must agree
to 1e-6 (in practice they agree to about 1e-15).

Two differences of convention, both checked explicitly:

- statsmodels reports the untruncated moment estimate of τ², which is negative when
  Q < df; DerSimonian and Laird truncate it at 0, which makes the random-effects model the
  fixed-effect one. Where statsmodels' τ² is negative, the portal's results are compared
  with statsmodels' fixed-effect row, and its I² (1 − df/Q, negative or −∞) with 0.
- With a single study statsmodels' τ² and I² are undefined (0/0); the portal's pooled
  estimate is that study, which is statsmodels' fixed-effect row.
"""

# ruff: noqa: RUF002, RUF003

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]
from statsmodels.stats.contingency_tables import Table2x2  # type: ignore[import-untyped]
from statsmodels.stats.meta_analysis import combine_effects  # type: ignore[import-untyped]

from app.evidence.effects import odds_ratio, risk_ratio
from app.evidence.models import Outcome
from app.evidence.pooling import (
    Pooled,
    StudyEffect,
    group_for_pooling,
    normal_two_sided_p,
    pool,
    poolable_groups,
    study_effect,
)

AGREEMENT = 1e-6
CRIT = float(stats.norm.ppf(0.975))


def _variance_from_ci(low: float, high: float, log: bool) -> float:
    """The variance implied by a 95% CI, computed here independently of the portal."""
    if log:
        low, high = math.log(low), math.log(high)
    return float(((high - low) / (2 * CRIT)) ** 2)


def _statsmodels(effects: Sequence[float], variances: Sequence[float]) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return combine_effects(
            np.asarray(effects, dtype=float), np.asarray(variances, dtype=float), method_re="dl"
        )


def _row(result: Any, name: str) -> dict[str, float]:
    with np.errstate(divide="ignore", invalid="ignore"):
        frame = result.summary_frame()
    return {column: float(frame.loc[name, column]) for column in ("eff", "sd_eff", "ci_low")} | {
        "ci_upp": float(frame.loc[name, "ci_upp"])
    }


def _assert_agrees(pooled: Pooled, result: Any, row_name: str) -> None:
    """The portal's pooled estimate, SE and CI (analysis scale) against a statsmodels row."""
    row = _row(result, row_name)
    assert pooled.theta == pytest.approx(row["eff"], abs=AGREEMENT)
    assert pooled.se == pytest.approx(row["sd_eff"], abs=AGREEMENT)
    assert pooled.theta_ci_low == pytest.approx(row["ci_low"], abs=AGREEMENT)
    assert pooled.theta_ci_high == pytest.approx(row["ci_upp"], abs=AGREEMENT)
    assert pooled.z == pytest.approx(row["eff"] / row["sd_eff"], abs=AGREEMENT)
    assert pooled.p == pytest.approx(
        float(2 * stats.norm.sf(abs(row["eff"] / row["sd_eff"]))), abs=AGREEMENT
    )


def _smd(label: str, estimate: float, low: float, high: float) -> StudyEffect:
    return StudyEffect(label, estimate, low, high, "smd")


# (a) A typical heterogeneous set of standardised mean differences.
HETEROGENEOUS_SMD = [
    _smd("Andersson 2015", 0.10, -0.20, 0.40),
    _smd("Becker 2017", 0.35, 0.05, 0.65),
    _smd("Costa 2018", 0.80, 0.50, 1.10),
    _smd("Dubois 2020", -0.05, -0.35, 0.25),
    _smd("Eriksen 2021", 0.55, 0.15, 0.95),
]


def test_a_heterogeneous_smd_set_agrees_with_statsmodels() -> None:
    pooled = pool(HETEROGENEOUS_SMD)
    effects = [s.estimate for s in HETEROGENEOUS_SMD]
    variances = [_variance_from_ci(s.ci_low, s.ci_high, log=False) for s in HETEROGENEOUS_SMD]
    result = _statsmodels(effects, variances)

    assert pooled is not None
    assert float(result.tau2) > 0
    _assert_agrees(pooled, result, "random effect")
    assert pooled.tau2 == pytest.approx(float(result.tau2), abs=AGREEMENT)
    assert pooled.i2 == pytest.approx(float(result.i2), abs=AGREEMENT)
    assert pooled.q == pytest.approx(float(result.q), abs=AGREEMENT)
    assert pooled.df == 4
    assert pooled.fixed_theta == pytest.approx(float(result.mean_effect_fe), abs=AGREEMENT)
    assert pooled.fixed_se == pytest.approx(float(result.sd_eff_w_fe), abs=AGREEMENT)
    assert list(pooled.weights) == pytest.approx(list(result.weights_rel_re), abs=AGREEMENT)
    assert sum(pooled.weights) == pytest.approx(1.0)
    # smd: the natural scale is the analysis scale.
    assert (pooled.estimate, pooled.ci_low, pooled.ci_high) == (
        pooled.theta,
        pooled.theta_ci_low,
        pooled.theta_ci_high,
    )
    assert 0 < pooled.i2 < 1
    assert pooled.i2_percent == pytest.approx(100 * pooled.i2)
    assert pooled.k == 5


@pytest.mark.parametrize(
    "studies",
    [
        # Identical estimates: Q = 0.
        [_smd("A", 0.3, 0.1, 0.5), _smd("B", 0.3, 0.0, 0.6), _smd("C", 0.3, 0.2, 0.4)],
        # Different estimates, but less spread than chance alone: 0 < Q < df.
        [
            _smd("A", 0.30, 0.00, 0.60),
            _smd("B", 0.35, 0.05, 0.65),
            _smd("C", 0.28, -0.02, 0.58),
            _smd("D", 0.33, 0.13, 0.53),
        ],
    ],
    ids=["identical", "q-below-df"],
)
def test_zero_heterogeneity_truncates_tau2_and_agrees_with_the_fixed_effect(
    studies: list[StudyEffect],
) -> None:
    pooled = pool(studies)
    effects = [s.estimate for s in studies]
    variances = [_variance_from_ci(s.ci_low, s.ci_high, log=False) for s in studies]
    result = _statsmodels(effects, variances)

    assert pooled is not None
    assert pooled.q < pooled.df
    # statsmodels does not truncate: its DL moment estimate is negative here.
    assert float(result.tau2) < 0
    assert pooled.tau2 == 0.0
    assert pooled.i2 == 0.0
    assert not float(result.i2) > 0
    assert pooled.q == pytest.approx(float(result.q), abs=AGREEMENT)
    _assert_agrees(pooled, result, "fixed effect")
    assert list(pooled.weights) == pytest.approx(list(result.weights_rel_fe), abs=AGREEMENT)


def test_a_single_study_is_its_own_pooled_estimate() -> None:
    study = _smd("Only 2019", 0.42, 0.12, 0.72)
    pooled = pool([study])
    result = _statsmodels([0.42], [_variance_from_ci(0.12, 0.72, log=False)])

    assert pooled is not None
    assert (pooled.q, pooled.df, pooled.tau2, pooled.i2) == (0.0, 0, 0.0, 0.0)
    assert pooled.weights == (1.0,)
    # statsmodels leaves τ² undefined for one study (0/0, which comes out as nan or ±inf);
    # its fixed-effect row is the study.
    assert not math.isfinite(float(result.tau2))
    _assert_agrees(pooled, result, "fixed effect")
    assert pooled.estimate == pytest.approx(0.42, abs=AGREEMENT)
    assert pooled.ci_low == pytest.approx(0.12, abs=AGREEMENT)
    assert pooled.ci_high == pytest.approx(0.72, abs=AGREEMENT)


# (d) Odds ratios from 2×2 tables: events and group sizes (programme, comparison).
OR_TABLES = [(12, 100, 25, 100), (3, 40, 9, 38), (40, 210, 38, 190), (7, 60, 21, 64)]


def test_odds_ratios_are_pooled_on_the_log_scale() -> None:
    studies = []
    log_odds, variances = [], []
    for index, (events_t, n_t, events_c, n_c) in enumerate(OR_TABLES):
        effect = odds_ratio(events_t, n_t, events_c, n_c)
        studies.append(
            StudyEffect(
                f"Trial {index}", effect.estimate, effect.ci_low, effect.ci_high, "odds_ratio"
            )
        )
        table = Table2x2(
            np.array([[events_t, n_t - events_t], [events_c, n_c - events_c]], dtype=float)
        )
        log_odds.append(float(table.log_oddsratio))
        variances.append(float(table.log_oddsratio_se) ** 2)
    pooled = pool(studies)
    result = _statsmodels(log_odds, variances)

    assert pooled is not None
    assert float(result.tau2) > 0
    _assert_agrees(pooled, result, "random effect")
    assert pooled.tau2 == pytest.approx(float(result.tau2), abs=AGREEMENT)
    assert pooled.i2 == pytest.approx(float(result.i2), abs=AGREEMENT)
    # Back on the natural scale.
    row = _row(result, "random effect")
    assert pooled.estimate == pytest.approx(math.exp(row["eff"]), abs=AGREEMENT)
    assert pooled.ci_low == pytest.approx(math.exp(row["ci_low"]), abs=AGREEMENT)
    assert pooled.ci_high == pytest.approx(math.exp(row["ci_upp"]), abs=AGREEMENT)
    assert pooled.estimate < 1


# (e) Risk ratios, one of them from a tiny study with a very wide interval.
WIDE_RR = [
    StudyEffect("Small 2012", 2.0, 0.05, 80.0, "risk_ratio"),
    StudyEffect("Mid 2016", 0.62, 0.41, 0.94, "risk_ratio"),
    StudyEffect("Large 2019", 0.85, 0.74, 0.98, "risk_ratio"),
    StudyEffect("Late 2023", 0.48, 0.30, 0.77, "risk_ratio"),
]


def test_risk_ratios_with_a_very_wide_interval() -> None:
    pooled = pool(WIDE_RR)
    log_rr = [math.log(s.estimate) for s in WIDE_RR]
    variances = [_variance_from_ci(s.ci_low, s.ci_high, log=True) for s in WIDE_RR]
    result = _statsmodels(log_rr, variances)

    assert pooled is not None
    assert float(result.tau2) > 0
    _assert_agrees(pooled, result, "random effect")
    assert pooled.tau2 == pytest.approx(float(result.tau2), abs=AGREEMENT)
    assert pooled.i2 == pytest.approx(float(result.i2), abs=AGREEMENT)
    row = _row(result, "random effect")
    assert pooled.estimate == pytest.approx(math.exp(row["eff"]), abs=AGREEMENT)
    assert pooled.ci_low == pytest.approx(math.exp(row["ci_low"]), abs=AGREEMENT)
    assert pooled.ci_high == pytest.approx(math.exp(row["ci_upp"]), abs=AGREEMENT)
    # The wide study barely counts.
    assert pooled.weights[0] < 0.01


# The BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): tb cases and group sizes.
BCG = [
    (4, 123, 11, 139),
    (6, 306, 29, 303),
    (3, 231, 11, 220),
    (62, 13598, 248, 12867),
    (33, 5069, 47, 5808),
    (180, 1541, 372, 1451),
    (8, 2545, 10, 629),
    (505, 88391, 499, 88391),
    (29, 7499, 45, 7277),
    (17, 1716, 65, 1665),
    (186, 50634, 141, 27338),
    (5, 2498, 3, 2341),
    (27, 16913, 29, 17854),
]


def _bcg() -> list[StudyEffect]:
    studies = []
    for index, (events_t, n_t, events_c, n_c) in enumerate(BCG, start=1):
        effect = risk_ratio(events_t, n_t, events_c, n_c)
        studies.append(
            StudyEffect(
                f"Trial {index}", effect.estimate, effect.ci_low, effect.ci_high, "risk_ratio"
            )
        )
    return studies


def test_the_bcg_trials_agree_with_statsmodels_and_published_figures() -> None:
    pooled = pool(_bcg())
    tables = [Table2x2(np.array([[a, n1 - a], [c, n2 - c]], dtype=float)) for a, n1, c, n2 in BCG]
    result = _statsmodels(
        [float(t.log_riskratio) for t in tables], [float(t.log_riskratio_se) ** 2 for t in tables]
    )

    assert pooled is not None
    _assert_agrees(pooled, result, "random effect")
    assert pooled.tau2 == pytest.approx(float(result.tau2), abs=AGREEMENT)
    assert pooled.i2 == pytest.approx(float(result.i2), abs=AGREEMENT)
    # metafor, rma(measure="RR", method="DL") on dat.bcg (as printed, 4 decimals):
    # estimate −0.7141, se 0.1787, CI −1.0644 to −0.3638, τ² 0.3088, I² 92.12%, Q 152.2330.
    assert pooled.theta == pytest.approx(-0.7141, abs=5e-5)
    assert pooled.se == pytest.approx(0.1787, abs=5e-5)
    assert pooled.theta_ci_low == pytest.approx(-1.0644, abs=5e-5)
    assert pooled.theta_ci_high == pytest.approx(-0.3638, abs=5e-5)
    assert pooled.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert pooled.i2_percent == pytest.approx(92.12, abs=5e-3)
    assert pooled.q == pytest.approx(152.2330, abs=5e-5)


def test_pooling_nothing_gives_nothing() -> None:
    assert pool([]) is None


def test_mixed_measures_are_not_pooled() -> None:
    with pytest.raises(ValueError, match="different ways"):
        pool([_smd("A", 0.3, 0.1, 0.5), StudyEffect("B", 1.2, 1.0, 1.5, "odds_ratio")])


def test_an_invalid_interval_is_not_pooled() -> None:
    with pytest.raises(ValueError, match="confidence interval"):
        pool([_smd("A", 0.3, 0.1, 0.5), _smd("B", 0.3, 0.4, 0.4)])


def test_the_two_sided_normal_p_value() -> None:
    assert normal_two_sided_p(1.959963984540054) == pytest.approx(0.05, abs=1e-12)
    assert normal_two_sided_p(0.0) == 1.0
    for z in (0.5, -1.3, 3.7, 8.0):
        assert normal_two_sided_p(z) == pytest.approx(float(2 * stats.norm.sf(abs(z))), rel=1e-9)


# -- grouping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    kind: str
    measure: str
    lower_is_better: bool = False


def test_outcomes_are_grouped_by_kind_and_measure() -> None:
    outcomes = [
        _Outcome("abuse_or_offending", "odds_ratio", True),
        _Outcome("knowledge_or_attitude", "smd"),
        _Outcome("abuse_or_offending", "odds_ratio", True),
        _Outcome("abuse_or_offending", "risk_ratio", True),
        _Outcome("knowledge_or_attitude", "smd"),
        _Outcome("knowledge_or_attitude", "smd"),
    ]

    groups = group_for_pooling(outcomes)

    assert list(groups) == [
        ("abuse_or_offending", "odds_ratio"),
        ("knowledge_or_attitude", "smd"),
        ("abuse_or_offending", "risk_ratio"),
    ]
    assert [len(group) for group in groups.values()] == [2, 3, 1]
    assert list(poolable_groups(outcomes)) == [
        ("abuse_or_offending", "odds_ratio"),
        ("knowledge_or_attitude", "smd"),
    ]


def test_groups_that_disagree_on_the_better_direction_are_not_pooled() -> None:
    outcomes = [
        _Outcome("risk_or_protective_factor", "smd", True),
        _Outcome("risk_or_protective_factor", "smd", False),
        _Outcome("other", "smd"),
        _Outcome("other", "smd"),
    ]

    assert list(group_for_pooling(outcomes)) == [
        ("risk_or_protective_factor", "smd"),
        ("other", "smd"),
    ]
    assert list(poolable_groups(outcomes)) == [("other", "smd")]


def test_model_outcomes_group_and_become_study_effects() -> None:
    outcomes = [
        Outcome(
            name="Self-reported offending",
            kind="abuse_or_offending",
            measure="risk_ratio",
            estimate=0.7,
            ci_low=0.5,
            ci_high=0.98,
            lower_is_better=True,
        ),
        Outcome(
            name="Reoffending",
            kind="abuse_or_offending",
            measure="risk_ratio",
            estimate=0.9,
            ci_low=0.6,
            ci_high=1.35,
            lower_is_better=True,
        ),
    ]

    groups = poolable_groups(outcomes)
    ((key, group),) = groups.items()
    studies = [study_effect(o, label=f"Study {i}", ref=i) for i, o in enumerate(group)]
    pooled = pool(studies)

    assert key == ("abuse_or_offending", "risk_ratio")
    assert studies[0] == StudyEffect("Study 0", 0.7, 0.5, 0.98, "risk_ratio", ref=0)
    assert pooled is not None
    assert pooled.ci_low < pooled.estimate < pooled.ci_high
