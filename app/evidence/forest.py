"""Forest plots drawn on the server as accessible SVG, and the table that goes with them.

The SVG is self-contained: presentation attributes (fill, stroke, font-size...) instead
of inline styles, which the site's Content Security Policy forbids, and no script. It is an
image (``role="img"``) named by its ``<title>`` and described by its ``<desc>``; the same
figures are given to every reader by :func:`forest_table_rows`, which a template renders
as an HTML table beside or below the plot. Elements carry ``forest__*`` classes for the
site's stylesheet, but the plot reads correctly without it.

Every text, above all the study labels entered by users, is escaped.
"""

# The formulas are written with mathematical signs (−, ×, –) on purpose.
# ruff: noqa: RUF002, RUF003

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup, escape

from app.evidence.effects import (
    MEASURE_LABELS,
    Direction,
    direction,
    format_value,
    is_ratio,
    null_value,
)
from app.evidence.pooling import Pooled, StudyEffect
from app.kit.i18n import N_, _, get_locale, ngettext

TITLE = N_("Forest plot: %(measure)s")
POOLED_LABEL = N_("Pooled estimate (random effects)")
HEADER_STUDY = N_("Study")
HEADER_ESTIMATE = N_("Estimate (95% CI)")
HEADER_WEIGHT = N_("Weight")
FAVOURS_PROGRAMME = N_("Favours programme")
FAVOURS_COMPARISON = N_("Favours comparison")
ESTIMATE_WITH_CI = N_("%(estimate)s (%(low)s to %(high)s)")
CI_RANGE = N_("%(low)s to %(high)s")
DESC_ROWS = N_(
    "Each row shows a study's estimate as a square, sized by its weight in the pooled "
    "estimate, and its confidence interval (95%) as a horizontal line."
)
DESC_POOLED = N_(
    "The diamond shows the random-effects pooled estimate, %(estimate)s (95%% CI %(low)s to "
    "%(high)s), with I² = %(i2)s and τ² = %(tau2)s."
)
DESC_NULL_LINEAR = N_("The vertical line marks no effect (%(null)s).")
DESC_NULL_LOG = N_("The vertical line marks no effect (%(null)s); the axis is logarithmic.")
DESC_FAVOURS_LEFT = N_("Effects left of the line favour the programme.")
DESC_FAVOURS_RIGHT = N_("Effects right of the line favour the programme.")
POOLED_SUMMARY = N_(
    "Pooled estimate %(estimate)s (95%% CI %(low)s to %(high)s), %(count)s studies; "
    "τ² = %(tau2)s, I² = %(i2)s, p %(p)s."
)

# Geometry, in SVG user units (= CSS pixels at width 760).
WIDTH = 760
LABEL_X = 8
LABEL_MAX_CHARS = 32
PLOT_LEFT = 250
PLOT_RIGHT = 530
ESTIMATE_X = 545
WEIGHT_X = WIDTH - 8
HEADER_Y = 20
FIRST_ROW_Y = 46
ROW_HEIGHT = 26
BOX_MIN = 4.0
BOX_MAX = 14.0
BOX_UNWEIGHTED = 8.0
DIAMOND_HALF_HEIGHT = 7.0
FONT_SIZE = 13
INK = "#1b1b1b"
MUTED = "#595959"
STUDY_COLOUR = "#1f4e79"
POOLED_COLOUR = "#8a3b00"


def _fmt(value: float) -> str:
    return format_value(value, 2)


def _fmt_tick(value: float) -> str:
    return str(format_decimal(value, format="#,##0.######", locale=Locale.parse(get_locale())))


def _fmt_percent(fraction: float) -> str:
    return str(format_percent(fraction, format="#,##0.0%", locale=Locale.parse(get_locale())))


def _fmt_p(p: float) -> str:
    """The p-value with its relation sign: "< 0.001" or "= 0.042"."""
    return "< " + _fmt_tick(0.001) if p < 0.001 else "= " + format_value(p, 3)


