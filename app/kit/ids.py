"""Ids typed by people or sent in forms."""

from __future__ import annotations

# The largest id either database stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def parse_id(value: str | None) -> int | None:
    """The id in ``value``, or None when it is not one any record could have.

    A number beyond the databases' range is no id at all: treating it as unknown lets a form
    say so at the field instead of failing when the number reaches the database.
    """
    text = (value or "").strip()
    if not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
