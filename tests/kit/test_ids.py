"""Ids from forms: only numbers a record could have are ids."""

from __future__ import annotations

import pytest

from app.kit.ids import MAX_ID, parse_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("99999999999999999999999", None),
        ("0", None),
        ("-3", None),
        ("4.2", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_id(value: str | None, expected: int | None) -> None:
    assert parse_id(value) == expected
