"""Charts of the national progress dashboard as SVG drawn on the server (seed 002).

The same house style as the results charts: the site's Content-Security-Policy allows neither inline
scripts nor inline styles, so a chart is a complete ``<svg>`` element styled only with SVG presentation
attributes, with ``role="img"``, a ``<title>`` and a ``<desc>``. The chart's own words are translated with
Flask-Babel when it is drawn (the Chinese text is the message id). Every function is pure for a given
language (same input, same string) and every piece of caller text is escaped.

- :func:`progress_chart` — the national targets: one bar per indicator, achieved against target;
- :func:`completion_chart` — per-unit completion rates with the 100% line and the criticism threshold.

The 2014 targets of the seed are here as constants for the views and the demo data: 6,000+ new enterprise
associations, 15,000+ enterprises with a liaison person, park association coverage of at least 25% of all
high-tech and economic zones and 40% of the national-level ones, against a starting point of 21,000
enterprise associations, 6.1% of the industrial enterprises above designated size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from webapp.results.charts import (  # the shared SVG primitives and house style
    BLUE,
    PLOT_LEFT,
    RED,
    ROW_HEIGHT,
    _chart_id,
    _coord,
    _decimal,
    _empty,
    _legend_line,
    _legend_positions,
    _sentences,
    _short,
    _svg,
    _tag,
    _text,
)

__all__ = [
    "BASELINE_COVERAGE_2014",
    "BASELINE_KEXIE_2014",
    "COMPLETION_CAP",
    "COMPLETION_RIGHT",
    "Gauge",
    "PROGRESS_CAP",
    "PROGRESS_RIGHT",
    "TARGET_LIAISON_2014",
    "TARGET_NATIONAL_PARK_COVERAGE_2014",
    "TARGET_NEW_KEXIE_2014",
    "TARGET_PARK_COVERAGE_2014",
    "completion_chart",
    "completion_scale",
    "progress_chart",
]

#: Seed 002: the national targets of 2014 and the starting point.
TARGET_NEW_KEXIE_2014 = 6000
TARGET_LIAISON_2014 = 15000
TARGET_PARK_COVERAGE_2014 = Decimal("0.25")
TARGET_NATIONAL_PARK_COVERAGE_2014 = Decimal("0.40")
BASELINE_KEXIE_2014 = 21000
BASELINE_COVERAGE_2014 = Decimal("0.061")

LIGHT = "#dde3ea"
GRID = "#e6eaef"
INK = "#1f2933"
MUTED = "#52606d"
WHITE = "#ffffff"

FONT_FAMILY = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
FONT_SIZE = 12
LABEL_RIGHT = 178
BAR_HEIGHT = 12

#: The progress chart: 0% at :data:`PLOT_LEFT`, :data:`PROGRESS_CAP` (150%) of the target here.
PROGRESS_RIGHT = 520
PROGRESS_CAP = Decimal("1.5")
#: The completion chart: 0% at :data:`PLOT_LEFT`, the scale's end here.
COMPLETION_RIGHT = 630
#: Completion bars longer than this (200%) are clipped with a mark; the scale never goes beyond it unless
#: the threshold does.
COMPLETION_CAP = Decimal("2")

#: Shown when a chart has no rows; translated when the chart is drawn.
EMPTY_TEXT = _l("暂无数据")
MISSING = "—"

_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TENTH = Decimal("0.1")
_HALF = Decimal("0.5")


@dataclass(frozen=True)
class Gauge:
    """One national indicator: achieved ``value`` against ``target``.

    ``unit`` is the counting word ("个", "家") or ``"%"``; with ``"%"`` value and target are ratios (0..1),
    shown ×100 with one decimal.
    """

    label: str
    value: Decimal
    target: Decimal
    unit: str


# ---------------------------------------------------------------------------------------------------------
# Small builders (as in the results charts): everything is Markup, plain text is escaped.


def _round(value: Decimal, quantum: Decimal) -> Decimal:
    context = Context(prec=max(28, value.adjusted() + 4), rounding=ROUND_HALF_UP)
    return value.quantize(quantum, context=context)


def _percent(ratio: Decimal) -> str:
    """A ratio as a percentage with one decimal, rounding half up: 0.70216 → "70.2%"."""
    return f"{_round(ratio * 100, _TENTH):f}%"


def _tick(ratio: Decimal) -> str:
    """An axis tick as a percentage without needless decimals: 0.5 → "50%", 0.125 → "12.5%"."""
    text = f"{_round(ratio * 100, _TENTH):f}"
    return text.removesuffix(".0") + "%"


def _count(value: Decimal) -> str:
    """A count with thousands separators: whole as "4,213", otherwise one decimal ("4,212.6")."""
    if value == value.to_integral_value():
        return f"{_round(value, Decimal(1)):,f}"
    return f"{_round(value, _TENTH):,f}"


def _legend_box(x: float, y: float, colour: str, label: str) -> Markup:
    return Markup("").join(
        [_tag("rect", x=x, y=y - 5, width=24, height=10, fill=colour), _text(x + 30, y + 4, label)]
    )


def _overflow_mark(x: float, y: float, colour: str) -> Markup:
    """Two white slashes across a clipped bar's end and an arrowhead after it: "longer than drawn"."""
    top, bottom = y, y + BAR_HEIGHT
    return _tag(
        "g",
        _tag(
            "path",
            d=f"M{_coord(x - 14)} {_coord(bottom + 1)}L{_coord(x - 8)} {_coord(top - 1)}"
            f"M{_coord(x - 9)} {_coord(bottom + 1)}L{_coord(x - 3)} {_coord(top - 1)}",
            stroke=WHITE,
            stroke_width=2,
            fill="none",
        ),
        _tag(
            "path",
            d=f"M{_coord(x + 2)} {_coord(top)}L{_coord(x + 9)} {_coord(y + BAR_HEIGHT / 2)}"
            f"L{_coord(x + 2)} {_coord(bottom)}Z",
            fill=colour,
        ),
        class_="overflow",
    )


