"""The facet engine follows committed changes incrementally; a rebuild gives the same answers.

These tests commit, so they use a database of their own (``fresh_database_url``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import build_engine
from app.evidence import ratings
from app.members.models import Member
from app.programmes import service as programmes_service
from app.programmes.models import Programme
from app.search import engine as search_engine
from app.search import index
from app.search.backends import for_dialect
from app.search.engine import Snapshot
from tests import factories
from tests.search.test_index import run

T = TypeVar("T")
runner = CliRunner()


@pytest.fixture
def database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated database of its own, which the ``portal`` command also uses."""
    monkeypatch.setenv("PORTAL_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = build_engine(fresh_database_url)
    yield engine
    engine.dispose()
    search_engine.reset_all()
    get_settings.cache_clear()


def committed(engine: Engine, work: Callable[[Session], T]) -> T:
    """Do ``work`` in a transaction of its own and commit it."""
    with Session(engine, expire_on_commit=False) as session:
        factories.bind(session)
        try:
            value = work(session)
            session.commit()
        finally:
            factories.bind(None)
    return value


def reading(engine: Engine, work: Callable[[Session], T]) -> T:
    """Do ``work`` in a read-only transaction (rolled back), like a search request."""
    with Session(engine) as session:
        try:
            return work(session)
        finally:
            session.rollback()


def snapshot(session: Session) -> Snapshot:
    connection = session.connection()
    return search_engine.engine_for(connection).current(connection)


def answers(session: Session, viewer_id: int | None) -> list[Any]:
    """What a fixed set of searches answers: totals, record ids and facets."""
    viewer = session.get(Member, viewer_id) if viewer_id else None
    out = []
    for params in (
        {},
        {"q": "lighthouse"},
        {"q": "harbour", "country": "PT"},
        {"country": ["DE", "FR"], "rating": "effective"},
        {"sort": "newest"},
        {"type": "evaluation"},
    ):
        result = run(session, viewer, **params)
        out.append((result.total, [hit.record_id for hit in result.hits], result.facets))
    if viewer is not None:
        for kind in ("member", "organisation"):
            result = run(session, viewer, type=kind)
            out.append((result.total, [hit.record_id for hit in result.hits], result.facets))
    return out


def _people(session: Session) -> tuple[int, int]:
    author = factories.member(full_name="Author Lighthouse")
    coordinator = factories.coordinator(network=True, full_name="Coordinator Harbour")
    factories.organisation(name="Harbour Alliance", country="PT")
    return author.id, coordinator.id


def _publish(session: Session, ids: tuple[int, int], **content: Any) -> int:
    author = session.get(Member, ids[0])
    reviewer = session.get(Member, ids[1])
    return factories.programme(author, reviewer=reviewer, **content).id


def test_the_next_search_sees_committed_changes_without_a_full_reload(
    database: Engine,
) -> None:
    people = committed(database, _people)
    first = committed(
        database, lambda s: _publish(s, people, title="Lighthouse one", countries=["DE"])
    )
    gone = committed(
        database, lambda s: _publish(s, people, title="Lighthouse gone", countries=["FR"])
    )

    def before(session: Session) -> tuple[Snapshot, list[int], dict[str, int]]:
        result = run(session, None, q="lighthouse")
        return snapshot(session), [h.record_id for h in result.hits], result.facets["rating"]

    old, hits, rating = reading(database, before)
    assert sorted(hits) == sorted([first, gone])
    assert rating == {"not_rated": 2}
    old_size = old.kinds["programme"].size
    old_alive = old.kinds["programme"].alive.copy()

    def change(session: Session) -> int:
        coordinator = session.get(Member, people[1])
        assert coordinator is not None
        added = _publish(session, people, title="Lighthouse added", countries=["PT"])
        ratings.override(session, coordinator, first, "effective", "Reviewed by the network.")
        archived = session.get(Programme, gone)
        assert archived is not None
        programmes_service.archive(session, coordinator, archived, "Ended")
        return added

    added = committed(database, change)

    def after(session: Session) -> tuple[Snapshot, list[int], dict[str, Any]]:
        result = run(session, None, q="lighthouse")
        return snapshot(session), [h.record_id for h in result.hits], result.facets

    new, hits, facets = reading(database, after)
    assert hits == [first, added]  # effective first
    assert facets["rating"] == {"effective": 1, "not_rated": 1}
    assert facets["countries"] == {"DE": 1, "PT": 1}
    # Incremental: the same generation, later changes appended to the old slots (a full
    # load would hold only the two listed documents).
    assert new.generation == old.generation
    assert new.seq > old.seq
    data = new.kinds["programme"]
    assert data.size == old_size + 2  # the new programme and the re-rated one
    assert int(data.alive.sum()) == 2
    # The old snapshot is never changed: requests still using it see a consistent state.
    assert np.array_equal(old.kinds["programme"].alive, old_alive)
    assert old.kinds["programme"].size == old_size
    # Nothing changed: the same snapshot is used again.
    again = reading(database, snapshot)
    assert again is new


def test_a_member_suspended_in_another_transaction_disappears(database: Engine) -> None:
    people = committed(database, _people)
    viewer_id = committed(database, lambda s: factories.member(full_name="Viewer").id)
    target = committed(database, lambda s: factories.member(full_name="Zelda Vanishing").id)

    def members_found(session: Session) -> list[int]:
        viewer = session.get(Member, viewer_id)
        return [h.record_id for h in run(session, viewer, q="vanishing", type="member").hits]

    assert reading(database, members_found) == [target]

    def suspend(session: Session) -> None:
        from app.members import management

        coordinator, member = session.get(Member, people[1]), session.get(Member, target)
        assert coordinator is not None
        assert member is not None
        management.suspend(session, coordinator, member, "Code of conduct")

    committed(database, suspend)
    assert reading(database, members_found) == []


def test_reindex_gives_the_same_results(database: Engine) -> None:
    people = committed(database, _people)

    def catalogue(session: Session) -> int:
        coordinator = session.get(Member, people[1])
        assert coordinator is not None
        _publish(session, people, title="Lighthouse families", countries=["DE"])
        rated = _publish(
            session, people, title="Harbour schools", countries=["PT", "FR"], visibility="members"
        )
        ratings.override(session, coordinator, rated, "effective", "Reviewed.")
        _publish(session, people, title="Harbour lighthouse", countries=["FR"])
        draft = session.get(Member, people[0])
        assert draft is not None
        factories.programme(draft, state="draft", title="Lighthouse draft")
        return factories.member(full_name="Member Viewer").id

    viewer = committed(database, catalogue)
    before_anonymous = reading(database, lambda s: answers(s, None))
    before_member = reading(database, lambda s: answers(s, viewer))
    generation = reading(database, snapshot).generation
    assert before_anonymous[1][0] == 2  # two public lighthouse programmes, no draft
    assert before_member[1][0] == 2

    # Lose the index entirely, then rebuild it with the command.
    def clear(session: Session) -> None:
        connection = session.connection()
        for_dialect(connection.dialect.name).clear(connection)
        connection.execute(text("DELETE FROM search_document"))

    committed(database, clear)
    result = runner.invoke(cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "Search index built" in result.output

    assert reading(database, snapshot).generation == generation + 1
    assert reading(database, lambda s: answers(s, None)) == before_anonymous
    assert reading(database, lambda s: answers(s, viewer)) == before_member

    # index.rebuild itself, in a transaction of its own, answers the same too.
    committed(database, lambda s: index.rebuild(s.connection()))
    assert reading(database, lambda s: answers(s, viewer)) == before_member


def test_a_text_match_is_remembered_with_its_snapshot_only() -> None:
    calls: list[str] = []

    def match(word: str) -> Callable[[], tuple[Any, Any]]:
        def run_match() -> tuple[Any, Any]:
            calls.append(word)
            return np.array([1, 2], dtype=np.int64), np.array([2.0, 1.0])

        return run_match

    first = Snapshot(generation=1, seq=5, kinds={}, slot_of={})
    ids, scores = search_engine.remembered_match(first, ("programme", "a"), match("a"))
    again, _ = search_engine.remembered_match(first, ("programme", "a"), match("a"))
    assert again is ids
    assert calls == ["a"]
    assert not ids.flags.writeable
    assert not scores.flags.writeable
    search_engine.remembered_match(first, ("evaluation", "a"), match("a"))
    assert calls == ["a", "a"]
    # A later snapshot (the index moved on) asks the index again.
    later = Snapshot(generation=1, seq=6, kinds={}, slot_of={})
    search_engine.remembered_match(later, ("programme", "a"), match("a"))
    assert calls == ["a", "a", "a"]


def _six_programmes() -> Snapshot:
    """A snapshot of six programmes: slots 0 to 5 are records 1 to 6, alternately DE and FR."""
    data = search_engine.KindData(
        doc_ids=np.arange(6, dtype=np.int64),
        record_ids=np.arange(1, 7, dtype=np.int64),
        alive=np.ones(6, dtype=bool),
        public=np.array([True, True, True, True, True, False]),
        published=np.zeros(6, dtype=np.int64),
        rated=np.zeros(6, dtype=np.int64),
        rating_order=np.array([2, 0, 1, 0, 2, 1], dtype=np.int64),
        fields={
            "countries": search_engine.FieldData(
                codes=("DE", "FR"),
                slots=np.arange(6, dtype=np.int32),
                values=np.array([0, 1, 0, 1, 0, 1], dtype=np.int32),
                offsets=np.arange(7, dtype=np.int32),
            )
        },
        newest_rank=np.array([5, 4, 3, 2, 1, 0], dtype=np.int64),
    )
    return Snapshot(generation=1, seq=5, kinds={"programme": data}, slot_of={})


def test_a_search_answer_is_remembered_for_every_page_and_only_for_its_own_key() -> None:
    snapshot = _six_programmes()
    scores = np.array([1.0, 3.0, 3.0, 0.5, 2.0, 0.1])
    calls: list[str] = []

    def page(
        offset: int,
        remember: Any,
        filters: dict[str, list[str]] | None = None,
        sort: str = "relevance",
        on: Snapshot = snapshot,
    ) -> tuple[int, list[int], dict[str, dict[str, int]]]:
        def scope() -> tuple[Any, Any]:
            calls.append("scope")
            return on.kinds["programme"].alive.copy(), scores

        selection = search_engine.select_page(
            on,
            "programme",
            scope,
            filters or {},
            sort=sort,
            offset=offset,
            limit=2,
            facet_fields=["countries"],
            remember=remember,
        )
        return selection.total, selection.record_ids, selection.facets

    fresh = [page(offset, None) for offset in (0, 2, 4, 6)]
    assert len(calls) == 4  # nothing kept without a key
    calls.clear()
    kept = [page(offset, ("public", "words")) for offset in (0, 2, 4, 6)]
    assert calls == ["scope"]  # the pages after the first are slices of the kept order
    assert kept == fresh
    # Best score first; equal scores by rating (record 2 before 3); past the end: empty.
    assert [record for _, records, _ in kept for record in records] == [2, 3, 5, 1, 4, 6]
    assert kept[0][0] == 6
    assert kept[3][1] == []
    assert kept[0][2] == {"countries": {"DE": 3, "FR": 3}}

    # Other words, other filters, another sort or another snapshot: worked out again.
    page(0, ("public", "other words"))
    assert len(calls) == 2
    assert page(0, ("public", "words"), {"countries": ["FR"]})[1] == [2, 4]
    assert len(calls) == 3
    assert page(0, ("public", "words"), sort="newest")[1] == [6, 5]
    assert len(calls) == 4
    later = _six_programmes()
    assert page(2, ("public", "words"), on=later) == kept[1]
    assert len(calls) == 5
    (answer,) = later.answers.values()
    assert not answer[2].flags.writeable  # shared by the requests that follow
