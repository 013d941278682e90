"""Languages: which locale a request gets, its translations, and locale-aware formatting.

Catalogues live in ``translations/<lang>/LC_MESSAGES/messages.po`` and are read directly at
start-up, so there is no compiled file to forget.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from starlette.requests import Request

from app.config import PROJECT_ROOT, SUPPORTED_LANGUAGES, get_settings

TRANSLATIONS_DIR = PROJECT_ROOT / "translations"
LANGUAGE_COOKIE = "portal_lang"

LANGUAGE_NAMES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français"}

_current_locale: ContextVar[str] = ContextVar("current_locale", default="en")


@cache
def translations_for(locale: str) -> NullTranslations:
    """The translations of one locale, read from its .po catalogue once per process."""
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> None:
    _current_locale.set(locale)


def gettext(message: str, **variables: object) -> str:
    """Translate into the current request's language; ``%(name)s`` variables are filled in."""
    translated = translations_for(get_locale()).gettext(message)
    return translated % variables if variables else translated


_ = gettext


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    translated = translations_for(get_locale()).ngettext(singular, plural, n)
    return translated % {"num": n, **variables}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def _parse_accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((quality, tag.strip().lower()))
    weighted.sort(key=lambda item: item[0], reverse=True)
    return [tag for quality, tag in weighted if quality > 0]


def negotiate_locale(request: Request) -> str:
    """The locale from ``?lang=``, then the language cookie, then ``Accept-Language``."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in SUPPORTED_LANGUAGES:
            return candidate
    for tag in _parse_accept_language(request.headers.get("accept-language", "")):
        primary = tag.split("-")[0]
        if primary in SUPPORTED_LANGUAGES:
            return primary
    return get_settings().default_language


def format_date(value: date | datetime | None, format: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return babel_format_datetime(value, format=format, locale=Locale.parse(get_locale()))
    return babel_format_date(value, format=format, locale=Locale.parse(get_locale()))


def format_number(value: float | int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _format_integer(value, get_locale())
    return format_decimal(value, locale=Locale.parse(get_locale()))


@lru_cache(maxsize=8192)
def _format_integer(value: int, locale: str) -> str:
    """Counts are formatted over and over (a search page shows a few hundred): remember them."""
    return format_decimal(value, locale=Locale.parse(locale))
