"""Notices in the GB/T 9704-2012 layout: written by ``notice_docx`` and read back with python-docx and lxml."""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Emu, Pt, RGBColor

from webapp.exports.notices import (
    PPR_ORDER,
    Notice,
    NoticeUnit,
    notice_docx,
    order_units,
    validate_doc_number,
)

REPO = Path(__file__).resolve().parents[2]
TWIPS_PER_MM = 1440 / 25.4
TITLE = "关于对2014年企业科协组织建设工作成效显著单位予以通报表扬的通报"
ADDRESSEES = "各省、自治区、直辖市、副省级城市科协，新疆生产建设兵团科协："
HOSTILE = '</w:t><w:fldSimple w:instr="PAGE"/>&amp; <script>=cmd|"/c calc"!A1 { PAGE } ]]>'

PARAGRAPHS = [
    "　　根据《中国科协2014年推进企业科协组织建设工作实施方案》（科协计函企字〔2014〕25号）的要求，"
    "中国科协组织专家对各地推进企业科协组织建设工作的情况和成效进行了检查考核。",
    "一、基本情况",
    "考核工作按照申报、推荐、专家评审、公示的程序进行。",
    "（一）高度重视，加强领导。各地科协把企业科协组织建设工作纳入重要议事日程。",
    "（二）突出重点",
    "二、表扬决定",
    "经研究，决定对北京市科学技术协会等单位予以通报表扬（名单见附件）。",
    "希望受到表扬的单位珍惜荣誉，再接再厉。",
]


def seed_units() -> list[NoticeUnit]:
    with (REPO / "seeds" / "units.csv").open(encoding="utf-8") as fh:
        return [
            NoticeUnit(row["code"], row["name"], row["category"], f"后补助 {10 + i % 6}万元")
            for i, row in enumerate(csv.DictReader(fh))
        ]


def make_notice(**changes) -> Notice:
    units = seed_units()
    random.Random(7).shuffle(units)
    notice = Notice(
        kind="commendation",
        issuing_organ="中国科学技术协会",
        doc_number="科协函企字〔2014〕58号",
        title=TITLE,
        addressees=ADDRESSEES,
        paragraphs=PARAGRAPHS,
        signature="中国科协",
        date=date(2014, 12, 26),
        attachment_title="2014年企业科协组织建设工作成效显著单位名单",
        units=units,
    )
    return replace(notice, **changes)


@pytest.fixture(scope="module")
def document():
    return docx.Document(io.BytesIO(notice_docx(make_notice())))


def paragraph_index(doc, text: str) -> int:
    return next(i for i, p in enumerate(doc.paragraphs) if p.text == text)


def east_asia(run) -> str | None:
    fonts = run._r.find(qn("w:rPr")).find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def body_paragraphs(doc):
    start = paragraph_index(doc, ADDRESSEES)
    end = next(i for i, p in enumerate(doc.paragraphs) if p.text.startswith("附件："))
    return doc.paragraphs[start + 1 : end]


# ---------------------------------------------------------------- page, grid, styles


def test_page_is_a4_with_gbt9704_margins(document):
    section = document.sections[0]
    for value, mm in (
        (section.page_width, 210),
        (section.page_height, 297),
        (section.top_margin, 37),
        (section.bottom_margin, 35),
        (section.left_margin, 28),
        (section.right_margin, 26),
    ):
        assert value.mm == pytest.approx(mm, abs=0.1)
    width = Emu(section.page_width - section.left_margin - section.right_margin)
    height = Emu(section.page_height - section.top_margin - section.bottom_margin)
    assert width.mm == pytest.approx(156, abs=0.1)
    assert height.mm == pytest.approx(225, abs=0.1)


def test_document_grid_is_22_lines_of_28_characters(document):
    section = document.sections[0]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars"
    line_pitch, char_space = int(grid.get(qn("w:linePitch"))), int(grid.get(qn("w:charSpace")))
    assert (line_pitch, char_space) == (579, -842)
    height = Emu(section.page_height - section.top_margin - section.bottom_margin).twips
    assert 22 * line_pitch <= height < 23 * line_pitch
    width_pt = Emu(section.page_width - section.left_margin - section.right_margin).pt
    pitch = 16 + char_space / 4096  # the Normal font size plus charSpace in 1/4096 pt
    assert 28 * pitch <= width_pt < 29 * pitch


