"""The programme page: who sees it, what it shows, lineage, and how many queries it costs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from app.members.models import Member
from app.programmes import service
from app.programmes.models import Attachment, ImplementationReport, Programme
from app.vocabularies import service as vocabularies
from tests import factories
from tests.conftest import PortalClient


@contextmanager
def counting_queries(connection: Connection) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", before)


def sign_in(client: PortalClient, session: Session, member: Member) -> Member:
    client.sign_in_as(session, member)
    # An error answer rolls its request back; committing keeps the setup in place.
    session.commit()
    return member


def main_text(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def edit(session: Session, actor: Member, programme: Programme, **changes: Any) -> None:
    base = service.editable_base(session, programme)
    service.save(session, actor, programme, {**base.data, **changes}, service.version_token(base))


# Who sees the page


def test_anyone_reads_a_public_programme_laid_out_for_deciding(
    client: PortalClient, db_session: Session
) -> None:
    provider = factories.organisation(name="Families First e.V.")
    programme = factories.programme(
        cost="Free",
        duration="Six weeks",
        start_year=2015,
        provider_organisation_id=provider.id,
        contact_name="Anna Berg",
        contact_email="anna@example.org",
        website="https://families.example.org",
        target_subgroups=["parents", "foster_kinship_carers"],
    )
    db_session.commit()

    response = client.get(f"/programmes/{programme.id}")

    assert response.status_code == 200
    page = main_text(response.text)
    assert '<h1 lang="en">Safe Families</h1>' in page
    assert '<p class="lead" lang="en">Evening sessions that help parents' in page
    for fact in (
        "At a glance",
        "Parents and carers",
        "Parents, Foster and kinship carers",
        "25 to 60 years",
        "Primary (universal)",
        "Community",
        "Face to face",
        "Germany, Portugal",
        "German, Portuguese",
        "A manual is available",
        "No training required",
        "Free",
        "Six weeks",
        "Since 2015, still running",
        "Families First e.V.",
        "Anna Berg",
        'href="mailto:anna@example.org"',
        'href="https://families.example.org"',
    ):
        assert fact in page, fact
    # The description is Markdown, in the language it is written in.
    assert '<div class="prose" lang="en"><h3>How it works</h3>' in page
    # Nothing of the workflow for visitors, and no report link.
    assert "/edit" not in page
    assert "/review" not in page
    assert ">Report how it went<" not in page
    assert f'href="/programmes/{programme.id}/history"' in page


def test_members_only_programmes_are_not_found_by_visitors(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(title="Quiet Room", visibility="members")
    db_session.commit()

    response = client.get(f"/programmes/{programme.id}")
    assert response.status_code == 404
    assert "Quiet Room" not in response.text

    sign_in(client, db_session, factories.member())
    member_view = client.get(f"/programmes/{programme.id}")
    assert member_view.status_code == 200
    assert "Members only" in main_text(member_view.text)


def test_a_draft_is_seen_by_its_maintainers_and_reviewers_only(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    draft = factories.programme(creator=author, state="draft", title="Fresh Draft")
    reviewer = factories.coordinator(["PT"])
    outsider = factories.coordinator(["FR"])
    other_member = factories.member()
    db_session.commit()
    path = f"/programmes/{draft.id}"

    assert client.get(path).status_code == 404
    sign_in(client, db_session, other_member)
    assert client.get(path).status_code == 404
    sign_in(client, db_session, outsider)
    assert client.get(path).status_code == 404

    for viewer in (author, reviewer):
        sign_in(client, db_session, viewer)
        response = client.get(path)
        assert response.status_code == 200
        page = main_text(response.text)
        assert "Fresh Draft" in page
        assert "For maintainers and reviewers" in page
        assert "Draft: not submitted yet" in page
        assert f'href="/programmes/{draft.id}/edit"' in page
        assert f'href="/programmes/{draft.id}/review"' in page
        assert "/reports/new" not in page


def test_an_edit_in_review_stays_out_of_the_published_page(
    client: PortalClient, db_session: Session
) -> None:
    author = factories.member()
    programme = factories.programme(creator=author, title="Published Title")
    edit(db_session, author, programme, title="Edited Title")
    service.submit(db_session, author, programme)
    db_session.commit()

    visitor_page = main_text(client.get(f"/programmes/{programme.id}").text)
    assert "Published Title" in visitor_page
    assert "Edited Title" not in visitor_page
    assert "For maintainers and reviewers" not in visitor_page

    sign_in(client, db_session, author)
    maintainer_page = main_text(client.get(f"/programmes/{programme.id}").text)
    assert "Published Title" in maintainer_page
    assert "Status: <strong>Published</strong>" in maintainer_page
    assert "An edit is in progress, not yet published: <strong>Submitted for review" in (
        maintainer_page
    )


def test_unknown_programmes_are_not_found(client: PortalClient) -> None:
    assert client.get("/programmes/999999").status_code == 404


# What the page shows


def test_members_are_invited_to_report_how_it_went(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    db_session.commit()
    link = f'href="/programmes/{programme.id}/reports/new">Report how it went</a>'

    assert link not in client.get(f"/programmes/{programme.id}").text
    sign_in(client, db_session, factories.member())
    assert link in client.get(f"/programmes/{programme.id}").text


def test_an_archived_programme_says_so_and_why(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme()
    service.archive(
        db_session, factories.coordinator(network=True), programme, "Replaced by a newer model."
    )
    sign_in(client, db_session, factories.member())

    response = client.get(f"/programmes/{programme.id}")

    page = main_text(response.text)
    assert "This programme is archived since" in page
    assert "Replaced by a newer model." in page
    assert "Report how it went" not in page


def test_translations_are_marked_with_their_language(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme(
        content_language="de",
        title="Sichere Familien",
        translations=[
            {"language": "pt", "title": "Famílias Seguras", "summary": "Sessões para pais."},
            {"language": "en", "title": "Safe Families", "summary": ""},
        ],
    )
    db_session.commit()

    page = main_text(client.get(f"/programmes/{programme.id}").text)

    assert '<h1 lang="de">Sichere Familien</h1>' in page
    assert '<div class="prose" lang="de">' in page
    assert re.search(
        r'<summary>Portuguese</summary>\s*<div lang="pt">\s*<p><strong>Famílias Seguras</strong>'
        r"</p>\s*<p>Sessões para pais.</p>",
        page,
    )
    assert re.search(r'<summary>English</summary>\s*<div lang="en">', page)


def test_the_description_cannot_inject_markup(client: PortalClient, db_session: Session) -> None:
    programme = factories.programme(
        description=(
            '<script>alert("x")</script>\n\n[click](javascript:alert(1)) <b onclick="x">b</b>'
        )
    )
    db_session.commit()

    page = main_text(client.get(f"/programmes/{programme.id}").text)

    assert "<script>" not in page
    assert 'href="javascript:' not in page
    assert "<b onclick" not in page


def test_documents_of_the_published_version_are_listed(
    client: PortalClient, db_session: Session
) -> None:
    programme = factories.programme()
    document = Attachment(
        programme_id=programme.id,
        sha256="0" * 64,
        filename="manual.pdf",
        title="Facilitator manual",
        size_bytes=2048,
        page_count=12,
    )
    db_session.add(document)
    db_session.flush()
    version = service.published_version(db_session, programme)
    assert version is not None
    version.data = {**version.data, "attachment_ids": [document.id]}
    db_session.commit()

    page = main_text(client.get(f"/programmes/{programme.id}").text)

    assert "Facilitator manual" in page
    assert f'href="/programmes/{programme.id}/attachments/{document.id}"' in page


# Lineage


def test_lineage_is_shown_on_the_original_and_on_the_adaptation(
    client: PortalClient, db_session: Session
) -> None:
    original = factories.programme(title="Original Helpline")
    adaptation = factories.programme(
        title="Linha de Ajuda",
        adapted_from_id=original.id,
        countries=["PT"],
        languages=["pt"],
        content_language="pt",
    )
    factories.programme(
        title="Secret Adaptation",
        adapted_from_id=original.id,
        visibility="members",
        countries=["FR"],
        languages=["fr"],
    )
    db_session.commit()

    original_page = main_text(client.get(f"/programmes/{original.id}").text)
    assert "Adaptations" in original_page
    assert f'<a href="/programmes/{adaptation.id}" lang="pt">Linha de Ajuda</a>' in original_page
    assert re.search(r"\(Portugal;\s*Portuguese\)", original_page)
    assert "Secret Adaptation" not in original_page

    adaptation_page = main_text(client.get(f"/programmes/{adaptation.id}").text)
    assert "Adapted from" in adaptation_page
    assert f'<a href="/programmes/{original.id}" lang="en">Original Helpline</a>' in (
        adaptation_page
    )
    assert re.search(r"\(Germany, Portugal;\s*German, Portuguese\)", adaptation_page)

    sign_in(client, db_session, factories.member())
    assert "Secret Adaptation" in main_text(client.get(f"/programmes/{original.id}").text)


def test_a_members_only_original_is_not_revealed_to_visitors(
    client: PortalClient, db_session: Session
) -> None:
    original = factories.programme(title="Hidden Original", visibility="members")
    adaptation = factories.programme(title="Open Adaptation", adapted_from_id=original.id)
    db_session.commit()

    page = main_text(client.get(f"/programmes/{adaptation.id}").text)

    assert "Hidden Original" not in page
    assert "Adapted from" not in page


# Cost


def test_the_page_costs_a_bounded_number_of_queries(
    client: PortalClient, db_session: Session, connection: Connection
) -> None:
    provider = factories.organisation(name="Provider Org")
    original = factories.programme(title="Root Programme")
    programme = factories.programme(
        title="Busy Page",
        adapted_from_id=original.id,
        provider_organisation_id=provider.id,
        translations=[{"language": "de", "title": "Volle Seite", "summary": "Viel."}],
    )
    for number in range(3):
        factories.programme(title=f"Child {number}", adapted_from_id=programme.id)
    author = factories.member()
    for year in (2020, 2021, 2022):
        db_session.add(
            ImplementationReport(
                programme_id=programme.id,
                author_id=author.id,
                country="DE",
                setting="community",
                start_year=year,
                what_worked="Small groups.",
            )
        )
    document = Attachment(
        programme_id=programme.id,
        sha256="1" * 64,
        filename="manual.pdf",
        title="Busy manual",
        size_bytes=4096,
    )
    db_session.add(document)
    db_session.flush()
    version = service.published_version(db_session, programme)
    assert version is not None
    version.data = {**version.data, "attachment_ids": [document.id]}
    sign_in(client, db_session, factories.member())
    db_session.expunge_all()
    # A request reads the vocabularies once; the test's session would remember them.
    vocabularies.forget(db_session)

    with counting_queries(connection) as statements:
        response = client.get(f"/programmes/{programme.id}")

    assert response.status_code == 200
    for shown in ("Child 2", "Root Programme", "Provider Org", "Busy manual", "Small groups."):
        assert shown in response.text
    # Sign-in 1, the programme with terms, translations and maintainers 4, working version 1,
    # published version 1, lineage 1, vocabularies 1, provider 1, documents 1, reports 2.
    assert len(statements) <= 17, "\n\n".join(statements)
