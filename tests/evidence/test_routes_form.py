"""The evaluation form: create, edit, errors at their fields, outcome rows with and without htmx."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.evidence import service
from app.evidence.models import Evaluation
from app.programmes.models import Programme
from tests import factories
from tests.conftest import PortalClient
from tests.evidence.test_routes import as_form, post, publish, signed_in, text_of
from tests.evidence.test_service import evaluation_content

TOKEN_PATTERN = re.compile(r'name="token" value="([^"]+)"')


def form_data(programme: Programme, **overrides: Any) -> list[tuple[str, str]]:
    """The form as a browser sends it for valid content, outcomes as ``outcomes-<i>-<field>``."""
    values = evaluation_content(programme, **overrides)
    data: list[tuple[str, str]] = []
    for name, value in values.items():
        if name == "programme_ids":
            data.extend(("programme_ids", str(item)) for item in value)
        elif name == "authors":
            data.append(("authors", "\n".join(value)))
        elif name == "outcomes":
            for index, outcome in enumerate(value):
                data.extend(outcome_fields(index, outcome))
        else:
            data.append((name, "" if value is None else str(value)))
    return data


def outcome_fields(index: int, outcome: dict[str, Any]) -> list[tuple[str, str]]:
    fields = {"input_kind": "effect", **outcome}
    return [
        (f"outcomes-{index}-{name}", str(value))
        for name, value in fields.items()
        if not (name == "lower_is_better" and not value)
    ]


def latest(session: Session) -> Evaluation:
    found = session.scalars(select(Evaluation).order_by(Evaluation.id.desc()).limit(1)).first()
    assert found is not None
    return found


def error_at(page: str, field_id: str) -> str:
    """The message shown at a field, checking the input points to it."""
    match = re.search(rf'<p class="field__error" id="{re.escape(field_id)}-error">(.*?)</p>', page)
    assert match, f"no error at {field_id}"
    assert re.search(
        rf'id="{re.escape(field_id)}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*'
        rf"{re.escape(field_id)}-error",
        page,
        re.DOTALL,
    ), f"{field_id} does not point to its error"
    return text_of(match.group(1))


def input_value(page: str, field_id: str) -> str:
    match = re.search(
        rf'<input id="{re.escape(field_id)}" name="[^"]+" type="[^"]+" value="([^"]*)"', page
    )
    assert match, f"no input {field_id}"
    return match.group(1)


def is_checked(page: str, field_id: str) -> bool:
    return bool(re.search(rf'id="{re.escape(field_id)}"[^>]*\schecked', page))


# --- who sees which buttons ------------------------------------------------------------------


def test_researchers_publish_directly(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    form = client.get(f"/evaluations/new?programme_id={programme.id}")
    assert form.status_code == 200
    assert is_checked(form.text, f"programme_ids-{programme.id}")
    assert ">Publish</button>" in form.text
    assert "Submit for review" not in form.text
    response = post(client, "/evaluations/new", [*form_data(programme), ("action", "publish")])
    assert response.status_code == 303
    evaluation = latest(db_session)
    assert response.headers["location"] == f"/evaluations/{evaluation.id}"
    assert evaluation.status == "published"
    page = client.get(response.headers["location"])
    assert "The evaluation is published." in page.text
    assert "Weber, Anna; Costa, Rui" in page.text


def test_practitioners_submit_for_review(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="practitioner"))
    form = client.get("/evaluations/new")
    assert "Submit for review" in form.text
    response = post(client, "/evaluations/new", [*form_data(programme), ("action", "publish")])
    assert response.status_code == 303
    evaluation = latest(db_session)
    assert evaluation.status == "submitted"
    page = client.get(response.headers["location"])
    assert "Submitted for review" in page.text
    assert "waits for a coordinator's review" in text_of(page.text)


def test_save_as_draft(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    response = post(client, "/evaluations/new", [*form_data(programme), ("action", "draft")])
    assert response.status_code == 303
    evaluation = latest(db_session)
    assert evaluation.status == "draft"
    assert "Saved as a draft" in client.get(response.headers["location"]).text


def test_lapsed_members_cannot_add(client: PortalClient, db_session: Session) -> None:
    signed_in(client, db_session, factories.member(status="lapsed"))
    response = client.get("/evaluations/new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/membership")


# --- errors at their fields ------------------------------------------------------------------


def test_errors_are_shown_at_their_fields_with_the_input_kept(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    data = form_data(
        programme,
        year=str(date.today().year + 1),
        sample_size="-4",
        doi="not-a-doi",
        outcomes=[
            {
                "name": "Offending",
                "kind": "abuse_or_offending",
                "measure": "smd",
                "estimate": "0.9",
                "ci_low": "0.1",
                "ci_high": "0.5",
            },
            {
                "name": "Arrests",
                "kind": "abuse_or_offending",
                "measure": "odds_ratio",
                "estimate": "0",
                "ci_low": "-0.1",
                "ci_high": "0.8",
                "lower_is_better": "on",
            },
        ],
    )
    response = post(client, "/evaluations/new", [*data, ("action", "publish")])
    assert response.status_code == 422
    page = response.text
    assert "must contain the estimate" in error_at(page, "outcomes-0-estimate")
    assert "greater than zero" in error_at(page, "outcomes-1-estimate")
    assert "cannot be negative" in error_at(page, "sample_size")
    assert "future" in error_at(page, "year")
    assert "10.1000/xyz123" in error_at(page, "doi")
    assert 'id="error-summary"' in page
    assert 'href="#outcomes-1-estimate"' in page
    # Everything typed is still there.
    assert input_value(page, "doi") == "not-a-doi"
    assert input_value(page, "sample_size") == "-4"
    assert input_value(page, "outcomes-0-estimate") == "0.9"
    assert input_value(page, "outcomes-1-name") == "Arrests"
    assert is_checked(page, "outcomes-1-lower_is_better")
    assert not is_checked(page, "outcomes-0-lower_is_better")
    assert db_session.scalars(select(Evaluation)).first() is None


def test_blank_rows_are_left_out_and_errors_follow_the_rows_shown(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    data = [item for item in form_data(programme) if not item[0].startswith("outcomes-")]
    data += [
        ("outcomes-0-name", ""),
        ("outcomes-0-measure", "smd"),
        ("outcomes-0-input_kind", "effect"),
    ]
    data += outcome_fields(
        1, {"name": "Late row", "kind": "other", "measure": "smd", "estimate": "x"}
    )
    response = post(client, "/evaluations/new", [*data, ("action", "publish")])
    assert response.status_code == 422
    assert input_value(response.text, "outcomes-0-name") == "Late row"
    assert "Enter a number" in error_at(response.text, "outcomes-0-estimate")
    assert 'id="outcomes-1-name"' not in response.text


def test_an_evaluation_without_outcomes_can_be_saved(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    data = [item for item in form_data(programme) if not item[0].startswith("outcomes-")]
    response = post(client, "/evaluations/new", [*data, ("action", "publish")])
    assert response.status_code == 303
    assert "No outcome is recorded" in client.get(response.headers["location"]).text


# --- outcome rows without and with htmx ------------------------------------------------------


def test_adding_a_row_without_script_keeps_the_input(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    response = post(client, "/evaluations/new", [*form_data(programme), ("action", "add_outcome")])
    assert response.status_code == 200
    page = response.text
    assert input_value(page, "title") == "A randomised trial of Safe Families"
    assert input_value(page, "outcomes-0-name") == "Protective parenting practices"
    assert input_value(page, "outcomes-1-name") == ""
    assert re.search(r'id="outcomes-1-name"[^>]*autofocus', page)
    assert 'value="remove_outcome_1"' in page
    assert 'hx-post="/evaluations/outcome-row?index=2"' in page
    assert db_session.scalars(select(Evaluation)).first() is None


def test_removing_a_row_without_script_renumbers_the_rest(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    data = form_data(programme)
    data += outcome_fields(
        1,
        {
            "name": "Second outcome",
            "kind": "other",
            "measure": "smd",
            "estimate": "0.2",
            "ci_low": "0.1",
            "ci_high": "0.3",
        },
    )
    response = post(client, "/evaluations/new", [*data, ("action", "remove_outcome_0")])
    assert response.status_code == 200
    assert input_value(response.text, "outcomes-0-name") == "Second outcome"
    assert input_value(response.text, "outcomes-0-estimate") == "0.2"
    assert 'id="outcomes-1-name"' not in response.text
    # Removing the last row leaves an empty one.
    only = [item for item in data if not item[0].startswith("outcomes-1-")]
    response = post(client, "/evaluations/new", [*only, ("action", "remove_outcome_0")])
    assert input_value(response.text, "outcomes-0-name") == ""


def test_htmx_row_endpoints(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    headers = {"HX-Request": "true", "X-CSRF-Token": client.csrf_token()}
    row = client.post("/evaluations/outcome-row?index=2", headers=headers)
    assert row.status_code == 200
    assert "<html" not in row.text
    assert 'id="outcomes-2-name"' in row.text
    assert "Outcome 3" in row.text
    assert 'hx-swap-oob="true"' in row.text
    assert "/evaluations/outcome-row?index=3" in row.text
    assert client.post("/evaluations/outcome-row?index=999", headers=headers).status_code == 404
    data = form_data(programme)
    data += outcome_fields(1, {"name": "Kept", "kind": "other", "measure": "smd"})
    rows = client.post(
        "/evaluations/outcome-rows",
        data=as_form([*data, ("action", "remove_outcome_0")]),
        headers=headers,
    )
    assert rows.status_code == 200
    assert rows.text.lstrip().startswith("<section")
    assert 'id="outcomes"' in rows.text
    assert input_value(rows.text, "outcomes-0-name") == "Kept"
    assert 'id="outcomes-1-name"' not in rows.text
    client.cookies.clear()
    anonymous = client.post(
        "/evaluations/outcome-row?index=1",
        headers={"X-CSRF-Token": client.csrf_token()},
        follow_redirects=False,
    )
    assert anonymous.status_code == 303


# --- computed effects through the form -----------------------------------------------------------


def test_means_and_sds_become_an_effect_with_its_formula(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    data = [item for item in form_data(programme) if not item[0].startswith("outcomes-")]
    data += outcome_fields(
        0,
        {
            "name": "Knowledge",
            "kind": "knowledge_or_attitude",
            "measure": "smd",
            "input_kind": "continuous",
            "mean_t": "12.5",
            "sd_t": "3",
            "n_treatment": "40",
            "mean_c": "10",
            "sd_c": "3.2",
            "n_control": "42",
        },
    )
    data += outcome_fields(
        1,
        {
            "name": "Reports",
            "kind": "abuse_or_offending",
            "measure": "odds_ratio",
            "input_kind": "binary",
            "events_t": "0",
            "n_treatment": "30",
            "events_c": "4",
            "n_control": "31",
            "lower_is_better": "on",
        },
    )
    response = post(client, "/evaluations/new", [*data, ("action", "publish")])
    assert response.status_code == 303
    words = text_of(client.get(response.headers["location"]).text)
    assert "Hedges' g from means and standard deviations" in words
    assert "A continuity correction of 0.5 was added because a group had zero events." in words
    evaluation = latest(db_session)
    assert [outcome.input_kind for outcome in evaluation.outcomes] == ["continuous", "binary"]


def test_impossible_group_statistics_are_refused_at_their_field(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    signed_in(client, db_session, factories.member(member_type="researcher"))
    data = [item for item in form_data(programme) if not item[0].startswith("outcomes-")]
    data += outcome_fields(
        0,
        {
            "name": "Reports",
            "kind": "abuse_or_offending",
            "measure": "risk_ratio",
            "input_kind": "binary",
            "events_t": "40",
            "n_treatment": "30",
            "events_c": "4",
            "n_control": "31",
        },
    )
    response = post(client, "/evaluations/new", [*data, ("action", "publish")])
    assert response.status_code == 422
    assert "cannot exceed" in error_at(response.text, "outcomes-0-events_t")


# --- editing -----------------------------------------------------------------------------------


def test_the_author_edits_and_a_stale_edit_keeps_the_input(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(countries=["DE"])
    researcher = factories.member(member_type="researcher")
    evaluation = publish(programme, researcher)
    signed_in(client, db_session, researcher)
    form = client.get(f"/evaluations/{evaluation.id}/edit")
    assert form.status_code == 200
    assert input_value(form.text, "title") == "A randomised trial of Safe Families"
    assert input_value(form.text, "outcomes-0-estimate") == "0.4"
    token_match = TOKEN_PATTERN.search(form.text)
    assert token_match
    token = token_match.group(1)
    # A coordinator saves meanwhile.
    base = service.editable_base(db_session, evaluation)
    service.save(
        db_session,
        factories.coordinator(["DE"]),
        evaluation,
        evaluation_content(programme, title="Coordinator's title"),
        service.version_token(base),
    )
    db_session.commit()
    data = form_data(programme, title="My better title")
    stale = post(
        client,
        f"/evaluations/{evaluation.id}/edit",
        [*data, ("token", token), ("action", "publish")],
    )
    assert stale.status_code == 409
    assert 'id="stale-notice"' in stale.text
    assert input_value(stale.text, "title") == "My better title"
    new_token = TOKEN_PATTERN.search(stale.text)
    assert new_token
    assert new_token.group(1) != token
    saved = post(
        client,
        f"/evaluations/{evaluation.id}/edit",
        [*data, ("token", new_token.group(1)), ("action", "publish")],
    )
    assert saved.status_code == 303
    db_session.refresh(evaluation)
    assert evaluation.title == "My better title"


def test_a_practitioners_edit_of_a_published_evaluation_waits_for_review(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(countries=["DE"])
    practitioner = factories.member(member_type="practitioner")
    evaluation = service.create(db_session, practitioner, evaluation_content(programme))
    service.review(db_session, factories.coordinator(["DE"]), evaluation, "approve", "")
    signed_in(client, db_session, practitioner)
    form = client.get(f"/evaluations/{evaluation.id}/edit")
    token_match = TOKEN_PATTERN.search(form.text)
    assert token_match
    response = post(
        client,
        f"/evaluations/{evaluation.id}/edit",
        [
            *form_data(programme, title="Edited title"),
            ("token", token_match.group(1)),
            ("action", "publish"),
        ],
    )
    assert response.status_code == 303
    db_session.refresh(evaluation)
    assert evaluation.title == "A randomised trial of Safe Families"
    page = client.get(response.headers["location"])
    assert "the published version stays" in page.text
    assert f'href="/evaluations/{evaluation.id}?version=2"' in page.text
    assert "Edited title" in client.get(f"/evaluations/{evaluation.id}?version=2").text
    client.cookies.clear()
    assert client.get(f"/evaluations/{evaluation.id}?version=2").status_code == 404


def test_other_members_cannot_edit(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    evaluation = publish(programme)
    signed_in(client, db_session)
    assert client.get(f"/evaluations/{evaluation.id}/edit").status_code == 403
    response = post(
        client, f"/evaluations/{evaluation.id}/edit", [*form_data(programme), ("action", "publish")]
    )
    assert response.status_code == 403
