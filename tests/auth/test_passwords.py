"""The password policy: length, not common, not the e-mail address."""

from __future__ import annotations

import pytest

from app.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    common_passwords,
    password_problem,
)


def test_eleven_characters_are_too_few_and_twelve_are_enough() -> None:
    assert password_problem("a" * 5 + "bcdefg", "ana@example.org") is not None
    assert password_problem("plum ferry lantern", "ana@example.org") is None
    assert password_problem("kettle mango", "ana@example.org") is None  # exactly 12


def test_no_composition_rules() -> None:
    assert password_problem("onlylowercaseletters", "ana@example.org") is None


def test_the_maximum_length_is_1024() -> None:
    assert password_problem("x7" * 512, "ana@example.org") is None
    problem = password_problem("x7" * 512 + "y", "ana@example.org")
    assert problem == "Choose a password of at most 1024 characters."
    assert MAX_PASSWORD_LENGTH == 1024


@pytest.mark.parametrize(
    "password", ["qwerty123456", "QWERTY123456", "1qaz2wsx3edc", "iloveyouforever"]
)
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    problem = password_problem(password, "ana@example.org")

    assert problem is not None
    assert "commonly used" in problem


def test_the_email_address_is_refused_as_password() -> None:
    problem = password_problem(" Ana.Long@Example.org", "ana.long@example.org")

    assert problem == "Your password must not be your e-mail address."


def test_the_bundled_list_holds_thousands_of_long_passwords_and_no_comments() -> None:
    passwords = common_passwords()

    assert len(passwords) > 3000
    assert all(len(password) >= 12 for password in passwords)
    assert not any(password.startswith("#") for password in passwords)
    assert common_passwords() is passwords  # read once
