"""Commendation (通报表扬) and criticism (通报批评) notices as DOCX in the GB/T 9704-2012 layout (§6).

Pure: no Flask, no database. :func:`notice_docx` takes a :class:`Notice` and returns the bytes of a
Word document; the caller supplies every word of the text, this module only lays it out.

Page and grid (GB/T 9704-2012 §5, all lengths rounded to whole twips, 1 mm = 1440 / 25.4 twips):

- A4 210 × 297 mm = 11906 × 16838 twips; margins top 37 mm (2098), bottom 35 mm (1984), left 28 mm
  (1587), right 26 mm (1474); text block 8845 × 12756 twips = 156 × 225 mm.
- Document grid ``linesAndChars``, 22 lines × 28 characters:

  * ``linePitch`` = floor(12756 / 22) = 579 twips = 28.95 pt. 225 mm / 22 is 579.8 twips, but Word fits
    floor(text height / pitch) lines on a page, and 22 × 580 = 12760 > 12756 would leave only 21.
  * ``charSpace`` is the difference, in 1/4096 pt, between the wanted character pitch and the font size of
    the Normal style (16 pt, 3号): floor((8845 / 20 / 28 − 16) × 4096) = floor(−841.1) = −842, a pitch of
    15.7944 pt, so that 28 × pitch = 442.24 pt ≤ 442.25 pt (the text width) < 29 × pitch.

- Body: 3号 (16 pt) 仿宋_GB2312 on every run (``w:eastAsia``, ``w:ascii``, ``w:hAnsi``) and in the Normal
  style, exact line spacing 28.95 pt (= the grid pitch), justified, first line indented 2 characters.
  Level-1 headings (一、) in 黑体, level-2 headings (（一）) in 楷体_GB2312; when a heading paragraph goes
  on after its first "。", only the heading sentence takes the heading font.
- 版头: the issuing organ in red ``FF0000`` (pure red, the "红色" of the standard; Word's standard red)
  方正小标宋简体, centred, 35 mm below the top of the text block, as large as fits (at most 48 pt);
  two blank lines; the 发文字号 centred; below it, 4 mm down, the red separator: a 1.5 pt red bottom border
  of that paragraph, which spans the full text width.
- Title: two blank lines below the rule, 2号 (22 pt) 方正小标宋简体, centred; a "\\n" in the title is a
  manual line break (GB/T 9704 wants titles broken into a trapezoid or diamond by sense, which only a
  person can do); otherwise Word wraps it.
- One blank line, the 主送机关 flush left, the body; one blank line, "附件：<title>" indented 2
  characters with later lines aligned under the title; two blank lines for the seal; the signature
  centred above the date, the date right-aligned 4 characters from the right edge, in Arabic digits
  without padding ("2014年12月26日").
- Page numbers: "— N —", 4号 (14 pt) 宋体, a PAGE field; ``w:evenAndOddHeaders`` on, odd pages (the
  default footer) right-aligned one character in from the right, even pages left-aligned one character
  in from the left; the footer sits 24.8 mm above the bottom edge so the dashes are about 7 mm below the
  text block.
- The attachment on a new page: "附件" in 黑体 3号 top left, a blank line, the attachment title centred in
  小标宋 2号 (the third line), a blank line, then a table of the units in :func:`order_units` order:
  序号, 单位 and, if any unit has one, the detail (备注 / 主要问题), in the body font; the header row
  repeats on every page.

The 版记 (抄送, 印发机关和印发日期) is not generated: the office adds it when it prints.
Text from users is written as literal text; characters XML cannot hold (NUL and other C0 controls) are
dropped.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor, Twips

__all__ = [
    "BODY_FONT",
    "BODY_PT",
    "CHAR_SPACE",
    "HEADING1_FONT",
    "HEADING2_FONT",
    "LINE_PITCH",
    "NUMBER_FONT",
    "PPR_ORDER",
    "RED",
    "TITLE_FONT",
    "TITLE_PT",
    "Notice",
    "NoticeUnit",
    "notice_docx",
    "order_units",
    "validate_doc_number",
]

KINDS = ("commendation", "criticism")
CATEGORIES = ("province", "corps", "city")

# ---------------------------------------------------------------- page geometry (twips)


def _mm_twips(mm: float) -> int:
    return round(mm * 1440 / 25.4)


PAGE_W, PAGE_H = _mm_twips(210), _mm_twips(297)
MARGIN_TOP, MARGIN_BOTTOM = _mm_twips(37), _mm_twips(35)
MARGIN_LEFT, MARGIN_RIGHT = _mm_twips(28), _mm_twips(26)
TEXT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT
TEXT_H = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
NUMBER_PT = 14  # 4号
#: Grid line pitch in twips: the largest that still fits 22 lines.
LINE_PITCH = TEXT_H // LINES_PER_PAGE
#: Grid character pitch minus the Normal font size, in 1/4096 pt: the largest that still fits 28 characters.
CHAR_SPACE = math.floor((TEXT_W / 20 / CHARS_PER_LINE - BODY_PT) * 4096)
CHAR_PITCH_PT = BODY_PT + CHAR_SPACE / 4096

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
NUMBER_FONT = "宋体"
RED = RGBColor(0xFF, 0x00, 0x00)
ORGAN_MAX_PT = 48

_HEADING1 = re.compile(r"[一二三四五六七八九十百]+、")
_HEADING2 = re.compile(r"（[一二三四五六七八九十百]+）")
# XML 1.0 cannot hold C0 controls other than tab, newline and carriage return, lone surrogates or U+FFFE/F.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class NoticeUnit:
    code: str  # GB/T 2260 code
    name: str
    category: str  # "province" | "corps" | "city"
    detail: str = ""  # e.g. "后补助 15万元" or the reason for criticism


@dataclass(frozen=True)
class Notice:
    kind: str  # "commendation" (通报表扬) | "criticism" (通报批评)
    issuing_organ: str  # e.g. "中国科学技术协会"
    doc_number: str  # 发文字号 as entered, e.g. "科协函企字〔2014〕58号"
    title: str
    addressees: str  # 主送机关
    paragraphs: Sequence[str]  # "一、…" level-1 heading (黑体), "（一）…" level-2 heading (楷体)
    signature: str  # 发文机关署名
    date: date  # 成文日期
    attachment_title: str
    units: Sequence[NoticeUnit]


# ---------------------------------------------------------------- ordering and validation


def order_units(units: Iterable[NoticeUnit]) -> list[NoticeUnit]:
    """Provinces by GB/T 2260 code, then the 兵团, then the sub-provincial cities by code."""
    units = list(units)
    for unit in units:
        if unit.category not in CATEGORIES:
            raise ValueError(f"unknown unit category {unit.category!r} for {unit.code}")
    return sorted(units, key=lambda u: (CATEGORIES.index(u.category), u.code))


_DOC_NUMBER = re.compile(r"(?P<prefix>.+?)〔(?P<year>[0-9]{4})〕(?P<seq>[0-9]+)号")


def validate_doc_number(text: str) -> str | None:
    """None if ``text`` is a well-formed 发文字号 (机关代字〔年份〕序号号), else what is wrong, in Chinese.

    GB/T 9704-2012 §7.2.4: the year in full, in 六角括号 〔〕; the sequence number in Arabic digits,
    without "第" and without leading zeros; "号" at the end. Example: 科协函企字〔2014〕58号.
    """
    example = "例如：科协函企字〔2014〕58号"
    if not text:
        return "请填写发文字号。"
    if any(ch.isspace() for ch in text):
        return "发文字号中不应有空格或换行。"
    if not text.endswith("号"):
        return f"发文字号应以“号”字结尾，{example}。"
    if "〔" not in text or "〕" not in text:
        return f"年份应使用六角括号“〔〕”括入（不用[]、()、【】等），{example}。"
    match = _DOC_NUMBER.fullmatch(text)
    if match is None:
        inner = re.search(r"〔(.*?)〕", text)
        if inner and not re.fullmatch(r"[0-9]{4}", inner.group(1)):
            return f"年份应标全称，用四位阿拉伯数字，{example}。"
        if text.startswith("〔"):
            return f"发文字号应以发文机关代字开头，{example}。"
        seq = text[text.rindex("〕") + 1 : -1]
        if seq.startswith("第"):
            return "发文顺序号不加“第”字。"
        return f"发文顺序号应为阿拉伯数字，{example}。"
    if match.group("seq").startswith("0"):
        return "发文顺序号不编虚位（1不编为01），且不能为0。"
    return None


# ---------------------------------------------------------------- low-level helpers


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text or "")


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _set_fonts(rpr_parent, font: str) -> None:
    """Set ascii, hAnsi, eastAsia and cs fonts on a run or style, dropping theme fonts that would win."""
    rpr = rpr_parent.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)


def _run(paragraph, text: str, font: str = BODY_FONT, size: float = BODY_PT, color: RGBColor | None = None):
    run = paragraph.add_run(_clean(text))
    _set_fonts(run._r, font)
    run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
    return run


# The order ECMA-376 requires of a w:pPr's children (Word refuses a file that breaks it).
PPR_ORDER = (
    "w:pStyle",
    "w:keepNext",
    "w:keepLines",
    "w:pageBreakBefore",
    "w:framePr",
    "w:widowControl",
    "w:numPr",
    "w:suppressLineNumbers",
    "w:pBdr",
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _ppr_child(paragraph, tag: str):
    """The pPr child ``tag`` of ``paragraph``, created in its schema position if missing."""
    ppr = paragraph._p.get_or_add_pPr()
    element = ppr.find(qn(tag))
    if element is None:
        element = OxmlElement(tag)
        ppr.insert_element_before(element, *PPR_ORDER[PPR_ORDER.index(tag) + 1 :])
    return element


def _no_grid(paragraph) -> None:
    """Large type must not snap to the 28-character grid (each character would take several cells)."""
    _ppr_child(paragraph, "w:snapToGrid").set(qn("w:val"), "0")


def _indent_chars(paragraph, *, first: float = 0, left: float = 0, right: float = 0, hanging: float = 0):
    """Indents in characters (Word's ``*Chars`` attributes, hundredths) with twips fallbacks."""
    ind = _ppr_child(paragraph, "w:ind")
    pitch = CHAR_PITCH_PT * 20
    if left:
        ind.set(qn("w:left"), str(round(left * pitch)))
        ind.set(qn("w:leftChars"), str(round(left * 100)))
    if right:
        ind.set(qn("w:right"), str(round(right * pitch)))
        ind.set(qn("w:rightChars"), str(round(right * 100)))
    if hanging:
        ind.set(qn("w:hanging"), str(round(hanging * pitch)))
        ind.set(qn("w:hangingChars"), str(round(hanging * 100)))
    elif first:
        ind.set(qn("w:firstLine"), str(round(first * pitch)))
        ind.set(qn("w:firstLineChars"), str(round(first * 100)))


def _exact(paragraph, points: float) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(points)


def _width_chars(text: str) -> float:
    """Width in body characters: ASCII (digits in dates) is half width."""
    return sum(0.5 if ord(ch) < 0x2000 else 1 for ch in text)


def _date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# ---------------------------------------------------------------- document set-up


def _setup(doc, notice: Notice) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Twips(PAGE_W), Twips(PAGE_H)
    section.top_margin, section.bottom_margin = Twips(MARGIN_TOP), Twips(MARGIN_BOTTOM)
    section.left_margin, section.right_margin = Twips(MARGIN_LEFT), Twips(MARGIN_RIGHT)
    section.gutter = Emu(0)
    section.header_distance = Mm(15)
    # The dashes sit mid-line in an 18 pt footer line, about 7 mm below the text block: 35 − 7 mm − 9 pt.
    section.footer_distance = Emu(Mm(35 - 7) - Pt(9))
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(LINE_PITCH))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))

    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr_default.find(qn("w:rFonts"))
    rfonts.attrib.clear()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), BODY_FONT)
    for tag in ("w:sz", "w:szCs"):
        rpr_default.find(qn(tag)).set(qn("w:val"), str(BODY_PT * 2))
    lang = rpr_default.find(qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.attrib.clear()
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), str(LINE_PITCH))
    spacing.set(qn("w:lineRule"), "exact")

    normal = doc.styles["Normal"]
    _set_fonts(normal.element, BODY_FONT)
    normal.font.size = Pt(BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Twips(LINE_PITCH)
    fmt.widow_control = True

    settings = doc.settings.element
    theme_lang = settings.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")
    doc.settings.odd_and_even_pages_header_footer = True

    props = doc.core_properties
    props.title = _one_line(notice.title)
    props.author = _one_line(notice.issuing_organ)
    props.subject = "通报表扬" if notice.kind == "commendation" else "通报批评"
    props.comments = ""
    props.keywords = _one_line(notice.doc_number)
    props.last_modified_by = props.author
    props.language = "zh-CN"


def _page_number_footer(footer, *, odd: bool) -> None:
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    _no_grid(paragraph)
    _exact(paragraph, 18)
    ind = _ppr_child(paragraph, "w:ind")
    ind.set(qn("w:right" if odd else "w:left"), str(NUMBER_PT * 20))  # 空一字

    def number_run(text: str = ""):
        return _run(paragraph, text, NUMBER_FONT, NUMBER_PT)

    number_run("— ")
    for kind, instr in (("begin", None), (None, " PAGE "), ("separate", None), (None, None), ("end", None)):
        run = number_run("1" if kind is None and instr is None else "")
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif instr:
            text = OxmlElement("w:instrText")
            text.set(qn("xml:space"), "preserve")
            text.text = instr
            run._r.append(text)
    number_run(" —")


# ---------------------------------------------------------------- the parts of the notice


def _blank(doc, count: int = 1) -> None:
    for _ in range(count):
        doc.add_paragraph()


def _masthead(doc, notice: Notice) -> None:
    organ = _one_line(notice.issuing_organ)
    width = max(_width_chars(organ), 1)
    size = max(min(ORGAN_MAX_PT, math.floor(TEXT_W / 20 * 0.95 / width)), TITLE_PT)
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _no_grid(paragraph)
    fmt = paragraph.paragraph_format
    fmt.space_before = Mm(35)
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.keep_with_next = True
    _run(paragraph, organ, TITLE_FONT, size, RED)

    _blank(doc, 2)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if notice.doc_number:
        _run(number, _one_line(notice.doc_number))
    # 版头中的分隔线: 4 mm below the 发文字号, red, as wide as the text block.
    border = _ppr_child(number, "w:pBdr")
    bottom = OxmlElement("w:bottom")
    for attr, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "11"), ("w:color", str(RED))):
        bottom.set(qn(attr), value)
    border.append(bottom)


