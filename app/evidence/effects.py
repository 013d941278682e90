"""Effect sizes from group statistics, their checks, and which way an effect points.

Pure functions, no database. An outcome's effect is recorded on its natural scale: a
standardised mean difference (Hedges' g, ``smd``) or an odds or risk ratio. Computations
on ratios are done on the log scale (the *analysis scale*), where their sampling
distribution is close to normal and a 95% confidence interval is symmetric.

The formulas follow Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009),
*Introduction to Meta-Analysis*, Wiley, chapters 4 and 5; where a variant is chosen it is
said at the function. Every computed :class:`Effect` carries the formula it used, with
the numbers filled in, so the page can show how the effect was obtained.
"""

# The formulas are written with mathematical signs (−, ×, –) on purpose.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from babel import Locale
from babel.numbers import format_decimal

from app.kit.i18n import N_, _, get_locale

Measure = Literal["smd", "odds_ratio", "risk_ratio"]
Direction = Literal["favourable", "harmful", "unclear"]

MEASURES: tuple[str, ...] = ("smd", "odds_ratio", "risk_ratio")
RATIO_MEASURES: tuple[str, ...] = ("odds_ratio", "risk_ratio")

# The two-sided 95% quantile of the standard normal distribution, Φ⁻¹(0.975).
Z_95 = 1.959963984540054

CONTINUITY_CORRECTION = 0.5

MEASURE_LABELS: dict[str, str] = {
    "smd": N_("Standardised mean difference (Hedges' g)"),
    "odds_ratio": N_("Odds ratio"),
    "risk_ratio": N_("Risk ratio"),
}

HEDGES_G_FORMULA = N_(
    "Hedges' g from means and standard deviations: pooled SD = √(((n₁ − 1) × SD₁² + "
    "(n₂ − 1) × SD₂²) / (n₁ + n₂ − 2)) = √(((%(n_t)s − 1) × %(sd_t)s² + (%(n_c)s − 1) × "
    "%(sd_c)s²) / (%(n_t)s + %(n_c)s − 2)) = %(sd_pooled)s; d = (%(mean_t)s − %(mean_c)s) / "
    "%(sd_pooled)s = %(d)s; small-sample correction J = 1 − 3 / (4 × (%(n_t)s + %(n_c)s) − 9) "
    "= %(j)s; g = J × d = %(estimate)s; SE = √((n₁ + n₂) / (n₁ × n₂) + g² / (2 × (n₁ + n₂))) "
    "= %(se)s; 95%% CI = g ± 1.96 × SE = %(ci_low)s to %(ci_high)s. Group 1 is the programme "
    "group, group 2 the comparison group."
)
ODDS_RATIO_FORMULA = N_(
    "Odds ratio: OR = (a × d) / (b × c) = (%(a)s × %(d)s) / (%(b)s × %(c)s) = %(estimate)s, "
    "where a and b are the events and non-events in the programme group and c and d those in "
    "the comparison group; SE(ln OR) = √(1/a + 1/b + 1/c + 1/d) = %(se)s (Woolf's method); "
    "95%% CI = exp(ln OR ± 1.96 × SE) = %(ci_low)s to %(ci_high)s."
)
RISK_RATIO_FORMULA = N_(
    "Risk ratio: RR = (a / n₁) / (c / n₂) = (%(a)s / %(n_t)s) / (%(c)s / %(n_c)s) = "
    "%(estimate)s, where a and n₁ are the events and the size of the programme group and c "
    "and n₂ those of the comparison group; SE(ln RR) = √(1/a − 1/n₁ + 1/c − 1/n₂) = %(se)s; "
    "95%% CI = exp(ln RR ± 1.96 × SE) = %(ci_low)s to %(ci_high)s."
)

NOTE_ZERO_EVENTS = N_("A continuity correction of 0.5 was added because a group had zero events.")
NOTE_ALL_EVENTS = N_(
    "A continuity correction of 0.5 was added because every participant in a group had the event."
)

