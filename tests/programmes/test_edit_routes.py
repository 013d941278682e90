"""The create and edit forms of programmes, and their per-field validation."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.members.models import Member
from app.programmes import service
from app.programmes.edit_routes import FORM_FIELDS
from app.programmes.models import Programme, ProgrammeVersion
from app.vocabularies import service as vocabularies
from tests import factories
from tests.conftest import PortalClient

TOKEN_PATTERN = re.compile(r'name="token" value="([^"]+)"')


def form_data(**overrides: Any) -> dict[str, Any]:
    """The form as a browser sends it for the factories' valid content."""
    content = factories.programme_content(**overrides)
    data: dict[str, Any] = {}
    for name, value in content.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = value if isinstance(value, list) else str(value)
    return data


def post(client: PortalClient, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": client.csrf_token(), **data}, **kwargs
    )
    return response


def field_error(page: str, name: str) -> str:
    """The text of a field's error slot (empty when the field is fine)."""
    match = re.search(rf'id="{re.escape(name)}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert match, f"no error slot for {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def signed_in(client: PortalClient, session: Session, member: Member | None = None) -> Member:
    member = member or factories.member()
    client.sign_in_as(session, member)
    # Committed (a savepoint): a refused request rolls back only what it did itself.
    session.commit()
    return member


def latest_programme(session: Session) -> Programme:
    found = session.scalars(select(Programme).order_by(Programme.id.desc()).limit(1)).first()
    assert found is not None
    return found


# --- who may open the forms --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/programmes/new", "/programmes/mine"])
def test_anonymous_visitors_are_sent_to_sign_in(client: PortalClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?" + urlencode({"next": path})


def test_anonymous_edit_and_post_are_sent_to_sign_in(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    db_session.commit()
    response = client.get(f"/programmes/{programme.id}/edit", follow_redirects=False)
    assert response.headers["location"] == "/sign-in?" + urlencode(
        {"next": f"/programmes/{programme.id}/edit"}
    )
    response = post(client, "/programmes/new", form_data(), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    assert db_session.scalar(select(Programme).where(Programme.id > programme.id)) is None


def test_lapsed_members_are_sent_to_renewal(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(status="lapsed"))
    for path in ("/programmes/new", f"/programmes/{programme.id}/edit", "/programmes/mine"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/account/membership"


def test_the_new_form_has_every_field(client: PortalClient, db_session: Session) -> None:
    signed_in(client, db_session)
    response = client.get("/programmes/new")
    assert response.status_code == 200
    for name in FORM_FIELDS:
        if name == "translations":
            assert 'name="translations-0-language"' in response.text
            assert 'name="translations-1-title"' in response.text
        else:
            assert f'name="{name}"' in response.text, name
    assert 'name="token"' not in response.text
    # Subgroups come grouped under their target group; the visibility hint names the choice.
    assert "<legend>Parents and carers</legend>" in response.text
    assert "Offender-focused details may be for members only" in response.text
    assert 'hx-post="/programmes/validate"' in response.text


# --- creating ------------------------------------------------------------------------------


def test_a_member_creates_a_draft_and_lands_on_its_review_page(
    client: PortalClient, db_session: Session
) -> None:
    author = signed_in(client, db_session)
    organisation = factories.organisation(name="Kinderschutz Verein")
    data = form_data(
        title="Strong Parents",
        provider_organisation_id=organisation.id,
        contact_email="info@example.org",
        still_running=False,
    )
    data["translations-0-language"] = "de"
    data["translations-0-title"] = "Starke Eltern"
    data["translations-0-summary"] = "Abende für Eltern."
    data["translations-1-language"] = ""
    data["translations-1-title"] = ""
    response = post(client, "/programmes/new", data, follow_redirects=False)
    assert response.status_code == 303
    programme = latest_programme(db_session)
    assert response.headers["location"] == f"/programmes/{programme.id}/review"
    assert programme.status == "draft"
    assert programme.created_by_id == author.id
    version = db_session.scalars(
        select(ProgrammeVersion).where(ProgrammeVersion.programme_id == programme.id)
    ).one()
    assert version.data["title"] == "Strong Parents"
    assert version.data["provider_organisation_id"] == organisation.id
    assert version.data["contact_email"] == "info@example.org"
    assert version.data["still_running"] is False
    assert version.data["manual_available"] is True
    assert version.data["translations"] == [
        {"language": "de", "title": "Starke Eltern", "summary": "Abende für Eltern."}
    ]
    page = client.get(response.headers["location"])
    assert "Your draft is saved" in page.text


def test_errors_come_back_at_their_fields_with_everything_typed(
    client: PortalClient, db_session: Session
) -> None:
    signed_in(client, db_session)
    data = form_data(
        title="Parents <together>",
        summary="",
        contact_email="not an address",
        age_min="12",
        age_max="9",
        cost="Free of charge",
        countries=[],
    )
    data["translations-0-language"] = "fr"
    data["translations-0-title"] = "Parents ensemble"
    response = post(client, "/programmes/new", data)
    assert response.status_code == 422
    page = response.text
    assert 'value="Parents &lt;together&gt;"' in page
    assert 'value="not an address"' in page
    assert 'value="Free of charge"' in page
    assert 'value="12"' in page
    assert 'value="Parents ensemble"' in page
    assert re.search(r'<option value="fr"\s+selected>', page)
    assert re.search(r'id="target_groups-parents"[^>]*value="parents"\s+checked', page)
    assert field_error(page, "contact_email") == "Enter an e-mail address such as name@example.org."
    assert field_error(page, "age_max") == "The oldest age cannot be below the youngest."
    assert "summary in plain language" in field_error(page, "summary")
    assert "at least one country" in field_error(page, "countries")
    assert field_error(page, "title") == ""
    assert re.search(r'id="contact_email"[^>]*aria-invalid="true"', page, re.DOTALL)
    assert re.search(r'id="contact_email"[^>]*aria-describedby="[^"]*contact_email-error"', page)
    # The summary at the top links to each field (a group links to its first box).
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#contact_email"' in summary
    assert 'href="#countries-' in summary
    assert db_session.scalar(select(Programme)) is None


def test_an_unknown_code_posted_by_hand_is_refused_at_its_field(
    client: PortalClient, db_session: Session
) -> None:
    signed_in(client, db_session)
    response = post(
        client, "/programmes/new", form_data(target_groups=["parents", "aliens"], delivery=["fax"])
    )
    assert response.status_code == 422
    message = field_error(response.text, "target_groups")
    assert "aliens" in message
    assert "offenders, parents, schools, children" in message
    assert "fax" in field_error(response.text, "delivery")


def test_forms_without_the_csrf_token_are_refused(
    client: PortalClient, db_session: Session
) -> None:
    signed_in(client, db_session)
    client.get("/programmes/new")
    response = client.post("/programmes/new", data=form_data())
    assert response.status_code == 403
    response = client.post(
        "/programmes/validate", data=form_data(), headers={"HX-Trigger-Name": "title"}
    )
    assert response.status_code == 403
    assert db_session.scalar(select(Programme)) is None


# --- editing -------------------------------------------------------------------------------


def test_who_may_open_the_edit_form(client: PortalClient, db_session: Session) -> None:
    author = factories.member()
    published = factories.programme(author)
    draft = factories.programme(author, state="draft")
    cases: list[tuple[Member, int, int]] = [
        (factories.member(), published.id, 403),
        (factories.member(), draft.id, 404),
        (factories.coordinator(["FR"]), published.id, 403),
        (factories.coordinator(["FR"]), draft.id, 404),
        (factories.coordinator(["PT"]), draft.id, 200),
        (factories.coordinator(network=True), published.id, 200),
        (author, published.id, 200),
    ]
    for viewer, programme_id, expected in cases:
        client.cookies.clear()
        client.sign_in_as(db_session, viewer)
        db_session.commit()
        response = client.get(f"/programmes/{programme_id}/edit")
        assert response.status_code == expected, (viewer.email, programme_id)
        save = post(client, f"/programmes/{programme_id}/edit", form_data(), follow_redirects=False)
        # Allowed, but without the form's token: refused as a stale edit, nothing saved.
        assert save.status_code == (expected if expected != 200 else 409), viewer.email


def test_the_edit_form_starts_from_the_saved_content(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft", title="Safe Evenings")
    client.sign_in_as(db_session, author)
    db_session.commit()
    response = client.get(f"/programmes/{programme.id}/edit")
    assert response.status_code == 200
    base = service.editable_base(db_session, programme)
    assert TOKEN_PATTERN.search(response.text).group(1) == service.version_token(base)  # type: ignore[union-attr]
    assert 'value="Safe Evenings"' in response.text
    assert re.search(r'id="countries-PT"[^>]*value="PT"\s+checked', response.text)
    assert re.search(r'id="manual_available"[^>]*value="on"\s+checked', response.text)
    assert f'hx-post="/programmes/validate?programme_id={programme.id}"' in response.text


def test_saving_an_edit_keeps_unticked_boxes_and_goes_to_the_review_page(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    client.sign_in_as(db_session, author)
    db_session.commit()
    token = TOKEN_PATTERN.search(client.get(f"/programmes/{programme.id}/edit").text)
    assert token is not None
    data = form_data(title="Safe Families, revised", manual_available=False)
    response = post(
        client,
        f"/programmes/{programme.id}/edit",
        {**data, "token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/programmes/{programme.id}/review"
    version = service.editable_base(db_session, programme)
    db_session.refresh(version)
    assert version.data["title"] == "Safe Families, revised"
    assert version.data["manual_available"] is False
    assert "Your changes are saved." in client.get(response.headers["location"]).text


def test_a_stale_save_shows_what_changed_and_keeps_the_input(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    client.sign_in_as(db_session, author)
    db_session.commit()
    token = TOKEN_PATTERN.search(client.get(f"/programmes/{programme.id}/edit").text)
    assert token is not None
    path = f"/programmes/{programme.id}/edit"

    first = post(
        client,
        path,
        {**form_data(title="Saved by the first editor"), "token": token.group(1)},
        follow_redirects=False,
    )
    assert first.status_code == 303
    second = post(
        client,
        path,
        {**form_data(title="Typed by the second editor", cost="Free"), "token": token.group(1)},
    )
    assert second.status_code == 409
    page = second.text
    assert "Someone else saved this programme meanwhile" in page
    table = page.split('id="stale-changes"')[1].split("</table>")[0]
    row = re.search(r"<th scope=\"row\">Title</th>(.*?)</tr>", table, re.DOTALL)
    assert row is not None
    assert "Typed by the second editor" in row.group(1)
    assert "Saved by the first editor" in row.group(1)
    assert "Free" in table
    assert 'value="Typed by the second editor"' in page
    new_token = TOKEN_PATTERN.search(page)
    assert new_token is not None
    assert new_token.group(1) != token.group(1)
    base = service.editable_base(db_session, programme)
    db_session.refresh(base)
    assert new_token.group(1) == service.version_token(base)
    assert base.data["title"] == "Saved by the first editor"

    # Saving again with the new token overwrites knowingly.
    third = post(
        client,
        path,
        {**form_data(title="Typed by the second editor"), "token": new_token.group(1)},
        follow_redirects=False,
    )
    assert third.status_code == 303
    db_session.refresh(base)
    assert base.data["title"] == "Typed by the second editor"


def test_editing_a_published_programme_keeps_the_published_version_listed(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author, title="Listed Title")
    client.sign_in_as(db_session, author)
    db_session.commit()
    token = TOKEN_PATTERN.search(client.get(f"/programmes/{programme.id}/edit").text)
    assert token is not None
    response = post(
        client,
        f"/programmes/{programme.id}/edit",
        {**form_data(title="Edited Title"), "token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    db_session.refresh(programme)
    assert programme.title == "Listed Title"
    working = service.working_version(db_session, programme.id)
    assert working is not None
    assert working.data["title"] == "Edited Title"
    assert "stays visible" in client.get(response.headers["location"]).text


def test_retired_terms_on_the_record_stay_offered(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft", settings=["faith", "community"])
    vocabularies.retire_term(db_session, factories.admin(), "settings", "faith")
    client.sign_in_as(db_session, author)
    db_session.commit()
    edit = client.get(f"/programmes/{programme.id}/edit").text
    assert re.search(r'id="settings-faith"[^>]*value="faith"\s+checked', edit)
    assert 'id="settings-faith"' not in client.get("/programmes/new").text
    token = TOKEN_PATTERN.search(edit)
    assert token is not None
    response = post(
        client,
        f"/programmes/{programme.id}/edit",
        {**form_data(settings=["faith"]), "token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    # A new programme cannot choose it any more.
    refused = post(client, "/programmes/new", form_data(settings=["faith"]))
    assert refused.status_code == 422
    assert "faith" in field_error(refused.text, "settings")


# --- validation as you type ----------------------------------------------------------------


def validate(
    client: PortalClient, data: dict[str, Any], field: str, query: str = ""
) -> httpx.Response:
    return post(
        client,
        "/programmes/validate" + query,
        data,
        headers={"HX-Request": "true", "HX-Trigger-Name": field},
    )


def test_validation_returns_the_message_of_the_field_that_changed(
    client: PortalClient, db_session: Session
) -> None:
    signed_in(client, db_session)
    bad_email = validate(client, form_data(contact_email="nobody@", title=""), "contact_email")
    assert bad_email.status_code == 200
    assert "Enter an e-mail address such as name@example.org." in bad_email.text
    # Only that field's message: the empty title is not mentioned yet.
    assert "title" not in bad_email.text.lower()

    fine = validate(client, form_data(contact_email="team@example.org"), "contact_email")
    assert fine.status_code == 200
    assert "field__error" not in fine.text

    unknown = validate(client, form_data(countries=["XX"]), "countries")
    assert "Unknown code for countries: XX" in unknown.text


def test_validation_updates_related_fields_out_of_band(
    client: PortalClient, db_session: Session
) -> None:
    signed_in(client, db_session)
    response = validate(client, form_data(age_min="15", age_max="10"), "age_min")
    assert response.status_code == 200
    oob = re.search(r'<div id="age_max-error" hx-swap-oob="innerHTML">(.*?)</div>', response.text)
    assert oob is not None
    assert "The oldest age cannot be below the youngest." in oob.group(1)

    data = form_data()
    data["translations-0-language"] = "en"
    data["translations-0-title"] = "Same language"
    row = validate(client, data, "translations-0-title")
    assert "A translation must be in another language than the description." in row.text


def test_validation_of_an_edit_uses_the_record_and_its_permissions(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft", settings=["faith"])
    vocabularies.retire_term(db_session, factories.admin(), "settings", "faith")
    client.sign_in_as(db_session, author)
    db_session.commit()
    query = f"?programme_id={programme.id}"
    kept = validate(client, form_data(settings=["faith"]), "settings", query)
    assert kept.status_code == 200
    assert "field__error" not in kept.text
    refused = validate(client, form_data(settings=["faith"]), "settings")
    assert "Unknown code for settings: faith" in refused.text

    client.cookies.clear()
    signed_in(client, db_session)
    assert validate(client, form_data(), "title", query).status_code == 404