# ---------------------------------------------------------------------------------------------------------
# National progress against the targets.

_PROGRESS_TOP = 40
_PROGRESS_ROW = 30


def _progress_x(fraction: Decimal) -> float:
    """x of a completion fraction (1 = the target) on the progress chart."""
    return PLOT_LEFT + float(fraction / PROGRESS_CAP) * (PROGRESS_RIGHT - PLOT_LEFT)


def _gauge_text(value: Decimal | None, target: Decimal | None, unit: str) -> tuple[str, Decimal | None]:
    """("4,213 / 6,000 个（70.2%）", completion) — completion None when it is not defined."""
    completion = None
    if value is not None and target is not None and target > 0:
        completion = value / target
    if unit == "%":
        shown = f"{MISSING if value is None else _percent(value)} / {MISSING if target is None else _percent(target)}"
    else:
        shown = (
            f"{MISSING if value is None else _count(value)} / {MISSING if target is None else _count(target)}"
        )
        if unit:
            shown += f" {unit}"
    shown = _(
        "%(amount)s（%(completion)s）",
        amount=shown,
        completion=MISSING if completion is None else _percent(completion),
    )
    return shown, completion


def progress_chart(
    gauges: Sequence[Gauge], *, title: str | None = None, chart_id: str | None = None
) -> Markup:
    """One horizontal bar per national indicator: achieved against target.

    Parameters
    ----------
    gauges : sequence of Gauge
        In display order. A value or target that is not a finite number is shown as "—" (no bar); a target
        of 0 or less gives no completion.
    title : str, optional
        The chart's accessible name (its ``<title>``); by default "全国目标完成情况" in the interface
        language.
    chart_id : str, optional
        Prefix of the ids of ``<title>`` and ``<desc>``; by default derived from the input.

    Every bar shares one scale in units of its own target: 0 at :data:`PLOT_LEFT`, the target (100%) at two
    thirds of the way to :data:`PROGRESS_RIGHT`, which is 150% (:data:`PROGRESS_CAP`). A light track shows
    0–100%, a dashed line marks the target through all rows, and the achieved bar (``<rect class="value">``)
    is blue (legible in black-and-white print). A bar beyond 150% is drawn to 150% with a mark (``<g class="overflow">``)
    and its row has the class ``over``. Each indicator is a ``<g class="chart-row">`` with a ``<title>``;
    the text right of the bar reads "4,213 / 6,000 个（70.2%）" ("18.3% / 25.0%（73.2%）" for ratios).
    """
    if title is None:
        title = _("全国目标完成情况")
    rows = [(str(g.label), _decimal(g.value), _decimal(g.target), str(g.unit or "")) for g in gauges]
    ident = _chart_id("progress", chart_id, (title, rows))
    if not rows:
        return _empty("progress", ident, title)

    rows_bottom = _PROGRESS_TOP + _PROGRESS_ROW * len(rows)
    target_x = _progress_x(Decimal(1))
    done_label, target_label, line_label = _("已完成"), _("目标"), _("目标线（100%）")
    done_x, target_label_x, line_x = _legend_positions(
        PLOT_LEFT, [(0, done_label), (90, target_label), (170, line_label)]
    )
    body: list[Markup] = [
        _legend_box(done_x, 14, BLUE, done_label),
        _legend_box(target_label_x, 14, LIGHT, target_label),
        _legend_line(line_x, 14, INK, line_label, dashed=True),
    ]
    axis = []
    for fraction in (Decimal(0), _HALF, Decimal(1), Decimal("1.5")):
        x = _progress_x(fraction)
        axis.append(
            _tag("line", x1=x, y1=_PROGRESS_TOP - 4, x2=x, y2=rows_bottom, stroke=GRID, stroke_width=1)
        )
        axis.append(_text(x, _PROGRESS_TOP - 8, _tick(fraction), text_anchor="middle", fill=MUTED))
    body.append(_tag("g", *axis, class_="chart-axis"))

    reached = 0
    for index, (label, value, target, unit) in enumerate(rows):
        y = _PROGRESS_TOP + _PROGRESS_ROW * index + (_PROGRESS_ROW - BAR_HEIGHT) / 2
        shown, completion = _gauge_text(value, target, unit)
        over = completion is not None and completion > PROGRESS_CAP
        reached += completion is not None and completion >= 1
        if over:
            tooltip = _("%(label)s：%(value)s，超出 150%% 的部分未画出", label=label, value=shown)
        else:
            tooltip = _("%(label)s：%(value)s", label=label, value=shown)
        parts = [
            _tag("title", tooltip),
            _text(LABEL_RIGHT, y + BAR_HEIGHT - 1, _short(label), text_anchor="end"),
            _tag(
                "rect",
                x=PLOT_LEFT,
                y=y,
                width=target_x - PLOT_LEFT,
                height=BAR_HEIGHT,
                fill=LIGHT,
                class_="target",
            ),
        ]
        end = PROGRESS_RIGHT
        if completion is not None:
            drawn = max(Decimal(0), min(completion, PROGRESS_CAP))
            end = _progress_x(drawn)
            parts.append(
                _tag(
                    "rect",
                    x=PLOT_LEFT,
                    y=y,
                    width=end - PLOT_LEFT,
                    height=BAR_HEIGHT,
                    fill=BLUE,
                    class_="value",
                )
            )
            if over:
                parts.append(_overflow_mark(end, y, BLUE))
        parts.append(
            _text(
                PROGRESS_RIGHT + 14,
                y + BAR_HEIGHT - 1,
                shown,
                fill=INK if completion is not None else MUTED,
                class_="value",
            )
        )
        body.append(_tag("g", *parts, class_="chart-row over" if over else "chart-row"))

    body.append(
        _tag(
            "line",
            x1=target_x,
            y1=_PROGRESS_TOP - 4,
            x2=target_x,
            y2=rows_bottom + 4,
            stroke=INK,
            stroke_width=1.5,
            stroke_dasharray="4 3",
            class_="target-line",
        )
    )
    desc = _(
        "%(n)s 项全国目标的完成情况：浅色为目标（100%%），深色为已完成，虚线为目标线；"
        "超过 150%% 的部分截断并加标记。%(reached)s 项已达到目标。",
        n=str(len(rows)),
        reached=str(reached),
    )
    return _svg("progress", ident, title, desc, rows_bottom + 12, body)


