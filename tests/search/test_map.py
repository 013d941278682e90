"""The map of Europe: well-formed accessible SVG without inline styles, and its table."""

# The legend writes ranges with an en dash on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from markupsafe import Markup

from app.kit import i18n
from app.members.vocabulary import COUNTRIES
from app.search.map import (
    CLASS_COLOURS,
    CLASSES,
    GRID,
    ZERO_FILL,
    colour_class,
    europe_map_svg,
    legend_entries,
    map_table_rows,
)

SVG = "{http://www.w3.org/2000/svg}"
XSS = '"><script>alert(1)</script>'
COUNTS = {"PT": 12, "DE": 40, "FR": 1, "ES": 25, "IT": 33, "PL": 9, "SE": 17}


def _href(code: str) -> str:
    return f"/programmes?country={code}&sort=rating"


def _parse(svg: Markup | str) -> ET.Element:
    # The SVG is the portal's own output, not untrusted input.
    return ET.fromstring(str(svg))  # noqa: S314


def _links(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}a"))


def _link_of(root: ET.Element, code: str) -> ET.Element:
    (link,) = [a for a in _links(root) if a.get("href") == _href(code)]
    return link


def _texts(link: ET.Element) -> list[str]:
    return [t.text or "" for t in link.iter(f"{SVG}text")]


def _rect(link: ET.Element) -> ET.Element:
    rect = link.find(f"{SVG}rect")
    assert rect is not None
    return rect


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.fixture
def german() -> Iterator[None]:
    i18n.set_locale("de")
    try:
        yield
    finally:
        i18n.set_locale("en")


def test_luminance_helper_matches_the_wcag_reference_values() -> None:
    assert _contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert _contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_grid_places_every_country_once_on_its_own_square() -> None:
    assert set(GRID) == set(COUNTRIES)
    assert len(set(GRID.values())) == len(GRID)
    # Plausible geography: north above south, west left of east.
    assert GRID["IS"] == (0, 0)
    assert GRID["FI"][1] < GRID["DE"][1] < GRID["IT"][1] < GRID["GR"][1]
    assert GRID["PT"][0] < GRID["ES"][0] < GRID["FR"][0] < GRID["DE"][0] < GRID["PL"][0]
    assert GRID["IE"][0] < GRID["GB"][0]
    assert GRID["TR"][0] > GRID["BG"][0]
    assert GRID["CY"][1] == max(r for _c, r in GRID.values())


