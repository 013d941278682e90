"""PDF documents of a programme: upload, checks, size limit, review, downloads, visibility."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pypdf import PdfWriter
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT
from app.members.models import Member
from app.programmes import attachments, files, service
from app.programmes.models import Attachment, Programme, ProgrammeVersion
from tests import factories
from tests.conftest import PortalClient

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def make_pdf(pages: int = 2, padding: int = 0) -> bytes:
    """A real PDF with ``pages`` blank pages (and ``padding`` bytes of metadata)."""
    writer = PdfWriter()
    for _page in range(pages):
        writer.add_blank_page(width=595, height=842)
    if padding:
        writer.add_metadata({"/Subject": "x" * padding})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def upload_dir(app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads of this test go to a temporary directory, not var/."""
    directory = tmp_path / "uploads"
    monkeypatch.setattr(app.state.settings, "upload_dir", directory)
    return directory


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


def _signed_in(client: PortalClient, session: Session, who: Member) -> Member:
    client.sign_in_as(session, who)
    # An error answer rolls its request back; committing keeps the setup in place.
    session.commit()
    return who


def _upload(
    client: PortalClient,
    programme: Programme,
    data: bytes,
    filename: str = "Manual for facilitators.pdf",
    title: str = "Facilitator manual",
    **extra: str,
) -> Any:
    token = client.csrf_token()
    return client.post(
        f"/programmes/{programme.id}/attachments",
        data={"csrf_token": token, "title": title, **extra},
        files={"file": (filename, data, "application/pdf")},
        follow_redirects=False,
    )


def _working(session: Session, programme: Programme) -> ProgrammeVersion | None:
    session.expire_all()
    return service.working_version(session, programme.id)


def _attachment_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Attachment)) or 0


def _publish(session: Session, programme: Programme) -> None:
    author = session.get(Member, programme.created_by_id)
    assert author is not None
    service.submit(session, author, programme)
    service.review(session, factories.coordinator(network=True), programme, "approve", "")
    session.commit()
    # Read everything back as a request would (SQLite returns naive datetimes).
    session.expire_all()


# --- uploading ---------------------------------------------------------------------------


def test_a_maintainer_attaches_a_pdf_to_a_draft(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)
    pdf = make_pdf(pages=3)

    response = _upload(client, programme, pdf, back=f"/programmes/{programme.id}/edit")

    assert response.status_code == 303
    assert response.headers["location"] == f"/programmes/{programme.id}/edit"
    [stored] = db_session.scalars(select(Attachment)).all()
    sha256 = hashlib.sha256(pdf).hexdigest()
    assert stored.sha256 == sha256
    assert (stored.filename, stored.title) == ("Manual for facilitators.pdf", "Facilitator manual")
    assert (stored.size_bytes, stored.page_count) == (len(pdf), 3)
    assert stored.uploaded_by_id == author.id
    working = _working(db_session, programme)
    assert working is not None
    assert working.number == 1
    assert working.data["attachment_ids"] == [stored.id]
    # Stored under its SHA-256, outside the web root, with exactly the bytes sent.
    path = upload_dir / sha256[:2] / sha256[2:4] / sha256
    assert path.read_bytes() == pdf
    assert not path.resolve().is_relative_to(PROJECT_ROOT / "static")


def test_the_title_defaults_to_the_file_name_and_names_are_made_safe(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)

    response = _upload(
        client, programme, make_pdf(), filename="../../etc/Evaluation_report 2023.pdf", title=""
    )

    assert response.status_code == 303
    [stored] = db_session.scalars(select(Attachment)).all()
    assert stored.filename == "Evaluation_report 2023.pdf"
    assert stored.title == "Evaluation report 2023"
    assert sorted(path.name for path in upload_dir.rglob("*") if path.is_file()) == [stored.sha256]


