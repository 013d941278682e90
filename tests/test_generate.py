"""The synthetic data set of ``portal generate``: shapes, coverage, pages, determinism."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from alembic import command
from markupsafe import escape
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from app.db import build_engine, make_session_factory
from app.evidence.models import (
    DESIGNS,
    OUTCOME_KINDS,
    RISKS_OF_BIAS,
    Evaluation,
    EvaluationVersion,
    Outcome,
    ProgrammeRating,
    evaluation_programme,
)
from app.generate import GenerateRefused, digest, generate
from app.members.models import Member, member_organisation
from app.programmes.content import FIELDS
from app.programmes.models import (
    Programme,
    ProgrammeTerm,
    ProgrammeTranslation,
    ProgrammeVersion,
)
from app.vocabularies.models import VocabularyTerm
from tests import factories
from tests.conftest import PortalClient, alembic_config

PROGRAMMES, EVALUATIONS, MEMBERS = 50, 120, 30


@pytest.fixture
def generated(db_session: Session) -> Session:
    report = generate(
        db_session, programmes=PROGRAMMES, evaluations=EVALUATIONS, members=MEMBERS, seed=3
    )
    assert report.programmes == PROGRAMMES
    db_session.flush()
    return db_session


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_counts_and_published_shapes(generated: Session) -> None:
    session = generated
    assert _count(session, Member) == MEMBERS
    assert _count(session, Programme) == PROGRAMMES
    assert _count(session, Evaluation) == EVALUATIONS
    assert _count(session, ProgrammeVersion) == PROGRAMMES
    assert _count(session, EvaluationVersion) == EVALUATIONS
    assert (session.scalar(select(func.count()).select_from(member_organisation)) or 0) >= MEMBERS
    assert set(session.scalars(select(Programme.status))) == {"published"}
    assert set(session.scalars(select(Evaluation.status))) == {"published"}
    assert set(session.scalars(select(Programme.is_demo))) == {True}
    assert set(session.scalars(select(Evaluation.is_demo))) == {True}
    members = session.execute(select(Member.email, Member.password_hash)).all()
    assert all(email.endswith("@example.org") and hash_ is None for email, hash_ in members)
    for programme in session.scalars(select(Programme)):
        version = session.get(ProgrammeVersion, programme.published_version_id)
        assert version is not None
        assert version.programme_id == programme.id
        assert set(version.data) == set(FIELDS)
        assert version.data["title"] == programme.title
        assert programme.published_at is not None
        assert programme.content_updated_at is not None
    links = session.execute(
        select(evaluation_programme.c.evaluation_id, func.count()).group_by(
            evaluation_programme.c.evaluation_id
        )
    ).all()
    assert len(links) == EVALUATIONS
    assert {count for _id, count in links} <= {1, 2}
    for outcome in session.scalars(select(Outcome)):
        assert outcome.ci_low <= outcome.estimate <= outcome.ci_high
        assert outcome.ci_low < outcome.ci_high
        if outcome.measure != "smd":
            assert outcome.ci_low > 0


def test_every_code_and_kind_is_used(generated: Session) -> None:
    session = generated
    active = {
        (vocabulary, code)
        for vocabulary, code in session.execute(
            select(VocabularyTerm.vocabulary, VocabularyTerm.code).where(
                VocabularyTerm.retired_at.is_(None)
            )
        )
    }
    used = {
        (name, code)
        for name, code in session.execute(select(ProgrammeTerm.field, ProgrammeTerm.code))
    }
    assert active <= used
    assert set(session.scalars(select(Evaluation.design))) == set(DESIGNS)
    assert set(session.scalars(select(Evaluation.risk_of_bias))) == set(RISKS_OF_BIAS)
    assert set(session.scalars(select(Outcome.kind))) == set(OUTCOME_KINDS)
    languages = set(session.scalars(select(Programme.content_language)))
    assert len(languages) >= 4
    assert _count(session, ProgrammeTranslation) > 0


def test_a_share_is_members_only_and_ratings_match(generated: Session) -> None:
    session = generated
    visibility = Counter(session.scalars(select(Programme.visibility)))
    assert 0 < visibility["members"] < PROGRAMMES * 0.4
    rated = session.execute(select(ProgrammeRating.programme_id, ProgrammeRating.level)).all()
    assert rated
    levels = dict(session.execute(select(Programme.id, Programme.rating_level)).all())
    for programme_id, level in rated:
        assert levels[programme_id] == level
    assert len({level for _id, level in rated}) >= 3
    assert "not_rated" in set(levels.values())


def test_pages_work_on_generated_data(generated: Session, client: PortalClient) -> None:
    session = generated
    newest = session.scalar(
        select(Programme)
        .where(
            Programme.visibility == "public",
            exists().where(
                ProgrammeTerm.programme_id == Programme.id,
                ProgrammeTerm.field == "target_groups",
                ProgrammeTerm.code == "parents",
            ),
        )
        .order_by(Programme.published_at.desc(), Programme.id.desc())
        .limit(1)
    )
    assert newest is not None
    listing = client.get("/programmes?target_groups=parents")
    assert listing.status_code == 200
    assert str(escape(newest.title)) in listing.text

    rated = session.scalar(
        select(Programme).where(
            Programme.visibility == "public", Programme.rating_level != "not_rated"
        )
    )
    assert rated is not None
    page = client.get(f"/programmes/{rated.id}")
    assert page.status_code == 200
    assert str(escape(rated.title)) in page.text
    evidence = client.get(f"/api/v1/programmes/{rated.id}/evidence")
    assert evidence.status_code == 200, evidence.text


def test_refuses_the_same_seed_and_a_real_catalogue(generated: Session) -> None:
    session = generated
    with pytest.raises(GenerateRefused, match="seed 3"):
        generate(session, programmes=1, evaluations=0, members=1, seed=3)
    session.execute(update(Programme).values(is_demo=False))
    with pytest.raises(GenerateRefused, match="not demo data"):
        generate(session, programmes=1, evaluations=0, members=1, seed=4)


def test_the_same_seed_gives_the_same_rows(fresh_database_url: str) -> None:
    engine = build_engine(fresh_database_url)
    digests = []
    try:
        for _run in range(2):
            with engine.begin() as connection:
                command.downgrade(alembic_config(connection), "base")
                command.upgrade(alembic_config(connection), "heads")
            with make_session_factory(engine)() as session, session.begin():
                generate(session, programmes=30, evaluations=60, members=12, seed=11)
            with make_session_factory(engine)() as session:
                digests.append(digest(session))
        with make_session_factory(engine)() as session, session.begin():
            generate(session, programmes=30, evaluations=60, members=12, seed=12)
        with make_session_factory(engine)() as session:
            other = digest(session)
    finally:
        engine.dispose()
    assert digests[0] == digests[1]
    assert other != digests[0]


def test_the_command_fills_a_fresh_database(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    env = {**os.environ, "PORTAL_DATABASE_URL": url}
    upgrade = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    arguments = ["--programmes", "20", "--evaluations", "40", "--members", "10", "--seed", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "20 programmes, 40 evaluations" in result.stdout
    again = subprocess.run(
        [sys.executable, "-m", "app.cli", "generate", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1
    assert "seed 1" in again.stderr
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Programme)) == 20
            assert connection.scalar(select(func.count()).select_from(Evaluation)) == 40
    finally:
        engine.dispose()


def test_ordinary_inserts_continue_after_the_generated_ids(generated: Session) -> None:
    newest_member = generated.scalar(select(func.max(Member.id))) or 0
    person = factories.member()
    place = factories.organisation()
    assert person.id > newest_member
    assert place.id > 0