def test_map_is_well_formed_svg_named_group_with_viewbox_and_size() -> None:
    root = _parse(europe_map_svg(COUNTS, _href, title="Programmes by country"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "group"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert int(root.get("width", "0")) > 0
    assert int(root.get("height", "0")) > 0
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == "Programmes by country"
    assert root.get("aria-labelledby") == title.get("id") == "map-title"
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert root.get("aria-describedby") == desc.get("id")


def test_one_link_per_country_with_the_callers_href() -> None:
    root = _parse(europe_map_svg(COUNTS, _href, title="Map"))
    hrefs = [a.get("href", "") for a in _links(root)]
    assert sorted(hrefs) == sorted(_href(code) for code in COUNTRIES)
    # The raw markup escapes the ampersand of the query string.
    assert 'href="/programmes?country=PT&amp;sort=rating"' in europe_map_svg(
        COUNTS, _href, title="Map"
    )


def test_each_link_is_named_by_a_title_with_country_and_count() -> None:
    root = _parse(europe_map_svg(COUNTS, _href, title="Map"))
    for code, name in (("PT", "Portugal: 12 programmes"), ("FR", "France: 1 programme")):
        link = _link_of(root, code)
        first = link[0]
        assert first.tag == f"{SVG}title"
        assert first.text == name
    assert _link_of(root, "NO")[0].text == "Norway: 0 programmes"


def test_accessible_names_follow_the_readers_language(german: None) -> None:
    root = _parse(europe_map_svg({"DE": 1234, "AT": 2}, _href, title="Karte"))
    name = _link_of(root, "DE")[0].text or ""
    assert name.startswith("Deutschland: ")
    assert "1.234" in name  # German number format
    assert _texts(_link_of(root, "DE")) == ["DE", "1.234"]
    assert [row.name for row in map_table_rows({})][:3] == [
        "Albanien",
        "Belgien",
        "Bosnien und Herzegowina",
    ]


def test_tiles_show_code_and_count() -> None:
    root = _parse(europe_map_svg(COUNTS, _href, title="Map"))
    assert _texts(_link_of(root, "PT")) == ["PT", "12"]
    assert _texts(_link_of(root, "DE")) == ["DE", "40"]
    assert _texts(_link_of(root, "MT")) == ["MT", "0"]


def test_zero_counts_are_neutral_grey_and_counts_scale_darker() -> None:
    root = _parse(europe_map_svg(COUNTS, _href, title="Map"))
    assert _rect(_link_of(root, "NO")).get("fill") == ZERO_FILL
    assert _rect(_link_of(root, "FR")).get("fill") == CLASS_COLOURS[0][0]
    assert _rect(_link_of(root, "DE")).get("fill") == CLASS_COLOURS[-1][0]
    assert _rect(_link_of(root, "PT")).get("fill") == CLASS_COLOURS[1][0]
    # Nothing at all: every square grey, no class colour.
    empty = _parse(europe_map_svg({}, _href, title="Map"))
    assert {_rect(a).get("fill") for a in _links(empty)} == {ZERO_FILL}
    assert ZERO_FILL not in {fill for fill, _ink in CLASS_COLOURS}


def test_every_text_on_every_fill_meets_aa_contrast() -> None:
    for fill, ink in [(ZERO_FILL, CLASS_COLOURS[0][1]), *CLASS_COLOURS]:
        assert _contrast(fill, ink) >= 4.5, (fill, ink)
    # And as drawn: each square's texts against its own fill, every class present.
    counts = {code: index for index, code in enumerate(sorted(GRID))}
    root = _parse(europe_map_svg(counts, _href, title="Map"))
    seen = set()
    for link in _links(root):
        fill = _rect(link).get("fill", "")
        seen.add(fill)
        for text in link.iter(f"{SVG}text"):
            assert _contrast(fill, text.get("fill", "")) >= 4.5, (fill, text.get("fill"))
    assert len(seen) == CLASSES + 1


def test_no_inline_style_no_script_nothing_from_another_origin() -> None:
    svg = str(europe_map_svg(COUNTS, _href, title="Map"))
    assert "style" not in svg.lower()
    assert "<script" not in svg.lower()
    # The only URLs are the caller's links and the SVG namespace.
    urls = re.findall(r"https?://[^\"' ]+", svg)
    assert urls == ["http://www.w3.org/2000/svg"]


def test_title_links_and_ids_are_escaped() -> None:
    def evil_href(code: str) -> str:
        return f"/programmes?q={XSS}&country={code}"

    svg = str(europe_map_svg(COUNTS, evil_href, title=XSS, id_prefix='x" onload="alert(1)'))
    assert "<script" not in svg
    root = _parse(svg)
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == XSS
    assert _link_of_href(root, evil_href("PT")) is not None
    for element in root.iter():
        assert not any(name.startswith("on") for name in element.attrib)
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*-title", root.get("aria-labelledby", ""))


def _link_of_href(root: ET.Element, href: str) -> ET.Element | None:
    found = [a for a in _links(root) if a.get("href") == href]
    return found[0] if len(found) == 1 else None


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,x"],
)
def test_links_that_could_run_script_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="map link"):
        europe_map_svg(COUNTS, lambda code: url, title="Map")


def test_absolute_http_links_are_allowed() -> None:
    root = _parse(
        europe_map_svg(COUNTS, lambda code: "https://portal.example/p?c=" + quote(code), title="M")
    )
    assert len(_links(root)) == len(COUNTRIES)


def test_legend_shows_grey_for_none_and_each_class_range() -> None:
    root = _parse(europe_map_svg(COUNTS, _href, title="Map"))
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "europe-map__legend")
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    assert texts == ["Programmes per country", "0", "1–8", "9–16", "17–24", "25–32", "33–40"]
    swatches = [r.get("fill") for r in legend.iter(f"{SVG}rect")]
    assert swatches == [ZERO_FILL, *(fill for fill, _ink in CLASS_COLOURS)]
    # The legend is outside the links.
    assert all(legend not in list(a.iter()) for a in _links(root))


def test_legend_ranges_match_the_colour_of_every_count() -> None:
    for maximum in range(0, 60):
        entries = legend_entries(maximum)
        assert entries[0].colour_class == 0
        for count in range(1, maximum + 1):
            (entry,) = [e for e in entries[1:] if e.low <= count <= e.high]
            assert entry.colour_class == colour_class(count, maximum)
        covered = sum(e.high - e.low + 1 for e in entries[1:])
        assert covered == maximum
    assert [e.label for e in legend_entries(3)] == ["0", "1", "2", "3"]


def test_table_rows_are_sorted_by_name_with_counts_and_links() -> None:
    rows = map_table_rows({**COUNTS, "pt": 1, "XK": 4, "ZZ": 0}, _href)
    names = [row.name for row in rows]
    assert names == sorted(names, key=str.casefold)
    by_code = {row.code: row for row in rows}
    assert set(by_code) == {*COUNTRIES, "XK"}  # an extra code with programmes is kept
    assert by_code["PT"].count == 13
    assert by_code["PT"].name == "Portugal"
    assert by_code["PT"].href == _href("PT")
    assert by_code["MT"].count == 0
    assert all(row.href is None for row in map_table_rows(COUNTS))


def test_table_sorts_accented_names_with_their_letter(german: None) -> None:
    names = [row.name for row in map_table_rows({})]
    assert names.index("Österreich") < names.index("Polen")
    assert names.index("Türkei") < names.index("Ukraine")
