"""Small builders for applicant-portal tests: valid files made in code, and a complete application."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date

from openpyxl import Workbook

FIGURES = {
    "regulated_enterprises": "12000", "enterprise_kexie_total": "800", "enterprise_kexie_new": "3",
    "task_new_kexie": "150", "liaison_enterprises": "400", "task_liaison": "380", "parks_total": "40",
    "parks_with_kexie": "12", "national_parks_total": "6", "national_parks_with_kexie": "3",
    "academician_workstations": "25", "service_stations": "30", "haizhi_bases": "2",
}


def pdf_bytes(text: str = "evidence", padding: int = 0) -> bytes:
    """A minimal PDF; ``padding`` bytes of comment make it as large as a test needs."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
        + f"% {text}\n".encode()
        + (b"%" + b"0" * padding + b"\n" if padding else b"")
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00\xff\xff\xff"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def roster_xlsx(rows: list[tuple], title: str | None = "大连市科协2030年新建企业科协名册") -> bytes:
    """A roster in the template's layout: optional title row, header, data rows."""
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    ws.append(["序号", "企业科协名称", "成立时间", "批准文号", "会员数", "主席"])
    for n, row in enumerate(rows, start=1):
        ws.append([n, *row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def three_rows(year: int = 2030) -> list[tuple]:
    return [
        ("甲公司科协", date(year, 3, 1), "科协发〔2030〕1号", 120, "张三"),
        ("乙公司科协", date(year, 5, 6), "科协发〔2030〕2号", 80, "李四"),
        ("丙公司科协", date(year, 6, 9), "科协发〔2030〕3号", 45, "王五"),
    ]
