"""A map of Europe drawn on the server as accessible SVG: programmes per country.

No geographic shapes are needed: it is a tile-grid map (the cartographic form of the EU
tile grids used by Eurostat and The Economist), where every country is one equal square
placed on a grid roughly where it lies. Every square is a link (the caller decides where to,
typically the catalogue filtered by that country), coloured by its count on a five-class
sequential scale, with a neutral grey for none; its accessible name comes from a
``<title>`` inside the link ("Portugal: 12 programmes"), in the reader's language.

The SVG is self-contained and loads nothing: presentation attributes (fill, stroke,
font-size...) instead of inline styles, which the site's Content Security Policy forbids,
and no script. It is a ``role="group"`` named by its ``<title>`` (it holds links, so it is
not an image). :func:`map_table_rows` gives the same figures as table rows for the table
alternative a page renders beside the map. Every text and every link is escaped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from app.kit.i18n import N_, _, format_number, ngettext
from app.members.vocabulary import COUNTRIES, country_name

TILE_NAME = N_("%(country)s: %(count)s")
LEGEND_TITLE = N_("Programmes per country")
LEGEND_RANGE = N_("%(low)s–%(high)s")  # noqa: RUF001 - an en dash for ranges
DESCRIPTION = N_(
    "Each square is a country, placed roughly where it lies in Europe. Its colour shows how "
    "many programmes it has: grey for none, darker for more. Each square links to the "
    "programmes of its country."
)

# Where each country sits: (column, row), IS at the top left, CY at the bottom right.
GRID: dict[str, tuple[int, int]] = {
    "IS": (0, 0), "NO": (4, 0), "SE": (5, 0), "FI": (6, 0),
    "IE": (1, 1), "GB": (2, 1), "DK": (4, 1), "EE": (6, 1),
    "NL": (3, 2), "DE": (4, 2), "PL": (5, 2), "LV": (6, 2),
    "BE": (2, 3), "LU": (3, 3), "CZ": (4, 3), "SK": (5, 3), "LT": (6, 3),
    "FR": (2, 4), "CH": (3, 4), "LI": (4, 4), "AT": (5, 4), "HU": (6, 4), "UA": (7, 4),
    "PT": (0, 5), "ES": (1, 5), "IT": (3, 5), "SI": (4, 5), "HR": (5, 5), "RS": (6, 5),
    "RO": (7, 5), "MD": (8, 5),
    "BA": (5, 6), "ME": (6, 6), "BG": (7, 6), "GE": (9, 6),
    "MT": (3, 7), "AL": (6, 7), "MK": (7, 7), "TR": (8, 7),
    "GR": (7, 8), "CY": (8, 8),
}  # fmt: skip
COLUMNS = 10
ROWS = 9

# Colours: (fill, text). Zero is a neutral grey; then five classes of a sequential teal scale
# (the site's palette). Text is dark on light fills and white on dark ones, at least 4.5:1.
INK = "#17212e"
PAPER = "#ffffff"
ZERO_FILL = "#eeeeee"
CLASS_COLOURS: tuple[tuple[str, str], ...] = (
    ("#d4ece8", INK),
    ("#9fd3cc", INK),
    ("#5bb5ae", INK),
    ("#0e7a73", PAPER),
    ("#084c48", PAPER),
)
CLASSES = len(CLASS_COLOURS)
OUTLINE = "#67788b"  # 4.5:1 on white: every square stands out from the page

# Geometry, in SVG user units (= CSS pixels at full size).
CELL = 56
TILE = 52
MARGIN = 4
WIDTH = COLUMNS * CELL + MARGIN
HEIGHT = ROWS * CELL + MARGIN
CODE_FONT_SIZE = 15
COUNT_FONT_SIZE = 12
# The legend sits in the empty south-west corner of the grid (west of Malta).
LEGEND_X = MARGIN
LEGEND_Y = 6 * CELL + MARGIN
LEGEND_SWATCH = 16
LEGEND_LINE = 22
LEGEND_FONT_SIZE = 12


@dataclass(frozen=True)
class MapRow:
    """One line of the table alternative to the map."""

    code: str
    name: str
    count: int
    href: str | None


@dataclass(frozen=True)
class LegendEntry:
    """One colour of the legend and the counts it stands for (``low`` to ``high``)."""

    colour_class: int
    low: int
    high: int
    fill: str
    ink: str
    label: str


def colour_class(count: int, maximum: int) -> int:
    """0 for no programmes, else 1 to 5: equal intervals of 1..``maximum``."""
    if count <= 0 or maximum <= 0:
        return 0
    return max(1, min(CLASSES, math.ceil(CLASSES * count / maximum)))


def colours(level: int) -> tuple[str, str]:
    """(fill, text colour) of a colour class."""
    return (ZERO_FILL, INK) if level == 0 else CLASS_COLOURS[level - 1]


def legend_entries(maximum: int) -> list[LegendEntry]:
    """The grey of zero, then each class that holds at least one possible count."""
    entries = [LegendEntry(0, 0, 0, ZERO_FILL, INK, format_number(0))]
    for index in range(1, CLASSES + 1):
        low = (index - 1) * maximum // CLASSES + 1
        high = index * maximum // CLASSES
        if maximum <= 0 or low > high:
            continue
        fill, ink = colours(index)
        label = (
            format_number(low)
            if low == high
            else _(LEGEND_RANGE, low=format_number(low), high=format_number(high))
        )
        entries.append(LegendEntry(index, low, high, fill, ink, label))
    return entries


def count_phrase(count: int) -> str:
    """ "12 programmes", in the reader's language and number format."""
    # Literal strings, so that extraction sees the plural pair.
    return ngettext("%(num)s programme", "%(num)s programmes", count, num=format_number(count))


