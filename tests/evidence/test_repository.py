"""The evidence list's filters, sorting, visibility and the coordinators' review queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.evidence import repository, service
from app.evidence.models import Evaluation
from app.evidence.repository import EvidenceQuery
from app.members.models import Member
from app.programmes.models import Programme
from tests import factories
from tests.evidence.test_service import evaluation_content


def publish(programme: Programme, author: Member | None = None, **overrides: Any) -> Evaluation:
    researcher = author or factories.member(member_type="researcher")
    return service.create(
        factories._current_session(), researcher, evaluation_content(programme, **overrides)
    )


def titles(session: Session, viewer: Member | None, **params: Any) -> list[str]:
    multi = {
        key: [str(item) for item in (value if isinstance(value, list) else [value])]
        for key, value in params.items()
    }
    query = EvidenceQuery.from_params(multi)
    page = repository.list_evaluations(session, viewer, query, 1, 50)
    return [evaluation.title for evaluation in page.items]


def outcome(kind: str) -> dict[str, Any]:
    return {
        "name": "An outcome",
        "kind": kind,
        "measure": "smd",
        "input_kind": "effect",
        "estimate": "0.3",
        "ci_low": "0.1",
        "ci_high": "0.5",
    }


def test_each_filter_selects_its_evaluations(db_session: Session) -> None:
    safe = factories.programme()
    other = factories.programme(title="Stop It Now")
    publish(safe, title="Alpha", design="rct", risk_of_bias="low", country="DE", year=2019)
    publish(
        safe,
        title="Beta",
        design="quasi_experimental",
        risk_of_bias="high",
        country="PT",
        year=2021,
        outcomes=[outcome("knowledge_or_attitude")],
    )
    publish(
        other,
        title="Gamma",
        design="pre_post",
        risk_of_bias="some_concerns",
        country="PT",
        year=2023,
        authors=["Müller, Jörg", "O'Brien, Sam"],
        outcomes=[outcome("abuse_or_offending")],
    )
    viewer = factories.member()
    assert titles(db_session, viewer) == ["Gamma", "Beta", "Alpha"]
    assert titles(db_session, viewer, design="rct") == ["Alpha"]
    assert titles(db_session, viewer, design=["rct", "pre_post"]) == ["Gamma", "Alpha"]
    assert titles(db_session, viewer, risk_of_bias="high") == ["Beta"]
    assert titles(db_session, viewer, country="pt") == ["Gamma", "Beta"]
    assert titles(db_session, viewer, outcome_kind="abuse_or_offending") == ["Gamma"]
    assert titles(db_session, viewer, outcome_kind="risk_or_protective_factor") == ["Alpha"]
    assert titles(db_session, viewer, year=2021) == ["Beta"]
    assert titles(db_session, viewer, year_from=2021) == ["Gamma", "Beta"]
    assert titles(db_session, viewer, year_to=2021) == ["Beta", "Alpha"]
    assert titles(db_session, viewer, year_from=2020, year_to=2022) == ["Beta"]
    assert titles(db_session, viewer, programme_id=other.id) == ["Gamma"]
    assert titles(db_session, viewer, programme_id=safe.id) == ["Beta", "Alpha"]
    assert titles(db_session, viewer, q="alph") == ["Alpha"]
    assert titles(db_session, viewer, q="weber") == ["Beta", "Alpha"]
    assert titles(db_session, viewer, q="O'Brien") == ["Gamma"]
    assert titles(db_session, viewer, q="Müller") == ["Gamma"]
    assert titles(db_session, viewer, q="Jörg") == ["Gamma"]
    assert titles(db_session, viewer, q="nobody") == []


def test_filters_combine(db_session: Session) -> None:
    safe = factories.programme()
    publish(safe, title="Alpha", design="rct", country="DE", year=2019)
    publish(safe, title="Beta", design="rct", country="PT", year=2021)
    publish(safe, title="Gamma", design="pre_post", country="PT", year=2021)
    viewer = factories.member()
    assert titles(db_session, viewer, design="rct", country="PT") == ["Beta"]
    assert titles(db_session, viewer, design="rct", year_from=2018, q="a") == ["Beta", "Alpha"]
    assert titles(db_session, viewer, country="PT", year=2021, q="gam") == ["Gamma"]
    assert titles(db_session, viewer, design="pre_post", country="DE") == []


def test_like_wildcards_in_the_text_are_literal(db_session: Session) -> None:
    safe = factories.programme()
    publish(safe, title="Progress at 100% dosage")
    publish(safe, title="Progress at 1000 sessions")
    publish(safe, title="snake_case", authors=["Back\\slash, Ann"])
    viewer = factories.member()
    assert titles(db_session, viewer, q="100%") == ["Progress at 100% dosage"]
    assert titles(db_session, viewer, q="e_c") == ["snake_case"]
    assert titles(db_session, viewer, q="%") == ["Progress at 100% dosage"]
    assert titles(db_session, viewer, q="k\\s") == ["snake_case"]


def test_sorts(db_session: Session) -> None:
    safe = factories.programme()
    publish(safe, title="beta", year=2019)
    publish(safe, title="Alpha", year=2021)
    publish(safe, title="Gamma", year=2020)
    viewer = factories.member()
    assert titles(db_session, viewer, sort="title") == ["Alpha", "beta", "Gamma"]
    assert titles(db_session, viewer, sort="oldest") == ["beta", "Gamma", "Alpha"]
    assert titles(db_session, viewer, sort="newest") == ["Alpha", "Gamma", "beta"]
    assert titles(db_session, viewer, sort="nonsense") == ["Alpha", "Gamma", "beta"]


def test_only_published_evaluations_are_listed(db_session: Session) -> None:
    safe = factories.programme()
    publish(safe, title="Published")
    practitioner = factories.member(member_type="practitioner")
    service.create(db_session, practitioner, evaluation_content(safe, title="Submitted"))
    service.create(db_session, practitioner, evaluation_content(safe, title="Draft"), publish=False)
    taken_down = publish(safe, title="Unpublished")
    service.unpublish(db_session, factories.coordinator(network=True), taken_down, "Retracted")
    viewer = factories.coordinator(network=True)
    assert titles(db_session, viewer) == ["Published"]


def test_members_only_evaluations_are_hidden_from_anonymous_and_lapsed(
    db_session: Session,
) -> None:
    safe = factories.programme()
    publish(safe, title="Open")
    publish(safe, title="Members", visibility="members")
    lapsed = factories.member(status="lapsed")
    assert sorted(titles(db_session, factories.member())) == ["Members", "Open"]
    for viewer in (None, lapsed):
        page = repository.list_evaluations(db_session, viewer, EvidenceQuery(), 1, 50)
        assert [evaluation.title for evaluation in page.items] == ["Open"]
        assert page.total == 1
        members_only = EvidenceQuery(text="Members")
        assert repository.list_evaluations(db_session, viewer, members_only, 1, 50).total == 0


def test_pages_count_every_match_and_outcomes_are_loaded(db_session: Session) -> None:
    safe = factories.programme()
    for number in range(5):
        publish(safe, title=f"Study {number}", year=2015 + number)
    page = repository.list_evaluations(db_session, None, EvidenceQuery(), 2, 2)
    assert page.total == 5
    assert [evaluation.title for evaluation in page.items] == ["Study 2", "Study 1"]
    assert [len(evaluation.outcomes) for evaluation in page.items] == [1, 1]


def test_from_params_drops_what_makes_no_sense() -> None:
    query = EvidenceQuery.from_params(
        {
            "design": ["rct", "bogus"],
            "country": ["de", "Germany"],
            "year": ["20x1"],
            "year_from": ["2019"],
            "programme_id": ["99999999999999999999999"],
            "q": ["  two   words "],
            "sort": ["title"],
            "outcome_kind": ["other"],
        }
    )
    assert query.design == ["rct"]
    assert query.country == ["DE"]
    assert query.year is None
    assert query.year_from == 2019
    assert query.programme_id is None
    assert query.text == "two words"
    assert query.sort == "title"
    assert query.to_params() == [
        ("design", "rct"),
        ("country", "DE"),
        ("outcome_kind", "other"),
        ("year_from", "2019"),
        ("q", "two words"),
        ("sort", "title"),
    ]
    assert EvidenceQuery.from_params({}).is_filtered is False


def test_programmes_of_lists_visible_programmes(db_session: Session) -> None:
    safe = factories.programme()
    hidden = factories.programme(title="Hidden", visibility="members")
    evaluation = publish(safe, programme_ids=[safe.id, hidden.id])
    found = repository.programmes_of(db_session, None, [evaluation.id])
    assert [programme.title for programme in found[evaluation.id]] == ["Safe Families"]
    member_view = repository.programmes_of(db_session, factories.member(), [evaluation.id])
    assert [programme.title for programme in member_view[evaluation.id]] == [
        "Hidden",
        "Safe Families",
    ]


def test_review_queue_is_scoped_to_countries(db_session: Session) -> None:
    in_de = factories.programme(countries=["DE"])
    in_fr = factories.programme(title="French", countries=["FR"])
    practitioner = factories.member(member_type="practitioner")
    first = service.create(
        db_session, practitioner, evaluation_content(in_de, title="German", country="AT")
    )
    second = service.create(
        db_session, practitioner, evaluation_content(in_fr, title="Study in Spain", country="ES")
    )
    service.create(
        db_session, practitioner, evaluation_content(in_fr, title="Draft"), publish=False
    )
    everything = repository.review_queue(db_session, None)
    assert [item.evaluation.id for item in everything] == [first.id, second.id]
    assert everything[0].countries == frozenset({"AT", "DE"})
    de = repository.review_queue(db_session, frozenset({"DE"}))
    assert [item.evaluation.id for item in de] == [first.id]
    es = repository.review_queue(db_session, frozenset({"ES"}))
    assert [item.evaluation.id for item in es] == [second.id]
    assert repository.review_queue(db_session, frozenset({"PT"})) == []
    assert repository.review_queue(db_session, frozenset()) == []


def test_versions_show_published_ones_unless_all_asked(db_session: Session) -> None:
    safe = factories.programme()
    researcher = factories.member(member_type="researcher")
    evaluation = publish(safe, researcher)
    base = service.editable_base(db_session, evaluation)
    service.save(
        db_session,
        researcher,
        evaluation,
        evaluation_content(safe, title="Second"),
        service.version_token(base),
        publish=False,
    )
    assert [v.number for v in repository.versions(db_session, evaluation.id, all_states=False)] == [
        1
    ]
    assert [v.number for v in repository.versions(db_session, evaluation.id, all_states=True)] == [
        2,
        1,
    ]
    assert repository.evaluations_for_programme(db_session, None, safe.id) == [evaluation]
