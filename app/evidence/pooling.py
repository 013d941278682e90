"""Random-effects pooling of effect sizes (DerSimonian and Laird).

Pure functions, no database. Effects come in on their natural scale with 95% confidence
intervals, as recorded; they are pooled on the analysis scale (the log scale for odds and
risk ratios), with each study's standard error taken from the width of its CI, and the
pooled estimate and CI are turned back to the natural scale.

DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. *Controlled Clinical
Trials* 7: 177–188; Borenstein et al. (2009), *Introduction to Meta-Analysis*, chapters
12 and 16. With yᵢ the effects on the analysis scale and vᵢ their variances:

- fixed-effect weights wᵢ = 1/vᵢ, fixed-effect mean ȳ = Σwᵢyᵢ / Σwᵢ;
- Q = Σwᵢ(yᵢ − ȳ)², df = k − 1, C = Σwᵢ − Σwᵢ² / Σwᵢ;
- τ² = max(0, (Q − df) / C);
- random-effects weights wᵢ* = 1/(vᵢ + τ²), pooled μ = Σwᵢ*yᵢ / Σwᵢ*, SE = √(1/Σwᵢ*);
- 95% CI μ ± 1.96 SE, z = μ / SE, two-sided p from the normal distribution;
- I² = max(0, (Q − df) / Q), and 0 when Q = 0 or df = 0.

Truncating τ² at zero is part of the DerSimonian–Laird estimator; some libraries (e.g.
statsmodels' ``combine_effects``) report the untruncated moment estimate, in which case
the truncated result equals their fixed-effect one.
"""

# The formulas are written with mathematical signs (−, ×, –) on purpose.
# ruff: noqa: RUF002, RUF003

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from app.evidence.effects import (
    Z_95,
    check_measure,
    from_analysis_scale,
    se_from_ci,
    to_analysis_scale,
)
from app.kit.i18n import N_, _

MIN_STUDIES_TO_POOL = 2

MSG_MIXED_MEASURES = N_("Effects measured in different ways cannot be pooled.")


@dataclass(frozen=True)
class StudyEffect:
    """One effect to pool or plot: a label (shown as given, escaped where rendered) and the
    estimate with its 95% CI on the natural scale. ``ref`` is free for the caller (an
    outcome's or evaluation's id, for a link)."""

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    measure: str
    ref: int | None = None

    @property
    def se(self) -> float:
        """The standard error on the analysis scale implied by the CI."""
        return se_from_ci(self.measure, self.estimate, self.ci_low, self.ci_high)