def test_normal_style_is_fangsong_3hao_with_exact_grid_spacing(document):
    normal = document.styles["Normal"]
    fonts = normal.element.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert fonts.get(qn("w:ascii")) == "仿宋_GB2312"
    assert fonts.get(qn("w:eastAsiaTheme")) is None
    assert normal.font.size == Pt(16)
    assert normal.paragraph_format.line_spacing.twips == 579
    assert normal.paragraph_format.line_spacing.pt == pytest.approx(28.95)


def test_every_run_names_its_east_asian_font(document):
    runs = [r for p in document.paragraphs for r in p.runs]
    runs += [r for t in document.tables for c in t._cells for p in c.paragraphs for r in p.runs]
    assert runs
    assert all(east_asia(r) for r in runs)


def test_body_runs_are_fangsong_16pt_except_headings(document):
    body = body_paragraphs(document)
    plain = [
        p
        for p in body
        if p.text and not re.match(r"[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）", p.text)
    ]
    assert len(plain) == 4
    for paragraph in plain:
        assert paragraph.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
        ind = paragraph._p.pPr.find(qn("w:ind"))
        assert ind.get(qn("w:firstLineChars")) == "200"
        for run in paragraph.runs:
            assert east_asia(run) == "仿宋_GB2312"
            assert run.font.size == Pt(16)
    # the full-width spaces typed before a paragraph give way to the 2-character indent
    assert plain[0].text.startswith("根据")


def test_headings_are_heiti_and_kaiti(document):
    h1 = [p for p in document.paragraphs if p.text in ("一、基本情况", "二、表扬决定")]
    assert [east_asia(r) for p in h1 for r in p.runs] == ["黑体", "黑体"]
    h2 = document.paragraphs[
        paragraph_index(
            document, "（一）高度重视，加强领导。各地科协把企业科协组织建设工作纳入重要议事日程。"
        )
    ]
    assert [(r.text, east_asia(r)) for r in h2.runs] == [
        ("（一）高度重视，加强领导。", "楷体_GB2312"),
        ("各地科协把企业科协组织建设工作纳入重要议事日程。", "仿宋_GB2312"),
    ]
    alone = document.paragraphs[paragraph_index(document, "（二）突出重点")]
    assert [east_asia(r) for r in alone.runs] == ["楷体_GB2312"]


# ---------------------------------------------------------------- 版头, title, closing


def test_masthead_organ_name_is_red_xiaobiaosong(document):
    organ = document.paragraphs[0]
    assert organ.text == "中国科学技术协会"
    assert organ.alignment == WD_ALIGN_PARAGRAPH.CENTER
    run = organ.runs[0]
    assert run.font.color.rgb in (RGBColor(0xFF, 0, 0), RGBColor(0xC0, 0, 0))
    assert east_asia(run) == "方正小标宋简体"
    assert run.font.size > Pt(22)
    assert organ.paragraph_format.space_before.mm == pytest.approx(35, abs=0.1)


def test_doc_number_is_centred_above_the_red_rule(document):
    index = paragraph_index(document, "科协函企字〔2014〕58号")
    number = document.paragraphs[index]
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert [p.text for p in document.paragraphs[1:index]] == ["", ""]  # 空二行
    bottom = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert bottom.get(qn("w:val")) == "single"
    assert bottom.get(qn("w:color")) in ("FF0000", "C00000")
    assert number.paragraph_format.left_indent is None and number.paragraph_format.right_indent is None
    assert int(bottom.get(qn("w:space"))) == pytest.approx(4 / 25.4 * 72, abs=1)


def test_title_is_2hao_xiaobiaosong_centred(document):
    index = paragraph_index(document, TITLE)
    title = document.paragraphs[index]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert [(east_asia(r), r.font.size) for r in title.runs] == [("方正小标宋简体", Pt(22))]
    assert [p.text for p in document.paragraphs[index - 2 : index]] == ["", ""]
    assert document.paragraphs[index + 1].text == ""
    assert document.paragraphs[index + 2].text == ADDRESSEES


def test_title_line_break_is_kept():
    doc = docx.Document(
        io.BytesIO(
            notice_docx(make_notice(title="关于对2014年企业科协组织建设工作\n成效显著单位予以通报表扬的通报"))
        )
    )
    title = next(p for p in doc.paragraphs if p.text.startswith("关于对"))
    assert len(title._p.xpath(".//w:br")) == 1
    assert title.text == "关于对2014年企业科协组织建设工作\n成效显著单位予以通报表扬的通报"