def _title(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _no_grid(paragraph)
    _exact(paragraph, LINE_PITCH / 20)
    paragraph.paragraph_format.keep_with_next = True
    lines = [_one_line(line) for line in _clean(text).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        run = _run(paragraph, line, TITLE_FONT, TITLE_PT)
        if i < len(lines) - 1:
            run.add_break()


def _body_paragraph(doc, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _indent_chars(paragraph, first=2)
    for pattern, font in ((_HEADING1, HEADING1_FONT), (_HEADING2, HEADING2_FONT)):
        if pattern.match(text):
            paragraph.paragraph_format.keep_with_next = True
            end = text.find("。")
            head, rest = (text, "") if end < 0 else (text[: end + 1], text[end + 1 :])
            _run(paragraph, head, font)
            if rest:
                _run(paragraph, rest)
            return
    _run(paragraph, text)


def _body_paragraphs(paragraphs: Sequence[str]) -> list[str]:
    out = []
    for item in paragraphs:
        for line in _clean(item).splitlines():
            out.append(line.strip(" \t\u3000"))
    while out and not out[-1]:
        out.pop()
    return out


def _attachment_note(doc, title: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _indent_chars(
        paragraph, left=5, hanging=3
    )  # "附件：" starts 2 characters in, the title wraps under itself
    _run(paragraph, "附件：" + title)


def _closing(doc, notice: Notice) -> None:
    date_text = _date_text(notice.date)
    signature = _one_line(notice.signature)
    _blank(doc, 2)  # room for the seal, which comes down over the signature and date
    offset = 4 + max((_width_chars(date_text) - _width_chars(signature)) / 2, -4)
    sign = doc.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    sign.paragraph_format.keep_with_next = True
    if offset:
        _indent_chars(sign, right=offset)
    _run(sign, signature)
    dated = doc.add_paragraph()
    dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _indent_chars(dated, right=4)
    _run(dated, date_text)


def _cell_text(cell, text: str, align=WD_ALIGN_PARAGRAPH.LEFT) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    _run(paragraph, text)


def _attachment(doc, notice: Notice, title: str) -> None:
    label = doc.add_paragraph()
    label.paragraph_format.page_break_before = True
    _run(label, "附件", HEADING1_FONT)
    _blank(doc)
    _title(doc, title)
    _blank(doc)
    units = order_units(notice.units)
    if not units:
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(paragraph, "（无）")
        return
    with_detail = any(u.detail.strip() for u in units)
    header = ["序号", "单位"] + (
        ["主要问题" if notice.kind == "criticism" else "备注"] if with_detail else []
    )
    widths = [3, 15, 10] if with_detail else [4, 24]
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    char = TEXT_W / CHARS_PER_LINE
    for column, w in zip(table.columns, widths, strict=True):
        column.width = Twips(round(w * char))
    trpr = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    trpr.append(repeat)
    for cell, text, w in zip(table.rows[0].cells, header, widths, strict=True):
        cell.width = Twips(round(w * char))
        _cell_text(cell, text, WD_ALIGN_PARAGRAPH.CENTER)
    for number, unit in enumerate(units, start=1):
        row = table.add_row()
        values = [str(number), _one_line(unit.name)] + ([_one_line(unit.detail)] if with_detail else [])
        aligns = [WD_ALIGN_PARAGRAPH.CENTER] + [WD_ALIGN_PARAGRAPH.LEFT] * (len(values) - 1)
        for cell, text, align, w in zip(row.cells, values, aligns, widths, strict=True):
            cell.width = Twips(round(w * char))
            _cell_text(cell, text, align)


# ---------------------------------------------------------------- the entry point


def notice_docx(notice: Notice) -> bytes:
    """The notice as the bytes of a DOCX file (see the module docstring for the layout).

    Raises ``ValueError`` for an unknown ``kind`` or unit category. The 发文字号 is written as given (an
    empty one leaves its line blank above the red rule); check it with :func:`validate_doc_number`.
    """
    if notice.kind not in KINDS:
        raise ValueError(f"unknown notice kind {notice.kind!r}")
    order_units(notice.units)  # fail before building anything
    doc = Document()
    _setup(doc, notice)
    section = doc.sections[0]
    _page_number_footer(section.footer, odd=True)
    _page_number_footer(section.even_page_footer, odd=False)

    _masthead(doc, notice)
    _blank(doc, 2)
    _title(doc, notice.title)
    _blank(doc)
    addressees = _one_line(notice.addressees)
    if addressees:
        if addressees.endswith(":"):
            addressees = addressees[:-1]
        if not addressees.endswith("："):
            addressees += "："
        _run(doc.add_paragraph(), addressees)
    for text in _body_paragraphs(notice.paragraphs):
        if text:
            _body_paragraph(doc, text)
        else:
            _blank(doc)
    attachment_title = _one_line(notice.attachment_title).rstrip("。．.，,；;：:")
    if attachment_title:
        _blank(doc)
        _attachment_note(doc, attachment_title)
    _closing(doc, notice)
    if attachment_title:
        _attachment(doc, notice, attachment_title)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
