"""Forest plots: well-formed, accessible SVG without inline styles, and their table."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from markupsafe import Markup

from app.evidence.forest import forest_plot_svg, forest_table_rows, pooled_summary
from app.evidence.pooling import Pooled, StudyEffect, pool
from app.kit import i18n

SVG = "{http://www.w3.org/2000/svg}"
XSS = "<script>alert(1)</script>"

SMD_STUDIES = [
    StudyEffect("Andersson 2015", 0.10, -0.20, 0.40, "smd", ref=1),
    StudyEffect("Becker & Wolf 2017", 0.35, 0.05, 0.65, "smd", ref=2),
    StudyEffect(XSS, 0.80, 0.50, 1.10, "smd", ref=3),
]
RR_STUDIES = [
    StudyEffect("Small 2012", 2.0, 0.05, 80.0, "risk_ratio"),
    StudyEffect("Mid 2016", 0.62, 0.41, 0.94, "risk_ratio"),
    StudyEffect("Large 2019", 0.85, 0.74, 0.98, "risk_ratio"),
]


def _pooled(studies: list[StudyEffect]) -> Pooled:
    pooled = pool(studies)
    assert pooled is not None
    return pooled


def _parse(svg: Markup | str) -> ET.Element:
    # The SVG is the portal's own output, not untrusted input.
    return ET.fromstring(str(svg))  # noqa: S314


def _texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


def _text_of(root: ET.Element, words: str) -> ET.Element:
    (element,) = [e for e in _texts(root) if e.text and words in e.text]
    return element


@pytest.fixture
def german() -> Iterator[None]:
    i18n.set_locale("de")
    try:
        yield
    finally:
        i18n.set_locale("en")


def test_the_plot_is_well_formed_accessible_svg() -> None:
    svg = forest_plot_svg(
        SMD_STUDIES, _pooled(SMD_STUDIES), "smd", lower_is_better=False, id_prefix="plot-1"
    )
    root = _parse(svg)

    assert isinstance(svg, Markup)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "plot-1-title plot-1-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert title.get("id") == "plot-1-title"
    assert desc.get("id") == "plot-1-desc"
    assert title.text == "Forest plot: Standardised mean difference (Hedges' g)"
    assert desc.text is not None
    assert "3 studies." in desc.text
    assert "pooled estimate, 0.42 (95% CI 0.02 to 0.82)" in desc.text
    width, height = int(root.get("width", "0")), int(root.get("height", "0"))
    assert width > 0
    assert height > 0
    assert root.get("viewBox") == f"0 0 {width} {height}"


def test_no_inline_styles_and_no_script() -> None:
    svg = str(forest_plot_svg(SMD_STUDIES, _pooled(SMD_STUDIES), "smd", lower_is_better=False))
    root = _parse(svg)

    assert "style=" not in svg
    assert "<style" not in svg
    assert all(element.get("style") is None for element in root.iter())
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}style")]
    assert not [e for e in root.iter() if any(name.startswith("on") for name in e.attrib)]


def test_user_labels_are_escaped() -> None:
    svg = str(forest_plot_svg(SMD_STUDIES, _pooled(SMD_STUDIES), "smd", lower_is_better=False))
    root = _parse(svg)

    assert XSS not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "Becker &amp; Wolf 2017" in svg
    assert [e.text for e in _texts(root)].count(XSS) == 1


def test_long_labels_are_shortened_with_the_full_label_as_a_tooltip() -> None:
    label = "A very long citation: Author, Another Author and Third (2021) " + XSS
    studies = [StudyEffect(label, 0.2, 0.0, 0.4, "smd"), *SMD_STUDIES[:2]]
    root = _parse(forest_plot_svg(studies, _pooled(studies), "smd", lower_is_better=False))

    shortened = [e.text for e in _texts(root) if e.text and e.text.startswith("A very long")]
    titles = [e.text for e in root.iter(f"{SVG}title")]
    assert shortened[0] is not None
    assert shortened[0].endswith("…")
    assert len(shortened[0]) <= 32
    assert label in titles


def test_squares_are_sized_by_weight_and_the_diamond_shows_the_pooled_estimate() -> None:
    pooled = _pooled(SMD_STUDIES)
    root = _parse(forest_plot_svg(SMD_STUDIES, pooled, "smd", lower_is_better=False))

    boxes = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "forest__box"]
    diamonds = [e for e in root.iter(f"{SVG}polygon") if e.get("class") == "forest__diamond"]
    assert len(boxes) == 3
    assert len(diamonds) == 1
    sides = [float(box.get("width", "0")) for box in boxes]
    heaviest = max(range(3), key=lambda i: pooled.weights[i])
    assert sides[heaviest] == max(sides)
    points = [tuple(map(float, p.split(","))) for p in diamonds[0].get("points", "").split()]
    assert len(points) == 4
    assert _text_of(root, "Pooled estimate (random effects)") is not None
    assert _text_of(root, "0.42 (0.02 to 0.82)") is not None


def test_without_a_pooled_estimate_there_is_no_diamond_and_no_weight() -> None:
    root = _parse(forest_plot_svg(SMD_STUDIES, None, "smd", lower_is_better=False))

    assert not list(root.iter(f"{SVG}polygon"))
    assert not [e for e in _texts(root) if e.text == "Weight"]
    boxes = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "forest__box"]
    assert len({box.get("width") for box in boxes}) == 1


def _ticks(root: ET.Element) -> dict[str, float]:
    (group,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "forest__ticks"]
    return {e.text or "": float(e.get("x", "nan")) for e in group.iter(f"{SVG}text")}


def _null_x(root: ET.Element) -> float:
    (line,) = [e for e in root.iter(f"{SVG}line") if e.get("class") == "forest__null"]
    assert line.get("x1") == line.get("x2")
    return float(line.get("x1", "nan"))


def test_ratios_are_drawn_on_a_log_axis() -> None:
    root = _parse(
        forest_plot_svg(RR_STUDIES, _pooled(RR_STUDIES), "risk_ratio", lower_is_better=True)
    )
    ticks = _ticks(root)
    desc = root.find(f"{SVG}desc")

    assert desc is not None
    assert desc.text is not None
    assert "the axis is logarithmic" in desc.text
    assert "1" in ticks
    assert _null_x(root) == pytest.approx(ticks["1"], abs=0.01)
    # Equal ratios are equal distances: 0.1 → 1 as 1 → 10.
    assert ticks["1"] - ticks["0.1"] == pytest.approx(ticks["10"] - ticks["1"], abs=0.02)
    values = sorted(ticks.values())
    assert values == sorted(ticks[k] for k in ticks)
    # Every study's interval is within the axis.
    low, high = min(ticks.values()), max(ticks.values())
    for line in root.iter(f"{SVG}line"):
        if line.get("class") == "forest__ci":
            assert low - 0.01 <= float(line.get("x1", "nan")) <= high + 0.01
            assert low - 0.01 <= float(line.get("x2", "nan")) <= high + 0.01


def test_a_mean_difference_axis_is_linear_and_crosses_zero() -> None:
    root = _parse(forest_plot_svg(SMD_STUDIES, _pooled(SMD_STUDIES), "smd", lower_is_better=False))
    ticks = _ticks(root)
    positions = sorted(ticks.values())
    steps = {round(b - a, 1) for a, b in itertools.pairwise(positions)}

    assert "0" in ticks
    assert _null_x(root) == pytest.approx(ticks["0"], abs=0.01)
    assert len(steps) == 1
    assert 3 <= len(ticks) <= 10


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_the_favours_labels_follow_the_better_direction(lower_is_better: bool) -> None:
    root = _parse(
        forest_plot_svg(
            RR_STUDIES, _pooled(RR_STUDIES), "risk_ratio", lower_is_better=lower_is_better
        )
    )
    null_x = _null_x(root)
    programme = _text_of(root, "Favours programme")
    comparison = _text_of(root, "Favours comparison")
    programme_left = float(programme.get("x", "nan")) < null_x

    assert programme_left is lower_is_better
    assert (float(comparison.get("x", "nan")) < null_x) is not lower_is_better
    assert programme.get("text-anchor") == ("end" if lower_is_better else "start")


def test_ids_are_made_safe() -> None:
    svg = forest_plot_svg(SMD_STUDIES, None, "smd", lower_is_better=False, id_prefix='x" onload="')
    root = _parse(svg)

    assert root.get("onload") is None
    assert root.get("aria-labelledby") == "x--onload---title x--onload---desc"


def test_rows_and_pooled_estimate_must_match() -> None:
    with pytest.raises(ValueError, match="other studies"):
        forest_plot_svg(SMD_STUDIES[:2], _pooled(SMD_STUDIES), "smd", lower_is_better=False)


def test_a_custom_title_is_escaped() -> None:
    root = _parse(
        forest_plot_svg(
            SMD_STUDIES, None, "smd", lower_is_better=False, title="Knowledge <b>& attitudes</b>"
        )
    )
    title = root.find(f"{SVG}title")

    assert title is not None
    assert title.text == "Knowledge <b>& attitudes</b>"


@pytest.mark.usefixtures("german")
def test_numbers_follow_the_locale() -> None:
    root = _parse(forest_plot_svg(SMD_STUDIES, _pooled(SMD_STUDIES), "smd", lower_is_better=False))

    assert [e for e in _texts(root) if e.text and e.text.startswith("0,35 (0,05")]


# -- the table alternative ------------------------------------------------------------------


def test_table_rows_give_the_same_figures() -> None:
    pooled = _pooled(SMD_STUDIES)
    rows = forest_table_rows(SMD_STUDIES, pooled, "smd", lower_is_better=False)

    assert [row.label for row in rows] == [
        "Andersson 2015",
        "Becker & Wolf 2017",
        XSS,
        "Pooled estimate (random effects)",
    ]
    assert [row.is_pooled for row in rows] == [False, False, False, True]
    assert rows[1].estimate_text == "0.35"
    assert rows[1].ci_text == "0.05 to 0.65"
    assert rows[1].ref == 2
    assert rows[-1].estimate == pooled.estimate
    assert rows[-1].weight_text == "100.0%"
    weights = [row.weight for row in rows[:-1]]
    assert all(w is not None for w in weights)
    assert math.fsum(w for w in weights if w is not None) == pytest.approx(1.0)
    assert [row.direction for row in rows] == ["unclear", "favourable", "favourable", "favourable"]


def test_table_rows_without_pooling_or_direction() -> None:
    rows = forest_table_rows(RR_STUDIES, None, "risk_ratio")

    assert len(rows) == 3
    assert all(row.weight is None and row.weight_text == "" for row in rows)
    assert all(row.direction is None for row in rows)
    assert rows[0].ci_text == "0.05 to 80.00"


def test_pooled_summary() -> None:
    summary = pooled_summary(_pooled(RR_STUDIES))

    assert summary.startswith("Pooled estimate 0.")
    assert "3 studies" in summary
    assert "τ² = " in summary
    assert "I² = " in summary
    assert "p = " in summary
