"""PDF attachments: read with a size limit, checked by content, stored by their SHA-256.

Files live under ``settings.upload_dir`` (outside the web root) at ``ab/cd/<sha256>``: the
name is derived from the content, so the same PDF uploaded twice is stored once and no name a
user chose ever reaches the file system. They are only ever served as downloads.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote

from pypdf import PasswordType, PdfReader
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse

from app.kit.errors import NotFound, PortalError
from app.kit.i18n import N_, _, format_number

CHUNK_SIZE: Final = 64 * 1024
PDF_MEDIA_TYPE: Final = "application/pdf"
# The PDF specification lets readers accept a header preceded by junk within the first 1024
# bytes; that is as far as a file may hide its signature here.
HEADER_WINDOW: Final = 1024
MAX_FILENAME_LENGTH: Final = 150
FILE_MODE: Final = 0o640
DIRECTORY_MODE: Final = 0o750

_HEADER = re.compile(rb"%PDF-[12]\.\d")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Kept in file names besides letters, marks, digits and dashes of any script.
_FILENAME_PUNCTUATION = frozenset(" ._-()[],+&'!")
_MEBIBYTE = 1024 * 1024


class UploadTooLarge(PortalError):
    status_code = 413
    title = N_("The file is too large")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            _(
                "The file is larger than the limit of %(size)s MB. Please upload a smaller file.",
                size=format_number(round(limit / _MEBIBYTE, 1)),
            )
        )


class NotAPdf(PortalError):
    status_code = 422
    title = N_("This file is not a PDF document")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or _(
                "This file is not a PDF document, or it is damaged. Only PDF files can be attached."
            )
        )


class EncryptedPdf(NotAPdf):
    title = N_("This PDF is protected with a password")

    def __init__(self) -> None:
        super().__init__(
            _(
                "This PDF is protected with a password, so it cannot be checked and others "
                "could not open it. Please attach a copy without a password."
            )
        )


@dataclass(frozen=True, slots=True)
class PdfInfo:
    page_count: int


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """Read an uploaded file in chunks, refusing it as soon as it exceeds ``limit`` bytes."""
    if upload.size is not None and upload.size > limit:
        raise UploadTooLarge(limit)
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(CHUNK_SIZE):
        total += len(chunk)
        if total > limit:
            raise UploadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def check_pdf(data: bytes) -> PdfInfo:
    """Accept only a PDF that pypdf can open and that has at least one page.

    Only the page tree is read, never page contents, so a compressed "bomb" in a page is not
    inflated; pypdf caps what it decompresses elsewhere. Parsing is CPU work: call this from a
    thread (``run_in_threadpool``) in async code.
    """
    # "%PDF-1.7" may start at any of the first HEADER_WINDOW bytes.
    if _HEADER.search(data, 0, HEADER_WINDOW - 1 + len(b"%PDF-1.7")) is None:
        raise NotAPdf
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not _opens_without_password(reader):
                raise EncryptedPdf
            page_count = len(reader.pages)
    except NotAPdf:
        raise
    except Exception as error:  # pypdf raises many kinds on damaged or hostile input
        raise NotAPdf from error
    if page_count < 1:
        raise NotAPdf
    return PdfInfo(page_count=page_count)


def _opens_without_password(reader: PdfReader) -> bool:
    # Many PDFs are "encrypted" only to restrict printing or editing: they open for anyone with
    # the empty user password, so they can be checked and served like any other.
    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception:  # an unsupported cipher counts as protected
        return False


def path_for(sha256: str, root: Path) -> Path:
    """Where the file with this SHA-256 hex digest is stored under ``root``."""
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        raise ValueError("not a SHA-256 hex digest")
    return root / sha256[:2] / sha256[2:4] / sha256


def store(data: bytes, root: Path) -> str:
    """Store ``data`` under its SHA-256 (once; atomically) and return the hex digest."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = path_for(sha256, root)
    if path.is_file():
        return sha256
    root.mkdir(parents=True, exist_ok=True)
    for directory in (path.parent.parent, path.parent):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIRECTORY_MODE)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
            os.fchmod(file.fileno(), FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return sha256


def safe_filename(name: str) -> str:
    """A download name from what the user's file was called: no path, no control characters."""
    name = unicodedata.normalize("NFC", name or "")
    # Browsers on Windows used to send the full path; keep only the last part of either kind.
    name = re.split(r"[/\\]", name)[-1]
    kept: list[str] = []
    for character in name:
        category = unicodedata.category(character)
        if category[0] in "LMN" or category == "Pd" or character in _FILENAME_PUNCTUATION:
            kept.append(character)
        elif category[0] == "Z" or character in "\t\n\r":
            kept.append(" ")
        elif category[0] != "C":  # other symbols and punctuation; control and format go
            kept.append("_")
    cleaned = re.sub(r"\s+", " ", "".join(kept))
    stem = cleaned[:-4] if cleaned.lower().endswith(".pdf") else cleaned
    stem = stem.strip(" .")
    stem = stem[: MAX_FILENAME_LENGTH - len(".pdf")].rstrip(" .")
    return f"{stem or 'document'}.pdf"


def _ascii_filename(filename: str) -> str:
    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    ascii_only = re.sub(r'["\\]', "", ascii_only)
    stem = ascii_only[: -len(".pdf")].strip(" ._")
    return f"{stem or 'document'}.pdf"


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value with an ASCII name and the exact one (RFC 6266/5987)."""
    name = safe_filename(filename)
    fallback = _ascii_filename(name)
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def download_response(path: Path, filename: str) -> FileResponse:
    """Serve a stored PDF as a download that no browser will render or sniff in place."""
    if not path.is_file():
        raise NotFound
    return FileResponse(
        path,
        media_type=PDF_MEDIA_TYPE,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            # Attachments may be members-only: no shared cache may keep them.
            "Cache-Control": "private, no-cache",
        },
    )
