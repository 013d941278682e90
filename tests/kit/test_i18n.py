"""Language choice and the completeness of the translation catalogues."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT, SUPPORTED_LANGUAGES
from app.kit import i18n
from tests.conftest import PortalClient


def test_english_is_the_default(client: PortalClient) -> None:
    html = client.get("/").text

    assert '<html lang="en">' in html


def test_lang_parameter_switches_and_is_remembered(client: PortalClient) -> None:
    first = client.get("/?lang=de")
    later = client.get("/about")

    assert '<html lang="de">' in first.text
    assert "portal_lang=de" in first.headers["set-cookie"]
    assert '<html lang="de">' in later.text
    assert "Über das Netzwerk" in later.text


def test_accept_language_is_used_without_a_choice(client: PortalClient) -> None:
    html = client.get("/", headers={"Accept-Language": "pt-PT, fr;q=0.8, en;q=0.5"}).text

    assert '<html lang="fr">' in html


def test_the_cookie_wins_over_accept_language(client: PortalClient) -> None:
    client.cookies.set("portal_lang", "de")
    html = client.get("/", headers={"Accept-Language": "fr"}).text

    assert '<html lang="de">' in html


def test_an_unknown_language_is_ignored(client: PortalClient) -> None:
    response = client.get("/?lang=xx")

    assert '<html lang="en">' in response.text
    assert "portal_lang" not in response.headers.get("set-cookie", "")


def test_accept_language_with_bad_quality_values_is_tolerated() -> None:
    assert i18n._parse_accept_language("de;q=abc, fr;q=0.9, , en;q=0, it") == ["it", "fr"]


def test_numbers_and_dates_follow_the_locale() -> None:
    from datetime import date

    i18n.set_locale("de")
    try:
        assert i18n.format_number(12345) == "12.345"
        assert i18n.format_date(date(2026, 3, 1)) == "1. März 2026"
    finally:
        i18n.set_locale("en")
    assert i18n.format_number(12345) == "12,345"
    assert i18n.format_date(None) == ""


def _catalogue(language: str) -> object:
    path = PROJECT_ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language)


def _extract_message_ids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "-q",
            "extract",
            "-F",
            str(PROJECT_ROOT / "babel.cfg"),
            "-k",
            "N_",
            "-o",
            str(pot),
            ".",
        ],
        check=True,
        cwd=PROJECT_ROOT,
    )
    with pot.open("rb") as pot_file:
        # A plural message's id is the pair (singular, plural); its singular identifies it.
        message_ids = {
            message.id[0] if isinstance(message.id, tuple) else message.id
            for message in read_po(pot_file)
            if message.id
        }
    # The extraction itself must work, or the check below would pass on nothing.
    assert len(message_ids) > 50
    return message_ids  # type: ignore[return-value]


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "en"])
def test_every_string_is_translated(language: str, tmp_path: Path) -> None:
    catalogue = _catalogue(language)
    translated = {
        (message.id[0] if isinstance(message.id, tuple) else message.id): message.string
        for message in catalogue  # type: ignore[attr-defined]
        if message.id
        and message.string
        and all(message.string if isinstance(message.string, tuple) else [message.string])
        and not message.fuzzy
    }

    missing = sorted(
        message_id for message_id in _extract_message_ids(tmp_path) if message_id not in translated
    )

    assert missing == [], f"{language} lacks translations (run make i18n): {missing[:10]}"
