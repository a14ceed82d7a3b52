"""Illustrative figures and generated files for the demo campaign (``flask seed demo``).

演示数据，非真实统计: every number here is made up to look plausible for 2014 (scaled by the size of each
region's industry), never taken from statistics. The generator is deterministic (``random.Random(2014)``),
so every ``make demo`` shows the same story.

Pure module (no Flask, no database): figures per unit, the building tasks CAST allocates to each unit
(任务分配, the same largest-remainder allocation as the office's), the enterprise associations each unit
founded in 2014, the payee details a unit enters, and the files a unit would upload: one-page PDFs
(evidence, recommendation letters), PNG scans of sealed letters, and the roster XLSX in the layout of the
downloadable template.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import xlsxwriter

from webapp.applications.roster import TEMPLATE_COLUMNS, TEMPLATE_HEADER_ROW, TEMPLATE_SHEET
from webapp.core.workdays import is_workday
from webapp.inspection.allocation import largest_remainder

ILLUSTRATIVE = "演示数据，非真实统计"
SEED = 2014
YEAR = 2014

# Illustrative sizes: 规模以上工业企业 per unit, roughly the order of magnitude of 2014 (not real statistics).
REGULATED: dict[str, int] = {
    "110000": 3700, "120000": 5400, "130000": 14000, "140000": 3900, "150000": 4400,
    "210000": 13500, "220000": 5600, "230000": 4000, "310000": 9800, "320000": 46000,
    "330000": 40000, "340000": 17000, "350000": 16500, "360000": 8500, "370000": 39000,
    "410000": 21000, "420000": 15500, "430000": 13500, "440000": 41000, "450000": 5500,
    "460000": 420, "500000": 6300, "510000": 13200, "520000": 4200, "530000": 3800,
    "540000": 200, "610000": 5600, "620000": 2000, "630000": 520, "640000": 760,
    "650000": 2500, "660000": 900,
    "210100": 3600, "210200": 2900, "220100": 1700, "230100": 1800, "320100": 2700,
    "330100": 6200, "330200": 7100, "350200": 1900, "370100": 2100, "370200": 4600,
    "420100": 2800, "440100": 4900, "440300": 6500, "510100": 3900, "610100": 1300,
}  # fmt: skip

# The year's national targets (seed 002): new enterprise associations and enterprises with a 科协 liaison.
NATIONAL_TARGETS = (6000, 15000)
# The office's one adjustment: 云南, hit by the 鲁甸 earthquake (3 August 2014), has its tasks cut to 60 %.
ADJUSTED: dict[str, float] = {"530000": 0.6}
# The unit that completes only about half of its tasks (and whose roster the spot check finds half hollow).
LAGGARD = "310000"

# Where the enterprises are (for plausible company names), and the short name used in approval numbers.
PLACES: dict[str, tuple[str, ...]] = {
    "110000": ("北京",), "120000": ("天津",), "130000": ("石家庄", "唐山", "保定", "邯郸", "沧州"),
    "140000": ("太原", "大同", "长治", "晋城"), "150000": ("呼和浩特", "包头", "鄂尔多斯", "赤峰"),
    "210000": ("鞍山", "抚顺", "营口", "锦州"), "220000": ("吉林", "四平", "通化", "延边"),
    "230000": ("齐齐哈尔", "大庆", "牡丹江", "佳木斯"), "310000": ("上海",),
    "320000": ("苏州", "无锡", "常州", "南通", "徐州", "扬州"), "330000": ("温州", "绍兴", "嘉兴", "台州", "金华"),
    "340000": ("合肥", "芜湖", "马鞍山", "安庆", "蚌埠"), "350000": ("福州", "泉州", "漳州", "莆田"),
    "360000": ("南昌", "九江", "赣州", "景德镇"), "370000": ("淄博", "潍坊", "烟台", "济宁", "临沂", "威海"),
    "410000": ("郑州", "洛阳", "新乡", "许昌", "南阳"), "420000": ("宜昌", "襄阳", "黄石", "十堰", "荆州"),
    "430000": ("长沙", "株洲", "湘潭", "衡阳", "岳阳"), "440000": ("佛山", "东莞", "中山", "珠海", "惠州", "江门"),
    "450000": ("南宁", "柳州", "桂林", "玉林"), "460000": ("海口", "三亚", "儋州"), "500000": ("重庆",),
    "510000": ("绵阳", "德阳", "宜宾", "泸州", "自贡"), "520000": ("贵阳", "遵义", "安顺", "六盘水"),
    "530000": ("昆明", "曲靖", "玉溪", "红河"), "540000": ("拉萨", "日喀则", "林芝"),
    "610000": ("宝鸡", "咸阳", "渭南", "汉中"), "620000": ("兰州", "天水", "金昌", "酒泉"),
    "630000": ("西宁", "海西", "海东"), "640000": ("银川", "石嘴山", "吴忠"),
    "650000": ("乌鲁木齐", "克拉玛依", "昌吉", "库尔勒"), "660000": ("石河子", "五家渠", "阿拉尔"),
    "210100": ("沈阳",), "210200": ("大连",), "220100": ("长春",), "230100": ("哈尔滨",), "320100": ("南京",),
    "330100": ("杭州",), "330200": ("宁波",), "350200": ("厦门",), "370100": ("济南",), "370200": ("青岛",),
    "420100": ("武汉",), "440100": ("广州",), "440300": ("深圳",), "510100": ("成都",), "610100": ("西安",),
}  # fmt: skip
ABBREVIATIONS: dict[str, str] = {
    "110000": "京", "120000": "津", "130000": "冀", "140000": "晋", "150000": "内", "210000": "辽",
    "220000": "吉", "230000": "黑", "310000": "沪", "320000": "苏", "330000": "浙", "340000": "皖",
    "350000": "闽", "360000": "赣", "370000": "鲁", "410000": "豫", "420000": "鄂", "430000": "湘",
    "440000": "粤", "450000": "桂", "460000": "琼", "500000": "渝", "510000": "川", "520000": "黔",
    "530000": "云", "540000": "藏", "610000": "陕", "620000": "甘", "630000": "青", "640000": "宁",
    "650000": "新", "660000": "兵团", "210100": "沈", "210200": "大", "220100": "长", "230100": "哈",
    "320100": "宁", "330100": "杭", "330200": "甬", "350200": "厦", "370100": "济", "370200": "青",
    "420100": "武", "440100": "穗", "440300": "深", "510100": "成", "610100": "西",
}  # fmt: skip

_BRAND = "华恒瑞泰鑫宏达盛兴远通宇辰源科天正新诚海嘉德信博隆安康润丰晟航凯力联创"
_INDUSTRY = (
    "精密机械", "电子科技", "新材料", "生物医药", "汽车零部件", "化工", "电气", "特钢", "纺织",
    "食品", "光电", "环保科技", "能源", "重工", "信息技术", "建材", "矿业", "农业科技", "软件", "仪器仪表",
)  # fmt: skip
_FORM = ("有限公司", "股份有限公司", "集团有限公司")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = "伟芳敏静丽强磊军洋勇艳杰涛明超秀华平刚英建国志文海春玉红晓东宏斌俊峰辉鹏宇亮林波永立新庆福荣生成"


@dataclass(frozen=True)
class Association:
    """One enterprise association founded in 2014 (a roster row)."""

    name: str
    enterprise: str
    founded_on: date
    approval_no: str
    members: int
    chair: str


TASK_KEYS = ("task_new_kexie", "task_liaison")  # set by the office's allocation, never typed by the unit


@dataclass
class UnitPlan:
    """A unit's illustrative figures for the year and for the pilot's July snapshot.

    ``figures`` and ``pilot_figures`` are what the unit's clerk types: never the two task figures, which
    come from the office's allocation (``targets``, after the adjustment, as the applications show them).
    """

    code: str
    figures: dict[str, int]  # post-subsidy indicators (as of October), typed by the clerk
    associations: list[Association]  # founded in 2014, by date; as many as figures["enterprise_kexie_new"]
    pilot_figures: dict[str, int] = field(default_factory=dict)  # as of July, with matching_funds
    basis: int = 0  # the allocation's basis: regulated enterprises (a province's own, without its cities)
    allocated: tuple[int, int] = (0, 0)  # (new associations, liaison enterprises) as allocated in June
    targets: dict[str, int] = field(default_factory=dict)  # task figures after any adjustment

    def founded_by(self, day: date) -> list[Association]:
        return [a for a in self.associations if a.founded_on <= day]

    @property
    def scored(self) -> dict[str, int]:
        """The post-subsidy figures as the application holds them (typed figures and the office's tasks)."""
        return {**self.figures, **self.targets}


def allocation_basis(units: Iterable, regulated: Mapping[str, int]) -> dict[str, int]:
    """Each unit's basis for the allocation: its regulated enterprises. The generated figure of a province
    is its whole territory (as its figures report it), its sub-provincial cities included, so a province's
    basis is its figure net of its cities' (the cities get their own tasks); 兵团 and the other units as is."""
    basis = dict(regulated)
    for unit in units:
        parent = getattr(unit, "parent_code", None)
        if parent and parent in basis:
            basis[parent] -= regulated[unit.code]
    return basis


def allocated_tasks(basis: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """The tasks the office's allocation gives (largest remainder over the basis, in code order)."""
    ordered = {code: basis[code] for code in sorted(basis)}
    new = {s.key: s.allocated for s in largest_remainder(NATIONAL_TARGETS[0], ordered)}
    liaison = {s.key: s.allocated for s in largest_remainder(NATIONAL_TARGETS[1], ordered)}
    return {code: (new[code], liaison[code]) for code in ordered}


def adjusted_tasks(code: str, tasks: tuple[int, int]) -> tuple[int, int]:
    """The tasks after the office's adjustment (unchanged for every unit not in ``ADJUSTED``)."""
    share = ADJUSTED.get(code)
    if share is None:
        return tasks
    return (round(tasks[0] * share), round(tasks[1] * share))


def _done(task: int, rng: random.Random, low: float = 0.5, high: float = 1.3) -> int:
    """What a unit achieved against an allocated ``task``: 50–130 % of it (whole numbers, at least 1)."""
    if task <= 0:
        return rng.randint(1, 3)
    done = round(task * rng.uniform(low, high))
    return max(1, min(max(done, math.ceil(task * 0.5)), math.floor(task * 1.3)))


def workday(rng: random.Random, first: date, last: date) -> date:
    """A random Chinese working day in [first, last] (National Day and weekends excluded)."""
    span = (last - first).days
    for _ in range(50):
        day = first + timedelta(days=rng.randint(0, span))
        if is_workday(day).workday:
            return day
    return first


def _person(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _associations(rng: random.Random, code: str, count: int, *, last_day: date) -> list[Association]:
    places = PLACES.get(code, ("示例",))
    seen: set[str] = set()
    enterprises: list[str] = []
    while len(enterprises) < count:
        name = (
            rng.choice(places)
            + rng.choice(_BRAND)
            + rng.choice(_BRAND)
            + rng.choice(_INDUSTRY)
            + rng.choice(_FORM)
        )
        if name not in seen:
            seen.add(name)
            enterprises.append(name)
    days = sorted(workday(rng, date(YEAR, 1, 6), last_day) for _ in range(count))
    number = rng.randint(3, 20)
    abbreviation = ABBREVIATIONS.get(code, "")
    rows = []
    for enterprise, day in zip(enterprises, days, strict=True):
        number += rng.randint(1, 3)
        rows.append(
            Association(
                name=f"{enterprise}科学技术协会",
                enterprise=enterprise,
                founded_on=day,
                approval_no=f"{abbreviation}科协发〔{YEAR}〕{number}号",
                members=rng.randint(30, 420),
                chair=_person(rng),
            )
        )
    return rows


def demo_plans(
    units: Iterable, *, seed: int = SEED, last_founding: date = date(YEAR, 8, 29)
) -> dict[str, UnitPlan]:
    """Illustrative figures, tasks and 2014 associations for each unit (objects with ``code``, ``category``
    and ``parent_code``).

    演示数据，非真实统计. Deterministic for a given seed; units are taken in code order. The tasks are the
    office's allocation of ``NATIONAL_TARGETS`` by ``allocation_basis`` (then ``ADJUSTED``); each unit's new
    associations and liaison enterprises are drawn against its tasks, so its completion is 50–130 %
    (the laggard's about half).
    """
    units = sorted(units, key=lambda u: u.code)
    rng = random.Random(seed)
    regulated = {u.code: round(REGULATED.get(u.code, 3000) * rng.uniform(0.95, 1.05)) for u in units}
    basis = allocation_basis(units, regulated)
    tasks = allocated_tasks(basis)
    plans: dict[str, UnitPlan] = {}
    for unit in units:
        code = unit.code
        city = str(getattr(unit, "category", "")) == "city"
        size = regulated[code]
        final = adjusted_tasks(code, tasks[code])
        high = 0.62 if code == LAGGARD else 1.3
        new = _done(final[0], rng, high=high)
        liaison = _done(final[1], rng, high=high)
        total = max(new + 3, round(size * rng.uniform(0.03, 0.12)))
        if city:
            parks = round(4 + size / 500 * rng.uniform(0.6, 1.4))
            national = rng.randint(1, 4)
        else:
            parks = round(8 + size / 400 * rng.uniform(0.6, 1.4))
            national = min(30, max(1, round(parks * rng.uniform(0.08, 0.18))))
        national = min(national, parks)
        figures = {
            "regulated_enterprises": size,
            "enterprise_kexie_total": total,
            "enterprise_kexie_new": new,
            "liaison_enterprises": liaison,
            "parks_total": parks,
            "parks_with_kexie": round(parks * rng.uniform(0.1, 0.6)),
            "national_parks_total": national,
            "national_parks_with_kexie": round(national * rng.uniform(0.2, 0.9)),
            "academician_workstations": max(1, round(size / 150 * rng.uniform(0.5, 1.5))),
            "service_stations": max(1, round(size / 250 * rng.uniform(0.4, 1.6))),
            "haizhi_bases": rng.randint(0, 3) + (rng.randint(1, 5) if size > 10000 else 0),
        }
        associations = _associations(rng, code, new, last_day=last_founding)
        if associations and associations[0].founded_on > date(YEAR, 6, 30):
            first = associations[0]
            associations[0] = Association(
                first.name, first.enterprise, date(YEAR, 3, 18), first.approval_no, first.members, first.chair
            )
        by_july = sum(1 for a in associations if a.founded_on <= date(YEAR, 6, 30))
        pilot = dict(figures)
        pilot["enterprise_kexie_new"] = by_july
        pilot["enterprise_kexie_total"] = total - (new - by_july)
        pilot["liaison_enterprises"] = round(liaison * rng.uniform(0.5, 0.65))
        pilot["matching_funds"] = rng.randrange(100_000, 300_001, 10_000)
        plans[code] = UnitPlan(
            code,
            figures,
            associations,
            pilot,
            basis=basis[code],
            allocated=tasks[code],
            targets=dict(zip(TASK_KEYS, final, strict=True)),
        )
    return plans


_BANKS = ("中国工商银行", "中国建设银行", "中国银行", "中国农业银行", "交通银行")


def payee(code: str, unit_name: str, region: str) -> tuple[str, str, str]:
    """The payee details a unit enters (收款单位, 开户银行, 账号): the association itself, at a branch in its
    region; the account number is plainly fake (6222 0000 0000 followed by the unit code)."""
    bank = _BANKS[(7 * int(code[:2]) + int(code[2:4])) % len(_BANKS)]
    return unit_name, f"{bank}{region}分行营业部（演示）", f"6222 0000 0000 {code}"


# ------------------------------------------------------------------------------------------------ PDF

_PAGE_W, _PAGE_H, _MARGIN = 595, 842, 72


def _pdf_hex(text: str) -> str:
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break a line so it fits ``width`` points (CJK characters are one em wide, Latin half)."""
    lines, current, used = [], "", 0.0
    for ch in text:
        w = size * (0.5 if ord(ch) < 0x2E80 else 1.0)
        if used + w > width and current:
            lines.append(current)
            current, used = "", 0.0
        current += ch
        used += w
    if current or not lines:
        lines.append(current)
    return lines


def pdf_document(title: str, paragraphs: Iterable[str], *, comment: str, seal: str | None = None) -> bytes:
    """A valid one-page A4 PDF with Chinese text (Adobe's STSong-Light, not embedded: every reader has it).

    ``comment`` goes into a PDF comment line near the top (who and what the file is for); ``seal`` draws
    a red round seal with that text in the lower right, as on a sealed letter.
    """
    ops = ["BT", "/F1 18 Tf", f"1 0 0 1 {_MARGIN} {_PAGE_H - 110} Tm", f"{_pdf_hex(title)} Tj", "ET"]
    y = _PAGE_H - 160
    for paragraph in paragraphs:
        for line in _wrap(paragraph, 12, _PAGE_W - 2 * _MARGIN):
            ops += ["BT", "/F1 12 Tf", f"1 0 0 1 {_MARGIN} {y} Tm", f"{_pdf_hex(line)} Tj", "ET"]
            y -= 22
        y -= 8
    ops += [
        "BT",
        "0.5 g",
        "/F1 9 Tf",
        f"1 0 0 1 {_MARGIN} 48 Tm",
        f"{_pdf_hex(ILLUSTRATIVE + '（系统生成的示例文件）')} Tj",
        "ET",
    ]
    if seal:
        cx, cy, r = _PAGE_W - _MARGIN - 70, 150, 52
        k = 0.5523 * r
        ops += [
            "q 0.85 0.1 0.1 RG 2.5 w",
            f"{cx + r} {cy} m",
            f"{cx + r} {cy + k} {cx + k} {cy + r} {cx} {cy + r} c",
            f"{cx - k} {cy + r} {cx - r} {cy + k} {cx - r} {cy} c",
            f"{cx - r} {cy - k} {cx - k} {cy - r} {cx} {cy - r} c",
            f"{cx + k} {cy - r} {cx + r} {cy - k} {cx + r} {cy} c",
            "S",
            "BT 0.85 0.1 0.1 rg /F1 10 Tf",
            f"1 0 0 1 {cx - 5 * len(seal)} {cy - 4} Tm {_pdf_hex(seal)} Tj",
            "ET Q",
        ]
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Count 1/Kids[3 0 R]>>",
        f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 {_PAGE_W} {_PAGE_H}]"
        "/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>".encode("ascii"),
        f"<</Length {len(stream)}>>\nstream\n".encode("ascii") + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type0/BaseFont/STSong-Light/Encoding/UniGB-UCS2-H/DescendantFonts[6 0 R]>>",
        b"<</Type/Font/Subtype/CIDFontType0/BaseFont/STSong-Light"
        b"/CIDSystemInfo<</Registry(Adobe)/Ordering(GB1)/Supplement 2>>/FontDescriptor 7 0 R"
        b"/DW 1000/W[1 95 500]>>",
        b"<</Type/FontDescriptor/FontName/STSong-Light/Flags 6/FontBBox[-25 -254 1000 880]"
        b"/ItalicAngle 0/Ascent 880/Descent -120/CapHeight 880/StemV 93>>",
        f"<</Title{_pdf_hex(chr(0xFEFF) + title)}/Creator(kexie demo)>>".encode("ascii"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    out += b"% " + comment.replace("\n", " ").encode("utf-8") + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (
        f"trailer\n<</Size {len(objects) + 1}/Root 1 0 R/Info {len(objects)} 0 R>>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)


# ------------------------------------------------------------------------------------------------ PNG


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def letter_scan_png(variant: int, *, width: int = 420, height: int = 594) -> bytes:
    """A "scanned" sealed letter: a white page, grey text lines and a red round seal (valid RGB PNG).

    ``variant`` shifts the line lengths, so each unit's scan is a different file.
    """
    rng = random.Random(variant)
    white, grey, red = b"\xff\xff\xff", b"\x99\x99\x99", b"\xcc\x22\x22"
    bars: dict[int, tuple[int, int]] = {}
    for x0, x1, y0, y1 in [(150, 270, 50, 64)] + [
        (50 if i else 80, 370 - rng.randint(0, 120), 100 + 26 * i, 108 + 26 * i) for i in range(12)
    ]:
        for y in range(y0, y1):
            bars[y] = (x0, x1)
    cx, cy, r_out, r_in = 300, 470, 56, 49
    raw = bytearray()
    for y in range(height):
        row = bytearray(white * width)
        if y in bars:
            x0, x1 = bars[y]
            row[3 * x0 : 3 * x1] = grey * (x1 - x0)
        dy = y - cy
        if abs(dy) <= r_out:
            outer = int(math.sqrt(r_out * r_out - dy * dy))
            inner = int(math.sqrt(r_in * r_in - dy * dy)) if abs(dy) < r_in else -1
            for a, b in (
                ((cx - outer, cx - inner), (cx + inner + 1, cx + outer + 1))
                if inner >= 0
                else ((cx - outer, cx + outer + 1),)
            ):
                row[3 * a : 3 * b] = red * (b - a)
        raw += b"\x00" + row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + _png_chunk(b"IEND", b"")
    )


# ------------------------------------------------------------------------------------------------ roster


def roster_workbook(unit_name: str, rows: Iterable[Association], *, filled_on: date) -> bytes:
    """A filled-in roster in the downloaded template's layout (title, unit line, header, grey example row,
    then the data), as a unit would return it; without the template's 300 empty formatted rows."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties(
        {
            "title": f"{unit_name}{YEAR}年新建企业科协名册",
            "author": unit_name,
            "created": datetime.combine(filled_on, datetime.min.time()),  # same bytes on every run
        }
    )
    ws = workbook.add_worksheet(TEMPLATE_SHEET)
    font = {"font_name": "宋体", "font_size": 11}
    title = workbook.add_format(
        {**font, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}
    )
    head = workbook.add_format(
        {**font, "bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}
    )
    head.set_bg_color("#DDEBF7")
    example = workbook.add_format({**font, "italic": True, "font_color": "#808080", "border": 1})
    example_day = workbook.add_format(
        {**font, "italic": True, "font_color": "#808080", "border": 1, "num_format": "yyyy-mm-dd"}
    )
    text = workbook.add_format({**font, "border": 1, "valign": "vcenter"})
    center = workbook.add_format({**font, "border": 1, "valign": "vcenter", "align": "center"})
    day = workbook.add_format({**font, "border": 1, "align": "center", "num_format": "yyyy-mm-dd"})
    last = len(TEMPLATE_COLUMNS) - 1
    ws.merge_range(0, 0, 0, last, f"{unit_name}{YEAR}年新建企业科协名册", title)
    ws.set_row(0, 32)
    ws.merge_range(
        1,
        0,
        1,
        last,
        f"填报单位（盖章）：{unit_name}　　　　填报日期：{filled_on.year}年{filled_on.month}月{filled_on.day}日",
        workbook.add_format(font),
    )
    header = TEMPLATE_HEADER_ROW - 1
    for c, (label, width) in enumerate(TEMPLATE_COLUMNS):
        ws.write_string(header, c, label, head)
        ws.set_column(c, c, width)
    ws.set_row(header, 36)
    ex = header + 1
    for c, value in enumerate(
        (
            "示例",
            "示例：××集团有限公司科学技术协会",
            "××集团有限公司",
            None,
            f"×科协发〔{YEAR}〕12号",
            120,
            "张三",
        )
    ):
        if value is not None:
            ws.write(ex, c, value, example)
    ws.write_datetime(ex, 3, datetime(YEAR, 5, 6), example_day)
    ws.write_string(ex, 7, "此行为示例，导入时忽略", example)
    for n, row in enumerate(rows, start=1):
        r = ex + n
        ws.write_number(r, 0, n, center)
        ws.write_string(r, 1, row.name, text)
        ws.write_string(r, 2, row.enterprise, text)
        ws.write_datetime(r, 3, datetime.combine(row.founded_on, datetime.min.time()), day)
        ws.write_string(r, 4, row.approval_no, text)
        ws.write_number(r, 5, row.members, center)
        ws.write_string(r, 6, row.chair, center)
        ws.write_blank(r, 7, None, text)
    ws.freeze_panes(TEMPLATE_HEADER_ROW, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(header)
    workbook.close()
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ reviews


def _ratio(numerator: int | None, denominator: int | None) -> float:
    return (numerator or 0) / denominator if denominator else 0.0


def task_completion(figures: dict[str, int | None]) -> float:
    """Weighted completion of the two allocated targets (as the rubric's formula: 60 % / 40 %, capped at 1)."""
    new = min(1.0, _ratio(figures.get("enterprise_kexie_new"), figures.get("task_new_kexie")))
    liaison = min(1.0, _ratio(figures.get("liaison_enterprises"), figures.get("task_liaison")))
    return 0.6 * new + 0.4 * liaison


def latent_quality(plans: dict[str, UnitPlan], *, seed: int = SEED) -> dict[str, float]:
    """How good each unit's year "really" was, in [0, 1]: mostly its figures (target completion, coverage,
    service platforms per enterprise), partly what only the files show (a random share). The experts'
    scores scatter around it, so the ranking follows the figures without copying them."""
    rng = random.Random(f"{seed}-quality")
    raw = {}
    for code in sorted(plans):
        f = plans[code].scored
        coverage = 0.5 * min(
            1.0, _ratio(f["enterprise_kexie_total"], f["regulated_enterprises"]) / 0.12
        ) + 0.5 * min(1.0, _ratio(f["parks_with_kexie"], f["parks_total"]) / 0.5)
        platforms = f["academician_workstations"] + f["service_stations"] + 3 * f["haizhi_bases"]
        services = min(1.0, _ratio(platforms * 100, f["regulated_enterprises"]) / 2.5)
        raw[code] = 0.55 * task_completion(f) + 0.2 * coverage + 0.25 * services
    order = sorted(raw, key=lambda c: (raw[c], c))
    n = max(1, len(order) - 1)
    return {code: round(0.7 * i / n + 0.3 * rng.random(), 4) for i, code in enumerate(order)}


def review_scores(
    rng: random.Random,
    criteria: Iterable[tuple[str, Decimal, Decimal]],
    quality: float,
    *,
    leniency: float,
    spread: float,
    bonus: dict[str, float] | None = None,
) -> dict[str, str]:
    """One expert's scores for one application: a share of each criterion's maximum that grows with the
    unit's quality, shifted by the expert's leniency, with noise; rounded to the step, within 0..max."""
    mood = rng.gauss(0, 0.025)  # the same review is a little kinder or harsher on every criterion
    out = {}
    for key, maximum, step in criteria:
        share = 0.48 + 0.44 * quality + leniency + mood + rng.gauss(0, spread) + (bonus or {}).get(key, 0.0)
        share = min(1.0, max(0.3, share))
        steps = round(share * float(maximum) / float(step))
        value = min(maximum, max(Decimal(0), step * steps))
        out[key] = format(value.normalize(), "f")
    return out


_POST_OPINIONS = {
    "high": (
        "{name}对企业科协组织建设高度重视，规划部署扎实。{year}年新建企业科协{new}个，完成目标任务的{pct}%，"
        "院士专家工作站{ws}个、学会服务站{ss}个，服务企业技术创新特色鲜明，材料翔实，建议优先支持。",
        "领导重视、责任明确，任务逐级分解落实到位；新建企业科协{new}个（目标{task}个），“一强五有”达标情况较好，"
        "依托院士专家工作站等载体开展服务成效明显，具有示范带动作用。",
        "工作推进有力，组织覆盖面持续扩大，联系人制度企业{liaison}家；佐证材料完整、数据与名册一致，"
        "特色工作可为同类地区提供借鉴，总体评价优秀。",
    ),
    "mid": (
        "{name}企业科协组织建设工作有部署、有落实，新建企业科协{new}个，完成目标任务的{pct}%。"
        "组织质量和活力仍有提升空间，建议加强对新建企业科协的跟踪指导。",
        "工作总体扎实，年度计划和任务分解较清楚；特色服务的成效描述偏于概括，佐证材料可进一步充实，"
        "建议在园区科协建设方面加大力度。",
        "领导重视，工作基本按计划推进，新建企业科协{new}个、联系人制度企业{liaison}家；"
        "服务企业技术创新的载体建设有一定基础，示范作用尚不够突出。",
    ),
    "low": (
        "{name}目标任务完成率偏低（新建企业科协{new}个，仅完成目标任务的{pct}%），"
        "佐证材料对工作实效反映不够充分，建议加大推进力度、强化考核。",
        "工作部署较为原则，任务分解和督促落实措施不够具体；新建企业科协的“一强五有”达标情况说明不足，"
        "特色服务工作有待加强。",
        "材料基本齐全，但组织覆盖和服务载体建设与本地区企业规模相比仍有差距，"
        "建议进一步摸清企业和园区底数，制定更有针对性的推进计划。",
    ),
}
_PILOT_OPINIONS = {
    "high": (
        "{name}把企业科协组织建设列入重要议事日程，有三年发展规划和年度计划；服务企业技术创新的做法特色鲜明、"
        "可复制可推广，承诺自筹配套资金{funds}万元，建议列为试点示范单位。",
        "领导分管、专人负责，上半年新建企业科协{new}个；海智计划工作基地和院士专家工作站建设有特色，"
        "在全国具有示范带动作用，配套资金承诺明确。",
    ),
    "mid": (
        "{name}工作基础较好，规划和年度计划齐备，上半年新建企业科协{new}个；特色示范工作有一定亮点，"
        "但可推广的经验总结不够，配套资金{funds}万元。",
        "重视程度较高，组织覆盖率处于全国平均水平以上；调研考察材料较为简略，示范带动作用有待进一步体现。",
    ),
    "low": (
        "{name}材料齐全，但特色示范工作与一般性工作区分不明显，调研考察和平时掌握的情况较少，"
        "建议进一步凝练可推广的做法后再行考虑。",
        "规划部署较为原则，上半年新建企业科协{new}个，进度偏慢；配套资金承诺{funds}万元，示范作用尚需观察。",
    ),
}


def review_opinion(
    rng: random.Random, kind: str, unit_name: str, figures: dict[str, int | None], quality: float
) -> str:
    """A 评审意见 (well over 20 characters) that fits the scores: a template by band, filled from the figures."""
    band = "high" if quality >= 0.62 else "mid" if quality >= 0.3 else "low"
    templates = (_PILOT_OPINIONS if kind == "pilot" else _POST_OPINIONS)[band]
    new, task = figures.get("enterprise_kexie_new") or 0, figures.get("task_new_kexie") or 0
    return rng.choice(templates).format(
        name=unit_name,
        year=YEAR,
        new=new,
        task=task,
        pct=round(new * 100 / task) if task else 0,
        liaison=figures.get("liaison_enterprises") or 0,
        ws=figures.get("academician_workstations") or 0,
        ss=figures.get("service_stations") or 0,
        funds=f"{(figures.get('matching_funds') or 0) / 10000:g}",
    )