@dataclass(frozen=True)
class Pooled:
    """A random-effects pooled estimate.

    ``estimate``, ``ci_low`` and ``ci_high`` are on the natural scale (a ratio for odds and
    risk ratios); ``theta``, ``theta_ci_low`` and ``theta_ci_high`` are the same on the
    analysis scale (natural logs for ratios, equal to the natural values for smd), as are
    ``se``, ``z`` and the fixed-effect ``fixed_theta`` and ``fixed_se``. ``p`` is two-sided
    (normal). ``weights`` are the studies' relative
    random-effects weights (summing to 1) in the order of ``studies``. ``i2`` is a fraction
    between 0 and 1 (see ``i2_percent``).
    """

    measure: str
    studies: tuple[StudyEffect, ...]
    estimate: float
    ci_low: float
    ci_high: float
    theta: float
    se: float
    theta_ci_low: float
    theta_ci_high: float
    z: float
    p: float
    q: float
    df: int
    tau2: float
    i2: float
    weights: tuple[float, ...]
    fixed_theta: float
    fixed_se: float

    @property
    def k(self) -> int:
        return len(self.studies)

    @property
    def i2_percent(self) -> float:
        return 100 * self.i2


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z: 2(1 − Φ(|z|)) = erfc(|z| / √2)."""
    return math.erfc(abs(z) / math.sqrt(2))


def pool(studies: Sequence[StudyEffect]) -> Pooled | None:
    """The DerSimonian–Laird random-effects pooled estimate of ``studies``; None for none.

    All studies must share one measure (``ValueError`` otherwise), and each must have a
    valid CI (``ValueError`` from :func:`~app.evidence.effects.se_from_ci`).

    A single study is its own pooled estimate: Q = 0, df = 0, τ² = 0 and I² = 0, and the
    CI is recomputed as estimate ± 1.96 SE on the analysis scale (which reproduces a
    symmetric reported CI; the caller decides whether a single study is worth showing as
    "pooled": see :func:`poolable_groups`).
    """
    if not studies:
        return None
    measure = check_measure(studies[0].measure)
    if any(study.measure != measure for study in studies):
        raise ValueError(_(MSG_MIXED_MEASURES))
    effects = [to_analysis_scale(measure, study.estimate) for study in studies]
    variances = [study.se**2 for study in studies]
    k = len(studies)

    fixed_weights = [1 / v for v in variances]
    fixed_total = math.fsum(fixed_weights)
    fixed_theta = math.fsum(w * y for w, y in zip(fixed_weights, effects, strict=True)) / (
        fixed_total
    )
    df = k - 1
    q = math.fsum(w * (y - fixed_theta) ** 2 for w, y in zip(fixed_weights, effects, strict=True))
    if df > 0:
        c = fixed_total - math.fsum(w * w for w in fixed_weights) / fixed_total
        tau2 = max(0.0, (q - df) / c)
        i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    else:
        q, tau2, i2 = 0.0, 0.0, 0.0

    random_weights = [1 / (v + tau2) for v in variances]
    random_total = math.fsum(random_weights)
    theta = math.fsum(w * y for w, y in zip(random_weights, effects, strict=True)) / random_total
    se = math.sqrt(1 / random_total)
    theta_low, theta_high = theta - Z_95 * se, theta + Z_95 * se
    z = theta / se
    return Pooled(
        measure=measure,
        studies=tuple(studies),
        estimate=from_analysis_scale(measure, theta),
        ci_low=from_analysis_scale(measure, theta_low),
        ci_high=from_analysis_scale(measure, theta_high),
        theta=theta,
        se=se,
        theta_ci_low=theta_low,
        theta_ci_high=theta_high,
        z=z,
        p=normal_two_sided_p(z),
        q=q,
        df=df,
        tau2=tau2,
        i2=i2,
        weights=tuple(w / random_total for w in random_weights),
        fixed_theta=fixed_theta,
        fixed_se=math.sqrt(1 / fixed_total),
    )


# -- grouping -----------------------------------------------------------------------------


class PoolableOutcome(Protocol):
    """What grouping needs of an outcome (``app.evidence.models.Outcome`` has it)."""

    @property
    def kind(self) -> str: ...

    @property
    def measure(self) -> str: ...

    @property
    def lower_is_better(self) -> bool: ...


class EffectOutcome(Protocol):
    @property
    def measure(self) -> str: ...

    @property
    def estimate(self) -> float: ...

    @property
    def ci_low(self) -> float: ...

    @property
    def ci_high(self) -> float: ...


OutcomeT = TypeVar("OutcomeT", bound=PoolableOutcome)


def group_for_pooling(outcomes: Iterable[OutcomeT]) -> dict[tuple[str, str], list[OutcomeT]]:
    """Outcomes grouped by (kind, measure), in the order first met; every group is kept."""
    groups: dict[tuple[str, str], list[OutcomeT]] = {}
    for outcome in outcomes:
        groups.setdefault((outcome.kind, outcome.measure), []).append(outcome)
    return groups


def directions_agree(outcomes: Iterable[PoolableOutcome]) -> bool:
    """Whether all outcomes count the same direction as beneficial."""
    return len({outcome.lower_is_better for outcome in outcomes}) <= 1


def poolable_groups(
    outcomes: Iterable[OutcomeT], min_studies: int = MIN_STUDIES_TO_POOL
) -> dict[tuple[str, str], list[OutcomeT]]:
    """The groups of :func:`group_for_pooling` that the portal pools and plots.

    A group needs at least ``min_studies`` outcomes (two, as DOMAIN.md says) that agree on
    whether lower or higher is better: pooling a reduction in offending with an increase in
    a protective factor would average effects that point in opposite directions, and the
    forest plot could not say which side favours the programme. Such mixed groups are left
    out (the caller may show them unpooled).
    """
    return {
        key: group
        for key, group in group_for_pooling(outcomes).items()
        if len(group) >= min_studies and directions_agree(group)
    }


def study_effect(outcome: EffectOutcome, label: str, ref: int | None = None) -> StudyEffect:
    """A :class:`StudyEffect` for an outcome (its estimate, CI and measure)."""
    return StudyEffect(
        label=label,
        estimate=outcome.estimate,
        ci_low=outcome.ci_low,
        ci_high=outcome.ci_high,
        measure=outcome.measure,
        ref=ref,
    )
