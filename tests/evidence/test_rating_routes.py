"""The evidence page, overrides, reviews, history, registry ratings and the re-review list."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.evidence import rating_routes, ratings
from app.evidence.models import ProgrammeRating, RegistryRating
from app.members.models import Member
from app.programmes.models import Programme
from tests import factories
from tests.conftest import PortalClient
from tests.evidence.test_views import outcome, publish


def sign_in(client: PortalClient, session: Session, member: Member) -> Member:
    client.sign_in_as(session, member)
    # An error answer rolls its request back; committing keeps the setup in place.
    session.commit()
    return member


def main_text(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def rated_programme(session: Session, **overrides: Any) -> Programme:
    """A programme in Portugal only, rated "promising" by one published study."""
    values: dict[str, Any] = {"title": "Safe Families", "countries": ["PT"], **overrides}
    programme = factories.programme(**values)
    publish(session, programme)
    session.commit()
    return programme


def current(session: Session, programme: Programme) -> ProgrammeRating:
    session.expire_all()
    row = ratings.current(session, programme.id)
    assert row is not None
    return row


ROLES = ("anonymous", "member", "coordinator_elsewhere", "coordinator", "network")


def as_role(client: PortalClient, session: Session, role: str) -> Member | None:
    makers: dict[str, Callable[[], Member | None]] = {
        "anonymous": lambda: None,
        "member": factories.member,
        "coordinator_elsewhere": lambda: factories.coordinator(["FR"]),
        "coordinator": lambda: factories.coordinator(["PT"]),
        "network": lambda: factories.coordinator(network=True),
    }
    member = makers[role]()
    if member is not None:
        sign_in(client, session, member)
    return member


# --- the evidence page ---------------------------------------------------------------------


def test_the_evidence_page_shows_rating_reasons_studies_and_a_forest_plot(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(countries=["PT"])
    first = publish(db_session, programme, year=2019, authors=["Lind, Eva"])
    publish(db_session, programme, year=2022, outcomes=[outcome(estimate="0.3", ci_low="0.05")])

    response = client.get(f"/programmes/{programme.id}/evidence")

    assert response.status_code == 200
    page = main_text(response.text)
    assert "How strong is the evidence" in page
    assert re.search(r'id="evidence-level">\s*Promising', page)
    assert "Rule applied:" in page
    assert f'<a href="/evaluations/{first.id}">Read the study (Lind 2019)</a>' in page
    assert "What would raise it" in page
    assert "Lind, Eva (2019). A randomised trial of Safe Families." in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="forest"') == 1
    assert "<summary>Table of the same data</summary>" in page
    assert '<th scope="col">Weight</th>' in page
    assert "random-effects (DerSimonian–Laird)" in page  # noqa: RUF001
    assert "Lind 2019: Protective parenting practices" in page
    # Coordinators' tools are not offered to visitors.
    assert "/rating/override" not in page
    assert "Due for re-review" not in page


def test_a_programme_without_evidence_invites_an_evaluation(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    db_session.commit()

    anonymous = main_text(client.get(f"/programmes/{programme.id}/evidence").text)
    sign_in(client, db_session, factories.member())
    member = main_text(client.get(f"/programmes/{programme.id}/evidence").text)

    assert "No evaluation of this programme has been published yet." in anonymous
    assert "Not yet rated" in anonymous
    assert "Sign in to add an evaluation" in anonymous
    assert f'href="/evaluations/new?programme_id={programme.id}"' in member
    assert "<svg" not in member


def test_a_members_only_study_is_not_named_to_visitors(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    publish(db_session, programme, visibility="members", title="Secret Trial")
    db_session.commit()

    anonymous = main_text(client.get(f"/programmes/{programme.id}/evidence").text)
    sign_in(client, db_session, factories.member())
    member = main_text(client.get(f"/programmes/{programme.id}/evidence").text)

    assert "Secret Trial" not in anonymous
    assert "A study visible to members, a rigorous study" in anonymous
    assert "1 further study is visible to members only" in anonymous
    assert "Secret Trial (2021)" in member


def test_the_evidence_of_a_members_only_programme_is_not_found_by_visitors(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(visibility="members")
    db_session.commit()

    assert client.get(f"/programmes/{programme.id}/evidence").status_code == 404
    assert client.get(f"/programmes/{programme.id}/rating/history").status_code == 404


# --- override, clear, confirm --------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_coordinators_of_the_programme_override(
    client: PortalClient, db_session: Session, role: str
) -> None:
    programme = rated_programme(db_session)
    as_role(client, db_session, role)

    form = client.get(f"/programmes/{programme.id}/rating/override", follow_redirects=False)
    posted = client.post(
        f"/programmes/{programme.id}/rating/override",
        data={
            "csrf_token": client.csrf_token(),
            "level": "effective",
            "justification": "A national evaluation confirms it.",
        },
        follow_redirects=False,
    )

    if role == "anonymous":
        assert form.status_code == posted.status_code == 303
        assert form.headers["location"].startswith("/sign-in")
    elif role in ("member", "coordinator_elsewhere"):
        assert form.status_code == posted.status_code == 403
    else:
        assert form.status_code == 200
        assert 'name="justification"' in form.text
        assert posted.status_code == 303
        assert posted.headers["location"] == f"/programmes/{programme.id}#evidence"
    row = current(db_session, programme)
    expected = "effective" if role in ("coordinator", "network") else "promising"
    assert row.level == expected
    assert db_session.get(Programme, programme.id).rating_level == expected  # type: ignore[union-attr]


def test_an_override_needs_a_justification_and_is_shown_beside_the_computed_level(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    sign_in(client, db_session, factories.coordinator(["PT"]))

    refused = client.post_form(
        f"/programmes/{programme.id}/rating/override",
        {"level": "pioneering", "justification": "   "},
    )

    assert refused.status_code == 422
    assert 'id="justification-error"' in refused.text
    assert 'aria-describedby="justification-hint justification-error"' in refused.text
    assert re.search(r'<option value="pioneering"\s+selected>', refused.text)
    assert current(db_session, programme).level == "promising"

    accepted = client.post_form(
        f"/programmes/{programme.id}/rating/override",
        {"level": "pioneering", "justification": "The trial's sample was <b>tiny</b>."},
        follow_redirects=False,
    )

    assert accepted.status_code == 303
    page = main_text(client.get(f"/programmes/{programme.id}/evidence").text)
    assert re.search(r'id="evidence-level">\s*Pioneering', page)
    assert re.search(r'id="evidence-computed-level">\s*Promising', page)
    assert "The trial&#39;s sample was &lt;b&gt;tiny&lt;/b&gt;." in page
    assert "Remove the override" in page
    assert "Why the rules give “Promising”" in page


def test_an_unknown_level_is_refused_at_its_field(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    sign_in(client, db_session, factories.coordinator(network=True))

    response = client.post_form(
        f"/programmes/{programme.id}/rating/override",
        {"level": "superb", "justification": "Because."},
    )

    assert response.status_code == 422
    assert 'id="level-error"' in response.text
    assert "Because." in response.text


def test_clearing_the_override_returns_to_the_rules(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    coordinator = sign_in(client, db_session, factories.coordinator(["PT"]))
    ratings.override(db_session, coordinator, programme.id, "effective", "Known locally.")
    db_session.commit()

    response = client.post_form(
        f"/programmes/{programme.id}/rating/clear-override", {}, follow_redirects=False
    )

    assert response.status_code == 303
    row = current(db_session, programme)
    assert (row.level, row.overridden, row.changed_by_id) == ("promising", False, coordinator.id)


def test_confirming_marks_the_rating_reviewed_today(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    row = current(db_session, programme)
    row.reviewed_on = date.today() - timedelta(days=4 * 365)
    db_session.commit()
    sign_in(client, db_session, factories.coordinator(["PT"]))

    from_page = client.post_form(
        f"/programmes/{programme.id}/rating/confirm", {}, follow_redirects=False
    )
    from_list = client.post_form(
        f"/programmes/{programme.id}/rating/confirm", {"back": "list"}, follow_redirects=False
    )

    assert from_page.headers["location"] == f"/programmes/{programme.id}#evidence"
    assert from_list.headers["location"] == "/coordinate/ratings"
    assert current(db_session, programme).reviewed_on == date.today()


def test_members_and_other_coordinators_cannot_confirm_or_clear(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    sign_in(client, db_session, factories.coordinator(["FR"]))
    before = current(db_session, programme).id

    confirm = client.post_form(f"/programmes/{programme.id}/rating/confirm", {})
    clear = client.post_form(f"/programmes/{programme.id}/rating/clear-override", {})

    assert confirm.status_code == clear.status_code == 403
    assert current(db_session, programme).id == before


def test_a_coordinator_sees_the_tools_and_the_due_flag_on_the_page(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    current(db_session, programme).reviewed_on = date.today() - timedelta(days=4 * 365)
    db_session.commit()
    sign_in(client, db_session, factories.coordinator(["PT"]))

    page = main_text(client.get(f"/programmes/{programme.id}/evidence").text)

    assert f'href="/programmes/{programme.id}/rating/override"' in page
    assert "Confirm as reviewed today" in page
    assert 'id="evidence-due"' in page
    assert f'href="/programmes/{programme.id}/registry-ratings/new"' in page


# --- history -------------------------------------------------------------------------------


def test_the_history_is_public_without_names_for_visitors(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    coordinator = factories.coordinator(["PT"], full_name="Carla Coordinator")
    ratings.override(db_session, coordinator, programme.id, "effective", "Known locally.")
    db_session.commit()

    anonymous = main_text(client.get(f"/programmes/{programme.id}/rating/history").text)
    sign_in(client, db_session, factories.member())
    member = main_text(client.get(f"/programmes/{programme.id}/rating/history").text)

    for page in (anonymous, member):
        assert page.count("<tr>") == 3  # header + two ratings
        assert "Known locally." in page
        assert "Computed from the evidence" in page
        assert "Effective" in page
        assert "A rigorous study found a favourable effect." in page
    assert "Carla Coordinator" not in anonymous
    assert "A coordinator" in anonymous
    assert "Carla Coordinator" in member


def test_the_history_of_an_unrated_programme_says_so(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    db_session.commit()

    response = client.get(f"/programmes/{programme.id}/rating/history")

    assert response.status_code == 200
    assert 'id="history-empty"' in response.text


# --- registry ratings ------------------------------------------------------------------------


def test_a_coordinator_records_another_registrys_rating(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    sign_in(client, db_session, factories.coordinator(["PT"]))

    form = client.get(f"/programmes/{programme.id}/registry-ratings/new")
    response = client.post_form(
        f"/programmes/{programme.id}/registry-ratings",
        {
            "registry_name": "Blueprints",
            "label": "Model Plus",
            "year": str(date.today().year),
            "url": "https://example.org/blueprints/safe-families",
        },
        follow_redirects=False,
    )

    assert form.status_code == 200
    assert response.status_code == 303
    page = main_text(client.get(f"/programmes/{programme.id}/evidence").text)
    assert "<strong>Blueprints</strong>: Model Plus" in page
    assert 'href="https://example.org/blueprints/safe-families"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("year", str(date.today().year + 1), "cannot be in the future"),
        ("year", "last year", "Enter a year"),
        ("url", "javascript:alert(1)", "starting with https://"),
        ("url", "ftp://example.org/x", "starting with https://"),
        ("registry_name", "", "Enter the registry"),
    ],
)
def test_a_bad_registry_rating_is_refused_at_its_field(
    client: PortalClient, db_session: Session, field: str, value: str, message: str
) -> None:
    programme = rated_programme(db_session)
    sign_in(client, db_session, factories.coordinator(["PT"]))
    data = {"registry_name": "Blueprints", "label": "Promising", "year": "2020", "url": ""}
    data[field] = value

    response = client.post_form(f"/programmes/{programme.id}/registry-ratings", data)

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert 'value="Promising"' in response.text  # the input is kept
    assert db_session.scalars(select(RegistryRating)).all() == []


@pytest.mark.parametrize("role", ["anonymous", "member", "coordinator_elsewhere"])
def test_others_cannot_record_or_remove_registry_ratings(
    client: PortalClient, db_session: Session, role: str
) -> None:
    programme = rated_programme(db_session)
    entry = RegistryRating(programme_id=programme.id, registry_name="Blueprints", label="A")
    db_session.add(entry)
    db_session.commit()
    as_role(client, db_session, role)
    token = client.csrf_token()

    added = client.post(
        f"/programmes/{programme.id}/registry-ratings",
        data={"csrf_token": token, "registry_name": "X", "label": "Y"},
        follow_redirects=False,
    )
    removed = client.post(
        f"/programmes/{programme.id}/registry-ratings/{entry.id}/delete",
        data={"csrf_token": token},
        follow_redirects=False,
    )

    expected = 303 if role == "anonymous" else 403
    assert added.status_code == removed.status_code == expected
    db_session.expire_all()
    assert [row.registry_name for row in db_session.scalars(select(RegistryRating))] == [
        "Blueprints"
    ]


def test_a_coordinator_removes_a_registry_rating_of_this_programme_only(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    other = factories.programme(countries=["PT"])
    mine = RegistryRating(programme_id=programme.id, registry_name="Mine", label="A")
    theirs = RegistryRating(programme_id=other.id, registry_name="Theirs", label="B")
    db_session.add_all([mine, theirs])
    db_session.commit()
    sign_in(client, db_session, factories.coordinator(["PT"]))

    wrong = client.post_form(f"/programmes/{programme.id}/registry-ratings/{theirs.id}/delete", {})
    right = client.post_form(
        f"/programmes/{programme.id}/registry-ratings/{mine.id}/delete", {}, follow_redirects=False
    )

    assert wrong.status_code == 404
    assert right.status_code == 303
    db_session.expire_all()
    assert [row.registry_name for row in db_session.scalars(select(RegistryRating))] == ["Theirs"]


# --- the re-review list ----------------------------------------------------------------------


def test_the_rereview_list_shows_old_ratings_of_my_countries(
    client: PortalClient, db_session: Session
) -> None:
    old = rated_programme(db_session, title="Old Rating")
    recent = rated_programme(db_session, title="Recent Rating")
    old_row, recent_row = current(db_session, old), current(db_session, recent)
    old_row.reviewed_on = date.today() - timedelta(days=4 * 365)
    recent_row.reviewed_on = date.today() - timedelta(days=365)
    db_session.commit()

    sign_in(client, db_session, factories.coordinator(["PT"]))
    mine = client.get("/coordinate/ratings")
    sign_in(client, db_session, factories.coordinator(["FR"]))
    elsewhere = client.get("/coordinate/ratings")
    sign_in(client, db_session, factories.coordinator(network=True))
    network = client.get("/coordinate/ratings")

    assert mine.status_code == 200
    page = main_text(mine.text)
    assert "Old Rating" in page
    assert "Recent Rating" not in page
    assert f'action="/programmes/{old.id}/rating/confirm"' in page
    assert "Old Rating" not in elsewhere.text
    assert 'id="rereview-empty"' in elsewhere.text
    assert "Old Rating" in network.text


def test_the_rereview_list_is_for_coordinators(client: PortalClient, db_session: Session) -> None:
    anonymous = client.get("/coordinate/ratings", follow_redirects=False)
    sign_in(client, db_session, factories.member())
    member = client.get("/coordinate/ratings", follow_redirects=False)

    assert anonymous.status_code == 303
    assert member.status_code == 403


def test_the_coordination_dashboard_links_the_rereview_list(
    client: PortalClient, db_session: Session
) -> None:
    sign_in(client, db_session, factories.coordinator(["PT"]))

    assert 'href="/coordinate/ratings"' in client.get("/coordinate").text


def test_the_pages_render_as_htmx_fragments(client: PortalClient, db_session: Session) -> None:
    programme = rated_programme(db_session)
    sign_in(client, db_session, factories.coordinator(["PT"]))

    for path in (
        f"/programmes/{programme.id}/evidence",
        f"/programmes/{programme.id}/rating/override",
        f"/programmes/{programme.id}/rating/history",
        f"/programmes/{programme.id}/registry-ratings/new",
        "/coordinate/ratings",
    ):
        response = client.get(path, headers={"HX-Request": "true"})
        assert response.status_code == 200, path
        assert "<html" not in response.text, path
        assert "<h1>" in response.text, path


def test_registry_ratings_are_checked_field_by_field() -> None:
    today = date(2024, 6, 1)
    values, errors = rating_routes.validate_registry_rating(
        {"registry_name": "  Blueprints   for Youth ", "label": "Model", "year": "2024",
         "url": " https://example.org/x "},
        today,
    )  # fmt: skip
    assert errors == {}
    assert values == {
        "registry_name": "Blueprints for Youth",
        "label": "Model",
        "year": 2024,
        "url": "https://example.org/x",
    }
    _values, errors = rating_routes.validate_registry_rating(
        {"registry_name": "x" * 201, "label": "y" * 201, "year": "1850",
         "url": "https://example.org/" + "z" * 500},
        today,
    )  # fmt: skip
    assert set(errors) == {"registry_name", "label", "year", "url"}
    assert "1900" in errors["year"]


def test_a_very_long_justification_is_refused_at_its_field(
    client: PortalClient, db_session: Session
) -> None:
    programme = rated_programme(db_session)
    sign_in(client, db_session, factories.coordinator(["PT"]))

    response = client.post_form(
        f"/programmes/{programme.id}/rating/override",
        {"level": "effective", "justification": "x" * 5001},
    )

    assert response.status_code == 422
    assert 'id="justification-error"' in response.text
    assert current(db_session, programme).level == "promising"
