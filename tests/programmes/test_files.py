"""PDF attachments: only real PDFs, never too large, stored by content, served as downloads."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import stat
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject
from starlette.applications import Starlette
from starlette.datastructures import Headers, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.config import Settings
from app.kit.errors import NotFound
from app.programmes.files import (
    CHUNK_SIZE,
    EncryptedPdf,
    NotAPdf,
    PdfInfo,
    UploadTooLarge,
    check_pdf,
    content_disposition,
    download_response,
    path_for,
    read_upload,
    safe_filename,
    store,
)

MIB = 1024 * 1024


def make_pdf(
    pages: int = 1,
    *,
    user_password: str | None = None,
    owner_password: str | None = None,
    algorithm: str = "AES-256",
) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if user_password is not None:
        writer.encrypt(user_password, owner_password, algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manual.txt", "not a pdf")
    return buffer.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


class EndlessFile(io.RawIOBase):
    """A file that never ends and counts how much of it was read."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.bytes_read > 64 * MIB:
            # A reader that ignores its limit fails here instead of filling the memory.
            raise AssertionError("read far past any limit")
        size = len(buffer)
        buffer[:size] = b"\0" * size
        self.bytes_read += size
        return size


# Checking the content ---------------------------------------------------------------------


def test_a_real_pdf_is_accepted_with_its_page_count() -> None:
    assert check_pdf(make_pdf()) == PdfInfo(page_count=1)
    assert check_pdf(make_pdf(pages=3)) == PdfInfo(page_count=3)


@pytest.mark.parametrize(
    "data",
    [
        PNG,
        b"<!doctype html><html><body><script>alert(1)</script></body></html>",
        make_zip(),
        b"",
        b"PDF",
        b"hello, this is plain text named report.pdf",
    ],
    ids=["png", "html", "zip", "empty", "short", "text"],
)
def test_files_that_are_not_pdfs_are_refused_whatever_their_name(data: bytes) -> None:
    with pytest.raises(NotAPdf) as raised:
        check_pdf(data)

    assert raised.value.status_code == 422
    assert raised.value.message.startswith("This file is not a PDF document")


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + os.urandom(50_000),
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"garbage " * 1000,
        b"%PDF-1.7\n<html><script>alert(1)</script></html>\n%%EOF\n",
        make_pdf()[:200],
        b"%PDF-1.7",
    ],
    ids=["random", "text", "html-polyglot", "truncated", "header-only"],
)
def test_a_pdf_signature_followed_by_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(NotAPdf):
        check_pdf(data)


def test_a_pdf_without_pages_is_refused() -> None:
    with pytest.raises(NotAPdf):
        check_pdf(make_pdf(pages=0))


def test_the_signature_must_be_within_the_first_kilobyte() -> None:
    with pytest.raises(NotAPdf):
        check_pdf(b" " * 2000 + make_pdf())


def test_a_pdf_that_needs_a_password_is_refused_with_its_own_message() -> None:
    for algorithm in ("AES-256", "RC4-128"):
        protected = make_pdf(user_password="secret", algorithm=algorithm)

        with pytest.raises(EncryptedPdf) as raised:
            check_pdf(protected)

        assert raised.value.status_code == 422
        assert "password" in raised.value.message


def test_a_pdf_that_only_restricts_editing_is_accepted() -> None:
    # Encrypted with an empty user password: anyone can open it; only editing is restricted.
    restricted = make_pdf(pages=2, user_password="", owner_password="owner", algorithm="AES-256")

    assert check_pdf(restricted) == PdfInfo(page_count=2)


