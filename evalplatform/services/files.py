"""Uploaded files (上传文件): stored by content hash, type-checked by their bytes, size-limited.

A file is kept once under ``<upload dir>/<first two hex>/<sha256>``; the same bytes uploaded
twice are one file. The type is decided by the first bytes, never by the name or the
browser's content type: a PDF starts with ``%PDF-``, a DOCX is a ZIP holding
``word/document.xml``.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from evalplatform.i18n import N_, _, size_text
from evalplatform.services.errors import NotFound, ValidationFailed
from evalplatform.settings import get_settings

PDF = "pdf"
DOCX = "docx"
KIND_LABELS = {PDF: N_("PDF"), DOCX: N_("Word (DOCX)")}
MEDIA_TYPES = {PDF: "application/pdf",
               DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    kind: str
    size: int
    filename: str


#: What an uploaded workbook may unpack to: a 5 MB upload must not become gigabytes in memory
#: when it is read (a zip bomb). Zip readers stop at the sizes the archive's directory gives.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024


def unpacked_size(data: bytes) -> int | None:
    """What a zip-based Office file (.xlsx, .docx) unpacks to, by its directory; None when it
    is not a zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return None


def workbook_problem(data: bytes) -> str | None:
    """Why an uploaded .xlsx is refused before it is opened, in the reader's language."""
    size = unpacked_size(data)
    if size is None:
        return _("This file is not an Excel workbook (.xlsx).")
    if size > MAX_UNPACKED_BYTES:
        return _("The workbook unpacks to more than %(n)s MB.", n=MAX_UNPACKED_BYTES // 2 ** 20)
    return None


def detect_kind(data: bytes) -> str | None:
    """The file's type by its bytes: 'pdf', 'docx' or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            return None
    return None


def _upload_dir() -> Path:
    return get_settings().resolved_upload_dir()


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound(_("No such file."))
    return _upload_dir() / sha256[:2] / sha256


def _kinds_text(kinds: tuple[str, ...]) -> str:
    """'PDF' / 'PDF or Word (DOCX)' in the reader's language."""
    text = str(KIND_LABELS[kinds[0]])
    for kind in kinds[1:]:
        text = _("%(first)s or %(second)s", first=text, second=str(KIND_LABELS[kind]))
    return text


def check(data: bytes, *, field: str, allowed: tuple[str, ...] = (PDF,)) -> str:
    """The upload's kind, or ValidationFailed naming ``field``: empty, too large, or of a kind
    not allowed. Nothing is kept (``store`` keeps it)."""
    limit = get_settings().upload_max_bytes
    if not data:
        raise ValidationFailed({field: _("Choose a file to upload.")})
    if len(data) > limit:
        # rounded up, so that a file just over the limit never reads as the limit itself
        size = (_("%(count)s MB", count=math.ceil(len(data) * 10 / 1048576) / 10)
                if len(data) >= 1048576 else size_text(len(data)))
        raise ValidationFailed({field: _(
            "The file is %(size)s; at most %(limit)s is accepted.", size=size,
            limit=size_text(limit))})
    kind = detect_kind(data)
    if kind not in allowed:
        raise ValidationFailed({field: _(
            "The file's content is not an accepted type; accepted: %(kinds)s.",
            kinds=_kinds_text(allowed))})
    return kind


def acceptable(data: bytes, allowed: tuple[str, ...] = (PDF,)) -> bool:
    """Whether ``check`` would take this upload: a form sent back for another field's error
    names the acceptable files chosen, since a file box always comes back empty."""
    try:
        check(data, field="file", allowed=allowed)
    except ValidationFailed:
        return False
    return True


def store(data: bytes, filename: str, *, field: str, allowed: tuple[str, ...] = (PDF,)) -> StoredFile:
    """Check and keep an upload; raises ValidationFailed naming ``field`` if it is refused."""
    kind = check(data, field=field, allowed=allowed)
    sha256 = hashlib.sha256(data).hexdigest()
    target = path_for(sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.part")
        temporary.write_bytes(data)
        os.replace(temporary, target)  # atomic: a reader never sees half a file
    name = os.path.basename(filename or "").strip()[:200] or f"{sha256[:12]}.{kind}"
    return StoredFile(sha256=sha256, kind=kind, size=len(data), filename=name)


def read(sha256: str) -> bytes:
    path = path_for(sha256)
    if not path.exists():
        raise NotFound(_("No such file."))
    return path.read_bytes()
