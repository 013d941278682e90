"""The evidence pages: the list, an evaluation, its workflow actions and the review queue."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.evidence import service
from app.evidence.models import Evaluation
from app.members.models import Member
from app.programmes.models import Programme
from tests import factories
from tests.conftest import PortalClient
from tests.evidence.test_service import evaluation_content


def signed_in(client: PortalClient, session: Session, member: Member | None = None) -> Member:
    member = member or factories.member()
    client.sign_in_as(session, member)
    # Committed (a savepoint): a refused request rolls back only what it did itself.
    session.commit()
    return member


def post(client: PortalClient, path: str, data: Any, **kwargs: Any) -> httpx.Response:
    data = {"csrf_token": client.csrf_token(), **as_form(data)}
    kwargs.setdefault("follow_redirects", False)
    response: httpx.Response = client.post(path, data=data, **kwargs)
    return response


def as_form(data: Any) -> dict[str, Any]:
    """Form fields as httpx sends them: pairs (a field may repeat) become lists."""
    if isinstance(data, dict):
        return data
    fields: dict[str, list[str]] = {}
    for name, value in data:
        fields.setdefault(name, []).append(value)
    return fields


def text_of(page: str) -> str:
    """The page's words without markup, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def publish(programme: Programme, author: Member | None = None, **overrides: Any) -> Evaluation:
    researcher = author or factories.member(member_type="researcher")
    return service.create(
        factories._current_session(), researcher, evaluation_content(programme, **overrides)
    )


