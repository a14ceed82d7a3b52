"""Server-drawn SVG charts of the national dashboard: well-formed, CSP-safe, escaped, geometrically right."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from webapp.inspection.dashboard_charts import (
    COMPLETION_RIGHT,
    PROGRESS_RIGHT,
    TARGET_LIAISON_2014,
    TARGET_NATIONAL_PARK_COVERAGE_2014,
    TARGET_NEW_KEXIE_2014,
    TARGET_PARK_COVERAGE_2014,
    Gauge,
    completion_chart,
    completion_scale,
    progress_chart,
)
from webapp.results.charts import BLUE, PLOT_LEFT, RED

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script>&"'

GAUGES = [
    Gauge("新建企业科协", Decimal(4213), Decimal(TARGET_NEW_KEXIE_2014), "个"),
    Gauge("科协联系人制度企业", Decimal(16500), Decimal(TARGET_LIAISON_2014), "家"),
    Gauge("园区科协覆盖率", Decimal("0.183"), TARGET_PARK_COVERAGE_2014, "%"),
    Gauge("国家级园区科协覆盖率", Decimal("0.7"), TARGET_NATIONAL_PARK_COVERAGE_2014, "%"),  # 175%
]

RATES = [
    ("北京市科协", Decimal("1.2")),
    ("天津市科协", Decimal("0.3")),  # below
    ("河北省科协", None),
    ("山西省科协", Decimal("0.5")),  # exactly at the threshold: not below
    ("新疆生产建设兵团科协", Decimal("0.49")),  # below
    ("大连市科协", Decimal("0.8")),
]


def parse(chart: Markup) -> ET.Element:
    assert isinstance(chart, Markup)
    root = ET.fromstring(str(chart))
    assert root.tag == f"{SVG}svg"
    return root


def local(element: ET.Element) -> str:
    return element.tag.removeprefix(SVG)


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def row_groups(root: ET.Element, *extra: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if {"chart-row", *extra} <= classes(g)]


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def by_class(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if name in classes(e)]


def assert_csp_safe(root: ET.Element) -> None:
    for element in root.iter():
        assert local(element) not in {"style", "script", "foreignObject"}, element.tag
        assert "style" not in element.attrib, element.attrib
        assert not any(name.lower().startswith("on") for name in element.attrib), element.attrib
        for name in ("href", "{http://www.w3.org/1999/xlink}href"):
            assert name not in element.attrib


def all_charts() -> list[Markup]:
    return [
        progress_chart(GAUGES),
        progress_chart([]),
        completion_chart(RATES, title="新建任务完成率"),
        completion_chart([], title="新建任务完成率"),
    ]


# --- both charts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chart", all_charts(), ids=["progress", "progress-empty", "completion", "completion-empty"]
)
def test_chart_is_csp_safe_svg_with_accessible_name(chart):
    root = parse(chart)
    assert_csp_safe(root)
    assert "style=" not in str(chart) and "<script" not in str(chart)
    assert root.get("width") == "100%"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    first, second = list(root)[:2]
    assert (local(first), first.get("id"), local(second), second.get("id")) == (
        "title",
        title_id,
        "desc",
        desc_id,
    )
    assert first.text and second.text


@pytest.mark.parametrize(
    "chart",
    [progress_chart([]), completion_chart([], title="t")],
    ids=["progress", "completion"],
)
def test_chart_empty_input_says_no_data(chart):
    root = parse(chart)
    assert texts(root) == ["暂无数据"]
    assert root.find(f"{SVG}desc").text == "暂无数据"
    assert not row_groups(root)


def test_chart_output_is_deterministic_and_ids_can_be_given():
    assert [str(c) for c in all_charts()] == [str(c) for c in all_charts()]
    named = parse(completion_chart(RATES, title="t", chart_id="units-2014"))
    assert named.get("aria-labelledby") == "units-2014-title units-2014-desc"
    with pytest.raises(ValueError):
        progress_chart(GAUGES, chart_id="1 bad")


@pytest.mark.parametrize(
    "chart",
    [
        progress_chart([Gauge(HOSTILE, Decimal(1), Decimal(2), HOSTILE)], title=HOSTILE),
        completion_chart([(HOSTILE, Decimal("0.2"))], title=HOSTILE),
    ],
    ids=["progress", "completion"],
)
def test_chart_hostile_text_escaped(chart):
    assert "<script>" not in str(chart)
    assert "&lt;script&gt;" in str(chart)
    root = parse(chart)
    assert_csp_safe(root)
    assert root.find(f"{SVG}title").text == HOSTILE
    for group in row_groups(root):
        assert group.find(f"{SVG}title").text.startswith(HOSTILE)


def test_chart_control_characters_removed_so_xml_stays_well_formed():
    root = parse(completion_chart([("单位\x00\x0b名", Decimal("0.7"))], title="t\x07"))
    assert root.find(f"{SVG}title").text == "t"
    assert row_groups(root)[0].find(f"{SVG}title").text.startswith("单位名")


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.text(max_size=30), max_size=8),
    data=st.data(),
)
def test_chart_any_text_and_numbers_give_well_formed_safe_svg(labels, data):
    numbers = st.none() | st.decimals() | st.decimals(places=3, min_value=-10, max_value=10)
    gauges = [
        Gauge(
            label, data.draw(numbers), data.draw(numbers), data.draw(st.sampled_from(["个", "家", "%", ""]))
        )
        for label in labels
    ]
    rows = [(label, data.draw(numbers | st.floats())) for label in labels]
    threshold = data.draw(st.decimals(min_value=0, max_value=3, places=2))
    for chart in (progress_chart(gauges), completion_chart(rows, title="t", threshold=threshold)):
        root = parse(chart)
        assert_csp_safe(root)
        assert len(row_groups(root)) == len(labels)


# --- national progress ------------------------------------------------------------------------------------


def progress_x(fraction: float) -> float:
    """Independent: 0 at PLOT_LEFT, 150% of the target at PROGRESS_RIGHT."""
    return PLOT_LEFT + fraction / 1.5 * (PROGRESS_RIGHT - PLOT_LEFT)


def test_progress_chart_one_bar_per_gauge_with_the_labels():
    root = parse(progress_chart(GAUGES))
    groups = row_groups(root)
    assert len(groups) == 4
    assert len(by_class(root, "rect", "value")) == 4
    assert len(by_class(root, "rect", "target")) == 4
    values = [texts(g)[-1] for g in groups]
    assert values == [
        "4,213 / 6,000 个（70.2%）",
        "16,500 / 15,000 家（110.0%）",
        "18.3% / 25.0%（73.2%）",
        "70.0% / 40.0%（175.0%）",
    ]
    assert [texts(g)[0] for g in groups] == [
        "新建企业科协",
        "科协联系人制度企业",
        "园区科协覆盖率",
        "国家级园区科协覆盖率",
    ]
    long = row_groups(
        parse(progress_chart([Gauge("国家级高新区经开区园区科协组织覆盖率", Decimal(1), Decimal(2), "%")]))
    )
    assert texts(long[0])[0] == "国家级高新区经开区园区科协…"
    assert long[0].find(f"{SVG}title").text.startswith("国家级高新区经开区园区科协组织覆盖率：")


def test_progress_chart_geometry_target_line_and_cap():
    root = parse(progress_chart(GAUGES))
    (line,) = by_class(root, "line", "target-line")
    assert float(line.get("x1")) == pytest.approx(progress_x(1.0), abs=0.01)
    assert line.get("stroke-dasharray")
    for rect in by_class(root, "rect", "target"):
        assert float(rect.get("x")) == PLOT_LEFT
        assert float(rect.get("width")) == pytest.approx(progress_x(1.0) - PLOT_LEFT, abs=0.01)
    widths = [float(r.get("width")) for r in by_class(root, "rect", "value")]
    expected = [4213 / 6000, 16500 / 15000, 0.183 / 0.25, 1.5]  # the last is 175%, drawn to 150%
    assert widths == pytest.approx([progress_x(f) - PLOT_LEFT for f in expected], abs=0.01)
    assert all(r.get("fill") == BLUE for r in by_class(root, "rect", "value"))
    over = row_groups(root, "over")
    assert len(over) == 1 and over[0] is row_groups(root)[3]
    assert len(by_class(root, "g", "overflow")) == 1
    assert "超出 150%" in over[0].find(f"{SVG}title").text


def test_progress_chart_exactly_150_percent_is_not_marked():
    root = parse(progress_chart([Gauge("x", Decimal(9000), Decimal(6000), "个")]))
    assert not row_groups(root, "over")
    assert float(by_class(root, "rect", "value")[0].get("width")) == pytest.approx(PROGRESS_RIGHT - PLOT_LEFT)


def test_progress_chart_missing_or_zero_target_shows_dash_without_bar():
    root = parse(
        progress_chart(
            [
                Gauge("无目标", Decimal(10), Decimal(0), "个"),
                Gauge("无数据", None, Decimal(100), "家"),  # type: ignore[arg-type]
                Gauge("小数", Decimal("12.6"), Decimal("1000"), "个"),
            ]
        )
    )
    assert [texts(g)[-1] for g in row_groups(root)] == [
        "10 / 0 个（—）",
        "— / 100 家（—）",
        "12.6 / 1,000 个（1.3%）",
    ]
    assert len(by_class(root, "rect", "value")) == 1


# --- per-unit completion ----------------------------------------------------------------------------------


def completion_x(rate: float, scale: float) -> float:
    return PLOT_LEFT + rate / scale * (COMPLETION_RIGHT - PLOT_LEFT)


def test_completion_chart_bars_sorted_as_given_none_is_dash():
    root = parse(completion_chart(RATES, title="新建任务完成率"))
    groups = row_groups(root)
    assert [g.find(f"{SVG}title").text.split("：")[0] for g in groups] == [label for label, _ in RATES]
    assert len(by_class(root, "rect", "rate")) == 5  # not the None
    assert texts(groups[2])[-1] == "—"
    assert groups[2].find(f"{SVG}rect") is None
    assert [texts(g)[-1] for g in groups] == ["120.0%", "30.0%", "—", "50.0%", "49.0%", "80.0%"]


def test_completion_chart_threshold_and_full_lines_at_independently_computed_x():
    root = parse(completion_chart(RATES, title="t"))
    scale = 1.5  # the largest of 100%, 50% and 120%, rounded up to a multiple of 50%
    (full,) = by_class(root, "line", "full-line")
    (threshold,) = by_class(root, "line", "threshold-line")
    assert float(full.get("x1")) == pytest.approx(completion_x(1.0, scale), abs=0.01)
    assert float(threshold.get("x1")) == pytest.approx(completion_x(0.5, scale), abs=0.01)
    assert threshold.get("stroke") == RED and threshold.get("stroke-dasharray")
    assert full.get("stroke-dasharray")
    widths = [float(r.get("width")) for r in by_class(root, "rect", "rate")]
    assert widths == pytest.approx(
        [completion_x(r, scale) - PLOT_LEFT for r in (1.2, 0.3, 0.5, 0.49, 0.8)], abs=0.01
    )
    assert "150%" in texts(root)


def test_completion_chart_rows_below_threshold_are_red():
    root = parse(completion_chart(RATES, title="t"))
    below = row_groups(root, "below")
    assert [g.find(f"{SVG}title").text.split("：")[0] for g in below] == [
        "天津市科协",
        "新疆生产建设兵团科协",
    ]
    for group in row_groups(root):
        rect = group.find(f"{SVG}rect")
        if rect is not None:
            assert rect.get("fill") == (RED if group in below else BLUE)
    assert "2 个单位低于警戒线" in root.find(f"{SVG}desc").text


def test_completion_chart_custom_threshold():
    root = parse(completion_chart(RATES, title="t", threshold=Decimal("0.85")))
    assert len(row_groups(root, "below")) == 4  # 0.3, 0.5, 0.49, 0.8
    (threshold,) = by_class(root, "line", "threshold-line")
    assert float(threshold.get("x1")) == pytest.approx(completion_x(0.85, 1.5), abs=0.01)
    assert any("85% 警戒线" in t for t in texts(root))


def test_completion_chart_long_bars_clipped_with_mark():
    root = parse(completion_chart([("甲", Decimal("3.4")), ("乙", Decimal("0.9"))], title="t"))
    scale = 2.0  # capped at 200%
    over = row_groups(root, "over")
    assert len(over) == 1 and "340.0%" in texts(over[0])
    widths = [float(r.get("width")) for r in by_class(root, "rect", "rate")]
    assert widths == pytest.approx(
        [completion_x(2.0, scale) - PLOT_LEFT, completion_x(0.9, scale) - PLOT_LEFT]
    )
    assert len(by_class(root, "g", "overflow")) == 1


def test_completion_scale():
    assert completion_scale([]) == 1
    assert completion_scale([Decimal("0.2"), None]) == 1
    assert completion_scale([Decimal("1.01")]) == Decimal("1.5")
    assert completion_scale([Decimal("9")]) == 2
    assert completion_scale([], Decimal("2.2")) == Decimal("2.5")


@pytest.mark.parametrize("bad", [Decimal("-0.1"), Decimal("NaN"), None])
def test_completion_chart_invalid_threshold_raises(bad):
    with pytest.raises(ValueError):
        completion_chart(RATES, title="t", threshold=bad)