# ---------------------------------------------------------------------------------------------------------
# Per-unit completion rates with the criticism threshold.

_COMPLETION_AXIS_Y = 46
_COMPLETION_TOP = 52


def completion_scale(rates: Iterable[Decimal | None], threshold: Decimal = _HALF) -> Decimal:
    """The end of the completion chart's axis.

    The largest of 100%, the threshold and the rates (those above :data:`COMPLETION_CAP` count as the cap),
    rounded up to a multiple of 50%.
    """
    largest = max(
        [Decimal(1), threshold]
        + [min(rate, COMPLETION_CAP) for rate in (_decimal(r) for r in rates) if rate is not None]
    )
    return (largest / _HALF).to_integral_value(rounding=ROUND_CEILING) * _HALF


def completion_chart(
    rows: Sequence[tuple[str, Decimal | None]],
    *,
    title: str,
    threshold: Decimal = _HALF,
    chart_id: str | None = None,
) -> Markup:
    """Per-unit completion rates (0..∞, 1 = the task done) as bars in the order given.

    Parameters
    ----------
    rows : sequence of (label, rate)
        ``rate`` a Decimal (or float) ratio; None (or not finite) is shown as "—" without a bar.
    title : str
        The chart's accessible name.
    threshold : Decimal
        The criticism line (default 50%): units with a rate strictly below it are drawn in red and their
        row has the class ``below`` — candidates for 通报批评, for the office to decide.
    chart_id : str, optional
        As in :func:`progress_chart`.

    The axis runs from 0 at :data:`PLOT_LEFT` to :func:`completion_scale` at :data:`COMPLETION_RIGHT`, with
    a dashed line at 100% (``class="full-line"``) and a red dashed line at the threshold
    (``class="threshold-line"``). Bars longer than the axis are clipped with a mark (row class ``over``).
    Each unit is a ``<g class="chart-row">`` with a ``<title>`` holding its full label and rate.
    """
    threshold_d = _decimal(threshold)
    if threshold_d is None or threshold_d < 0:
        raise ValueError(f"threshold must be a finite number >= 0: {threshold!r}")
    entries = [(str(label), _decimal(rate)) for label, rate in rows]
    ident = _chart_id("completion", chart_id, (title, threshold_d, entries))
    if not entries:
        return _empty("completion", ident, title)

    scale = completion_scale([rate for _, rate in entries], threshold_d)
    span = COMPLETION_RIGHT - PLOT_LEFT

    def to_x(rate: Decimal) -> float:
        return PLOT_LEFT + float(max(Decimal(0), min(rate, scale)) / scale) * span

    rows_bottom = _COMPLETION_TOP + ROW_HEIGHT * len(entries)
    threshold_label = _tick(threshold_d)
    task_label = _("任务（100%）")
    threshold_legend = _("%(threshold)s 警戒线", threshold=threshold_label)
    below_label = _("低于警戒线（通报批评候选）")
    task_x, threshold_x, below_x = _legend_positions(
        PLOT_LEFT, [(0, task_label), (130, threshold_legend), (270, below_label)]
    )
    body: list[Markup] = [
        _legend_line(task_x, 14, INK, task_label, dashed=True),
        _legend_line(threshold_x, 14, RED, threshold_legend, dashed=True),
        _legend_box(below_x, 14, RED, below_label),
    ]

    step = Decimal("0.25") if scale <= 1 else _HALF
    axis = [
        _tag(
            "line",
            x1=PLOT_LEFT,
            y1=_COMPLETION_AXIS_Y,
            x2=COMPLETION_RIGHT,
            y2=_COMPLETION_AXIS_Y,
            stroke=MUTED,
            stroke_width=1,
        ),
        _text(LABEL_RIGHT, _COMPLETION_AXIS_Y - 6, _("完成率"), text_anchor="end", fill=MUTED),
    ]
    tick = Decimal(0)
    while tick <= scale:
        x = to_x(tick)
        axis.append(
            _tag(
                "line",
                x1=x,
                y1=_COMPLETION_AXIS_Y - 4,
                x2=x,
                y2=_COMPLETION_AXIS_Y,
                stroke=MUTED,
                stroke_width=1,
            )
        )
        axis.append(
            _tag("line", x1=x, y1=_COMPLETION_AXIS_Y, x2=x, y2=rows_bottom, stroke=GRID, stroke_width=1)
        )
        axis.append(_text(x, _COMPLETION_AXIS_Y - 8, _tick(tick), text_anchor="middle", fill=MUTED))
        tick += step
    body.append(_tag("g", *axis, class_="chart-axis"))

    below_count = 0
    missing = 0
    for index, (label, rate) in enumerate(entries):
        y = _COMPLETION_TOP + ROW_HEIGHT * index
        below = rate is not None and rate < threshold_d
        over = rate is not None and rate > scale
        below_count += below
        missing += rate is None
        shown = MISSING if rate is None else _percent(rate)
        if below:
            tooltip = _(
                "%(label)s：完成率 %(rate)s，低于 %(threshold)s",
                label=label,
                rate=shown,
                threshold=threshold_label,
            )
        else:
            tooltip = _("%(label)s：完成率 %(rate)s", label=label, rate=shown)
        colour = RED if below else BLUE
        parts = [
            _tag("title", tooltip),
            _text(LABEL_RIGHT, y + 15, _short(label), text_anchor="end", fill=RED if below else INK),
        ]
        if rate is None:
            parts.append(_text(PLOT_LEFT + 6, y + 15, MISSING, fill=MUTED, class_="value"))
        else:
            end = to_x(rate)
            parts.append(
                _tag(
                    "rect",
                    x=PLOT_LEFT,
                    y=y + 5,
                    width=end - PLOT_LEFT,
                    height=BAR_HEIGHT,
                    fill=colour,
                    class_="rate",
                )
            )
            if over:
                parts.append(_overflow_mark(end, y + 5, colour))
            parts.append(
                _text(end + (14 if over else 4), y + 15, shown, fill=RED if below else INK, class_="value")
            )
        classes = "chart-row" + (" below" if below else "") + (" over" if over else "")
        body.append(_tag("g", *parts, class_=classes))

    for rate, colour, width, css in (
        (Decimal(1), INK, 1.5, "full-line"),
        (threshold_d, RED, 1.5, "threshold-line"),
    ):
        x = to_x(rate)
        body.append(
            _tag(
                "line",
                x1=x,
                y1=_COMPLETION_AXIS_Y,
                x2=x,
                y2=rows_bottom + 4,
                stroke=colour,
                stroke_width=width,
                stroke_dasharray="4 3",
                class_=css,
            )
        )

    sentences = [
        _(
            "%(n)s 个单位的任务完成率，横轴 0–%(scale)s；虚线为 100%%，红色虚线为 %(threshold)s 警戒线。"
            "%(below)s 个单位低于警戒线（红色），为通报批评候选。",
            n=str(len(entries)),
            scale=_tick(scale),
            threshold=threshold_label,
            below=str(below_count),
        )
    ]
    if missing:
        sentences.append(_("%(n)s 个单位无数据（—）。", n=str(missing)))
    return _svg("completion", ident, title, _sentences(*sentences), rows_bottom + 12, body)