@pytest.mark.parametrize(
    ("data", "filename"),
    [(PNG, "picture.pdf"), (HTML, "page.pdf"), (b"%PDF-1.7\nnot really a pdf", "broken.pdf")],
)
def test_a_file_that_is_not_a_pdf_is_refused(
    client: PortalClient, db_session: Session, upload_dir: Path, data: bytes, filename: str
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)

    response = _upload(client, programme, data, filename=filename, title="Kept title")

    assert response.status_code == 422
    assert 'id="attachment-file-error"' in response.text
    assert "not a PDF" in response.text
    assert 'value="Kept title"' in response.text
    assert _attachment_count(db_session) == 0
    assert not upload_dir.exists() or not any(upload_dir.rglob("*"))
    working = _working(db_session, programme)
    assert working is not None
    assert working.data.get("attachment_ids") == []


def test_an_upload_without_a_file_asks_for_one(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)

    response = client.post(
        f"/programmes/{programme.id}/attachments",
        data={"csrf_token": client.csrf_token(), "title": "Nothing"},
        files={"file": ("", b"", "application/octet-stream")},
    )

    assert response.status_code == 422
    assert "Choose a PDF file to upload." in response.text
    assert _attachment_count(db_session) == 0


@pytest.mark.parametrize("size", [6_000, 200_000])
def test_an_oversized_upload_is_refused_with_413(
    app: FastAPI,
    client: PortalClient,
    db_session: Session,
    upload_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: int,
) -> None:
    # 6 kB passes the Content-Length check and is refused while the file is read;
    # 200 kB is refused from its declared length, before the body is read at all.
    monkeypatch.setattr(app.state.settings, "max_upload_bytes", 4_000)
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)
    pdf = make_pdf(pages=1, padding=size)
    assert len(pdf) > size

    response = _upload(client, programme, pdf, title="Big manual")

    assert response.status_code == 413
    assert "larger than the limit" in response.text
    assert 'id="attachment-file-error"' in response.text
    if size < 64 * 1024:  # read up to the file: the title typed is shown again
        assert 'value="Big manual"' in response.text
    assert _attachment_count(db_session) == 0
    assert not upload_dir.exists() or not any(upload_dir.rglob("*"))


def test_read_upload_stops_at_the_limit_without_reading_the_rest() -> None:
    class Endless:
        """A file that never ends: reading it in full would never finish."""

        size = None
        reads = 0

        async def read(self, size: int = -1) -> bytes:
            self.reads += 1
            return b"x" * size

    import anyio

    endless = Endless()
    with pytest.raises(files.UploadTooLarge):
        anyio.run(files.read_upload, endless, 200_000)  # type: ignore[arg-type]
    assert endless.reads <= 5


def test_only_editors_upload(client: PortalClient, db_session: Session, upload_dir: Path) -> None:
    programme = factories.programme()
    _signed_in(client, db_session, factories.member())

    response = _upload(client, programme, make_pdf())

    assert response.status_code == 403
    assert _attachment_count(db_session) == 0


