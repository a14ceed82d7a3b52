"""Evidence uploads: content checks, hostile files, names, dedupe, interrupted streams (DESIGN §3, §7).

Every fixture file is built in code; every refusal must leave nothing on disk.
"""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
import xlsxwriter
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import LimitedStream

from webapp.applications.uploads import (
    ALLOWED_KINDS,
    StoredFile,
    UploadRejected,
    open_stored,
    remove_if_unreferenced,
    safe_display_name,
    store_upload,
)

MB = 1024**2
LIMIT = 5 * MB

# ------------------------------------------------------------------------------------------------ builders


def make_pdf(*, extra: bytes = b"", padding: int = 0) -> bytes:
    """A minimal valid one-page PDF with a correct xref table; ``extra`` goes into the catalog."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    return assemble_pdf(objects, padding=padding)


def assemble_pdf(objects: list[bytes], *, version: bytes = b"1.4", padding: int = 0) -> bytes:
    """A PDF of the given object bodies (object 1 the catalog) with a correct classic xref table."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        out += b"%" + b"a" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png(width: int = 2, height: int = 2) -> bytes:
    """An RGB PNG, red pixels."""
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def make_jpeg() -> bytes:
    """A decodable 1x1 grey baseline JPEG: SOI, DQT, SOF0, DHT (DC, AC), SOS, one MCU, EOI."""
    return (
        b"\xff\xd8"
        + b"\xff\xdb\x00\x43\x00"
        + b"\x01" * 64
        + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
        + b"\xff\xc4\x00\x14\x00\x01"
        + b"\x00" * 15
        + b"\x00"
        + b"\xff\xc4\x00\x14\x10\x01"
        + b"\x00" * 15
        + b"\x00"
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
        + b"\x3f"
        + b"\xff\xd9"
    )


def make_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("2014年企业科协工作总结")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx() -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet("名册")
    sheet.write_row(0, 0, ["企业科协名称", "成立日期", "会员人数"])
    sheet.write_row(1, 0, ["某某公司科协", "2014-05-01", 35])
    workbook.close()
    return out.getvalue()


CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, body in entries.items():
            archive.writestr(zipfile.ZipInfo(name), body, compress_type=compression)
    return out.getvalue()