# Messages at the fields of the forms (and 422 details in the API).
MSG_NOT_A_NUMBER = N_("Enter a number.")
MSG_GROUP_TOO_SMALL = N_("A group needs at least %(min)s participants.")
MSG_SD_NOT_POSITIVE = N_("A standard deviation must be greater than zero.")
MSG_EVENTS_NEGATIVE = N_("The number of events cannot be negative.")
MSG_EVENTS_ABOVE_GROUP = N_("The number of events cannot exceed the size of the group.")
MSG_NO_EVENTS_IN_EITHER = N_(
    "No effect can be estimated when neither group had any events: enter an effect size "
    "instead, or leave this outcome out."
)
MSG_ALL_EVENTS_IN_BOTH = N_(
    "No effect can be estimated when every participant in both groups had the event."
)
MSG_RATIO_NOT_POSITIVE = N_("A ratio must be greater than zero.")
MSG_CI_ORDER = N_("The lower bound of the confidence interval must be below the upper bound.")
MSG_CI_EXCLUDES_ESTIMATE = N_("The confidence interval must contain the estimate.")
MSG_UNKNOWN_MEASURE = N_("Choose one of the effect measures listed.")


class EffectInputError(ValueError):
    """Group statistics from which no effect can be computed.

    ``errors`` maps the offending input (``mean_t``, ``sd_c``, ``events_t``, ``n_c``...) to a
    message in the current language; ``field`` and ``message`` give the first of them.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        self.field, self.message = next(iter(self.errors.items()))
        super().__init__(self.message)


def _format(value: float, pattern: str) -> str:
    return str(format_decimal(value, format=pattern, locale=Locale.parse(get_locale())))


def format_value(value: float, digits: int = 2) -> str:
    """A number with a fixed number of decimals, in the current language's notation."""
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return _format(value, pattern)


def _format_formula_value(value: float) -> str:
    # Up to three decimals, without trailing zeros: inputs read as entered (12.5, 40), the
    # intermediate results with enough precision to be checked by hand.
    return _format(value, "#,##0.###")


def render_computation(record: Mapping[str, Any]) -> str:
    """The text of a computation stored with :meth:`Effect.as_record`, in the current language.

    Storing the template and the numbers rather than the text lets a page show the formula
    in whatever language it is read in.
    """
    values = {
        name: _format_formula_value(float(value))
        for name, value in dict(record.get("values", {})).items()
    }
    parts = [_(str(record["template"]), **values)]
    parts.extend(_(str(note)) for note in record.get("notes", ()))
    return " ".join(parts)


@dataclass(frozen=True)
class Effect:
    """An effect computed from group statistics, with the formula that produced it.

    ``estimate``, ``ci_low`` and ``ci_high`` are on the natural scale; ``se`` is on the
    analysis scale (of g for smd, of the natural log for ratios). ``formula`` and ``notes``
    are rendered in the current language from ``formula_template`` (a message id),
    ``formula_values`` and ``note_ids``.
    """

    measure: Measure
    estimate: float
    ci_low: float
    ci_high: float
    se: float
    formula_template: str
    formula_values: Mapping[str, float] = field(default_factory=dict)
    note_ids: tuple[str, ...] = ()

    @property
    def formula(self) -> str:
        values = {name: _format_formula_value(v) for name, v in self.formula_values.items()}
        return _(self.formula_template, **values)

    @property
    def notes(self) -> list[str]:
        return [_(note) for note in self.note_ids]

    @property
    def continuity_corrected(self) -> bool:
        return bool(self.note_ids)

    @property
    def computation(self) -> str:
        """The formula and its notes as one text (for ``Outcome.computation``)."""
        return " ".join([self.formula, *self.notes])

    def as_record(self) -> dict[str, Any]:
        """A JSON-serialisable form of the computation, for :func:`render_computation`."""
        return {
            "template": self.formula_template,
            "values": dict(self.formula_values),
            "notes": list(self.note_ids),
        }


# -- scales -------------------------------------------------------------------------------


def check_measure(measure: str) -> Measure:
    if measure == "smd":
        return "smd"
    if measure == "odds_ratio":
        return "odds_ratio"
    if measure == "risk_ratio":
        return "risk_ratio"
    raise ValueError(_(MSG_UNKNOWN_MEASURE))


def is_ratio(measure: str) -> bool:
    return check_measure(measure) in RATIO_MEASURES


def null_value(measure: str) -> float:
    """The value that means "no effect": 0 for a mean difference, 1 for a ratio."""
    return 1.0 if is_ratio(measure) else 0.0