def test_anonymous_uploads_are_sent_to_sign_in(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    programme = factories.programme()
    db_session.commit()

    response = _upload(client, programme, make_pdf())

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    assert _attachment_count(db_session) == 0


def test_an_upload_without_the_csrf_token_is_refused(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)

    response = client.post(
        f"/programmes/{programme.id}/attachments",
        data={"title": "No token"},
        files={"file": ("manual.pdf", make_pdf(), "application/pdf")},
    )

    assert response.status_code == 403
    assert _attachment_count(db_session) == 0


def test_the_csrf_token_may_come_as_a_header(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)

    response = client.post(
        f"/programmes/{programme.id}/attachments",
        headers={"X-CSRF-Token": client.csrf_token()},
        files={"file": ("manual.pdf", make_pdf(), "application/pdf")},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert _attachment_count(db_session) == 1


# --- review and downloads ----------------------------------------------------------------


def test_a_document_added_to_a_published_programme_is_public_after_review(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author)
    published = service.published_version(db_session, programme)
    assert published is not None
    _signed_in(client, db_session, author)

    response = _upload(client, programme, make_pdf())
    assert response.status_code == 303
    [stored] = db_session.scalars(select(Attachment)).all()
    working = _working(db_session, programme)
    assert working is not None
    assert working.id != published.id
    assert working.data["attachment_ids"] == [stored.id]
    db_session.refresh(published)
    assert published.data.get("attachment_ids") == []

    download = f"/programmes/{programme.id}/attachments/{stored.id}"
    assert client.get(download).status_code == 200  # the maintainer sees the edit
    client.cookies.clear()
    assert client.get(download).status_code == 404
    assert "Facilitator manual" not in client.get(f"/programmes/{programme.id}").text

    _publish(db_session, programme)

    response = client.get(download)
    assert response.status_code == 200
    assert "Facilitator manual" in client.get(f"/programmes/{programme.id}").text


def test_downloads_are_pdf_attachments_that_are_never_sniffed(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    pdf = make_pdf()
    stored = attachments.add(
        db_session,
        author,
        programme,
        data=pdf,
        filename="Guía práctica.pdf",
        title="Guide",
        upload_dir=upload_dir,
    )
    _publish(db_session, programme)

    response = client.get(f"/programmes/{programme.id}/attachments/{stored.id}")

    assert response.status_code == 200
    assert response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Guia practica.pdf"')
    assert "filename*=UTF-8''Gu%C3%ADa%20pr%C3%A1ctica.pdf" in disposition
    assert "private" in response.headers["cache-control"]


def test_members_only_files_are_hidden_from_anonymous_visitors(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft", visibility="members")
    stored = attachments.add(
        db_session,
        author,
        programme,
        data=make_pdf(),
        filename="members.pdf",
        title="For members",
        upload_dir=upload_dir,
    )
    _publish(db_session, programme)
    download = f"/programmes/{programme.id}/attachments/{stored.id}"

    assert client.get(download).status_code == 404
    lapsed = factories.member(status="lapsed")
    _signed_in(client, db_session, lapsed)
    assert client.get(download).status_code == 404
    _signed_in(client, db_session, factories.member())
    assert client.get(download).status_code == 200


def test_draft_documents_are_not_found_for_the_public(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="submitted")
    stored = attachments.add(
        db_session,
        author,
        programme,
        data=make_pdf(),
        filename="draft.pdf",
        title="Draft",
        upload_dir=upload_dir,
        token=None,
    )
    db_session.commit()
    download = f"/programmes/{programme.id}/attachments/{stored.id}"

    assert client.get(download).status_code == 404
    _signed_in(client, db_session, factories.member())
    assert client.get(download).status_code == 404
    _signed_in(client, db_session, factories.coordinator(["PT"]))
    assert client.get(download).status_code == 200


def test_an_attachment_of_another_programme_is_not_found(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    first = factories.programme(author, state="draft")
    stored = attachments.add(
        db_session,
        author,
        first,
        data=make_pdf(),
        filename="a.pdf",
        title="A",
        upload_dir=upload_dir,
    )
    _publish(db_session, first)
    other = factories.programme(title="Other")
    db_session.commit()

    assert client.get(f"/programmes/{first.id}/attachments/{stored.id}").status_code == 200
    assert client.get(f"/programmes/{other.id}/attachments/{stored.id}").status_code == 404
    assert client.get(f"/programmes/{first.id}/attachments/999999").status_code == 404


# --- removing ----------------------------------------------------------------------------


def test_removing_a_document_changes_the_edit_not_the_published_version(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    stored = attachments.add(
        db_session,
        author,
        programme,
        data=make_pdf(),
        filename="a.pdf",
        title="A",
        upload_dir=upload_dir,
    )
    _publish(db_session, programme)
    _signed_in(client, db_session, author)

    response = client.post_form(
        f"/programmes/{programme.id}/attachments/{stored.id}/remove",
        {"back": f"/programmes/{programme.id}/edit"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/programmes/{programme.id}/edit"
    working = _working(db_session, programme)
    assert working is not None
    assert working.data["attachment_ids"] == []
    published = service.published_version(db_session, programme)
    assert published is not None
    assert published.data["attachment_ids"] == [stored.id]
    client.cookies.clear()
    assert client.get(f"/programmes/{programme.id}/attachments/{stored.id}").status_code == 200


def test_only_editors_remove_documents(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    stored = attachments.add(
        db_session,
        author,
        programme,
        data=make_pdf(),
        filename="a.pdf",
        title="A",
        upload_dir=upload_dir,
    )
    _publish(db_session, programme)
    _signed_in(client, db_session, factories.member())

    response = client.post_form(f"/programmes/{programme.id}/attachments/{stored.id}/remove", {})

    assert response.status_code == 403
    assert _working(db_session, programme) is None


def test_back_only_leads_to_pages_of_the_programme(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    _signed_in(client, db_session, author)

    response = _upload(client, programme, make_pdf(), back="https://evil.example/")

    assert response.status_code == 303
    assert response.headers["location"] == f"/programmes/{programme.id}/attachments"


def test_the_documents_page_lists_the_working_documents(
    client: PortalClient, db_session: Session, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    attachments.add(
        db_session,
        author,
        programme,
        data=make_pdf(pages=12),
        filename="guide.pdf",
        title="Practitioner guide",
        upload_dir=upload_dir,
    )
    _signed_in(client, db_session, author)

    page = client.get(f"/programmes/{programme.id}/attachments")

    assert page.status_code == 200
    assert "Practitioner guide" in page.text
    assert "12 pages" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    _signed_in(client, db_session, factories.member())
    assert client.get(f"/programmes/{programme.id}/attachments").status_code == 404


def test_listed_keeps_the_versions_order_in_one_query(
    db_session: Session, connection: Connection, upload_dir: Path
) -> None:
    author = factories.member()
    programme = factories.programme(author, state="draft")
    first = attachments.add(
        db_session,
        author,
        programme,
        data=make_pdf(1),
        filename="1.pdf",
        title="One",
        upload_dir=upload_dir,
    )
    second = attachments.add(
        db_session,
        author,
        programme,
        data=make_pdf(2),
        filename="2.pdf",
        title="Two",
        upload_dir=upload_dir,
    )
    other_programme = factories.programme(author, state="draft", title="Other")
    stranger = attachments.add(
        db_session,
        author,
        other_programme,
        data=make_pdf(3),
        filename="3.pdf",
        title="Three",
        upload_dir=upload_dir,
    )
    data = {"attachment_ids": [second.id, stranger.id, first.id, second.id]}

    with counting_queries(connection) as statements:
        found = attachments.listed(db_session, programme, data)

    assert found == [second, first]
    assert len(statements) == 1
    assert attachments.listed(db_session, programme, {"attachment_ids": []}) == []
    assert attachments.listed(db_session, programme, {}) == []


def test_the_manager_included_in_another_page_ignores_that_pages_form(
    db_session: Session, upload_dir: Path
) -> None:
    from starlette.requests import Request

    from app.programmes.deps import load_context
    from app.web import templates

    author = factories.member()
    programme = factories.programme(author, state="draft")
    stored = attachments.add(
        db_session, author, programme, data=make_pdf(), filename="a.pdf", title="Leaflet",
        upload_dir=upload_dir,
    )  # fmt: skip
    ctx = load_context(db_session, author, programme.id)
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "session": {}})
    page = templates.env.from_string(
        '<main>{% include "programmes/_attachment_manager.html" %}</main>'
    ).render(
        request=request,
        ctx=ctx,
        attachments=[stored],
        errors={"title": "Give the programme a title."},
        values={"title": "The programme's own title"},
    )

    assert "<h1" not in page
    assert "Leaflet" in page
    assert f'action="/programmes/{programme.id}/attachments"' in page
    assert f'name="back" value="/programmes/{programme.id}/edit"' in page
    assert "Give the programme a title." not in page
    assert "The programme&#39;s own title" not in page