def make_zeros_zip(parts: dict[str, bytes], big_name: str, big_size: int) -> bytes:
    """A zip with ``big_name`` holding ``big_size`` zero bytes, written streaming (never whole in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
        info = zipfile.ZipInfo(big_name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            block = bytes(MB)
            for _ in range(big_size // MB):
                member.write(block)
    return out.getvalue()


def set_encrypted_flag(data: bytes) -> bytes:
    """Set the 'encrypted' flag bit on every entry, in the local headers and the central directory."""
    raw = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := raw.find(signature, start)) >= 0:
            raw[found + flag_offset] |= 0x01
            start = found + 4
    return bytes(raw)


OLE_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"Microsoft Word 97-2003" + b"\x00" * 512


# ------------------------------------------------------------------------------------------------ helpers


class RecordingStream:
    """A file-like stream that records every read size and can fail after some bytes."""

    def __init__(
        self,
        data: bytes,
        *,
        fail_after: int | None = None,
        error: BaseException | None = None,
        piece: int | None = None,
    ) -> None:
        self._data = io.BytesIO(data)
        self.sizes: list[int | None] = []
        self._fail_after = fail_after
        self._error = error
        self._piece = piece

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(size)
        if self._fail_after is not None and self._data.tell() >= self._fail_after:
            raise self._error
        if self._piece is not None and (size is None or size < 0 or size > self._piece):
            size = self._piece
        return self._data.read(size)


def files_left(upload_dir: Path) -> list[Path]:
    if not upload_dir.exists():
        return []
    return sorted(p for p in upload_dir.rglob("*") if not p.is_dir())


def dirs_left(upload_dir: Path) -> list[str]:
    if not upload_dir.exists():
        return []
    return sorted(str(p.relative_to(upload_dir)) for p in upload_dir.rglob("*") if p.is_dir())


@pytest.fixture()
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


def store(upload_dir: Path, data: bytes, name: str, **kwargs) -> StoredFile:
    kwargs.setdefault("max_bytes", LIMIT)
    return store_upload(io.BytesIO(data), name, upload_dir=upload_dir, **kwargs)


def refused(upload_dir: Path, data: bytes | RecordingStream | LimitedStream, name: str, **kwargs) -> str:
    """Store and expect a refusal that leaves nothing behind; the message."""
    kwargs.setdefault("max_bytes", LIMIT)
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    with pytest.raises(UploadRejected) as caught:
        store_upload(stream, name, upload_dir=upload_dir, **kwargs)
    assert files_left(upload_dir) == []
    assert dirs_left(upload_dir) in ([], [".tmp"])
    return caught.value.message


# ------------------------------------------------------------------------------------------------ accepted


@pytest.mark.parametrize(
    ("builder", "name", "kind", "mime"),
    [
        (make_pdf, "工作总结.pdf", "pdf", "application/pdf"),
        (make_png, "现场照片.PNG", "png", "image/png"),
        (make_jpeg, "合影.jpg", "jpg", "image/jpeg"),
        (make_jpeg, "合影.jpeg", "jpg", "image/jpeg"),
        (
            make_docx,
            "推荐意见.docx",
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (make_xlsx, "名册.xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
    ids=["pdf", "png", "jpg", "jpeg", "docx", "xlsx"],
)
def test_store_upload_accepts_each_allowed_kind(upload_dir, builder, name, kind, mime):
    data = builder()
    stored = store(upload_dir, data, name)
    sha = hashlib.sha256(data).hexdigest()
    assert stored == StoredFile(
        sha256=sha,
        size=len(data),
        kind=kind,
        mime=mime,
        original_name=name,
        path=upload_dir / sha[:2] / sha[2:4] / sha,
        already_stored=False,
    )
    assert stored.path.read_bytes() == data
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o640
    assert files_left(upload_dir) == [stored.path]
    assert open_stored(upload_dir, sha) == stored.path


def test_allowed_kinds_are_the_five_evidence_types():
    assert ALLOWED_KINDS == {"pdf", "docx", "xlsx", "jpg", "png"}


def test_store_upload_same_file_twice_is_recognised(upload_dir):
    data = make_pdf()
    first = store(upload_dir, data, "a.pdf")
    second = store(upload_dir, data, "另一个名字.pdf")
    assert (first.already_stored, second.already_stored) == (False, True)
    assert second.path == first.path
    assert second.sha256 == first.sha256
    assert second.original_name == "另一个名字.pdf"
    assert files_left(upload_dir) == [first.path]


def test_store_upload_reads_in_bounded_chunks(upload_dir):
    data = make_pdf(padding=3 * MB)
    stream = RecordingStream(data)
    stored = store_upload(stream, "big.pdf", upload_dir=upload_dir, max_bytes=LIMIT)
    assert stored.size == len(data)
    assert len(stream.sizes) >= 4
    assert all(size is not None and 0 < size <= 8 * MB for size in stream.sizes)


def test_store_upload_accepts_short_reads(upload_dir):
    data = make_png(40, 40)
    stored = store_upload(RecordingStream(data, piece=7), "p.png", upload_dir=upload_dir, max_bytes=LIMIT)
    assert stored.path.read_bytes() == data


def test_store_upload_accepts_pdf_with_benign_names(upload_dir):
    stored = store(
        upload_dir, make_pdf(extra=b"/OpenAction [3 0 R /Fit] /JavaScriptish /Lang (zh-CN)"), "ok.pdf"
    )
    assert stored.kind == "pdf"


def test_store_upload_expect_kind_matching_is_accepted(upload_dir):
    assert store(upload_dir, make_pdf(), "函.pdf", expect_kind="pdf").kind == "pdf"


# ------------------------------------------------------------------------------------------------ hostile


SVG_SCRIPT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML_SCRIPT = (
    b"<!DOCTYPE html>\n<html><body><script>fetch('/steal?c='+document.cookie)</script></body></html>"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00" + b"\x00" * 200


@pytest.mark.parametrize(
    ("data", "name", "fragment"),
    [
        (make_png(), "报告.pdf", "内容不是 PDF（实际为 PNG 图片）"),
        (ELF, "报告.pdf", "内容不是 PDF（实际为可执行程序（ELF））"),
        (EXE, "报告.pdf", "实际为Windows 可执行程序（EXE/DLL）"),
        (HTML_SCRIPT, "报告.pdf", "内容不是 PDF（实际为HTML 网页）"),
        (HTML_SCRIPT, "index.html", "类型不被接受（内容为HTML 网页）"),
        (SVG_SCRIPT, "logo.svg", "类型不被接受（内容为SVG 图形）"),
        (SVG_SCRIPT, "logo.png", "内容不是 PNG 图片（实际为SVG 图形）"),
        (b"#!/bin/sh\nrm -rf ~\n", "run.pdf", "实际为脚本文件"),
        (OLE_DOC, "旧版.doc", "旧版 Office 文件（.doc/.xls 格式）"),
        (OLE_DOC, "旧版.docx", "请在 Word 或 Excel 中“另存为” .docx 或 .xlsx 格式后上传"),
        (b"", "空.pdf", "是空文件（0 字节）"),
        (make_pdf(), "报告.docx", "内容不是 Word 文档（DOCX）（实际为 PDF）"),
        (make_docx(), "表.xlsx", "内容不是 Excel 表格（XLSX）（实际为 Word 文档（DOCX））"),
        (make_jpeg(), "图.png", "内容不是 PNG 图片（实际为 JPG 图片）"),
        (make_pdf(), "报告.txt", "扩展名“.txt”与内容（PDF）不符"),
        (make_pdf(), "报告", "扩展名（没有扩展名）与内容（PDF）不符"),
        (make_zip({"readme.txt": b"hello"}), "报告.pdf", "内容不是 PDF（实际为 ZIP 压缩包）"),
        (
            make_zip({"readme.txt": b"hello"}),
            "材料.docx",
            "实际为普通 ZIP 压缩包，缺少 [Content_Types].xml、word/document.xml",
        ),
        (make_zip({"readme.txt": b"hello"}), "材料.zip", "是 ZIP 压缩包，不能直接上传"),
        (
            make_zip({"[Content_Types].xml": CONTENT_TYPES, "word/other.xml": b"<w/>"}),
            "材料.docx",
            "缺少 word/document.xml",
        ),
        (b"PK\x03\x04" + b"\x14\x00" + b"\x00" * 40 + b"garbage", "坏.docx", "已损坏"),
        (
            make_zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w/>", "../evil": b"x"}),
            "路径.docx",
            "内含非法路径“../evil”",
        ),
        (
            make_zip(
                {"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w/>", "/etc/cron.d/x": b"x"}
            ),
            "绝对.docx",
            "内含非法路径“/etc/cron.d/x”",
        ),
        (
            make_zip(
                {
                    "[Content_Types].xml": CONTENT_TYPES,
                    "word/document.xml": b"<w/>",
                    "word/vbaProject.bin": b"\x00" * 10,
                }
            ),
            "宏.docx",
            "含有宏（VBA 代码）",
        ),
        (set_encrypted_flag(make_docx()), "加密.docx", "已加密或设置了打开密码"),
        (
            make_pdf(extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
            "js.pdf",
            "含有JavaScript 脚本（/JavaScript）",
        ),
        (
            make_pdf(extra=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
            "hex.pdf",
            "含有JavaScript 脚本",
        ),
        (
            make_pdf(extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
            "launch.pdf",
            "启动外部程序的动作（/Launch）",
        ),
        (
            make_pdf(extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) 9 0 R] >> >>"),
            "att.pdf",
            "嵌入的附件",
        ),
        (make_pdf() + make_zip({"payload.html": HTML_SCRIPT}), "polyglot.pdf", "同时是 PDF 和压缩包"),
        (make_png() + make_zip({"payload.html": HTML_SCRIPT}), "polyglot.png", "同时是 PNG 图片 和压缩包"),
        (make_pdf()[:-30], "截断.pdf", "缺少结束标记 %%EOF"),
        (b"%PDF-", "头.pdf", "缺少结束标记 %%EOF"),
        (make_png()[:40], "截断.png", "PNG 图片“截断.png”已损坏或不完整"),
        (make_png()[:-12], "无结尾.png", "缺少结束块 IEND"),
        (make_png().replace(b"IHDR", b"IHDX"), "头坏.png", "校验错误"),
        (make_jpeg()[:-2], "无结尾.jpg", "缺少结束标记 EOI"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 5, "半截.jpg", "JPEG 图片“半截.jpg”已损坏或不完整"),
    ],
    ids=[
        "png_named_pdf",
        "elf_named_pdf",
        "exe_named_pdf",
        "html_script_named_pdf",
        "html_script_named_html",
        "svg_script_named_svg",
        "svg_script_named_png",
        "shell_script_named_pdf",
        "ole_doc",
        "ole_doc_named_docx",
        "zero_bytes",
        "pdf_named_docx",
        "docx_named_xlsx",
        "jpeg_named_png",
        "pdf_named_txt",
        "pdf_without_extension",
        "plain_zip_named_pdf",
        "plain_zip_named_docx",
        "plain_zip_named_zip",
        "docx_missing_document_xml",
        "broken_zip",
        "zip_dotdot_entry",
        "zip_absolute_entry",
        "docx_with_macros",
        "encrypted_entry",
        "pdf_javascript",
        "pdf_javascript_hex_escaped",
        "pdf_launch",
        "pdf_embedded_file",
        "pdf_zip_polyglot",
        "png_zip_polyglot",
        "pdf_truncated",
        "pdf_header_only",
        "png_truncated",
        "png_without_iend",
        "png_bad_crc",
        "jpeg_without_eoi",
        "jpeg_truncated_header",
    ],
)
def test_store_upload_refuses_hostile_file(upload_dir, data, name, fragment):
    message = refused(upload_dir, data, name)
    assert fragment in message


def test_store_upload_unknown_content_names_allowed_types(upload_dir):
    message = refused(upload_dir, HTML_SCRIPT, "index.html")
    assert (
        "只接受以下类型：PDF（.pdf）、Word 文档（.docx）、Excel 表格（.xlsx）、JPG 图片（.jpg/.jpeg）、PNG 图片（.png）。"
        in message
    )


def test_store_upload_zip_bomb_docx_over_uncompressed_limit(upload_dir):
    bomb = make_zeros_zip({"[Content_Types].xml": CONTENT_TYPES}, "word/document.xml", 12 * MB)
    message = refused(upload_dir, bomb, "炸弹.docx", zip_max_uncompressed=8 * MB)
    assert "解压后超过 8 MB，超出解压大小限制（疑似“压缩炸弹”）" in message
    assert "上限" not in message  # the caller reads 上限 as the size limit


def test_store_upload_zip_bomb_docx_ratio(upload_dir):
    bomb = make_zeros_zip({"[Content_Types].xml": CONTENT_TYPES}, "word/document.xml", 4 * MB)
    assert len(bomb) < 40_000
    message = refused(upload_dir, bomb, "炸弹.docx")
    assert "“word/document.xml”压缩比异常（超过 100 倍" in message


def test_store_upload_zip_bomb_xlsx(upload_dir):
    parts = {"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<workbook/>"}
    bomb = make_zeros_zip(parts, "xl/worksheets/sheet1.xml", 12 * MB)
    message = refused(upload_dir, bomb, "名册.xlsx", zip_max_uncompressed=8 * MB)
    assert "疑似“压缩炸弹”" in message


def test_store_upload_zip_bomb_xlsx_ratio(upload_dir):
    parts = {"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<workbook/>"}
    bomb = make_zeros_zip(parts, "xl/worksheets/sheet1.xml", 3 * MB)
    assert "压缩比异常" in refused(upload_dir, bomb, "名册.xlsx")


def test_store_upload_zip_too_many_entries(upload_dir):
    entries = {"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w/>"}
    entries |= {f"word/media/{i}.xml": b"<x/>" for i in range(10)}
    message = refused(upload_dir, make_zip(entries), "多.docx", zip_max_entries=5)
    assert "包含 12 个内部文件，超过 5 个的限制" in message


def test_store_upload_over_size_limit(upload_dir):
    data = make_pdf(padding=MB)
    stream = RecordingStream(data)
    message = refused(upload_dir, stream, "大.pdf", max_bytes=MB)
    assert "文件超过 1 MB 上限：“大.pdf”太大" in message
    assert sum(stream.sizes) <= MB + 1  # never asks for more than one byte beyond the limit


def test_store_upload_over_size_limit_small_limit_in_kb(upload_dir):
    message = refused(upload_dir, make_pdf(padding=4096), "x.pdf", max_bytes=2048)
    assert message.startswith("文件超过 2 KB 上限")


def test_store_upload_client_disconnect_midway(upload_dir):
    data = make_pdf(padding=2 * MB)
    stream = RecordingStream(data, fail_after=MB + 100, error=ClientDisconnected(), piece=64 * 1024)
    message = refused(upload_dir, stream, "断线.pdf")
    assert message.startswith("上传中断：文件“断线.pdf”没有完整收到")
    assert message.endswith("请重新上传。")


def test_store_upload_stream_short_of_declared_length(upload_dir):
    data = make_pdf(padding=100_000)
    stream = LimitedStream(io.BytesIO(data[:50_000]), len(data))  # the client declared more than it sent
    assert "上传中断" in refused(upload_dir, stream, "短.pdf")


def test_store_upload_stream_oserror(upload_dir):
    stream = RecordingStream(
        make_pdf(padding=MB), fail_after=1000, error=OSError("connection reset"), piece=500
    )
    assert "上传中断" in refused(upload_dir, stream, "断线.pdf")


def test_store_upload_pdf_name_split_across_chunks(upload_dir):
    base = make_pdf()
    # place "/JavaScript" so that the 1 MiB read boundary falls inside the name
    filler = MB - len(b"%PDF-1.4\n%") - 5
    data = b"%PDF-1.4\n%" + b"a" * filler + b"\n/JavaScript (x)\n" + base[len(b"%PDF-1.4\n") :]
    assert data[MB - 4 : MB + 8] in b"\n/JavaScript (x)\n"
    assert "JavaScript" in refused(upload_dir, data, "split.pdf")


def test_store_upload_pdf_name_cut_at_chunk_end_is_not_misread(upload_dir):
    # "/JavaScript" ends exactly at the chunk boundary but the name goes on: "/JavaScriptX" is harmless
    prefix = b"%PDF-1.4\n%"
    data = (
        prefix
        + b"a" * (MB - len(prefix) - len(b"\n/JavaScript"))
        + b"\n/JavaScript"
        + b"X 1\n"
        + make_pdf()[9:]
    )
    assert data[:MB].endswith(b"/JavaScript")
    assert store(upload_dir, data, "ok.pdf").kind == "pdf"


def test_store_upload_kind_not_allowed_here(upload_dir):
    message = refused(upload_dir, make_docx(), "a.docx", allowed={"pdf", "png"})
    assert (
        message
        == "此处不接受 Word 文档（DOCX）（文件“a.docx”）。只接受以下类型：PDF（.pdf）、PNG 图片（.png）。"
    )


def test_store_upload_expect_kind_mismatch(upload_dir):
    message = refused(upload_dir, make_png(), "推荐函.png", expect_kind="pdf")
    assert message == "此处需要上传 PDF 文件，“推荐函.png”是 PNG 图片。"


def test_store_upload_png_pixel_bomb(upload_dir):
    data = make_png(1, 1).replace(
        _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)),
        _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)),
    )
    assert "尺寸过大（100000×100000 像素）" in refused(upload_dir, data, "巨图.png")


def test_store_upload_empty_name_refused(upload_dir):
    assert "文件名为空或无效" in refused(upload_dir, make_pdf(), "../..")


def test_store_upload_rejection_keeps_existing_files(upload_dir):
    kept = store(upload_dir, make_pdf(), "a.pdf")
    with pytest.raises(UploadRejected):
        store(upload_dir, ELF, "b.pdf")
    assert files_left(upload_dir) == [kept.path]


# ------------------------------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/cron.d/evil.pdf", "evil.pdf"),
        ("/etc/passwd.pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("C:y.pdf", "y.pdf"),
        ("..\\..\\windows\\win.ini.pdf", "win.ini.pdf"),
        ("a\x00b\x1b[31m\n\r\t.pdf", "ab[31m.pdf"),
        ("report\u202egpj.pdf", "reportgpj.pdf"),
        ("...hidden.pdf", "hidden.pdf"),
        ("  工作总结 .pdf  ", "工作总结 .pdf"),
        ("caf\u0065\u0301.pdf", "caf\u00e9.pdf"),
        ("报告.pdf.", "报告.pdf"),
    ],
    ids=[
        "dotdot",
        "absolute_posix",
        "absolute_windows",
        "drive_relative",
        "backslash_dotdot",
        "control_chars",
        "bidi_override",
        "leading_dots",
        "blanks",
        "nfc",
        "trailing_dot",
    ],
)
def test_safe_display_name_cleans(raw, clean):
    assert safe_display_name(raw) == clean


def test_safe_display_name_300_characters_keeps_extension():
    name = safe_display_name("材" * 300 + ".pdf")
    assert name == "材" * 116 + ".pdf"
    assert len(name) == 120


def test_safe_display_name_long_without_extension():
    assert safe_display_name("x" * 300) == "x" * 120


@pytest.mark.parametrize(
    "raw",
    ["", "..", "/", "\x00\x01", " . ", "C:\\"],
    ids=["empty", "dots", "slash", "controls", "blank_dot", "drive_only"],
)
def test_safe_display_name_empty_result_refused(raw):
    with pytest.raises(UploadRejected, match="文件名为空或无效"):
        safe_display_name(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/x.pdf", "x.pdf"),
        ("/etc/passwd.pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("a\x00\x07b.pdf", "ab.pdf"),
    ],
    ids=["dotdot", "absolute_posix", "absolute_windows", "control_chars"],
)
def test_store_upload_hostile_name_cleaned_not_rejected(upload_dir, raw, clean):
    stored = store(upload_dir, make_pdf(), raw)
    assert stored.original_name == clean
    assert stored.path.parent.parent.parent == upload_dir
    assert files_left(upload_dir) == [stored.path]


def test_store_upload_300_character_name(upload_dir):
    stored = store(upload_dir, make_pdf(), "长" * 300 + ".PDF")
    assert stored.original_name == "长" * 116 + ".PDF"


# ------------------------------------------------------------------------------------------------ stored files


def test_open_stored_rejects_malformed_hash(upload_dir):
    store(upload_dir, make_pdf(), "a.pdf")
    for bad in ["../../etc/passwd", "A" * 64, "g" * 64, "0" * 63, "0" * 64 + "\n", ""]:
        with pytest.raises(FileNotFoundError):
            open_stored(upload_dir, bad)


def test_open_stored_missing_file(upload_dir):
    with pytest.raises(FileNotFoundError):
        open_stored(upload_dir, "0" * 64)


def test_remove_if_unreferenced_keeps_referenced(upload_dir):
    stored = store(upload_dir, make_pdf(), "a.pdf")
    remove_if_unreferenced(upload_dir, stored.sha256, still_referenced=True)
    assert stored.path.is_file()


def test_remove_if_unreferenced_deletes_file_and_empty_dirs(upload_dir):
    stored = store(upload_dir, make_pdf(), "a.pdf")
    remove_if_unreferenced(upload_dir, stored.sha256, still_referenced=False)
    assert files_left(upload_dir) == []
    assert dirs_left(upload_dir) == [".tmp"]
    remove_if_unreferenced(upload_dir, stored.sha256, still_referenced=False)  # already gone: no error


def test_remove_if_unreferenced_rejects_malformed_hash(upload_dir):
    with pytest.raises(ValueError):
        remove_if_unreferenced(upload_dir, "../x", still_referenced=False)


def test_store_upload_repairs_damaged_copy(upload_dir):
    data = make_pdf()
    first = store(upload_dir, data, "a.pdf")
    first.path.write_bytes(data[:10])
    again = store(upload_dir, data, "a.pdf")
    assert again.already_stored is False
    assert again.path.read_bytes() == data


# ------------------------------------------------------------------------------------------------ pdf object streams


def make_pdf_with_object_stream(
    packed: bytes, *, compress: bool = True, before: bytes = b"", image: bytes | None = None
) -> bytes:
    """A PDF 1.5 whose object 5 sits in a (Flate-compressed) object stream, object 4; the catalog's
    /OpenAction points at it. ``before`` goes in a plain object just ahead of the object stream; ``image``
    adds a Flate-compressed image XObject with that data."""
    header = b"5 0 "
    content = header + packed
    data = zlib.compress(content) if compress else content
    filters = b"/Filter /FlateDecode " if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Note " + before + b" >>",
        b"<< /Type /ObjStm /N 1 /First %d /Length %d %s>>\nstream\n" % (len(header), len(data), filters)
        + data
        + b"\nendstream",
    ]
    if image is not None:
        pixels = zlib.compress(image)
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace "
            b"/DeviceGray /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(pixels)
            + pixels
            + b"\nendstream"
        )
    return assemble_pdf(objects, version=b"1.5")


def test_store_upload_accepts_pdf_with_benign_object_stream_and_flate_image(upload_dir):
    data = make_pdf_with_object_stream(
        b"<< /S /GoTo /D [3 0 R /Fit] >>", image=bytes(range(256)) * 40 + b"/JavaScript"
    )
    # the raw bytes show no forbidden name; the image data (which happens to hold one) is left alone
    assert b"/JavaScript" not in data
    assert store(upload_dir, data, "对象流.pdf").kind == "pdf"


@pytest.mark.parametrize(
    ("packed", "fragment"),
    [
        (b"<< /S /JavaScript /JS (app.alert(1)) >>", "含有JavaScript 脚本（/JavaScript）"),
        (b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>", "含有JavaScript 脚本"),
        (b"<< /S /Launch /F (cmd.exe) >>", "启动外部程序的动作（/Launch）"),
        # deep inside a long object stream: inflated and scanned piece by piece
        (b"<< /Pad (" + b"x" * (3 * MB) + b") /S /JavaScript /JS (1) >>", "含有JavaScript 脚本"),
    ],
    ids=["javascript", "escaped", "launch", "deep"],
)
def test_store_upload_refuses_names_hidden_in_compressed_object_stream(upload_dir, packed, fragment):
    data = make_pdf_with_object_stream(packed)
    assert b"JavaScript" not in data and b"Launch" not in data
    assert fragment in refused(upload_dir, data, "隐藏.pdf")


def test_store_upload_object_stream_found_after_a_decoy_stream_keyword(upload_dir):
    # a string that reads "stream" just ahead must not make the scanner skip the real object stream
    data = make_pdf_with_object_stream(
        b"<< /S /JavaScript /JS (1) >>", before=b"(decoy stream\n not a stream)"
    )
    assert "JavaScript" in refused(upload_dir, data, "诱饵.pdf")


def test_store_upload_uncompressed_object_stream_is_scanned_as_raw_bytes(upload_dir):
    data = make_pdf_with_object_stream(b"<< /S /JavaScript /JS (1) >>", compress=False)
    assert "JavaScript" in refused(upload_dir, data, "明文.pdf")


def test_store_upload_refuses_object_stream_bomb(upload_dir):
    # 70 MB of spaces inside one object stream compress to about 70 KB
    data = make_pdf_with_object_stream(b"<< /Pad (" + b" " * (70 * MB) + b") >>")
    assert len(data) < LIMIT
    assert "压缩炸弹" in refused(upload_dir, data, "炸弹.pdf")
