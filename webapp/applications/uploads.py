"""Evidence uploads: stream to disk, check by content, store under the SHA-256 (DESIGN §3, §7).

A pure module (no database; Flask-Babel only translates its messages). ``store_upload`` reads the upload
in chunks into a temporary file inside ``<upload_dir>/.tmp`` while hashing it, never holding the whole file
in memory; it then decides the kind from the content (magic bytes, and for DOCX/XLSX the zip structure
within size and ratio limits), refuses anything else with a message (in the interface language) that says
what is wrong and how to fix it, and finally links the file to ``<upload_dir>/<sha[:2]>/<sha[2:4]>/<sha>``.
Whatever happens, the temporary file is removed; a refused upload leaves nothing behind.
``prune_unreferenced`` later removes stored files that nothing refers to any more (and temporaries a crash
left behind), given the set of referenced hashes.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import mmap
import os
import re
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext as _
from werkzeug.exceptions import ClientDisconnected

from webapp.core.i18n import N_

__all__ = [
    "ALLOWED_KINDS",
    "MIME_TYPES",
    "PruneRefused",
    "PruneResult",
    "PrunedFile",
    "StoredFile",
    "UploadRejected",
    "join_sentences",
    "open_stored",
    "prune_unreferenced",
    "remove_if_unreferenced",
    "safe_display_name",
    "store_upload",
]

MB = 1024**2
CHUNK = 1 * MB  # read and re-read size; never a whole-file read
NAME_LIMIT = 120  # characters of the display name, extension kept
FILE_MODE = 0o640
DIR_MODE = 0o750
TMP_DIRNAME = ".tmp"
#: entries (and archives) that unpack to less than this cannot be a bomb, so their ratio is not judged
RATIO_FLOOR = 1 * MB
#: decompression-bomb images: Pillow's own refusal threshold (2 x 89,478,485 pixels)
MAX_PIXELS = 178_956_970

ALLOWED_KINDS = {"pdf", "docx", "xlsx", "jpg", "png"}

MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
}


_KIND_ORDER = ("pdf", "docx", "xlsx", "jpg", "png")
#: the kinds' names as messages show them (translated where used: ``_label``)
_LABELS = {
    "pdf": N_("PDF"),
    "docx": N_("Word 文档（DOCX）"),
    "xlsx": N_("Excel 表格（XLSX）"),
    "jpg": N_("JPG 图片"),
    "png": N_("PNG 图片"),
}
_LIST_LABELS = {
    "pdf": N_("PDF（.pdf）"),
    "docx": N_("Word 文档（.docx）"),
    "xlsx": N_("Excel 表格（.xlsx）"),
    "jpg": N_("JPG 图片（.jpg/.jpeg）"),
    "png": N_("PNG 图片（.png）"),
}
_EXTENSIONS = {"pdf": "pdf", "docx": "docx", "xlsx": "xlsx", "jpg": "jpg", "jpeg": "jpg", "png": "png"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL = b"PK\x03\x04"
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # control, format (bidi overrides, zero-width), surrogates


class UploadRejected(ValueError):
    """An upload that was refused; ``message`` (in the interface language) says what is wrong and how to
    fix it. ``too_large``: refused for its size alone."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


def join_sentences(*sentences: str) -> str:
    """Messages run together as one: Chinese sentences (ending in full-width punctuation) follow each
    other directly, a sentence ending otherwise (an English one) is followed by a space."""
    text = ""
    for sentence in sentences:
        if not sentence:
            continue
        if text and ord(text[-1]) < 128 and not text[-1].isspace():
            text += " "
        text += sentence
    return text


def _label(kind: str) -> str:
    return _(_LABELS[kind])


@dataclass(frozen=True)
class StoredFile:
    """A file accepted and stored under its content hash."""

    sha256: str
    size: int
    kind: str
    mime: str
    original_name: str
    path: Path
    already_stored: bool


# ------------------------------------------------------------------------------------------------ names