def test_attachment_note_signature_and_date(document):
    texts = [p.text for p in document.paragraphs]
    note = texts.index("附件：2014年企业科协组织建设工作成效显著单位名单")
    assert texts[note - 1] == ""
    assert texts[note + 1 : note + 5] == ["", "", "中国科协", "2014年12月26日"]
    signature, dated = document.paragraphs[note + 3], document.paragraphs[note + 4]
    assert signature.alignment == dated.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert dated._p.pPr.find(qn("w:ind")).get(qn("w:rightChars")) == "400"
    assert [east_asia(r) for r in dated.runs] == ["仿宋_GB2312"]


def test_addressees_get_a_full_width_colon():
    doc = docx.Document(io.BytesIO(notice_docx(make_notice(addressees="各省级科协:"))))
    assert "各省级科协：" in [p.text for p in doc.paragraphs]


def test_empty_doc_number_leaves_the_line_and_the_rule():
    doc = docx.Document(io.BytesIO(notice_docx(make_notice(doc_number=""))))
    number = doc.paragraphs[3]
    assert number.text == ""
    assert number._p.pPr.find(qn("w:pBdr")) is not None


# ---------------------------------------------------------------- page numbers


@pytest.mark.parametrize(
    "which, align, indent",
    [
        ("footer", WD_ALIGN_PARAGRAPH.RIGHT, "w:right"),
        ("even_page_footer", WD_ALIGN_PARAGRAPH.LEFT, "w:left"),
    ],
)
def test_page_numbers_dash_n_dash_odd_right_even_left(document, which, align, indent):
    assert document.settings.odd_and_even_pages_header_footer is True
    footer = getattr(document.sections[0], which)
    assert footer.is_linked_to_previous is False
    (paragraph,) = footer.paragraphs
    assert paragraph.alignment == align
    assert int(paragraph._p.pPr.find(qn("w:ind")).get(qn(indent))) > 0  # 空一字
    runs = paragraph.runs
    assert runs[0].text == "— " and runs[-1].text == " —"
    assert [t.text.strip() for t in paragraph._p.xpath(".//w:instrText")] == ["PAGE"]
    kinds = [f.get(qn("w:fldCharType")) for f in paragraph._p.xpath(".//w:fldChar")]
    assert kinds == ["begin", "separate", "end"]
    assert paragraph.text == "— 1 —"
    for run in runs:
        assert east_asia(run) == "宋体"
        assert run.font.size == Pt(14)


# ---------------------------------------------------------------- the attachment


def attachment_rows(doc) -> list[list[str]]:
    (table,) = doc.tables
    return [[c.text for c in row.cells] for row in table.rows]


def test_attachment_starts_a_new_page_with_label_and_title(document):
    index = paragraph_index(document, "附件")
    label = document.paragraphs[index]
    assert label.paragraph_format.page_break_before is True
    assert [east_asia(r) for r in label.runs] == ["黑体"]
    assert label.paragraph_format.first_line_indent is None
    assert document.paragraphs[index + 1].text == ""
    title = document.paragraphs[index + 2]
    assert title.text == "2014年企业科协组织建设工作成效显著单位名单"
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert [(east_asia(r), r.font.size) for r in title.runs] == [("方正小标宋简体", Pt(22))]


def test_attachment_lists_provinces_then_corps_then_cities(document):
    rows = attachment_rows(document)
    assert rows[0] == ["序号", "单位", "备注"]
    names = [r[1] for r in rows[1:]]
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 48)]
    expected = {u.name: u for u in seed_units()}
    categories = [expected[n].category for n in names]
    assert categories == ["province"] * 31 + ["corps"] + ["city"] * 15
    codes = [expected[n].code for n in names]
    assert codes[:31] == sorted(codes[:31]) and codes[32:] == sorted(codes[32:])
    assert names[:2] == ["北京市科学技术协会", "天津市科学技术协会"]
    assert names[30:33] == [
        "新疆维吾尔自治区科学技术协会",
        "新疆生产建设兵团科学技术协会",
        "沈阳市科学技术协会",
    ]
    assert names[-1] == "西安市科学技术协会"
    header_row = document.tables[0].rows[0]._tr
    assert header_row.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None


def test_attachment_cells_use_the_body_font(document):
    (table,) = document.tables
    for cell in table._cells:
        for run in (r for p in cell.paragraphs for r in p.runs):
            assert east_asia(run) == "仿宋_GB2312"
            assert run.font.size == Pt(16)