def to_analysis_scale(measure: str, value: float) -> float:
    """Identity for smd, the natural log for ratios (which must be positive)."""
    if not is_ratio(measure):
        return value
    if not value > 0:
        raise ValueError(_(MSG_RATIO_NOT_POSITIVE))
    return math.log(value)


def from_analysis_scale(measure: str, value: float) -> float:
    """The inverse of :func:`to_analysis_scale`."""
    return math.exp(value) if is_ratio(measure) else value


def se_from_ci(measure: str, estimate: float, ci_low: float, ci_high: float) -> float:
    """The standard error on the analysis scale implied by a 95% confidence interval.

    ``(high − low) / (2 × 1.96)`` for smd, and the same on the log scale for ratios. The
    estimate is not used: a reported CI may be slightly asymmetric around it (rounding),
    and its width is the better guide to the precision. It is taken so that every
    effect is checked the same way before use.
    """
    errors = validate_effect(measure, estimate, ci_low, ci_high)
    if errors:
        raise ValueError(next(iter(errors.values())))
    low = to_analysis_scale(measure, ci_low)
    high = to_analysis_scale(measure, ci_high)
    return (high - low) / (2 * Z_95)


# -- checks -------------------------------------------------------------------------------


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_effect(measure: str, estimate: float, ci_low: float, ci_high: float) -> dict[str, str]:
    """Messages for an entered effect size, keyed by field; empty when it is acceptable.

    Fields: ``measure``, ``estimate``, ``ci_low``, ``ci_high``. The rules: numbers must be
    finite; a ratio and both bounds of its CI must be greater than zero; the lower bound
    must be below the upper bound (a CI of zero width has no precision to weight by); the
    CI must contain the estimate (bounds included).
    """
    errors: dict[str, str] = {}
    if measure not in MEASURES:
        errors["measure"] = _(MSG_UNKNOWN_MEASURE)
        return errors
    values = {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high}
    for name, value in values.items():
        if not _finite(value):
            errors[name] = _(MSG_NOT_A_NUMBER)
        elif is_ratio(measure) and not value > 0:
            errors[name] = _(MSG_RATIO_NOT_POSITIVE)
    if errors:
        return errors
    if not ci_low < ci_high:
        errors["ci_high"] = _(MSG_CI_ORDER)
    elif not ci_low <= estimate <= ci_high:
        errors["estimate"] = _(MSG_CI_EXCLUDES_ESTIMATE)
    return errors


