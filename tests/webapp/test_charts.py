"""Server-drawn SVG charts of the results page: well-formed, CSP-safe, escaped, and geometrically right."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import namedtuple
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from webapp.results.charts import (
    BLUE,
    LENIENCY_LEFT,
    LENIENCY_RIGHT,
    LENIENCY_ZERO,
    PLOT_LEFT,
    PLOT_RIGHT,
    RED,
    ROW_HEIGHT,
    breakdown_chart,
    leniency_chart,
    rank_interval_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script>&"'

RANKS = [
    ("甲单位", 1, 1, 2),
    ("乙单位", 2, 1, 4),  # straddles a cutoff at 2
    ("丙单位", 3, 2, 5),  # straddles
    ("丁单位", 4, 3, 6),
    ("戊单位", 5, 4, 6),
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


def height(root: ET.Element) -> float:
    return float(root.get("viewBox").split()[3])


def assert_csp_safe(root: ET.Element) -> None:
    for element in root.iter():
        assert local(element) not in {"style", "script", "foreignObject"}, element.tag
        assert "style" not in element.attrib, element.attrib
        assert not any(name.lower().startswith("on") for name in element.attrib), element.attrib
        for name in ("href", "{http://www.w3.org/1999/xlink}href"):
            assert name not in element.attrib


def all_charts() -> list[Markup]:
    return [
        rank_interval_chart(RANKS, 2),
        rank_interval_chart([*RANKS, ("己单位", None, None, None)], None),
        rank_interval_chart([], 3),
        breakdown_chart([("创新性", Decimal("13.5"), Decimal("15")), ("可行性", None, 10)], title="得分构成"),
        breakdown_chart([], title="得分构成"),
        leniency_chart([("专家甲", -1.3, True), ("专家乙", 0.4, False), ("专家丙", None, False)]),
        leniency_chart([]),
    ]


# --- every chart -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", all_charts())
def test_chart_is_csp_safe_svg_with_accessible_name(chart):
    root = parse(chart)
    assert_csp_safe(root)
    assert root.get("width") == "100%"
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 ")
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
    [rank_interval_chart([], None), breakdown_chart([], title="得分构成"), leniency_chart([])],
    ids=["ranks", "breakdown", "leniency"],
)
def test_chart_empty_input_says_no_data(chart):
    root = parse(chart)
    assert texts(root) == ["暂无数据"]
    assert root.find(f"{SVG}desc").text == "暂无数据"
    assert height(root) < 60
    assert not row_groups(root)


def test_chart_output_is_deterministic():
    assert [str(c) for c in all_charts()] == [str(c) for c in all_charts()]


def test_chart_ids_differ_between_different_charts_and_can_be_given():
    first, second = parse(rank_interval_chart(RANKS, 2)), parse(rank_interval_chart(RANKS, 3))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")
    named = parse(leniency_chart([("专家甲", 1.0, False)], chart_id="experts-2026"))
    assert named.get("aria-labelledby") == "experts-2026-title experts-2026-desc"


@pytest.mark.parametrize("bad", ["1abc", "a b", 'a"b', ""])
def test_chart_id_invalid_raises(bad):
    with pytest.raises(ValueError):
        breakdown_chart([("x", 1, 2)], title="t", chart_id=bad)


@pytest.mark.parametrize(
    "chart",
    [
        rank_interval_chart([(HOSTILE, 1, 1, 2), (HOSTILE, None, None, None)], 1, title=HOSTILE),
        breakdown_chart([(HOSTILE, 1, 2)], title=HOSTILE),
        leniency_chart([(HOSTILE, 0.5, True)], title=HOSTILE),
    ],
    ids=["ranks", "breakdown", "leniency"],
)
def test_chart_hostile_label_escaped(chart):
    assert "<script>" not in str(chart)
    assert "&lt;script&gt;" in str(chart)
    root = parse(chart)
    assert_csp_safe(root)
    assert root.find(f"{SVG}title").text == HOSTILE
    for group in row_groups(root):
        assert group.find(f"{SVG}title").text.startswith(HOSTILE)


def test_chart_control_characters_removed_so_xml_stays_well_formed():
    root = parse(breakdown_chart([("单位\x00\x0b名", 1, 2)], title="t\x07"))
    assert root.find(f"{SVG}title").text == "t"
    assert row_groups(root)[0].find(f"{SVG}title").text.startswith("单位名")


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.text(max_size=30), max_size=8),
    cutoff=st.none() | st.integers(0, 10),
    data=st.data(),
)
def test_chart_any_text_and_numbers_give_well_formed_safe_svg(labels, cutoff, data):
    ranks = []
    for position, label in enumerate(labels, start=1):
        low, high = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
        ranks.append((label, data.draw(st.sampled_from([position, None])), low, high))
    scores = st.none() | st.floats() | st.decimals(places=3) | st.decimals()
    items = [(label, data.draw(scores), data.draw(st.integers(1, 30) | st.decimals())) for label in labels]
    leniencies = [(label, data.draw(scores), data.draw(st.booleans())) for label in labels]
    for chart in (
        rank_interval_chart(ranks, cutoff),
        breakdown_chart(items, title="t"),
        leniency_chart(leniencies),
    ):
        root = parse(chart)
        assert_csp_safe(root)
        assert len(row_groups(root)) == len(labels)


# --- rank intervals ---------------------------------------------------------------------------------------


def rank_x(rank: float, span: int) -> float:
    return PLOT_LEFT + (rank - 0.5) * (PLOT_RIGHT - PLOT_LEFT) / span


def test_rank_interval_chart_one_row_group_per_application():
    root = parse(rank_interval_chart([*RANKS, ("己单位", None, None, None)], 2))
    assert len(row_groups(root)) == 6
    assert len(row_groups(root, "unranked")) == 1
    assert [g.find(f"{SVG}title").text.split("：")[0] for g in row_groups(root)] == [r[0] for r in RANKS] + [
        "己单位"
    ]


def test_rank_interval_chart_cutoff_line_between_cutoff_and_next_rank():
    root = parse(rank_interval_chart(RANKS, 2))
    (cutoff,) = [g for g in root.iter(f"{SVG}g") if "cutoff" in classes(g)]
    line = cutoff.find(f"{SVG}line")
    # Six ranks on the axis (the largest bound is 6): 510 units / 6 per rank; the line sits after rank 2.
    expected = 190 + 2 * 510 / 6
    assert PLOT_LEFT == 190 and PLOT_RIGHT == 700
    assert float(line.get("x1")) == pytest.approx(expected, abs=0.01)
    assert float(line.get("x2")) == pytest.approx(expected, abs=0.01)
    assert line.get("stroke") == RED and line.get("stroke-dasharray")
    assert "资助线" in texts(cutoff)


def test_rank_interval_chart_cutoff_beyond_all_ranks_widens_axis():
    root = parse(rank_interval_chart([("甲", 1, 1, 2), ("乙", 2, 1, 3)], 5))
    (cutoff,) = [g for g in root.iter(f"{SVG}g") if "cutoff" in classes(g)]
    assert float(cutoff.find(f"{SVG}line").get("x1")) == pytest.approx(PLOT_RIGHT, abs=0.01)


def test_rank_interval_chart_without_cutoff_has_no_line_nor_straddling():
    root = parse(rank_interval_chart(RANKS, None))
    assert not [g for g in root.iter(f"{SVG}g") if "cutoff" in classes(g)]
    assert not {"资助线", "跨越资助线"} & set(texts(root))
    assert not row_groups(root, "straddles")
    assert {
        e.get("fill") or e.get("stroke")
        for g in row_groups(root)
        for e in g
        if local(e) in {"line", "circle"}
    } == {BLUE}


def test_rank_interval_chart_straddling_rows_drawn_red_and_in_legend():
    root = parse(rank_interval_chart(RANKS, 2))
    colours = {}
    for group in row_groups(root):
        label = group.find(f"{SVG}title").text.split("：")[0]
        colours[label] = (group.find(f"{SVG}line").get("stroke"), group.find(f"{SVG}circle").get("fill"))
    assert colours == {
        "甲单位": (BLUE, BLUE),  # 1–2: entirely funded
        "乙单位": (RED, RED),  # 1–4
        "丙单位": (RED, RED),  # 2–5
        "丁单位": (BLUE, BLUE),  # 3–6: entirely below the line
        "戊单位": (BLUE, BLUE),
    }
    assert len(row_groups(root, "straddles")) == 2
    assert "跨越资助线" in texts(root)
    assert "2 个申报的排名区间跨越资助线" in root.find(f"{SVG}desc").text


def test_rank_interval_chart_interval_line_from_low_to_high_and_dot_at_rank():
    root = parse(rank_interval_chart(RANKS, 2))
    group = row_groups(root)[2]  # 丙单位: rank 3, interval 2–5, axis of 6
    line, dot = group.find(f"{SVG}line"), group.find(f"{SVG}circle")
    assert float(line.get("x1")) == pytest.approx(rank_x(2, 6), abs=0.01)
    assert float(line.get("x2")) == pytest.approx(rank_x(5, 6), abs=0.01)
    assert float(dot.get("cx")) == pytest.approx(rank_x(3, 6), abs=0.01)
    assert float(dot.get("cy")) == float(line.get("y1"))


def test_rank_interval_chart_none_interval_draws_only_the_dot():
    root = parse(rank_interval_chart([("甲", 1, None, None), ("乙", 2, 1, 3)], 1))
    first, second = row_groups(root)
    assert first.find(f"{SVG}line") is None and first.find(f"{SVG}circle") is not None
    assert "straddles" not in classes(first) and "straddles" in classes(second)


def test_rank_interval_chart_unranked_rows_listed_below_ranked_ones():
    rows = [("甲", 1, 1, 2), ("未评完的单位", None, None, None), ("乙", 2, 1, 2)]
    root = parse(rank_interval_chart(rows, 1))
    ranked = [g for g in row_groups(root) if "unranked" not in classes(g)]
    (unranked,) = row_groups(root, "unranked")
    assert texts(unranked) == ["未评完的单位", "未排名"]
    assert unranked.find(f"{SVG}circle") is None
    lowest_ranked = max(float(g.find(f"{SVG}circle").get("cy")) for g in ranked)
    assert min(float(t.get("y")) for t in unranked.iter(f"{SVG}text")) > lowest_ranked + ROW_HEIGHT
    assert "未排名" in texts(root)[-3:]  # the heading of the list, at the bottom


def test_rank_interval_chart_only_unranked_rows():
    root = parse(rank_interval_chart([("甲", None, None, None)], 1))
    assert len(row_groups(root, "unranked")) == 1
    assert not [g for g in root.iter(f"{SVG}g") if "cutoff" in classes(g)]


def test_rank_interval_chart_height_grows_by_one_row_per_application():
    def rows(n):
        return [(f"单位{i}", i, i, i + 1) for i in range(1, n + 1)]

    assert (
        height(parse(rank_interval_chart(rows(20), 5))) - height(parse(rank_interval_chart(rows(10), 5)))
        == 10 * ROW_HEIGHT
    )


def test_rank_interval_chart_long_label_truncated_full_name_in_title():
    name = "辽宁省大连市某某区人民政府办公室信息化工作领导小组"
    root = parse(rank_interval_chart([(name, 1, 1, 1)], None))
    (group,) = row_groups(root)
    label = texts(group)[0]
    assert len(label) == 14 and label.endswith("…") and name.startswith(label[:-1])
    assert group.find(f"{SVG}title").text.startswith(name)
    short = parse(rank_interval_chart([("大连市", 1, 1, 1)], None))
    assert texts(row_groups(short)[0])[0] == "大连市"


def test_rank_interval_chart_axis_ticks_readable():
    root = parse(rank_interval_chart([(f"单位{i}", i, i, i) for i in range(1, 38)], 10))
    (axis,) = [g for g in root.iter(f"{SVG}g") if "chart-axis" in classes(g)]
    assert texts(axis) == ["名次", "1", "5", "10", "15", "20", "25", "30", "35"]


def test_rank_interval_chart_accepts_objects_and_mappings():
    Row = namedtuple("Row", "label rank low high")

    @dataclass
    class Obj:
        high: int | None
        low: int | None
        rank: int | None
        label: str

    tuples = rank_interval_chart(RANKS, 2)
    assert rank_interval_chart([Row(*r) for r in RANKS], 2) == tuples
    assert rank_interval_chart([Obj(r[3], r[2], r[1], r[0]) for r in RANKS], 2) == tuples
    assert rank_interval_chart([dict(zip(Row._fields, r, strict=True)) for r in RANKS], 2) == tuples


# --- breakdown --------------------------------------------------------------------------------------------


def bars(group: ET.Element) -> dict[str, ET.Element]:
    return {r.get("class"): r for r in group.iter(f"{SVG}rect")}


def test_breakdown_chart_score_against_maximum_with_value_text():
    items = [
        ("创新性", Decimal("13.5"), Decimal("15")),
        ("可行性", 20.0, 30),
        ("规范性", Decimal("7.25"), Decimal("7.5")),
    ]
    root = parse(breakdown_chart(items, title="得分构成"))
    groups = row_groups(root)
    assert len(groups) == 3
    assert [g.find(f"{SVG}text[@class='value']").text for g in groups] == [
        "13.50 / 15",
        "20.00 / 30",
        "7.25 / 7.50",
    ]
    widths = [{k: float(v.get("width")) for k, v in bars(g).items()} for g in groups]
    full = widths[1]["maximum"]  # the largest maximum spans the plot
    assert widths[0]["maximum"] == pytest.approx(full * 15 / 30, abs=0.01)
    assert widths[0]["score"] == pytest.approx(full * 13.5 / 30, abs=0.01)
    assert widths[2]["score"] == pytest.approx(full * 7.25 / 30, abs=0.01)
    assert {bars(g)["score"].get("fill") for g in groups} == {BLUE}
    assert all(float(r.get("x")) == PLOT_LEFT for g in groups for r in bars(g).values())
    assert "合计 40.75 / 52.50" in root.find(f"{SVG}desc").text


def test_breakdown_chart_none_score_shown_as_dash_without_bar():
    root = parse(breakdown_chart([("创新性", None, 15), ("可行性", 3, 5)], title="得分构成"))
    first, second = row_groups(root)
    assert set(bars(first)) == {"maximum"} and set(bars(second)) == {"maximum", "score"}
    assert first.find(f"{SVG}text[@class='value']").text == "— / 15"
    assert "1 个评分项无得分" in root.find(f"{SVG}desc").text


def test_breakdown_chart_rounds_half_up_to_two_decimals():
    root = parse(breakdown_chart([("a", Decimal("2.345"), 5), ("b", 2.675, 5), ("c", 0, 5)], title="t"))
    assert [g.find(f"{SVG}text[@class='value']").text for g in row_groups(root)] == [
        "2.35 / 5",
        "2.68 / 5",
        "0.00 / 5",
    ]


def test_breakdown_chart_huge_values_still_formatted():
    root = parse(breakdown_chart([("a", 3e38, 5), ("b", Decimal("1E+40"), Decimal("1E+40"))], title="t"))
    values = [g.find(f"{SVG}text[@class='value']").text for g in row_groups(root)]
    assert values[0].startswith("300000000000000000000000000000000000000.00 / 5")
    assert values[1].endswith(".00 / 10000000000000000000000000000000000000000")


def test_breakdown_chart_score_above_maximum_bar_capped_text_true():
    root = parse(breakdown_chart([("a", 12, 10), ("b", -1, 10)], title="t"))
    first, second = row_groups(root)
    assert bars(first)["score"].get("width") == bars(first)["maximum"].get("width")
    assert bars(second)["score"].get("width") == "0"
    assert first.find(f"{SVG}text[@class='value']").text == "12.00 / 10"


# --- leniency ---------------------------------------------------------------------------------------------


def test_leniency_chart_bars_left_and_right_of_zero():
    root = parse(leniency_chart([("严专家", -1.3, False), ("宽专家", 0.4, False)]))
    severe, lenient = (g.find(f"{SVG}rect") for g in row_groups(root))
    half = LENIENCY_RIGHT - LENIENCY_ZERO
    assert LENIENCY_ZERO == (LENIENCY_LEFT + LENIENCY_RIGHT) / 2
    # the largest |leniency| 1.3 rounds up to a scale of ±2
    assert float(severe.get("x")) + float(severe.get("width")) == pytest.approx(LENIENCY_ZERO, abs=0.01)
    assert float(severe.get("width")) == pytest.approx(half * 1.3 / 2, abs=0.01)
    assert float(lenient.get("x")) == pytest.approx(LENIENCY_ZERO, abs=0.01)
    assert float(lenient.get("width")) == pytest.approx(half * 0.4 / 2, abs=0.01)
    assert [g.find(f"{SVG}text[@class='value']").text for g in row_groups(root)] == ["−1.30", "+0.40"]
    (axis,) = [g for g in root.iter(f"{SVG}g") if "chart-axis" in classes(g)]
    assert texts(axis) == ["−2.00", "−1.00", "0.00", "+1.00", "+2.00"]


def test_leniency_chart_flagged_bars_highlighted():
    root = parse(leniency_chart([("甲", 3.0, True), ("乙", -0.5, False), ("丙", -4.0, True)]))
    assert [g.find(f"{SVG}rect").get("fill") for g in row_groups(root)] == [RED, BLUE, RED]
    assert len(row_groups(root, "flagged")) == 2
    assert "2 位被标记" in root.find(f"{SVG}desc").text


def test_leniency_chart_none_shown_as_dash_without_bar():
    root = parse(leniency_chart([("甲", None, False), ("乙", float("nan"), True), ("丙", 0.0, False)]))
    first, second, third = row_groups(root)
    assert first.find(f"{SVG}rect") is None and second.find(f"{SVG}rect") is None
    assert texts(first)[-1] == "—" and texts(second)[-1] == "—"
    assert third.find(f"{SVG}rect").get("width") == "0"


def test_leniency_chart_all_none_uses_unit_scale():
    root = parse(leniency_chart([("甲", None, False)]))
    (axis,) = [g for g in root.iter(f"{SVG}g") if "chart-axis" in classes(g)]
    assert texts(axis) == ["−1.00", "−0.50", "0.00", "+0.50", "+1.00"]


def test_leniency_chart_caption_explains_axis_in_chinese():
    root = parse(leniency_chart([("甲", 1.0, False)]))
    (caption,) = [g for g in root.iter(f"{SVG}g") if "chart-caption" in classes(g)]
    text = "".join(texts(caption))
    assert "负值（左）表示偏严" in text and "正值（右）表示偏宽" in text and "红色为被标记的专家" in text
    assert {"← 偏严", "偏宽 →"} <= set(texts(root))


def test_legend_positions_keep_their_offsets_and_make_room_for_longer_labels():
    from webapp.results.charts import _legend_positions, _text_width

    chinese = [(0, "排名区间与名次（圆点）"), (190, "跨越资助线"), (320, "资助线")]
    assert _legend_positions(PLOT_LEFT, chinese) == [PLOT_LEFT, PLOT_LEFT + 190, PLOT_LEFT + 320]
    label = "A much longer legend label than the Chinese one"
    first, second, third = _legend_positions(PLOT_LEFT, [(0, label), (190, "x"), (320, "y")])
    assert first == PLOT_LEFT
    assert second >= first + 30 + _text_width(label) > PLOT_LEFT + 190
    assert third >= max(PLOT_LEFT + 320, second + 30 + _text_width("x"))


def test_desc_sentences_joined_without_space_in_chinese_with_one_in_english():
    from webapp.results.charts import _sentences

    assert _sentences("甲。", "乙。") == "甲。乙。"
    assert _sentences("One.", "Two.") == "One. Two."
    assert _sentences("Only one.") == "Only one."