def safe_display_name(name: str) -> str:
    """The name to show and offer on download: no directories, no control characters, NFC, ≤120 chars.

    Directories (``/`` and ``\\``) and a drive letter are dropped, control and invisible format
    characters (NUL, bidi overrides) removed, leading dots and surrounding blanks stripped; a long name
    is cut keeping its extension. Nothing usable left → ``UploadRejected``.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROP_CATEGORIES)
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _DRIVE_RE.sub("", text)
    text = re.sub(r"^[\s.]+", "", text)
    text = re.sub(r"[\s.]+$", "", text)
    if not text:
        raise UploadRejected(
            _("文件名为空或无效，请给文件起一个正常的名字（例如“2014年工作总结.pdf”）后重新上传。")
        )
    if len(text) > NAME_LIMIT:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 1 <= len(ext) <= 16:
            text = stem[: NAME_LIMIT - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:NAME_LIMIT].rstrip()
    return text


def _extension_kind(name: str) -> tuple[str, str | None]:
    """(extension as written, lower case without dot; the kind it names or None)."""
    _unused, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot else ""
    return ext, _EXTENSIONS.get(ext)


def _allowed_text(allowed: Iterable[str]) -> str:
    kinds = [k for k in _KIND_ORDER if k in set(allowed)]
    return _("只接受以下类型：%(kinds)s。", kinds=_("、").join(_(_LIST_LABELS[k]) for k in kinds))


def _format_limit(max_bytes: int) -> str:
    if max_bytes >= MB:
        value = max_bytes / MB
        return f"{value:.0f} MB" if max_bytes % MB == 0 else f"{value:.1f} MB"
    if max_bytes >= 1024:
        value = max_bytes / 1024
        return f"{value:.0f} KB" if max_bytes % 1024 == 0 else f"{value:.1f} KB"
    return _("%(n)s 字节", n=max_bytes)


# ------------------------------------------------------------------------------------------------ store


def store_upload(
    stream: BinaryIO,
    original_name: str,
    *,
    upload_dir: Path,
    max_bytes: int,
    allowed: set[str] = ALLOWED_KINDS,
    expect_kind: str | None = None,
    zip_max_uncompressed: int = 200 * 1024**2,
    zip_max_ratio: int = 100,
    zip_max_entries: int = 10_000,
) -> StoredFile:
    """Receive one upload, check it by content and store it under its SHA-256; see the module docstring.

    Raises ``UploadRejected`` (nothing left on disk) for anything not acceptable.
    """
    allowed = set(allowed)
    if not allowed or not allowed <= ALLOWED_KINDS:
        raise ValueError(f"allowed must be a non-empty subset of {sorted(ALLOWED_KINDS)}")
    if expect_kind is not None:
        if expect_kind not in ALLOWED_KINDS:
            raise ValueError(f"expect_kind must be one of {sorted(ALLOWED_KINDS)}")
        allowed &= {expect_kind}
        if not allowed:
            raise ValueError("expect_kind is not among the allowed kinds")
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")

    name = safe_display_name(original_name)
    upload_dir = Path(upload_dir)
    tmp_dir = upload_dir / TMP_DIRNAME
    tmp_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix="upload-", dir=tmp_dir)
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            sha, size, head = _receive(stream, fh, name, max_bytes)
            fh.flush()
            kind = _validate(
                fh,
                tmp_path,
                name=name,
                size=size,
                head=head,
                allowed=allowed,
                expect_kind=expect_kind,
                limits=(zip_max_uncompressed, zip_max_ratio, zip_max_entries),
            )
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), FILE_MODE)
        path, already = _publish(tmp_path, upload_dir, sha, size)
    finally:
        tmp_path.unlink(missing_ok=True)
    return StoredFile(
        sha256=sha,
        size=size,
        kind=kind,
        mime=MIME_TYPES[kind],
        original_name=name,
        path=path,
        already_stored=already,
    )


def _receive(stream: BinaryIO, fh: BinaryIO, name: str, max_bytes: int) -> tuple[str, int, bytes]:
    """Copy the stream into ``fh`` in chunks; (sha256 hex, size, first bytes).

    Stops early when the first bytes already show a kind that is never accepted.
    """
    digest = hashlib.sha256()
    size = 0
    head = bytearray()
    magic_checked = False
    while True:
        want = min(CHUNK, max_bytes + 1 - size)
        try:
            chunk = stream.read(want)
        except (ClientDisconnected, OSError, EOFError, ValueError) as exc:
            raise UploadRejected(
                _("上传中断：文件“%(name)s”没有完整收到（网络断开或浏览器取消），请重新上传。", name=name)
            ) from exc
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise UploadRejected(
                _(
                    "文件超过 %(limit)s 上限：“%(name)s”太大，请压缩（例如降低扫描分辨率）或拆分后重新上传。",
                    limit=_format_limit(max_bytes),
                    name=name,
                ),
                too_large=True,
            )
        digest.update(chunk)
        fh.write(chunk)
        if len(head) < 4096:
            head += chunk[: 4096 - len(head)]
        if not magic_checked and len(head) >= 8:
            magic_checked = True
            if _sniff(bytes(head)) is None:
                break  # refused below from the first bytes; no point in receiving the rest
    return digest.hexdigest(), size, bytes(head)


def _sniff(head: bytes) -> str | None:
    """The candidate kind from the magic bytes: pdf, png, jpg, zip (a possible DOCX/XLSX) or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(_ZIP_LOCAL):
        return "zip"
    return None