def _count_ok(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_continuous(
    mean_t: float, sd_t: float, n_t: int, mean_c: float, sd_c: float, n_c: int
) -> dict[str, str]:
    """Messages for means, SDs and group sizes, keyed by the argument names."""
    errors: dict[str, str] = {}
    for name, mean in (("mean_t", mean_t), ("mean_c", mean_c)):
        if not _finite(mean):
            errors[name] = _(MSG_NOT_A_NUMBER)
    for name, sd in (("sd_t", sd_t), ("sd_c", sd_c)):
        if not _finite(sd):
            errors[name] = _(MSG_NOT_A_NUMBER)
        elif not sd > 0:
            errors[name] = _(MSG_SD_NOT_POSITIVE)
    for name, n in (("n_t", n_t), ("n_c", n_c)):
        # A standard deviation needs at least two observations.
        if not _count_ok(n):
            errors[name] = _(MSG_NOT_A_NUMBER)
        elif n < 2:
            errors[name] = _(MSG_GROUP_TOO_SMALL, min=2)
    return errors


def validate_binary(events_t: int, n_t: int, events_c: int, n_c: int) -> dict[str, str]:
    """Messages for events and group sizes, keyed by the argument names.

    Besides the counts themselves, two tables are refused because no ratio can be estimated
    from them: no events in either group, and events for everyone in both groups.
    """
    errors: dict[str, str] = {}
    for events_name, events, n_name, n in (
        ("events_t", events_t, "n_t", n_t),
        ("events_c", events_c, "n_c", n_c),
    ):
        if not _count_ok(n):
            errors[n_name] = _(MSG_NOT_A_NUMBER)
        elif n < 1:
            errors[n_name] = _(MSG_GROUP_TOO_SMALL, min=1)
        if not _count_ok(events):
            errors[events_name] = _(MSG_NOT_A_NUMBER)
        elif events < 0:
            errors[events_name] = _(MSG_EVENTS_NEGATIVE)
        elif n_name not in errors and events > n:
            errors[events_name] = _(MSG_EVENTS_ABOVE_GROUP)
    if errors:
        return errors
    if events_t == 0 and events_c == 0:
        errors["events_t"] = _(MSG_NO_EVENTS_IN_EITHER)
    elif events_t == n_t and events_c == n_c:
        errors["events_t"] = _(MSG_ALL_EVENTS_IN_BOTH)
    return errors


# -- effect sizes -------------------------------------------------------------------------


def hedges_g(mean_t: float, sd_t: float, n_t: int, mean_c: float, sd_c: float, n_c: int) -> Effect:
    """Hedges' g of the programme group (t) against the comparison group (c).

    Borenstein et al. (2009), chapter 4: pooled within-group SD
    ``S = √(((n_t − 1) sd_t² + (n_c − 1) sd_c²) / (n_t + n_c − 2))``, Cohen's
    ``d = (mean_t − mean_c) / S``, the approximate small-sample correction
    ``J = 1 − 3 / (4 (n_t + n_c) − 9)`` (= 1 − 3/(4 df − 1) with df = n_t + n_c − 2), and
    ``g = J d``.

    Variant of the standard error: ``SE = √((n_t + n_c)/(n_t n_c) + g² / (2 (n_t + n_c)))``,
    the large-sample variance of Hedges and Olkin (1985) evaluated at g, as computed by
    metafor's ``escalc(measure="SMD")`` by default. Borenstein et al. give ``J² V_d`` with
    ``V_d`` evaluated at d instead; the two differ in the third decimal at most for groups
    of ten or more. The 95% CI is ``g ± 1.96 SE`` (normal approximation).

    A positive g means the programme group's mean is higher. Raises
    :class:`EffectInputError` for inputs from which no g can be computed.
    """
    errors = validate_continuous(mean_t, sd_t, n_t, mean_c, sd_c, n_c)
    if errors:
        raise EffectInputError(errors)
    n_total = n_t + n_c
    sd_pooled = math.sqrt(((n_t - 1) * sd_t**2 + (n_c - 1) * sd_c**2) / (n_total - 2))
    d = (mean_t - mean_c) / sd_pooled
    j = 1 - 3 / (4 * n_total - 9)
    g = j * d
    se = math.sqrt(n_total / (n_t * n_c) + g**2 / (2 * n_total))
    ci_low, ci_high = g - Z_95 * se, g + Z_95 * se
    return Effect(
        measure="smd",
        estimate=g,
        ci_low=ci_low,
        ci_high=ci_high,
        se=se,
        formula_template=HEDGES_G_FORMULA,
        formula_values={
            "mean_t": mean_t,
            "sd_t": sd_t,
            "n_t": n_t,
            "mean_c": mean_c,
            "sd_c": sd_c,
            "n_c": n_c,
            "sd_pooled": sd_pooled,
            "d": d,
            "j": j,
            "estimate": g,
            "se": se,
            "ci_low": ci_low,
            "ci_high": ci_high,
        },
    )


def _corrected_table(
    events_t: int, n_t: int, events_c: int, n_c: int, *, zero_cells: tuple[float, ...]
) -> tuple[tuple[float, float, float, float], tuple[str, ...]]:
    """The 2×2 table (a, b, c, d), with 0.5 added to every cell when one of ``zero_cells``
    is zero, and the note saying why."""
    a, b = float(events_t), float(n_t - events_t)
    c, d = float(events_c), float(n_c - events_c)
    if 0 not in zero_cells:
        return (a, b, c, d), ()
    note = NOTE_ZERO_EVENTS if 0 in (a, c) else NOTE_ALL_EVENTS
    k = CONTINUITY_CORRECTION
    return (a + k, b + k, c + k, d + k), (note,)


def odds_ratio(events_t: int, n_t: int, events_c: int, n_c: int) -> Effect:
    """The odds ratio of an event in the programme group (t) against the comparison group (c).

    ``OR = (a d) / (b c)`` with a, b the events and non-events of the programme group and
    c, d those of the comparison group; ``SE(ln OR) = √(1/a + 1/b + 1/c + 1/d)`` (Woolf
    1955; Borenstein et al. 2009, chapter 5); 95% CI ``exp(ln OR ± 1.96 SE)``.

    When any of the four cells is zero, 0.5 is added to all four (the usual continuity
    correction, as in RevMan) and a note says so. When neither group had an event, or both
    had only events, no odds ratio exists: :class:`EffectInputError`.
    """
    errors = validate_binary(events_t, n_t, events_c, n_c)
    if errors:
        raise EffectInputError(errors)
    raw = (events_t, n_t - events_t, events_c, n_c - events_c)
    (a, b, c, d), notes = _corrected_table(events_t, n_t, events_c, n_c, zero_cells=raw)
    log_or = math.log(a) + math.log(d) - math.log(b) - math.log(c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    estimate = math.exp(log_or)
    ci_low, ci_high = math.exp(log_or - Z_95 * se), math.exp(log_or + Z_95 * se)
    return Effect(
        measure="odds_ratio",
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        se=se,
        formula_template=ODDS_RATIO_FORMULA,
        formula_values={
            "a": a,
            "b": b,
            "c": c,
            "d": d,
            "estimate": estimate,
            "se": se,
            "ci_low": ci_low,
            "ci_high": ci_high,
        },
        note_ids=notes,
    )


def risk_ratio(events_t: int, n_t: int, events_c: int, n_c: int) -> Effect:
    """The risk ratio of an event in the programme group (t) against the comparison group (c).

    ``RR = (a / n_t) / (c / n_c)`` with a and c the events;
    ``SE(ln RR) = √(1/a − 1/n_t + 1/c − 1/n_c)`` (Katz's log method; Borenstein et al.
    2009, chapter 5); 95% CI ``exp(ln RR ± 1.96 SE)``.

    When a group had no events, 0.5 is added to all four cells of the table (so each group
    grows by 1) and a note says so. A group in which everyone had the event needs no
    correction for the risk ratio (its term in the SE is simply 0). When neither group had
    an event, or both had only events, no risk ratio can be estimated:
    :class:`EffectInputError`.
    """
    errors = validate_binary(events_t, n_t, events_c, n_c)
    if errors:
        raise EffectInputError(errors)
    (a, b, c, d), notes = _corrected_table(
        events_t, n_t, events_c, n_c, zero_cells=(events_t, events_c)
    )
    group_t, group_c = a + b, c + d
    log_rr = math.log(a) - math.log(group_t) - math.log(c) + math.log(group_c)
    se = math.sqrt(1 / a - 1 / group_t + 1 / c - 1 / group_c)
    estimate = math.exp(log_rr)
    ci_low, ci_high = math.exp(log_rr - Z_95 * se), math.exp(log_rr + Z_95 * se)
    return Effect(
        measure="risk_ratio",
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        se=se,
        formula_template=RISK_RATIO_FORMULA,
        formula_values={
            "a": a,
            "n_t": group_t,
            "c": c,
            "n_c": group_c,
            "estimate": estimate,
            "se": se,
            "ci_low": ci_low,
            "ci_high": ci_high,
        },
        note_ids=notes,
    )


def binary_effect(measure: str, events_t: int, n_t: int, events_c: int, n_c: int) -> Effect:
    """:func:`odds_ratio` or :func:`risk_ratio`, as ``measure`` says."""
    if check_measure(measure) == "odds_ratio":
        return odds_ratio(events_t, n_t, events_c, n_c)
    if measure == "risk_ratio":
        return risk_ratio(events_t, n_t, events_c, n_c)
    raise ValueError(_(MSG_UNKNOWN_MEASURE))


# -- direction ----------------------------------------------------------------------------


def direction(measure: str, ci_low: float, ci_high: float, lower_is_better: bool) -> Direction:
    """Whether an effect is favourable, harmful or unclear (DOMAIN.md, "Evidence").

    Favourable when the 95% CI lies entirely on the beneficial side of no effect (0 for
    smd, 1 for ratios), harmful when it lies entirely on the other side, unclear otherwise.
    "Entirely" is strict: a CI that ends exactly at 0 (or 1) touches no effect and is
    *not* entirely on one side, so it is unclear.
    """
    null = null_value(measure)
    if ci_high < null:
        below = True
    elif ci_low > null:
        below = False
    else:
        return "unclear"
    return "favourable" if below == lower_is_better else "harmful"