def submit(programme: Programme, author: Member | None = None, **overrides: Any) -> Evaluation:
    practitioner = author or factories.member(member_type="practitioner")
    return service.create(
        factories._current_session(), practitioner, evaluation_content(programme, **overrides)
    )


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_citations_badges_programmes_and_counts(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    evaluation = publish(programme)
    db_session.commit()
    page = client.get("/evaluations")
    assert page.status_code == 200
    body = page.text
    assert f'href="/evaluations/{evaluation.id}"' in body
    assert "Weber, Anna; Costa, Rui" in body
    assert 'href="https://doi.org/10.1234/jps.2021.77"' in body
    assert "Randomised controlled trial" in body
    assert "Risk of bias: Low" in body
    assert f'href="/programmes/{programme.id}"' in body
    assert "1 evaluation" in text_of(body)
    assert 'href="/evaluations/export.bib"' in body
    assert "Add an evaluation" not in body  # anonymous


def test_the_list_filters_and_keeps_the_query_in_export_links(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    publish(programme, title="German trial", country="DE")
    publish(programme, title="Portuguese trial", country="PT", design="quasi_experimental")
    db_session.commit()
    page = client.get("/evaluations?country=PT&sort=title")
    assert "Portuguese trial" in page.text
    assert "German trial" not in page.text
    assert 'href="/evaluations/export.ris?country=PT&amp;sort=title"' in page.text
    assert '<option value="PT" selected>' in page.text
    fragment = client.get("/evaluations?design=rct", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "German trial" in fragment.text
    assert "Portuguese trial" not in fragment.text
    assert 'id="evidence-count" hx-swap-oob="innerHTML"' in fragment.text
    assert "No evaluation matches" in client.get("/evaluations?q=nothing-like-this").text


def test_anonymous_readers_never_see_members_only_evaluations(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    publish(programme, title="Open study")
    hidden = publish(programme, title="Members study", visibility="members")
    db_session.commit()
    page = client.get("/evaluations")
    assert "Open study" in page.text
    assert "Members study" not in page.text
    assert "1 evaluation" in text_of(page.text)
    assert client.get(f"/evaluations/{hidden.id}").status_code == 404
    signed_in(client, db_session)
    member_page = client.get("/evaluations")
    assert "Members study" in member_page.text
    assert "2 evaluations" in text_of(member_page.text)
    assert client.get(f"/evaluations/{hidden.id}").status_code == 200


def test_the_list_pages(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    for number in range(21):
        publish(programme, title=f"Study number {number}", year=2000 + number)
    db_session.commit()
    first = client.get("/evaluations")
    assert "Study number 20" in first.text
    assert "Study number 0<" not in first.text
    assert 'href="/evaluations?page=2"' in first.text
    second = client.get("/evaluations?page=2")
    assert "Study number 0<" in second.text


# --- the evaluation page -----------------------------------------------------------------------


def test_the_evaluation_page_shows_the_study_and_its_outcomes(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    evaluation = publish(
        programme,
        abstract="First line.\nSecond line.",
        outcomes=[
            {
                "name": "Protective parenting practices",
                "kind": "risk_or_protective_factor",
                "measure": "smd",
                "input_kind": "effect",
                "estimate": "0.40",
                "ci_low": "0.15",
                "ci_high": "0.65",
                "n_treatment": "120",
                "n_control": "118",
            },
            {
                "name": "Offending",
                "kind": "abuse_or_offending",
                "measure": "odds_ratio",
                "input_kind": "effect",
                "estimate": "1.2",
                "ci_low": "1.05",
                "ci_high": "1.5",
                "lower_is_better": "on",
            },
        ],
    )
    db_session.commit()
    page = client.get(f"/evaluations/{evaluation.id}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "A randomised trial of Safe Families" in words
    assert "First line.\nSecond line." in page.text
    assert "0.40 (0.15 to 0.65)" in words
    assert "Programme: 120, comparison: 118" in words
    assert "Favourable" in words
    assert "Harmful" in words  # OR above 1 when lower is better
    assert "Lower is better" in words
    assert "12 months" in words
    assert f'href="/programmes/{programme.id}"' in page.text
    assert "Cite this" in words  # the citation partial
    assert "How the effects were computed" not in words
    assert 'id="edit-link"' not in page.text


def test_a_computed_effect_shows_its_formula(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    evaluation = publish(
        programme,
        outcomes=[
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
            {
                "name": "Disclosure",
                "kind": "abuse_or_offending",
                "measure": "risk_ratio",
                "input_kind": "binary",
                "events_t": "0",
                "n_treatment": "50",
                "events_c": "6",
                "n_control": "50",
                "lower_is_better": "on",
            },
        ],
    )
    db_session.commit()
    words = text_of(client.get(f"/evaluations/{evaluation.id}").text)
    assert "How the effects were computed" in words
    assert "Hedges' g from means and standard deviations" in words
    assert "(12.5 \N{MINUS SIGN} 10)" in words
    assert "Risk ratio: RR = (a / n₁) / (c / n₂)" in words
    assert "A continuity correction of 0.5 was added because a group had zero events." in words


def test_versions_are_listed_and_readable(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    researcher = factories.member(member_type="researcher")
    evaluation = publish(programme, researcher)
    base = service.editable_base(db_session, evaluation)
    service.save(
        db_session,
        researcher,
        evaluation,
        evaluation_content(programme, title="The corrected title"),
        service.version_token(base),
    )
    db_session.commit()
    page = client.get(f"/evaluations/{evaluation.id}")
    assert "The corrected title" in page.text
    assert f'href="/evaluations/{evaluation.id}?version=1"' in page.text
    first = client.get(f"/evaluations/{evaluation.id}?version=1")
    assert "A randomised trial of Safe Families" in first.text
    assert client.get(f"/evaluations/{evaluation.id}?version=9").status_code == 404
    assert client.get(f"/evaluations/{evaluation.id}?version=x").status_code == 404


def test_drafts_of_others_are_not_found(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    author = factories.member(member_type="practitioner")
    submitted = submit(programme, author)
    db_session.commit()
    assert client.get(f"/evaluations/{submitted.id}").status_code == 404
    signed_in(client, db_session)
    assert client.get(f"/evaluations/{submitted.id}").status_code == 404
    assert client.get(f"/evaluations/{submitted.id}/edit").status_code == 404
    signed_in(client, db_session, author)
    page = client.get(f"/evaluations/{submitted.id}")
    assert page.status_code == 200
    assert "waits for a coordinator's review" in text_of(page.text)
    assert 'id="edit-link"' in page.text
    assert 'id="review-form"' not in page.text


# --- review, unpublish, republish ---------------------------------------------------------------


def test_a_coordinator_of_the_country_approves(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme(countries=["DE"])
    evaluation = submit(programme, country="DE")
    coordinator = signed_in(client, db_session, factories.coordinator(["DE"]))
    page = client.get(f"/evaluations/{evaluation.id}")
    assert 'id="review-form"' in page.text
    queue = client.get("/coordinate/evaluations")
    assert queue.status_code == 200
    assert f'href="/evaluations/{evaluation.id}"' in queue.text
    assert "1 evaluation waits for review" in text_of(queue.text)
    response = post(
        client, f"/evaluations/{evaluation.id}/review", {"decision": "approve", "comment": ""}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/evaluations/{evaluation.id}"
    db_session.refresh(evaluation)
    assert evaluation.status == "published"
    assert "Approved: version 1 is published." in client.get(response.headers["location"]).text
    assert coordinator.id
    assert "Nothing waits for review" in client.get("/coordinate/evaluations").text


def test_rejecting_needs_a_comment_and_tells_the_author(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(countries=["DE"])
    author = factories.member(member_type="practitioner")
    evaluation = submit(programme, author, country="DE")
    signed_in(client, db_session, factories.coordinator(["DE"]))
    refused = post(client, f"/evaluations/{evaluation.id}/review", {"decision": "reject"})
    assert refused.status_code == 422
    assert 'id="comment-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    response = post(
        client,
        f"/evaluations/{evaluation.id}/review",
        {"decision": "reject", "comment": "The confidence intervals are not from the paper."},
    )
    assert response.status_code == 303
    db_session.refresh(evaluation)
    assert evaluation.status == "rejected"
    signed_in(client, db_session, author)
    page = text_of(client.get(f"/evaluations/{evaluation.id}").text)
    assert "did not accept" in page
    assert "The confidence intervals are not from the paper." in page
    again = post(client, f"/evaluations/{evaluation.id}/review", {"decision": "approve"})
    assert again.status_code == 403


def test_a_coordinator_of_another_country_cannot_review(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(countries=["DE"])
    evaluation = submit(programme, country="DE")
    published = publish(programme, country="DE")
    signed_in(client, db_session, factories.coordinator(["FR"]))
    assert client.get(f"/evaluations/{evaluation.id}").status_code == 404
    assert "Nothing waits for review" in client.get("/coordinate/evaluations").text
    response = post(client, f"/evaluations/{evaluation.id}/review", {"decision": "approve"})
    assert response.status_code == 404
    page = client.get(f"/evaluations/{published.id}")
    assert 'id="unpublish-form"' not in page.text
    refused = post(client, f"/evaluations/{published.id}/unpublish", {"reason": "No"})
    assert refused.status_code == 403
    assert client.get(f"/evaluations/{published.id}/edit").status_code == 403


def test_unpublish_with_a_reason_and_republish(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme(countries=["PT"])
    evaluation = publish(programme, country="PT", title="Retractable study")
    signed_in(client, db_session, factories.coordinator(["PT"]))
    page = client.get(f"/evaluations/{evaluation.id}")
    assert 'id="unpublish-form"' in page.text
    missing = post(client, f"/evaluations/{evaluation.id}/unpublish", {"reason": " "})
    assert missing.status_code == 422
    assert 'id="reason-error"' in missing.text
    response = post(
        client, f"/evaluations/{evaluation.id}/unpublish", {"reason": "The paper was retracted."}
    )
    assert response.status_code == 303
    db_session.refresh(evaluation)
    assert evaluation.status == "unpublished"
    page = text_of(client.get(f"/evaluations/{evaluation.id}").text)
    assert "was unpublished" in page
    assert "The paper was retracted." in page
    assert "Retractable study" not in client.get("/evaluations").text
    response = post(client, f"/evaluations/{evaluation.id}/republish", {})
    assert response.status_code == 303
    db_session.refresh(evaluation)
    assert evaluation.status == "published"
    twice = post(client, f"/evaluations/{evaluation.id}/republish", {})
    assert twice.status_code == 409
    client.cookies.clear()
    assert client.get(f"/evaluations/{evaluation.id}").status_code == 200


def test_anonymous_actions_go_to_sign_in(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    evaluation = publish(programme)
    db_session.commit()
    for path in ("/evaluations/new", f"/evaluations/{evaluation.id}/edit"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?" + urlencode({"next": path})
    response = post(client, f"/evaluations/{evaluation.id}/unpublish", {"reason": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    assert client.get("/coordinate/evaluations", follow_redirects=False).status_code == 303


def test_members_cannot_open_the_queue(client: PortalClient, db_session: Session) -> None:
    signed_in(client, db_session)
    assert client.get("/coordinate/evaluations").status_code == 403


@pytest.mark.parametrize("network", [True, False])
def test_the_queue_scope(client: PortalClient, db_session: Session, network: bool) -> None:
    in_pt = factories.programme(countries=["PT"])
    evaluation = submit(in_pt, country="ES", title="Spanish sample")
    coordinator = factories.coordinator(None if network else ["PT"], network=network)
    signed_in(client, db_session, coordinator)
    queue = client.get("/coordinate/evaluations")
    assert "Spanish sample" in queue.text
    assert f'href="/evaluations/{evaluation.id}"' in queue.text


def test_lapsed_members_see_what_the_public_sees(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    publish(programme, title="Open study")
    hidden = publish(programme, title="Members study", visibility="members")
    signed_in(client, db_session, factories.member(status="lapsed"))
    page = client.get("/evaluations")
    assert "Open study" in page.text
    assert "Members study" not in page.text
    assert "1 evaluation" in text_of(page.text)
    assert client.get(f"/evaluations/{hidden.id}").status_code == 404
    assert client.get("/evaluations?q=Members").text.count("evidence-item__title") == 0


def test_pages_render_as_htmx_fragments(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme(countries=["DE"])
    evaluation = publish(programme)
    signed_in(client, db_session, factories.coordinator(["DE"]))
    headers = {"HX-Request": "true"}
    for path in (
        f"/evaluations/{evaluation.id}",
        f"/evaluations/{evaluation.id}/edit",
        "/evaluations/new",
        "/coordinate/evaluations",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert "<html" not in response.text, path
        assert "<h1>" in response.text, path
    assert 'href="/coordinate/evaluations"' in client.get("/coordinate").text
    assert 'href="/evaluations"' in client.get("/").text  # the main navigation


def test_the_list_reads_a_fixed_number_of_queries(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    other = factories.programme(title="Second programme")
    for number in range(6):
        publish(programme, title=f"Study {number}", programme_ids=[programme.id, other.id])
    db_session.commit()
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get("/evaluations")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.status_code == 200
    assert page.text.count('class="evidence-item"') == 6
    selects = [statement for statement in statements if statement.lstrip().startswith("SELECT")]
    assert 3 <= len(selects) <= 6, selects
