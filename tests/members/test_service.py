"""Rules for creating members and checking their passwords."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password, verify_password
from app.members import service
from tests.factories import organisation


def test_create_member_stores_a_hash_and_a_lower_case_email(db_session: Session) -> None:
    employer = organisation()

    member = service.create_member(
        db_session,
        email=" Maria.Example@Example.ORG ",
        full_name=" Maria Example ",
        password="twelve chars long",
        role="coordinator",
        member_type="researcher",
        country="PT",
        organisations=[employer],
    )

    assert member.id is not None
    assert member.email == "maria.example@example.org"
    assert member.full_name == "Maria Example"
    assert member.password_hash != "twelve chars long"
    assert verify_password(member.password_hash, "twelve chars long")
    assert member.organisations == [employer]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not-an-address"}, "Enter an e-mail address"),
        ({"role": "owner"}, "Unknown role"),
        ({"member_type": "spy"}, "Unknown member type"),
        ({"password": "short"}, "at least 12 characters"),
    ],
)
def test_invalid_members_are_refused(
    db_session: Session, changes: dict[str, str], message: str
) -> None:
    values = {"email": "ok@example.org", "full_name": "Ok", "password": "long enough pw"}
    values.update(changes)

    with pytest.raises(service.InvalidMember, match=message):
        service.create_member(db_session, **values)  # type: ignore[arg-type]


def test_a_second_account_for_the_same_email_is_refused(db_session: Session) -> None:
    service.create_member(db_session, email="same@example.org", full_name="A", password=None)

    with pytest.raises(service.MemberExists):
        service.create_member(db_session, email="SAME@example.org", full_name="B", password=None)


def test_a_member_without_password_cannot_authenticate(db_session: Session) -> None:
    service.create_member(db_session, email="nopw@example.org", full_name="A", password=None)

    assert service.authenticate(db_session, "nopw@example.org", "") is None
    assert service.authenticate(db_session, "nopw@example.org", "anything at all") is None


def test_verify_password_rejects_garbage_hashes() -> None:
    assert verify_password("not-a-hash", "whatever") is False
    assert verify_password(hash_password("right password"), "wrong password") is False