def tile_name(code: str, count: int) -> str:
    """The accessible name of a country's square: "Portugal: 12 programmes"."""
    return _(TILE_NAME, country=country_name(code), count=count_phrase(count))


@lru_cache(maxsize=1024)
def _sort_key(name: str) -> str:
    """Accents ignored, case folded: "Österreich" sorts with O, not after Z."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _counts(counts: Mapping[str, int]) -> dict[str, int]:
    cleaned: dict[str, int] = {}
    for code, count in counts.items():
        key = code.upper()
        cleaned[key] = cleaned.get(key, 0) + max(0, int(count))
    return cleaned


def map_table_rows(
    counts: Mapping[str, int], href: Callable[[str], str] | None = None
) -> list[MapRow]:
    """The map's figures as table rows (code, name, count, href), sorted by name.

    Every country of the map is listed, with 0 where ``counts`` has none; codes outside the
    map (a country a curator added) are listed too when they have programmes. ``href`` is the
    same callable as for :func:`europe_map_svg`; without it, rows have no link.
    """
    cleaned = _counts(counts)
    codes = list(COUNTRIES) + sorted(
        code for code, count in cleaned.items() if count > 0 and code not in COUNTRIES
    )
    rows = [
        MapRow(
            code=code,
            name=country_name(code),
            count=cleaned.get(code, 0),
            href=_checked_href(href(code)) if href is not None else None,
        )
        for code in codes
    ]
    return sorted(rows, key=lambda row: (_sort_key(row.name), row.code))


def _checked_href(url: str) -> str:
    """The link itself, refused when it could run script (``javascript:``, ``data:``...)."""
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise ValueError(f"map link with spaces or control characters: {url!r}")
    if urlsplit(url).scheme.lower() not in ("", "http", "https"):
        raise ValueError(f"map link with a scheme other than http(s): {url!r}")
    return url


def _e(text: object) -> str:
    return str(escape(str(text)))


def _safe_id(prefix: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", prefix)
    return cleaned if cleaned[:1].isalpha() else "map-" + cleaned


def europe_map_svg(
    counts: Mapping[str, int],
    href: Callable[[str], str],
    *,
    title: str,
    id_prefix: str = "map",
) -> Markup:
    """A tile-grid map of Europe with a count per country, as an inline SVG element.

    ``counts`` maps country codes (ISO 3166-1 alpha-2, as in the ``countries`` vocabulary) to
    a number of programmes; countries missing from it count 0, codes without a square are
    left out (:func:`map_table_rows` lists them). ``href(code)`` is each square's link, e.g.
    the catalogue filtered by that country; it must be relative or http(s) (ValueError
    otherwise). ``title`` names the map for assistive technology; ``id_prefix`` keeps the
    ids unique when a page shows several maps.
    """
    cleaned = _counts(counts)
    maximum = max((cleaned.get(code, 0) for code in GRID), default=0)
    map_id = _safe_id(id_prefix)

    tiles = [
        _tile(code, column, row, cleaned.get(code, 0), maximum, _checked_href(href(code)))
        for code, (column, row) in sorted(GRID.items(), key=lambda item: item[1][::-1])
    ]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="europe-map" role="group" '
        f'aria-labelledby="{map_id}-title" aria-describedby="{map_id}-desc" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="system-ui, sans-serif" fill="{INK}">'
        f'<title id="{map_id}-title">{_e(title)}</title>'
        f'<desc id="{map_id}-desc">{_e(_(DESCRIPTION))}</desc>'
        f'<g class="europe-map__tiles">{"".join(tiles)}</g>'
        f"{_legend(maximum)}</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text and link in it went through escape()


def _tile(code: str, column: int, row: int, count: int, maximum: int, url: str) -> str:
    level = colour_class(count, maximum)
    fill, ink = colours(level)
    x = MARGIN + column * CELL
    y = MARGIN + row * CELL
    centre = x + TILE // 2
    dashes = ' stroke-dasharray="3 2"' if level == 0 else ""
    return (
        f'<a class="europe-map__country europe-map__country--{level}" href="{_e(url)}">'
        f"<title>{_e(tile_name(code, count))}</title>"
        f'<rect x="{x}" y="{y}" width="{TILE}" height="{TILE}" rx="3" fill="{fill}" '
        f'stroke="{OUTLINE}" stroke-width="1"{dashes}/>'
        f'<text x="{centre}" y="{y + 23}" text-anchor="middle" font-size="{CODE_FONT_SIZE}" '
        f'font-weight="bold" fill="{ink}" aria-hidden="true">{_e(code)}</text>'
        f'<text x="{centre}" y="{y + 41}" text-anchor="middle" font-size="{COUNT_FONT_SIZE}" '
        f'fill="{ink}" aria-hidden="true">{_e(format_number(count))}</text>'
        f"</a>"
    )


def _legend(maximum: int) -> str:
    parts = [
        f'<g class="europe-map__legend" font-size="{LEGEND_FONT_SIZE}">'
        f'<text x="{LEGEND_X}" y="{LEGEND_Y + 14}" font-weight="bold">'
        f"{_e(_(LEGEND_TITLE))}</text>"
    ]
    for index, entry in enumerate(legend_entries(maximum)):
        top = LEGEND_Y + 24 + index * LEGEND_LINE
        dashes = ' stroke-dasharray="3 2"' if entry.colour_class == 0 else ""
        parts.append(
            f'<rect x="{LEGEND_X}" y="{top}" width="{LEGEND_SWATCH}" height="{LEGEND_SWATCH}" '
            f'rx="2" fill="{entry.fill}" stroke="{OUTLINE}" stroke-width="1"{dashes}/>'
            f'<text x="{LEGEND_X + LEGEND_SWATCH + 8}" y="{top + 13}">{_e(entry.label)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)