def _describe(head: bytes) -> str:
    """What an unaccepted file actually is, in words an applicant understands."""
    if not head:
        return _("空文件")
    if head.startswith(_OLE_SIGNATURE):
        return _("旧版 Office 文件（.doc/.xls 格式）")
    if head.startswith(b"MZ"):
        return _("Windows 可执行程序（EXE/DLL）")
    if head.startswith(b"\x7fELF"):
        return _("可执行程序（ELF）")
    if head[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ):
        return _("可执行程序（Mach-O）")
    if head.startswith(b"#!"):
        return _("脚本文件")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _("GIF 图片")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _("WebP 图片")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return _("TIFF 图片")
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"PK\x05\x06")):
        return _("压缩包")
    if head.startswith(b"{\\rtf"):
        return _("RTF 文档")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "ignore")
    elif b"\x00" in head:
        return _("无法识别的二进制文件")
    else:
        text = head.decode("utf-8", "ignore")
    text = text.lstrip("\ufeff \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html")):
        return _("HTML 网页")
    if "<svg" in text:
        return _("SVG 图形")
    if any(tag in text for tag in ("<script", "<html", "<body", "<iframe", "<head")):
        return _("HTML 网页")
    if text.startswith("<?php"):
        return _("PHP 脚本")
    if text.startswith("<?xml"):
        return _("XML 文本")
    return _("纯文本文件")


def _validate(
    fh: BinaryIO,
    path: Path,
    *,
    name: str,
    size: int,
    head: bytes,
    allowed: set[str],
    expect_kind: str | None,
    limits: tuple[int, int, int],
) -> str:
    """The accepted kind, or UploadRejected."""
    ext, ext_kind = _extension_kind(name)
    if size == 0:
        raise UploadRejected(
            join_sentences(
                _("文件“%(name)s”是空文件（0 字节），请选择正确的文件重新上传。", name=name), _allowed_text(allowed)
            )
        )
    candidate = _sniff(head)
    if candidate is None:
        what = _describe(head)
        hint = ""
        if head.startswith(_OLE_SIGNATURE):
            hint = _("请在 Word 或 Excel 中“另存为” .docx 或 .xlsx 格式后上传。")
        if ext_kind is not None:
            raise UploadRejected(
                join_sentences(
                    _(
                        "文件“%(name)s”的内容不是 %(kind)s（实际为%(what)s），请上传真正的 %(kind)s 文件。",
                        name=name,
                        kind=_label(ext_kind),
                        what=what,
                    ),
                    hint,
                    _allowed_text(allowed),
                )
            )
        raise UploadRejected(
            join_sentences(
                _("文件“%(name)s”的类型不被接受（内容为%(what)s）。", name=name, what=what),
                hint,
                _allowed_text(allowed),
            )
        )

    if candidate == "zip":
        kind = _check_ooxml(fh, path, name=name, size=size, ext_kind=ext_kind, allowed=allowed, limits=limits)
        _check_name_and_allowed(name, ext, ext_kind, kind, allowed, expect_kind)
        return kind

    kind = candidate
    _check_name_and_allowed(name, ext, ext_kind, kind, allowed, expect_kind)
    if _is_zip(path):
        raise UploadRejected(
            _(
                "文件“%(name)s”同时是 %(kind)s 和压缩包（文件中藏有 ZIP 数据），出于安全原因不能接受。"
                "请用原始软件重新导出 %(kind)s 后上传。",
                name=name,
                kind=_label(kind),
            )
        )
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if kind == "pdf":
            _check_pdf(data, name)
        elif kind == "png":
            _check_png(data, name)
        else:
            _check_jpeg(data, name)
    return kind


def _check_name_and_allowed(
    name: str, ext: str, ext_kind: str | None, kind: str, allowed: set[str], expect_kind: str | None
) -> None:
    if ext_kind is None:
        if ext:
            raise UploadRejected(
                _(
                    "文件“%(name)s”的扩展名“.%(ext)s”与内容（%(kind)s）不符，请把文件名改为以 .%(suffix)s 结尾后重新上传。",
                    name=name,
                    ext=ext,
                    kind=_label(kind),
                    suffix=kind,
                )
            )
        raise UploadRejected(
            _(
                "文件“%(name)s”的扩展名（没有扩展名）与内容（%(kind)s）不符，请把文件名改为以 .%(suffix)s 结尾后重新上传。",
                name=name,
                kind=_label(kind),
                suffix=kind,
            )
        )
    if ext_kind != kind:
        raise UploadRejected(
            _(
                "文件“%(name)s”的内容不是 %(expected)s（实际为 %(kind)s），"
                "请上传真正的 %(expected)s 文件，或把扩展名改为 .%(suffix)s。",
                name=name,
                expected=_label(ext_kind),
                kind=_label(kind),
                suffix=kind,
            )
        )
    if kind not in allowed:
        if expect_kind is not None:
            raise UploadRejected(
                _(
                    "此处需要上传 %(expected)s 文件，“%(name)s”是 %(kind)s。",
                    expected=_label(expect_kind),
                    name=name,
                    kind=_label(kind),
                )
            )
        raise UploadRejected(
            join_sentences(
                _("此处不接受 %(kind)s（文件“%(name)s”）。", kind=_label(kind), name=name), _allowed_text(allowed)
            )
        )


