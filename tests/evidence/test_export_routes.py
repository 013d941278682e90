"""Reference downloads: one evaluation, a programme's evidence and the filtered evidence list."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rispy  # type: ignore[import-untyped]
from bibtexparser.entrypoint import parse_string
from sqlalchemy.orm import Session

from app.evidence import citations, export_routes, service
from app.evidence.models import Evaluation
from app.members.models import Member
from app.programmes.models import Programme
from app.web import templates
from tests import factories
from tests.conftest import PortalClient
from tests.evidence.test_service import evaluation_content

CONTENT_TYPES = {
    "bib": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "json": "application/vnd.citationstyles.csl+json",
}


def _researcher() -> Member:
    return factories.member(member_type="researcher")


def _publish(session: Session, programme: Programme, **overrides: Any) -> Evaluation:
    return service.create(session, _researcher(), evaluation_content(programme, **overrides))


def _bib_titles(text: str) -> list[str]:
    library = parse_string(text)
    assert library.failed_blocks == []
    return [entry.fields_dict["title"].value.strip("{}") for entry in library.entries]


@pytest.mark.parametrize("extension", ["bib", "ris", "json"])
def test_one_evaluation_downloads_in_each_format(
    client: PortalClient, db_session: Session, extension: str
) -> None:
    evaluation = _publish(db_session, factories.programme())

    response = client.get(f"/evaluations/{evaluation.id}/cite.{extension}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(CONTENT_TYPES[extension])
    assert response.headers["content-disposition"] == (
        f'attachment; filename="weber2021randomised.{extension}"'
    )
    if extension == "bib":
        assert _bib_titles(response.text) == ["A randomised trial of Safe Families"]
    elif extension == "ris":
        assert b"\r\nER  - \r\n" in response.content
        (record,) = rispy.loads(response.text)
        assert record["doi"] == "10.1234/jps.2021.77"
    else:
        (item,) = json.loads(response.content)
        assert item["id"] == "weber2021randomised"
        assert item["DOI"] == "10.1234/jps.2021.77"


def test_unknown_format_and_unknown_evaluation_are_not_found(
    client: PortalClient, db_session: Session
) -> None:
    evaluation = _publish(db_session, factories.programme())
    db_session.commit()  # a 404 rolls back the request's work, not the test's data

    assert client.get(f"/evaluations/{evaluation.id}/cite.pdf").status_code == 404
    assert client.get(f"/evaluations/{evaluation.id + 1000}/cite.bib").status_code == 404
    assert client.get("/evaluations/99999999999999999999999/cite.bib").status_code == 404


def test_members_only_and_unpublished_evaluations_are_hidden_from_others(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    members_only = _publish(db_session, programme, visibility="members")
    practitioner = factories.member(member_type="practitioner")
    submitted = service.create(
        db_session, practitioner, evaluation_content(programme, title="Waiting for review")
    )
    assert submitted.status == "submitted"
    db_session.commit()

    assert client.get(f"/evaluations/{members_only.id}/cite.bib").status_code == 404
    assert client.get(f"/evaluations/{submitted.id}/cite.ris").status_code == 404

    client.sign_in_as(db_session, factories.member())
    assert client.get(f"/evaluations/{members_only.id}/cite.bib").status_code == 200
    assert client.get(f"/evaluations/{submitted.id}/cite.ris").status_code == 404

    # Its author can cite the evaluation while it waits.
    client.sign_in_as(db_session, practitioner)
    assert client.get(f"/evaluations/{submitted.id}/cite.ris").status_code == 200


def test_programme_evidence_holds_what_the_viewer_may_see(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(title="Límites Claros")
    other = factories.programme(title="Another programme")
    _publish(db_session, programme, title="A public trial")
    _publish(db_session, programme, title="A members-only trial", visibility="members")
    _publish(db_session, other, title="A trial of another programme")
    unpublished = _publish(db_session, programme, title="A withdrawn trial")
    service.unpublish(db_session, factories.admin(), unpublished, "Errors in the tables.")
    db_session.commit()

    anonymous = client.get(f"/programmes/{programme.id}/evidence.bib")
    assert anonymous.status_code == 200
    assert anonymous.headers["content-type"].startswith(CONTENT_TYPES["bib"])
    assert anonymous.headers["content-disposition"] == (
        'attachment; filename="limites-claros-evidence.bib"'
    )
    assert _bib_titles(anonymous.text) == ["A public trial"]

    client.sign_in_as(db_session, factories.member())
    as_member = client.get(f"/programmes/{programme.id}/evidence.json")
    assert as_member.headers["content-type"] == CONTENT_TYPES["json"]
    assert sorted(item["title"] for item in json.loads(as_member.content)) == [
        "A members-only trial",
        "A public trial",
    ]
    ris = client.get(f"/programmes/{programme.id}/evidence.ris")
    assert len(rispy.loads(ris.text)) == 2
    assert client.get(f"/programmes/{programme.id}/evidence.txt").status_code == 404


def test_programme_evidence_of_a_programme_nobody_may_see_is_not_found(
    client: PortalClient, db_session: Session
) -> None:
    members_programme = factories.programme(visibility="members")
    draft = factories.programme(state="draft")
    db_session.commit()

    assert client.get(f"/programmes/{members_programme.id}/evidence.bib").status_code == 404
    assert client.get(f"/programmes/{draft.id}/evidence.bib").status_code == 404
    client.sign_in_as(db_session, factories.member())
    assert client.get(f"/programmes/{members_programme.id}/evidence.bib").status_code == 200


def test_export_of_the_list_applies_the_filters(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    _publish(db_session, programme, title="Trial one", design="rct", year=2019)
    _publish(db_session, programme, title="Trial two", design="cluster_rct", year=2020)
    _publish(db_session, programme, title="Members trial", design="rct", visibility="members")
    _publish(db_session, programme, title="Pre and post", design="pre_post", year=2018)
    db_session.commit()

    everything = client.get("/evaluations/export.bib")
    assert everything.status_code == 200
    assert everything.headers["content-disposition"] == 'attachment; filename="evaluations.bib"'
    assert set(_bib_titles(everything.text)) >= {"Trial one", "Trial two", "Pre and post"}
    assert "Members trial" not in _bib_titles(everything.text)

    rct = client.get("/evaluations/export.json", params={"design": "rct"})
    assert rct.headers["content-type"] == CONTENT_TYPES["json"]
    assert [item["title"] for item in json.loads(rct.content)] == ["Trial one"]

    both = client.get(
        "/evaluations/export.ris",
        params=[("design", "rct"), ("design", "cluster_rct"), ("year_from", "2020")],
    )
    assert [record["title"] for record in rispy.loads(both.text)] == ["Trial two"]
    text = client.get("/evaluations/export.bib", params={"q": "pre and", "sort": "title"})
    assert _bib_titles(text.text) == ["Pre and post"]

    client.sign_in_as(db_session, factories.member())
    as_member = client.get("/evaluations/export.bib", params={"design": "rct"})
    assert sorted(_bib_titles(as_member.text)) == ["Members trial", "Trial one"]
    assert client.get("/evaluations/export.csv").status_code == 404


def test_export_of_the_list_is_capped(
    client: PortalClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme = factories.programme()
    for year in (2015, 2016, 2017):
        _publish(db_session, programme, title=f"Capped {year}", year=year)
    monkeypatch.setattr(export_routes, "EXPORT_LIMIT", 2)

    response = client.get("/evaluations/export.json", params={"q": "Capped"})

    assert [item["title"] for item in json.loads(response.content)] == [
        "Capped 2017",
        "Capped 2016",
    ]


def test_export_route_is_not_taken_for_an_evaluation_id(client: PortalClient) -> None:
    # /evaluations/{id} takes digits only: "export.bib" reaches the export, for every format.
    for extension in CONTENT_TYPES:
        response = client.get(f"/evaluations/export.{extension}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(CONTENT_TYPES[extension])


def test_cite_block_shows_the_reference_and_the_downloads(db_session: Session) -> None:
    evaluation = _publish(db_session, factories.programme(), title="Costs & benefits <of> care")

    html = templates.get_template("evidence/_cite.html").render(evaluation=evaluation)

    assert "<h2" in html
    assert "Cite this" in html
    # Escaped once: the reference is text, never markup.
    assert "Costs &amp; benefits &lt;of&gt; care." in html
    assert (
        citations.cite_text(evaluation)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        in html
    )
    for extension, label in (("bib", "BibTeX"), ("ris", "RIS"), ("json", "CSL-JSON")):
        assert f'href="/evaluations/{evaluation.id}/cite.{extension}"' in html
        assert f">{label}</a>" in html