def test_a_compressed_bomb_in_a_page_is_never_inflated() -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    contents = StreamObject()
    contents.set_data(b"0 0 m\n" * 10)  # replaced below by the raw compressed bomb
    contents._data = zlib.compress(b"0" * (64 * MIB), 9)
    contents[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(contents)
    buffer = io.BytesIO()
    writer.write(buffer)
    bomb = buffer.getvalue()
    assert len(bomb) < 1 * MIB

    tracemalloc.start()
    try:
        started = time.perf_counter()
        info = check_pdf(bomb)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info == PdfInfo(page_count=1)
    assert peak < 8 * MIB, peak
    assert elapsed < 5, elapsed


# Reading an upload --------------------------------------------------------------------------


def test_an_upload_within_the_limit_is_read_whole() -> None:
    data = make_pdf() + os.urandom(3 * CHUNK_SIZE)
    upload = UploadFile(file=io.BytesIO(data), filename="manual.pdf")

    assert asyncio.run(read_upload(upload, limit=len(data))) == data


def test_an_upload_one_byte_over_the_limit_is_refused() -> None:
    data = os.urandom(2 * CHUNK_SIZE + 1)
    upload = UploadFile(file=io.BytesIO(data), filename="manual.pdf")

    with pytest.raises(UploadTooLarge):
        asyncio.run(read_upload(upload, limit=2 * CHUNK_SIZE))


def test_an_oversized_upload_is_refused_before_it_is_read_in_full() -> None:
    endless = EndlessFile()
    upload = UploadFile(file=cast(BinaryIO, endless), filename="huge.pdf")

    with pytest.raises(UploadTooLarge) as raised:
        asyncio.run(read_upload(upload, limit=1 * MIB))

    assert 1 * MIB < endless.bytes_read <= 1 * MIB + CHUNK_SIZE
    assert raised.value.status_code == 413


def test_an_upload_whose_size_is_known_is_refused_without_reading() -> None:
    endless = EndlessFile()
    upload = UploadFile(file=cast(BinaryIO, endless), filename="huge.pdf", size=20 * MIB + 1)

    with pytest.raises(UploadTooLarge):
        asyncio.run(read_upload(upload, limit=20 * MIB))

    assert endless.bytes_read == 0


def test_the_refusal_names_the_limit_in_megabytes() -> None:
    error = UploadTooLarge(20 * MIB)

    assert error.status_code == 413
    assert "20 MB" in error.message
    assert "2.5 MB" in UploadTooLarge(5 * MIB // 2).message


def test_the_default_limit_is_twenty_megabytes() -> None:
    assert Settings.model_fields["max_upload_bytes"].default == 20 * MIB


# Storing ------------------------------------------------------------------------------------


def test_a_file_is_stored_under_its_sha256(tmp_path: Path) -> None:
    data = make_pdf()
    root = tmp_path / "uploads"

    sha256 = store(data, root)

    assert sha256 == hashlib.sha256(data).hexdigest()
    path = root / sha256[:2] / sha256[2:4] / sha256
    assert path_for(sha256, root) == path
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    # Nothing else is left behind, such as a temporary file.
    assert [p.relative_to(root) for p in root.rglob("*") if p.is_file()] == [path.relative_to(root)]


def test_storing_the_same_content_twice_keeps_one_untouched_file(tmp_path: Path) -> None:
    data = make_pdf()
    first = store(data, tmp_path)
    path = path_for(first, tmp_path)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    inode = path.stat().st_ino

    second = store(data, tmp_path)

    assert second == first
    assert path.stat().st_ino == inode
    assert path.stat().st_mtime == 1_000_000_000
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_different_content_gets_a_different_file(tmp_path: Path) -> None:
    one = store(make_pdf(pages=1), tmp_path)
    two = store(make_pdf(pages=2), tmp_path)

    assert one != two
    assert path_for(one, tmp_path).read_bytes() != path_for(two, tmp_path).read_bytes()


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "../../etc/passwd",
        "ab/../../" + "a" * 55,
        "/etc/passwd",
        "a" * 63,
        "a" * 65,
        "A" * 64,
        "g" * 64,
        "a" * 64 + "\n",
        "a" * 62 + "/.",
        "",
    ],
)
def test_path_for_accepts_only_a_sha256_hex_digest(key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        path_for(key, tmp_path)


def test_path_for_stays_inside_the_root(tmp_path: Path) -> None:
    key = "0123456789abcdef" * 4

    path = path_for(key, tmp_path)

    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert path.name == key


# Names and downloads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("Annual Report 2024 (final).pdf", "Annual Report 2024 (final).pdf"),
        ("REPORT.PDF", "REPORT.pdf"),
        ("notes.txt", "notes.txt.pdf"),
        ("manual", "manual.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("/var/www/../secret.pdf", "secret.pdf"),
        ("C:\\Users\\Ana\\Plan de prevenção.pdf", "Plan de prevenção.pdf"),
        ("Évaluation \u2013 Kinder & Eltern.pdf", "Évaluation \u2013 Kinder & Eltern.pdf"),
        ("Οδηγός γονέων.pdf", "Οδηγός γονέων.pdf"),
        ("報告書.pdf", "報告書.pdf"),
        ("Cafe\u0301.pdf", "Café.pdf"),
        ("a\x00b\x1fc\x7f.pdf", "abc.pdf"),
        ("invoice\u202egpj.pdf", "invoicegpj.pdf"),
        ("a\r\nContent-Type: text.pdf", "a Content-Type_ text.pdf"),
        ('say "hi"; rm -rf.pdf', "say _hi__ rm -rf.pdf"),
        ("<script>.pdf", "_script_.pdf"),
        ("tab\tand  spaces   .pdf", "tab and spaces.pdf"),
        ("", "document.pdf"),
        (".pdf", "document.pdf"),
        ("...", "document.pdf"),
        ("  .hidden.pdf", "hidden.pdf"),
        ("💥💥.pdf", "__.pdf"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_safe_filename_keeps_names_short() -> None:
    name = safe_filename("ü" * 400 + ".pdf")

    assert len(name) == 150
    assert name == "ü" * 146 + ".pdf"


def test_content_disposition_gives_an_ascii_name_and_the_exact_one() -> None:
    assert content_disposition("report.pdf") == 'attachment; filename="report.pdf"'
    assert content_disposition("Évaluation 2024.pdf") == (
        "attachment; filename=\"Evaluation 2024.pdf\"; filename*=UTF-8''%C3%89valuation%202024.pdf"
    )
    assert content_disposition("報告書.pdf") == (
        "attachment; filename=\"document.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.pdf"
    )
    assert content_disposition('../a";b\r\n.pdf') == 'attachment; filename="a__b.pdf"'


def test_download_is_an_attachment_that_is_never_sniffed(tmp_path: Path) -> None:
    data = make_pdf()
    sha256 = store(data, tmp_path)

    def download(request: Request) -> Response:
        return download_response(path_for(sha256, tmp_path), "Guía para familias.pdf")

    with TestClient(Starlette(routes=[Route("/file", download)])) as client:
        response = client.get("/file")

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="Guia para familias.pdf"; '
        "filename*=UTF-8''Gu%C3%ADa%20para%20familias.pdf"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"].startswith("private")
    assert int(response.headers["content-length"]) == len(data)
    assert "public" not in Headers(response.headers).get("cache-control", "")


def test_download_of_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        download_response(path_for("0" * 64, tmp_path), "gone.pdf")