# ------------------------------------------------------------------------------------------------ zip


def _is_zip(path: Path) -> bool:
    """True when the file also parses as a ZIP archive with at least one entry (a polyglot)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.infolist())
    except Exception:  # noqa: BLE001 - anything that does not parse is not a zip
        return False


def _check_ooxml(
    fh: BinaryIO,
    path: Path,
    *,
    name: str,
    size: int,
    ext_kind: str | None,
    allowed: set[str],
    limits: tuple[int, int, int],
) -> str:
    """The kind (docx or xlsx) of a ZIP that is a safe Office Open XML document, or UploadRejected."""
    max_uncompressed, max_ratio, max_entries = limits
    broken = join_sentences(
        _("文件“%(name)s”已损坏（压缩结构不完整或无法读取），请用 Word/Excel 重新保存后上传。", name=name),
        _allowed_text(allowed),
    )
    try:
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
            if len(infos) > max_entries:
                raise UploadRejected(
                    _(
                        "文件“%(name)s”包含 %(count)s 个内部文件，超过 %(limit)s 个的限制，疑似恶意压缩文件，不能接受。",
                        name=name,
                        count=len(infos),
                        limit=max_entries,
                    )
                )
            total = 0
            for info in infos:
                entry = info.filename
                parts = re.split(r"[/\\]", entry)
                if entry.startswith(("/", "\\")) or _DRIVE_RE.match(entry) or ".." in parts:
                    raise UploadRejected(
                        _(
                            "文件“%(name)s”内含非法路径“%(entry)s”（绝对路径或 ..），疑似恶意压缩文件，不能接受。",
                            name=name,
                            entry=entry,
                        )
                    )
                if info.flag_bits & 0x1:
                    raise UploadRejected(
                        _(
                            "文件“%(name)s”已加密或设置了打开密码，评审专家无法打开。请取消密码保护后重新保存并上传。",
                            name=name,
                        )
                    )
                total += info.file_size
                if total > max_uncompressed:
                    raise UploadRejected(
                        _(
                            "文件“%(name)s”解压后超过 %(limit)s，超出解压大小限制"
                            "（疑似“压缩炸弹”），不能接受。请删除过大的内嵌内容后重新保存。",
                            name=name,
                            limit=_format_limit(max_uncompressed),
                        )
                    )
                if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
                    raise UploadRejected(
                        _(
                            "文件“%(name)s”中的“%(entry)s”压缩比异常（超过 %(ratio)s 倍，疑似“压缩炸弹”），不能接受。"
                            "请用 Word/Excel 重新保存后上传。",
                            name=name,
                            entry=entry,
                            ratio=max_ratio,
                        )
                    )
            if total > RATIO_FLOOR and total > max_ratio * size:
                raise UploadRejected(
                    _(
                        "文件“%(name)s”整体压缩比异常（超过 %(ratio)s 倍，疑似“压缩炸弹”），不能接受。"
                        "请用 Word/Excel 重新保存后上传。",
                        name=name,
                        ratio=max_ratio,
                    )
                )
            names = {info.filename for info in infos}
            if any(n.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for n in names):
                raise UploadRejected(
                    _(
                        "文件“%(name)s”含有宏（VBA 代码），出于安全原因不能接受。请另存为不含宏的 .docx 或 .xlsx 后上传。",
                        name=name,
                    )
                )
            kind = _ooxml_kind(names, ext_kind)
            if kind is None:
                _refuse_plain_zip(name, names, ext_kind, allowed)
            for info in infos:  # read everything once: CRCs and sizes must hold (bounded by the checks above)
                with archive.open(info) as member:
                    while member.read(CHUNK):
                        pass
    except UploadRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure on hostile input means a broken file
        raise UploadRejected(broken) from exc
    assert kind is not None
    return kind


def _ooxml_kind(names: set[str], ext_kind: str | None) -> str | None:
    if "[Content_Types].xml" not in names:
        return None
    found = [k for k, part in (("docx", "word/document.xml"), ("xlsx", "xl/workbook.xml")) if part in names]
    if len(found) == 1:
        return found[0]
    if len(found) == 2 and ext_kind in found:
        return ext_kind
    return None


def _refuse_plain_zip(name: str, names: set[str], ext_kind: str | None, allowed: set[str]) -> None:
    if ext_kind in ("docx", "xlsx"):
        needed = "word/document.xml" if ext_kind == "docx" else "xl/workbook.xml"
        missing = [part for part in ("[Content_Types].xml", needed) if part not in names]
        raise UploadRejected(
            _(
                "文件“%(name)s”的内容不是 %(kind)s（实际为普通 ZIP 压缩包，缺少 %(missing)s），"
                "请用 %(program)s 打开后“另存为” .%(suffix)s 文件再上传。",
                name=name,
                kind=_label(ext_kind),
                missing=_("、").join(missing),
                program="Word" if ext_kind == "docx" else "Excel",
                suffix=ext_kind,
            )
        )
    if ext_kind is not None:
        raise UploadRejected(
            _(
                "文件“%(name)s”的内容不是 %(kind)s（实际为 ZIP 压缩包），请上传真正的 %(kind)s 文件。",
                name=name,
                kind=_label(ext_kind),
            )
        )
    raise UploadRejected(
        join_sentences(
            _("文件“%(name)s”是 ZIP 压缩包，不能直接上传，请解压后逐个上传。", name=name), _allowed_text(allowed)
        )
    )


# ------------------------------------------------------------------------------------------------ pdf

_PDF_NAME = re.compile(rb"/((?:[^\x00\t\n\x0c\r ()<>\[\]{}/%#]|#[0-9A-Fa-f]{2}){1,127})")
_PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_OVERLAP = 512  # > longest name token (1 + 127 * 3 bytes)
_PDF_EOF_WINDOW = 4096  # readers look for %%EOF near the end; allow some trailing bytes after it
_PDF_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n)")
_PDF_HEAD = 1024  # inflated bytes enough to tell an object stream (it opens with pairs of integers)
_PDF_OBJSTM_HEAD = re.compile(rb"\s*\d+\s+\d+\s")
_PDF_INFLATE_LIMIT = 64 * MB  # inflated bytes of one PDF's object streams, all together
_PDF_ACTIVE = {
    b"JavaScript": N_("JavaScript 脚本（/JavaScript）"),
    b"JS": N_("JavaScript 脚本（/JS）"),
    b"Launch": N_("启动外部程序的动作（/Launch）"),
    b"EmbeddedFile": N_("嵌入的附件（/EmbeddedFile）"),
    b"EmbeddedFiles": N_("嵌入的附件（/EmbeddedFiles）"),
}


def _scan_names(chunks: Iterable[bytes]) -> bytes | None:
    """The first forbidden name in bytes given in chunks (``#xx`` escapes decoded); a name cut by a chunk
    boundary is seen whole with the overlap kept from the previous chunk."""
    tail = b""
    for chunk in itertools.chain(chunks, [None]):
        final = chunk is None
        buf = tail if final else tail + chunk
        for match in _PDF_NAME.finditer(buf):
            if not final and match.end() == len(buf):
                continue  # the name may go on in the next chunk; it is seen again with the overlap
            token = match.group(1)
            if b"#" in token:
                token = _PDF_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), token)
            if token in _PDF_ACTIVE:
                return token
        tail = buf[-_PDF_OVERLAP:]
    return None


def _pdf_active_name(data: mmap.mmap) -> bytes | None:
    """The first forbidden name in the raw bytes of the PDF, read in chunks."""
    return _scan_names(data[pos : pos + CHUNK] for pos in range(0, len(data), CHUNK))


def _inflate(data: mmap.mmap, start: int, end: int, limit: int, step: int = CHUNK) -> Iterator[bytes]:
    """Flate data ``data[start:end]`` inflated piece by piece (reading ``step`` bytes at a time), at most
    ``limit`` bytes and then one more, so that the caller sees the limit passed; stops quietly where the
    data is corrupt or ends."""
    inflater = zlib.decompressobj()
    produced = 0
    pos = start
    pending = b""
    while produced <= limit:
        if not pending:
            if pos >= end:
                return
            pending = data[pos : min(pos + step, end)]
            pos += len(pending)
        try:
            piece = inflater.decompress(pending, min(CHUNK, limit + 1 - produced))
        except zlib.error:
            return
        pending = inflater.unconsumed_tail
        if piece:
            produced += len(piece)
            yield piece
        elif inflater.eof or not pending and pos >= end:
            return


def _pdf_compressed_active_name(data: mmap.mmap, name: str) -> bytes | None:
    """The first forbidden name inside the PDF's Flate-compressed object streams.

    Since PDF 1.5, ordinary objects (an /OpenAction with its /JavaScript among them) may be packed into
    compressed object streams, out of sight of a scan of the raw bytes. Every stream whose data inflates
    to something that opens like an object stream (pairs of integers: object numbers and offsets) is
    inflated and scanned; images inflate to anything else and are left alone. Each occurrence of the
    ``stream`` keyword is tried on its own, so that a keyword inside a string cannot hide the next stream.
    """
    budget = _PDF_INFLATE_LIMIT
    for match in _PDF_STREAM.finditer(data):
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            end = len(data)
        head = b"".join(_inflate(data, start, end, _PDF_HEAD, step=4 * _PDF_HEAD))
        if not _PDF_OBJSTM_HEAD.match(head):
            continue
        used = 0

        def counted(pieces: Iterator[bytes]) -> Iterator[bytes]:
            nonlocal used
            for piece in pieces:
                used += len(piece)
                yield piece

        found = _scan_names(counted(_inflate(data, start, end, budget)))
        if found is not None:
            return found
        if used > budget:
            raise UploadRejected(
                _(
                    "文件“%(name)s”中的压缩对象展开后超过 %(limit)s MB（疑似“压缩炸弹”），不能接受。"
                    "请用“打印为 PDF”或“另存为 PDF”重新生成后上传。",
                    name=name,
                    limit=_PDF_INFLATE_LIMIT // MB,
                )
            )
        budget -= used
    return None


def _check_pdf(data: mmap.mmap, name: str) -> None:
    if data.rfind(b"%%EOF", max(0, len(data) - _PDF_EOF_WINDOW)) < 0:
        raise UploadRejected(
            _(
                "PDF 文件“%(name)s”不完整（缺少结束标记 %(marker)s），可能在传输中被截断或文件已损坏，请重新导出后上传。",
                name=name,
                marker="%%EOF",
            )
        )
    found = _pdf_active_name(data)
    if found is None:
        found = _pdf_compressed_active_name(data, name)
    if found is not None:
        raise UploadRejected(
            _(
                "文件“%(name)s”含有%(what)s，出于安全原因不能接受。"
                "请用“打印为 PDF”或“另存为 PDF”重新生成不含脚本、附件和动作的 PDF 后上传。",
                name=name,
                what=_(_PDF_ACTIVE[found]),
            )
        )


# ------------------------------------------------------------------------------------------------ images

_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}


def _check_png(data: mmap.mmap, name: str) -> None:
    """Walk the chunks: a valid IHDR first, CRCs right, IDAT present, IEND exactly at the end."""

    def broken(detail: str) -> str:
        return _("PNG 图片“%(name)s”已损坏或不完整（%(detail)s），请重新导出或截图后上传。", name=name, detail=detail)

    total = len(data)
    view = memoryview(data)
    try:
        pos = 8
        seen_idat = False
        first = True
        while True:
            if pos + 12 > total:
                raise UploadRejected(broken(_("文件在中途截断，缺少结束块 IEND")))
            length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
            end = pos + 12 + length
            if length > 0x7FFFFFFF or not ctype.isalpha() or end > total:
                raise UploadRejected(broken(_("数据块不完整")))
            (crc,) = struct.unpack(">I", data[end - 4 : end])
            if zlib.crc32(view[pos + 4 : end - 4]) != crc:
                raise UploadRejected(broken(_("数据块 %(chunk)s 校验错误", chunk=ctype.decode("ascii"))))
            if first:
                if ctype != b"IHDR" or length != 13:
                    raise UploadRejected(broken(_("缺少文件头 IHDR")))
                width, height, depth, color, compression, filtering, interlace = struct.unpack(
                    ">IIBBBBB", data[pos + 8 : pos + 21]
                )
                if (
                    not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF)
                    or depth not in _PNG_DEPTHS.get(color, ())
                    or compression != 0
                    or filtering != 0
                    or interlace not in (0, 1)
                ):
                    raise UploadRejected(broken(_("文件头 IHDR 无效")))
                if width * height > MAX_PIXELS:
                    raise UploadRejected(
                        _(
                            "PNG 图片“%(name)s”尺寸过大（%(width)s×%(height)s 像素），请缩小后重新上传。",
                            name=name,
                            width=width,
                            height=height,
                        )
                    )
                first = False
            elif ctype == b"IHDR":
                raise UploadRejected(broken(_("重复的文件头 IHDR")))
            elif ctype == b"IDAT":
                seen_idat = True
            elif ctype == b"IEND":
                if not seen_idat:
                    raise UploadRejected(broken(_("没有图像数据")))
                if end != total:
                    raise UploadRejected(broken(_("结束块 IEND 之后还有多余数据")))
                return
            pos = end
    finally:
        view.release()


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _check_jpeg(data: mmap.mmap, name: str) -> None:
    """Walk the markers from SOI: a frame header, at least one scan, and an EOI marker."""

    def broken(detail: str) -> str:
        return _("JPEG 图片“%(name)s”已损坏或不完整（%(detail)s），请重新导出或拍摄后上传。", name=name, detail=detail)

    total = len(data)
    pos = 2
    seen_sof = seen_sos = False
    while True:
        if pos >= total:
            raise UploadRejected(broken(_("文件在中途截断，缺少结束标记 EOI")))
        if data[pos] != 0xFF:
            raise UploadRejected(broken(_("标记结构错误")))
        while pos < total and data[pos] == 0xFF:
            pos += 1
        if pos >= total:
            raise UploadRejected(broken(_("文件在中途截断，缺少结束标记 EOI")))
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            if not seen_sos:
                raise UploadRejected(broken(_("没有图像数据")))
            return
        if marker in (0x00, 0xD8):
            raise UploadRejected(broken(_("标记结构错误")))
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > total:
            raise UploadRejected(broken(_("文件在中途截断，缺少结束标记 EOI")))
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > total:
            raise UploadRejected(broken(_("文件在中途截断，缺少结束标记 EOI")))
        if marker in _JPEG_SOF:
            if length < 8:
                raise UploadRejected(broken(_("图像头无效")))
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            if width == 0:
                raise UploadRejected(broken(_("图像头无效")))
            if width * height > MAX_PIXELS:
                raise UploadRejected(
                    _(
                        "JPEG 图片“%(name)s”尺寸过大（%(width)s×%(height)s 像素），请缩小后重新上传。",
                        name=name,
                        width=width,
                        height=height,
                    )
                )
            seen_sof = True
        pos += length
        if marker == 0xDA:
            if not seen_sof:
                raise UploadRejected(broken(_("扫描数据之前没有图像头")))
            seen_sos = True
            while True:  # entropy-coded data: skip stuffed FF00 and restart markers
                found = data.find(b"\xff", pos)
                if found < 0 or found + 1 >= total:
                    raise UploadRejected(broken(_("文件在中途截断，缺少结束标记 EOI")))
                following = data[found + 1]
                if following == 0xFF:
                    pos = found + 1
                elif following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos = found + 2
                else:
                    pos = found
                    break


# ------------------------------------------------------------------------------------------------ storage


def _content_path(upload_dir: Path, sha256: str) -> Path:
    return Path(upload_dir) / sha256[:2] / sha256[2:4] / sha256


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mark_in_use(path: Path) -> None:
    """Give an already stored file a fresh modification time: the row that is about to refer to it again is
    not committed yet, and ``prune_unreferenced`` leaves young files alone (best effort)."""
    try:
        os.utime(path)
    except OSError:
        pass


def _publish(tmp_path: Path, upload_dir: Path, sha256: str, size: int) -> tuple[Path, bool]:
    """Link the checked temp file to its content address; (path, already stored)."""
    final = _content_path(upload_dir, sha256)
    final.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    try:
        os.link(tmp_path, final)  # atomic, never overwrites
    except FileExistsError:
        if final.stat().st_size == size:
            _mark_in_use(final)
            return final, True
        os.replace(tmp_path, final)  # a damaged copy: put the good one in its place
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if final.is_file() and final.stat().st_size == size:  # no hard links on this filesystem
            _mark_in_use(final)
            return final, True
        os.replace(tmp_path, final)
    _fsync_dir(final.parent)
    return final, False


def open_stored(upload_dir: Path, sha256: str) -> Path:
    """The path of a stored file; FileNotFoundError for a malformed hash (hex only) or a missing file."""
    if not isinstance(sha256, str) or not _SHA_RE.fullmatch(sha256):
        raise FileNotFoundError(errno.ENOENT, "not a stored file hash", repr(sha256))
    path = _content_path(upload_dir, sha256)
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "stored file not found", str(path))
    return path


def remove_if_unreferenced(upload_dir: Path, sha256: str, still_referenced: bool) -> None:
    """Delete a stored file (and its empty fan-out directories) unless something still refers to it."""
    if still_referenced:
        return
    if not isinstance(sha256, str) or not _SHA_RE.fullmatch(sha256):
        raise ValueError(f"not a stored file hash: {sha256!r}")
    path = _content_path(upload_dir, sha256)
    path.unlink(missing_ok=True)
    for directory in (path.parent, path.parent.parent):
        try:
            directory.rmdir()
        except OSError:
            break


# ------------------------------------------------------------------------------------------------ pruning

_FANOUT_RE = re.compile(r"[0-9a-f]{2}")


class PruneRefused(ValueError):
    """``prune_unreferenced`` would remove stored files although none on disk is referenced at all."""


@dataclass(frozen=True)
class PrunedFile:
    """A file removed by ``prune_unreferenced`` (or to be removed, in a dry run)."""

    path: Path  # relative to the upload folder
    size: int
    temporary: bool  # a temporary left in ``.tmp``, not a stored file


@dataclass(frozen=True)
class PruneResult:
    """What ``prune_unreferenced`` found and did."""

    removed: tuple[PrunedFile, ...]  # in a dry run: what would be removed
    kept: int  # stored files something refers to
    young: int  # unreferenced stored files and temporaries inside the grace period, left for now
    foreign: tuple[Path, ...]  # entries not named or placed as this module stores them, left alone
    failed: tuple[Path, ...]  # could not be removed (e.g. permissions), left as they are
    dirs_removed: int  # fan-out folders emptied and removed
    dry_run: bool

    @property
    def stored(self) -> tuple[PrunedFile, ...]:
        return tuple(f for f in self.removed if not f.temporary)

    @property
    def temporaries(self) -> tuple[PrunedFile, ...]:
        return tuple(f for f in self.removed if f.temporary)

    @property
    def stored_bytes(self) -> int:
        return sum(f.size for f in self.stored)

    @property
    def temporary_bytes(self) -> int:
        return sum(f.size for f in self.temporaries)


def _entries(directory: str | os.PathLike) -> list[os.DirEntry]:
    with os.scandir(directory) as found:
        return sorted(found, key=lambda entry: entry.name)


def prune_unreferenced(
    upload_dir: Path, referenced: Iterable[str], cutoff: datetime, *, dry_run: bool = False
) -> PruneResult:
    """Remove the stored files whose hash is not in ``referenced``, and the temporaries in ``.tmp``, that
    were last modified before ``cutoff`` (an aware datetime); in a dry run, only say what would go.

    Only what this module writes is touched: regular files named by a 64-hex hash in their own fan-out
    folder, and regular files directly inside ``.tmp``. Anything else (another name, another place, a
    symbolic link, a folder where a file belongs) is left alone and listed in ``foreign``. Every file is
    looked at again just before it is removed, and kept if it was modified meanwhile (an upload of the same
    content refreshes it). Fan-out folders emptied here are removed.

    Raises ``PruneRefused`` (nothing removed) when stored files would be removed while not one stored file
    on disk is referenced: the database or the upload folder is probably the wrong one.
    """
    root = Path(upload_dir)
    limit = cutoff.timestamp()
    wanted = {sha.lower() for sha in referenced if isinstance(sha, str)}
    candidates: list[tuple[Path, os.stat_result, bool]] = []
    foreign: list[Path] = []
    kept = young = 0

    def consider(entry: os.DirEntry, temporary: bool) -> None:
        nonlocal young
        info = entry.stat(follow_symlinks=False)
        if info.st_mtime < limit:
            candidates.append((Path(entry.path), info, temporary))
        else:
            young += 1

    if root.is_dir():
        for top in _entries(root):
            if top.name == TMP_DIRNAME and top.is_dir(follow_symlinks=False):
                for entry in _entries(top):
                    if entry.is_file(follow_symlinks=False):
                        consider(entry, temporary=True)
                    else:
                        foreign.append(Path(entry.path).relative_to(root))
                continue
            if not (_FANOUT_RE.fullmatch(top.name) and top.is_dir(follow_symlinks=False)):
                foreign.append(Path(top.path).relative_to(root))
                continue
            for middle in _entries(top):
                if not (_FANOUT_RE.fullmatch(middle.name) and middle.is_dir(follow_symlinks=False)):
                    foreign.append(Path(middle.path).relative_to(root))
                    continue
                for entry in _entries(middle):
                    name = entry.name
                    if not (
                        _SHA_RE.fullmatch(name)
                        and name[:2] == top.name
                        and name[2:4] == middle.name
                        and entry.is_file(follow_symlinks=False)
                    ):
                        foreign.append(Path(entry.path).relative_to(root))
                    elif name in wanted:
                        kept += 1
                    else:
                        consider(entry, temporary=False)

    doomed = sum(1 for _path, _info, temporary in candidates if not temporary)
    if doomed and not kept:
        raise PruneRefused(
            f"上传目录中有 {doomed} 个文件待删除，但没有一个文件被数据库中的记录引用："
            "可能连接了错误的数据库或上传目录。为安全起见，没有删除任何文件。"
        )

    removed: list[PrunedFile] = []
    failed: list[Path] = []
    emptied: set[Path] = set()
    for path, info, temporary in candidates:
        relative = path.relative_to(root)
        if dry_run:
            removed.append(PrunedFile(relative, info.st_size, temporary))
            continue
        try:
            again = path.lstat()
        except FileNotFoundError:
            continue  # removed meanwhile by someone else
        if again.st_ino != info.st_ino or again.st_mtime >= limit or not stat.S_ISREG(again.st_mode):
            young += 1  # stored again (or replaced) since the walk: an upload is in flight
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            failed.append(relative)
            continue
        removed.append(PrunedFile(relative, again.st_size, temporary))
        if not temporary:
            emptied.add(path.parent)

    dirs_removed = 0
    for leaf in sorted(emptied):
        for directory in (leaf, leaf.parent):
            try:
                directory.rmdir()
            except OSError:
                break  # not empty (or gone): its parent is not empty either
            dirs_removed += 1
    return PruneResult(
        removed=tuple(removed),
        kept=kept,
        young=young,
        foreign=tuple(foreign),
        failed=tuple(failed),
        dirs_removed=dirs_removed,
        dry_run=dry_run,
    )