def _e(text: object) -> str:
    return str(escape(str(text)))


def _n(value: float) -> str:
    """A coordinate, short and locale-independent."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class ForestRow:
    """One line of the table alternative to the plot (studies, then the pooled estimate)."""

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    weight: float | None
    is_pooled: bool
    estimate_text: str
    ci_text: str
    weight_text: str
    direction: Direction | None
    ref: int | None = None


def forest_table_rows(
    rows: Sequence[StudyEffect],
    pooled: Pooled | None,
    measure: str,
    lower_is_better: bool | None = None,
) -> list[ForestRow]:
    """The figures of the plot as table rows: label, estimate, 95% CI, weight (%).

    Weights are the random-effects weights of ``pooled`` (empty text without it). When
    ``lower_is_better`` is given, each row says whether its CI is favourable, harmful or
    unclear.
    """
    weights = _weights(rows, pooled)
    table: list[ForestRow] = []
    for index, row in enumerate(rows):
        weight = weights[index] if weights else None
        table.append(
            _table_row(
                row.label,
                row.estimate,
                row.ci_low,
                row.ci_high,
                weight,
                False,
                measure,
                lower_is_better,
                row.ref,
            )
        )
    if pooled is not None:
        table.append(
            _table_row(
                _(POOLED_LABEL),
                pooled.estimate,
                pooled.ci_low,
                pooled.ci_high,
                1.0,
                True,
                measure,
                lower_is_better,
                None,
            )
        )
    return table


def _table_row(
    label: str,
    estimate: float,
    ci_low: float,
    ci_high: float,
    weight: float | None,
    is_pooled: bool,
    measure: str,
    lower_is_better: bool | None,
    ref: int | None,
) -> ForestRow:
    return ForestRow(
        label=label,
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        weight=weight,
        is_pooled=is_pooled,
        estimate_text=_fmt(estimate),
        ci_text=_(CI_RANGE, low=_fmt(ci_low), high=_fmt(ci_high)),
        weight_text="" if weight is None else _fmt_percent(weight),
        direction=None
        if lower_is_better is None
        else direction(measure, ci_low, ci_high, lower_is_better),
        ref=ref,
    )


def pooled_summary(pooled: Pooled) -> str:
    """One sentence with the pooled estimate, its CI, τ², I² and p."""
    return _(
        POOLED_SUMMARY,
        estimate=_fmt(pooled.estimate),
        low=_fmt(pooled.ci_low),
        high=_fmt(pooled.ci_high),
        count=pooled.k,
        tau2=format_value(pooled.tau2, 3),
        i2=_fmt_percent(pooled.i2),
        p=_fmt_p(pooled.p),
    )


def _weights(rows: Sequence[StudyEffect], pooled: Pooled | None) -> tuple[float, ...] | None:
    if pooled is None:
        return None
    if len(pooled.weights) != len(rows):
        raise ValueError("The pooled estimate was computed from other studies than the rows.")
    return pooled.weights


# -- axis -----------------------------------------------------------------------------------

# Sets of ticks per decade, from the finest to the coarsest.
_LOG_MULTIPLIERS: tuple[tuple[float, ...], ...] = (
    (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 2.0, 5.0),
    (1.0,),
)
MAX_TICKS = 8
MIN_TICK_GAP = 34.0  # user units between neighbouring tick labels


def _log_ticks(low: float, high: float) -> tuple[float, float, list[float]]:
    """Axis bounds (natural scale) and ticks for a ratio axis covering [low, high].

    The finest set of ticks that keeps to ``MAX_TICKS`` labels, ``MIN_TICK_GAP`` apart; the
    axis runs from the tick at or below ``low`` to the tick at or above ``high``.
    """
    first_decade = math.floor(math.log10(low)) - 1
    last_decade = math.ceil(math.log10(high)) + 1
    span = PLOT_RIGHT - PLOT_LEFT
    lower, upper, ticks = low, high, [low, high]
    for multipliers in _LOG_MULTIPLIERS:
        candidates = sorted(
            round(m * 10.0**decade, 12)
            for decade in range(first_decade, last_decade + 1)
            for m in multipliers
        )
        lower = max(c for c in candidates if c <= low * (1 + 1e-9))
        upper = min(c for c in candidates if c >= high * (1 - 1e-9))
        ticks = [c for c in candidates if lower <= c <= upper]
        width = math.log(upper / lower)
        gap = min(math.log(b / a) for a, b in itertools.pairwise(ticks)) / width
        if len(ticks) <= MAX_TICKS and gap * span >= MIN_TICK_GAP:
            break
    if len(ticks) > MAX_TICKS + 1:
        # Powers of ten over many decades: label every second (or third...) one.
        ticks = ticks[:: math.ceil(len(ticks) / MAX_TICKS)]
    return lower, upper, ticks


def _linear_ticks(low: float, high: float) -> tuple[float, float, list[float]]:
    """Axis bounds and ticks at a "nice" step (1, 2, 2.5 or 5 × 10ⁿ) covering [low, high]."""
    raw = (high - low) / 5
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    ticks = [round(i * step, 10) + 0.0 for i in range(first, last + 1)]
    return ticks[0], ticks[-1], ticks


@dataclass(frozen=True)
class _Axis:
    log: bool
    low: float  # analysis scale
    high: float
    ticks: list[float]  # natural scale

    def x(self, natural: float) -> float:
        value = math.log(natural) if self.log else natural
        return PLOT_LEFT + (value - self.low) / (self.high - self.low) * (PLOT_RIGHT - PLOT_LEFT)


def _axis(measure: str, values: Sequence[float]) -> _Axis:
    null = null_value(measure)
    low, high = min(*values, null), max(*values, null)
    if is_ratio(measure):
        if high / low < 1.01:
            low, high = low / 2, high * 2
        lower, upper, ticks = _log_ticks(low, high)
        return _Axis(True, math.log(lower), math.log(upper), ticks)
    if high - low < 1e-6:
        low, high = low - 1, high + 1
    lower, upper, ticks = _linear_ticks(low, high)
    return _Axis(False, lower, upper, ticks)


# -- the plot -------------------------------------------------------------------------------


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= LABEL_MAX_CHARS else label[: LABEL_MAX_CHARS - 1] + "…"


def _safe_id(prefix: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", prefix)
    return cleaned if cleaned[:1].isalpha() else "forest-" + cleaned


def _description(
    rows: Sequence[StudyEffect], pooled: Pooled | None, measure: str, lower_is_better: bool
) -> str:
    parts = [
        ngettext("%(num)s study.", "%(num)s studies.", len(rows)),
        _(DESC_ROWS),
    ]
    if pooled is not None:
        parts.append(
            _(
                DESC_POOLED,
                estimate=_fmt(pooled.estimate),
                low=_fmt(pooled.ci_low),
                high=_fmt(pooled.ci_high),
                i2=_fmt_percent(pooled.i2),
                tau2=format_value(pooled.tau2, 3),
            )
        )
    null = _fmt_tick(null_value(measure))
    parts.append(_(DESC_NULL_LOG if is_ratio(measure) else DESC_NULL_LINEAR, null=null))
    parts.append(_(DESC_FAVOURS_LEFT if lower_is_better else DESC_FAVOURS_RIGHT))
    return " ".join(parts)


def forest_plot_svg(
    rows: Sequence[StudyEffect],
    pooled: Pooled | None,
    measure: str,
    *,
    lower_is_better: bool,
    title: str | None = None,
    id_prefix: str = "forest",
) -> Markup:
    """A forest plot of ``rows`` (and the diamond of ``pooled``) as an inline SVG element.

    ``rows`` are the studies in plotting order; when ``pooled`` is given, it must have been
    computed from the same studies in the same order (its weights size the squares).
    ``lower_is_better`` places "Favours programme" on the side of the null line where the
    beneficial effects lie. Ratios are drawn on a log axis. ``title`` replaces the default
    title ("Forest plot: <measure>"); ``id_prefix`` keeps the ids of the title and
    description unique when a page shows several plots.
    """
    weights = _weights(rows, pooled)
    plot_id = _safe_id(id_prefix)
    values = [v for row in rows for v in (row.ci_low, row.ci_high, row.estimate)]
    if pooled is not None:
        values += [pooled.ci_low, pooled.ci_high]
    if not values:
        values = [null_value(measure)]
    axis = _axis(measure, values)
    heading = title if title is not None else _(TITLE, measure=_(MEASURE_LABELS[measure]))

    out: list[str] = []
    y = float(FIRST_ROW_Y)
    max_weight = max(weights) if weights else 1.0
    for index, row in enumerate(rows):
        out.append(_study_row(row, y, axis, weights[index] if weights else None, max_weight))
        y += ROW_HEIGHT
    if pooled is not None:
        out.append(
            f'<line class="forest__separator" x1="{LABEL_X}" y1="{_n(y - ROW_HEIGHT / 2)}" '
            f'x2="{WEIGHT_X}" y2="{_n(y - ROW_HEIGHT / 2)}" stroke="{MUTED}" '
            f'stroke-width="0.5"/>'
        )
        y += 4
        out.append(_pooled_row(pooled, y, axis))
        y += ROW_HEIGHT
    plot_bottom = y - ROW_HEIGHT / 2 + 4
    null_x = axis.x(null_value(measure))
    out.append(
        f'<line class="forest__null" x1="{_n(null_x)}" y1="{_n(FIRST_ROW_Y - ROW_HEIGHT / 2)}" '
        f'x2="{_n(null_x)}" y2="{_n(plot_bottom)}" stroke="{INK}" stroke-width="1" '
        f'stroke-dasharray="4 3"/>'
    )
    out.append(_axis_markup(axis, plot_bottom))
    favours_y = plot_bottom + 40
    left, right = (
        (FAVOURS_PROGRAMME, FAVOURS_COMPARISON)
        if lower_is_better
        else (FAVOURS_COMPARISON, FAVOURS_PROGRAMME)
    )
    out.append(
        f'<text class="forest__favours" x="{_n(null_x - 6)}" y="{_n(favours_y)}" '
        f'text-anchor="end" fill="{MUTED}">{_e(_(left))} ←</text>'
        f'<text class="forest__favours" x="{_n(null_x + 6)}" y="{_n(favours_y)}" '
        f'text-anchor="start" fill="{MUTED}">→ {_e(_(right))}</text>'
    )
    height = math.ceil(favours_y + 12)

    header = (
        f'<g class="forest__header" font-weight="bold" fill="{INK}">'
        f'<text x="{LABEL_X}" y="{HEADER_Y}">{_e(_(HEADER_STUDY))}</text>'
        f'<text x="{ESTIMATE_X}" y="{HEADER_Y}">{_e(_(HEADER_ESTIMATE))}</text>'
        + (
            f'<text x="{WEIGHT_X}" y="{HEADER_Y}" text-anchor="end">{_e(_(HEADER_WEIGHT))}</text>'
            if weights
            else ""
        )
        + "</g>"
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="forest" role="img" '
        f'aria-labelledby="{plot_id}-title {plot_id}-desc" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif" '
        f'font-size="{FONT_SIZE}" fill="{INK}">'
        f'<title id="{plot_id}-title">{_e(heading)}</title>'
        f'<desc id="{plot_id}-desc">'
        f"{_e(_description(rows, pooled, measure, lower_is_better))}</desc>"
        f"{header}{''.join(out)}</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text in it went through escape()


def _label_markup(label: str, y: float, css_class: str, bold: bool = False) -> str:
    short = _short(label)
    weight = ' font-weight="bold"' if bold else ""
    text = (
        f'<text class="{css_class}" x="{LABEL_X}" y="{_n(y)}" dominant-baseline="middle"'
        f"{weight}>{_e(short)}</text>"
    )
    if short == label:
        return text
    return f"<g><title>{_e(label)}</title>{text}</g>"


def _values_markup(
    estimate: float, low: float, high: float, weight: float | None, y: float, bold: bool = False
) -> str:
    weight_attr = ' font-weight="bold"' if bold else ""
    text = _(ESTIMATE_WITH_CI, estimate=_fmt(estimate), low=_fmt(low), high=_fmt(high))
    out = (
        f'<text class="forest__value" x="{ESTIMATE_X}" y="{_n(y)}" dominant-baseline="middle"'
        f"{weight_attr}>{_e(text)}</text>"
    )
    if weight is not None:
        out += (
            f'<text class="forest__weight" x="{WEIGHT_X}" y="{_n(y)}" text-anchor="end" '
            f'dominant-baseline="middle"{weight_attr}>{_e(_fmt_percent(weight))}</text>'
        )
    return out


def _study_row(
    row: StudyEffect, y: float, axis: _Axis, weight: float | None, max_weight: float
) -> str:
    x_low, x_high, x_est = axis.x(row.ci_low), axis.x(row.ci_high), axis.x(row.estimate)
    if weight is None:
        side = BOX_UNWEIGHTED
    else:
        # The square's area is proportional to the weight.
        side = BOX_MIN + (BOX_MAX - BOX_MIN) * math.sqrt(weight / max_weight)
    return (
        '<g class="forest__study">'
        + _label_markup(row.label, y, "forest__label")
        + f'<line class="forest__ci" x1="{_n(x_low)}" y1="{_n(y)}" x2="{_n(x_high)}" '
        f'y2="{_n(y)}" stroke="{STUDY_COLOUR}" stroke-width="1.5"/>'
        f'<rect class="forest__box" x="{_n(x_est - side / 2)}" y="{_n(y - side / 2)}" '
        f'width="{_n(side)}" height="{_n(side)}" fill="{STUDY_COLOUR}"/>'
        + _values_markup(row.estimate, row.ci_low, row.ci_high, weight, y)
        + "</g>"
    )


def _pooled_row(pooled: Pooled, y: float, axis: _Axis) -> str:
    x_low, x_high, x_est = axis.x(pooled.ci_low), axis.x(pooled.ci_high), axis.x(pooled.estimate)
    h = DIAMOND_HALF_HEIGHT
    points = " ".join(
        f"{_n(px)},{_n(py)}" for px, py in ((x_low, y), (x_est, y - h), (x_high, y), (x_est, y + h))
    )
    return (
        '<g class="forest__pooled">'
        + _label_markup(_(POOLED_LABEL), y, "forest__label", bold=True)
        + f'<polygon class="forest__diamond" points="{points}" fill="{POOLED_COLOUR}" '
        f'stroke="{POOLED_COLOUR}"/>'
        + _values_markup(pooled.estimate, pooled.ci_low, pooled.ci_high, 1.0, y, bold=True)
        + "</g>"
    )


def _axis_markup(axis: _Axis, y: float) -> str:
    parts = [
        f'<g class="forest__axis" stroke="{INK}">'
        f'<line x1="{PLOT_LEFT}" y1="{_n(y)}" x2="{PLOT_RIGHT}" y2="{_n(y)}" stroke-width="1"/>'
    ]
    for tick in axis.ticks:
        x = axis.x(tick)
        parts.append(
            f'<line class="forest__tick" x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x)}" '
            f'y2="{_n(y + 5)}" stroke-width="1"/>'
        )
    parts.append("</g>")
    parts.append(f'<g class="forest__ticks" text-anchor="middle" fill="{INK}">')
    for tick in axis.ticks:
        parts.append(f'<text x="{_n(axis.x(tick))}" y="{_n(y + 19)}">{_e(_fmt_tick(tick))}</text>')
    parts.append("</g>")
    return "".join(parts)