def test_criticism_names_its_detail_column():
    units = [
        NoticeUnit("330200", "宁波市科学技术协会", "city", "未按期报送整改材料"),
        NoticeUnit("150000", "内蒙古自治区科学技术协会", "province", "组建任务完成不足50％"),
    ]
    doc = docx.Document(io.BytesIO(notice_docx(make_notice(kind="criticism", units=units))))
    assert attachment_rows(doc) == [
        ["序号", "单位", "主要问题"],
        ["1", "内蒙古自治区科学技术协会", "组建任务完成不足50％"],
        ["2", "宁波市科学技术协会", "未按期报送整改材料"],
    ]


def test_attachment_without_details_has_two_columns():
    units = [
        NoticeUnit("660000", "新疆生产建设兵团科学技术协会", "corps"),
        NoticeUnit("110000", "北京市科学技术协会", "province"),
    ]
    doc = docx.Document(io.BytesIO(notice_docx(make_notice(units=units))))
    assert attachment_rows(doc) == [
        ["序号", "单位"],
        ["1", "北京市科学技术协会"],
        ["2", "新疆生产建设兵团科学技术协会"],
    ]


def test_hostile_unit_name_is_literal_text():
    units = [NoticeUnit("110000", HOSTILE + "\x00\x1b", "province", "=SUM(A1)")]
    payload = notice_docx(make_notice(units=units, paragraphs=[HOSTILE]))
    doc = docx.Document(io.BytesIO(payload))
    assert attachment_rows(doc)[1] == ["1", HOSTILE, "=SUM(A1)"]
    assert HOSTILE in [p.text for p in doc.paragraphs]
    # nothing became markup: no simple field anywhere, and the only PAGE fields are the two footers'
    assert doc.element.xpath("//w:fldSimple") == []
    assert doc.element.xpath("//w:instrText") == []


# ---------------------------------------------------------------- well-formed for Word


def test_paragraph_properties_are_in_schema_order():
    doc = docx.Document(io.BytesIO(notice_docx(make_notice())))
    parts = [doc.element] + [f._element for f in (doc.sections[0].footer, doc.sections[0].even_page_footer)]
    tags = [qn(t) for t in PPR_ORDER]
    for part in parts:
        for ppr in part.xpath(".//w:pPr"):
            positions = [tags.index(child.tag) for child in ppr]
            assert positions == sorted(positions), [c.tag for c in ppr]


def test_bad_kind_or_category_is_refused():
    with pytest.raises(ValueError):
        notice_docx(make_notice(kind="praise"))
    with pytest.raises(ValueError):
        notice_docx(make_notice(units=[NoticeUnit("110000", "北京市科学技术协会", "county")]))


def test_order_units_provinces_corps_cities():
    units = [
        NoticeUnit("610100", "西安市", "city"),
        NoticeUnit("660000", "兵团", "corps"),
        NoticeUnit("210100", "沈阳市", "city"),
        NoticeUnit("650000", "新疆", "province"),
        NoticeUnit("110000", "北京市", "province"),
    ]
    assert [u.code for u in order_units(units)] == ["110000", "650000", "660000", "210100", "610100"]
    assert order_units([]) == []


# ---------------------------------------------------------------- 发文字号


@pytest.mark.parametrize(
    "text", ["科协函企字〔2014〕58号", "科协计函企字〔2014〕25号", "国发〔2012〕1号", "科协发〔2015〕120号"]
)
def test_validate_doc_number_accepts(text):
    assert validate_doc_number(text) is None


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "请填写"),
        ("科协函企字[2014]58号", "六角括号"),
        ("科协函企字(2014)58号", "六角括号"),
        ("科协函企字（2014）58号", "六角括号"),
        ("科协函企字【2014】58号", "六角括号"),
        ("科协函企字〔14〕58号", "全称"),
        ("科协函企字〔２０１４〕58号", "全称"),
        ("科协函企字〔2014〕58", "号"),
        ("科协函企字〔2014〕第58号", "第"),
        ("科协函企字〔2014〕058号", "虚位"),
        ("科协函企字〔2014〕号", "阿拉伯数字"),
        ("〔2014〕58号", "代字"),
        ("科协函企字 〔2014〕58号", "空格"),
    ],
)
def test_validate_doc_number_rejects(text, says):
    message = validate_doc_number(text)
    assert message is not None and says in message


# ---------------------------------------------------------------- rendering


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_renders_to_pdf_with_libreoffice(tmp_path):
    source = tmp_path / "notice.docx"
    source.write_bytes(notice_docx(make_notice()))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = (tmp_path / "notice.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages >= 2  # the notice and its attachment
