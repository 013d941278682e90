"""Exports of a search's result set: /search/export.csv and /search/export.json."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import build_engine, make_session_factory
from app.evidence import service as evidence_service
from app.main import create_app
from app.search import engine as search_engine
from app.search import export_routes
from tests import factories
from tests.conftest import PortalClient, alembic_config, portal_settings
from tests.evidence.test_service import evaluation_content
from tests.search.test_api import catalogue

CSV = "/search/export.csv"
JSON = "/search/export.json"


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert not response.content.startswith(b"\xef\xbb\xbf")  # no byte order mark
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def json_body(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(response.content)
    return body


def test_csv_holds_the_public_results_for_anonymous_visitors(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    response = client.get(CSV, params={"country": "DE"})
    rows = csv_rows(response)
    assert [row["id"] for row in rows] == [str(made.parents_de.id)]
    [row] = rows
    assert row["title"] == "Safe Families"
    assert row["url"] == f"http://127.0.0.1:8000/programmes/{made.parents_de.id}"
    assert row["countries"] == "DE; PT"
    assert row["countries_labels"] == "Germany; Portugal"
    assert row["target_groups"] == "parents"
    assert row["prevention_level"] == "primary"
    assert row["rating"] == "not_rated"
    assert row["rating_label"] == "Not yet rated"
    assert response.headers["content-disposition"].startswith('attachment; filename="search-')
    assert response.headers["content-disposition"].endswith('.csv"')
    assert response.headers["x-portal-truncated"] == "false"
    assert response.headers["x-portal-total"] == "1"
    assert "private" in response.headers["cache-control"]

    everything = csv_rows(client.get(CSV))
    assert {row["title"] for row in everything} == {"Safe Families", "Clear Limits at School"}


def test_members_export_members_only_records_too(client: PortalClient, db_session: Session) -> None:
    made = catalogue(db_session)
    client.sign_in_as(db_session, factories.member())
    rows = csv_rows(client.get(CSV, params={"target_group": "parents"}))
    assert {row["id"] for row in rows} == {str(made.parents_de.id), str(made.hidden_de.id)}
    body = json_body(client.get(JSON, params={"target_group": "parents"}))
    assert {item["id"] for item in body["results"]} == {made.parents_de.id, made.hidden_de.id}
    assert body["total"] == body["exported"] == 2


def test_json_is_a_wrapped_array_with_codes_and_labels(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    response = client.get(JSON, params={"q": "boundaries"})
    body = json_body(response)
    assert response.headers["content-disposition"].endswith('.json"')
    assert body["type"] == "programme"
    assert (body["total"], body["exported"], body["truncated"]) == (1, 1, False)
    [item] = body["results"]
    assert item["id"] == made.schools_pt.id
    assert item["title"] == "Clear Limits at School"
    assert item["countries"] == [{"code": "PT", "label": "Portugal"}]
    assert item["prevention_level"] == {
        "code": "secondary",
        "label": "Secondary (people or settings at risk)",
    }
    assert item["rating"] == {"code": "not_rated", "label": "Not yet rated"}
    # The anonymous export has nothing members-only.
    everything = json_body(client.get(JSON))
    assert made.hidden_de.id not in {item["id"] for item in everything["results"]}
    assert everything["total"] == 2


def test_an_empty_result_is_still_valid_csv_and_json(
    client: PortalClient, db_session: Session
) -> None:
    catalogue(db_session)
    response = client.get(CSV, params={"q": "nothing matches this"})
    assert csv_rows(response) == []
    header = next(csv.reader(io.StringIO(response.text)))
    assert header[:3] == ["id", "title", "url"]
    body = json_body(client.get(JSON, params={"q": "nothing matches this"}))
    assert body["results"] == []
    assert (body["total"], body["exported"], body["truncated"]) == (0, 0, False)


def test_cells_that_look_like_formulas_are_escaped(
    client: PortalClient, db_session: Session
) -> None:
    factories.programme(title="=HYPERLINK(evil)", summary="+1 then -2 and @home")
    factories.programme(title="@Sum of risks", summary="-minus first")
    db_session.flush()
    rows = csv_rows(client.get(CSV))
    cells = {(row["title"], row["summary"]) for row in rows}
    assert cells == {
        ("'=HYPERLINK(evil)", "'+1 then -2 and @home"),
        ("'@Sum of risks", "'-minus first"),
    }
    # JSON is data, not a spreadsheet: left as it is.
    body = json_body(client.get(JSON))
    assert {item["title"] for item in body["results"]} == {"=HYPERLINK(evil)", "@Sum of risks"}


def test_the_export_is_capped_and_says_so(
    client: PortalClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue(db_session)
    factories.programme(title="Fourth", countries=["PT"])
    db_session.flush()
    monkeypatch.setattr(export_routes, "EXPORT_LIMIT", 2)
    monkeypatch.setattr(export_routes, "CHUNK", 1)  # and read in several chunks
    response = client.get(CSV)
    assert len(csv_rows(response)) == 2
    assert response.headers["x-portal-truncated"] == "true"
    assert response.headers["x-portal-total"] == "3"
    body = json_body(client.get(JSON))
    assert (body["total"], body["exported"], body["truncated"]) == (3, 2, True)
    assert len(body["results"]) == 2
    # The rows come in the order of the search (strongest evidence, then newest first).
    first_page = client.get("/api/v1/search", params={"per_page": 2}).json()
    assert [item["id"] for item in body["results"]] == [
        item["id"] for item in first_page["results"]
    ]


def test_more_rows_than_a_chunk_come_out_whole_and_in_order(
    client: PortalClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = factories.member()
    for number in range(7):
        factories.programme(author, title=f"Programme {number}")
    db_session.flush()
    monkeypatch.setattr(export_routes, "CHUNK", 3)
    expected = [
        item["id"]
        for item in client.get("/api/v1/search", params={"per_page": 100}).json()["results"]
    ]
    rows = csv_rows(client.get(CSV))
    assert [int(row["id"]) for row in rows] == expected
    body = json_body(client.get(JSON))
    assert [item["id"] for item in body["results"]] == expected
    assert body["exported"] == 7


def test_evaluations_export_with_labels_and_visible_programmes(
    client: PortalClient, db_session: Session
) -> None:
    made = catalogue(db_session)
    researcher = factories.member(member_type="researcher")
    evaluation = evidence_service.create(
        db_session,
        researcher,
        evaluation_content(made.parents_de, programme_ids=[made.parents_de.id, made.hidden_de.id]),
    )
    db_session.flush()
    [row] = csv_rows(client.get(CSV, params={"type": "evaluation"}))
    assert row["id"] == str(evaluation.id)
    assert row["url"].endswith(f"/evaluations/{evaluation.id}")
    assert (row["year"], row["design"], row["country"]) == ("2021", "rct", "DE")
    assert row["design_label"] == "Randomised controlled trial"
    assert row["country_label"] == "Germany"
    assert row["authors"] == "Weber, Anna; Costa, Rui"
    assert row["outcome_kinds"] == "risk_or_protective_factor"
    assert row["programme_ids"] == str(made.parents_de.id)  # not the members-only one
    body = json_body(client.get(JSON, params={"type": "evaluation"}))
    assert body["results"][0]["design"]["code"] == "rct"


def test_members_and_organisations_export_for_members_only(
    client: PortalClient, db_session: Session
) -> None:
    factories.member(full_name="Ana Ribeiro", country="PT")
    factories.member(
        full_name="Jonas Hidden", country="LT", profile_visibility={"country": "coordinators"}
    )
    factories.organisation(name="Instituto Aurora", country="PT", organisation_type="ngo")
    db_session.commit()

    refused = client.get(CSV, params={"type": "member"}, follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/sign-in")

    client.sign_in_as(db_session, factories.member())
    people = {row["title"]: row for row in csv_rows(client.get(CSV, params={"type": "member"}))}
    assert people["Ana Ribeiro"]["country"] == "PT"
    assert people["Jonas Hidden"]["country"] == ""  # shown to coordinators only
    assert people["Ana Ribeiro"]["url"].endswith(f"/directory/{people['Ana Ribeiro']['id']}")
    places = json_body(client.get(JSON, params={"type": "organisation", "q": "aurora"}))
    [place] = places["results"]
    assert place["title"] == "Instituto Aurora"
    assert place["organisation_type"] == {
        "code": "ngo",
        "label": "Non-governmental organisation",
    }


def test_without_the_test_session_the_body_streams_from_its_own_session(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production path: the request's session is closed before the body starts, so the
    body is read through a session that stays open until it has been sent, then closes."""
    engine = build_engine(fresh_database_url)
    app = create_app(portal_settings(fresh_database_url))
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "heads")
        with make_session_factory(engine)() as session:
            factories.bind(session)
            try:
                author = factories.member()
                for number in range(5):
                    factories.programme(author, title=f"Streamed {number}")
                session.commit()
            finally:
                factories.bind(None)
        monkeypatch.setattr(export_routes, "CHUNK", 2)
        with TestClient(app, base_url="http://testserver") as client:
            with client.stream("GET", CSV) as response:
                assert response.status_code == 200
                pieces = [piece for piece in response.iter_text() if piece]
            text = "".join(pieces)
            rows = list(csv.DictReader(io.StringIO(text)))
            assert sorted(row["title"] for row in rows) == [f"Streamed {n}" for n in range(5)]
            # The header and three chunks of at most two records each, sent one by one.
            assert len(pieces) >= 2
            body = json.loads(client.get(JSON).content)
            assert body["exported"] == 5
        pool = app.state.engine.pool
        assert pool.checkedout() == 0  # both sessions gave their connection back
    finally:
        app.state.engine.dispose()
        engine.dispose()
        search_engine.reset_all()


def test_labels_are_in_the_readers_language(client: PortalClient, db_session: Session) -> None:
    catalogue(db_session)
    rows = csv_rows(client.get(CSV, params={"country": "DE", "lang": "de"}))
    assert rows[0]["countries_labels"] == "Deutschland; Portugal"
    assert rows[0]["countries"] == "DE; PT"  # codes stay codes
