"""Charts of the results page as SVG drawn on the server (§5).

The site's Content-Security-Policy allows neither inline scripts nor inline styles, so a chart is a
complete ``<svg>`` element styled only with SVG presentation attributes (``fill``, ``stroke``,
``font-size``, ``text-anchor`` …), which are not CSS. No network assets, a print-friendly palette. The
chart's own words (legends, axis labels, tooltips, ``<desc>``, captions, default titles) are translated
with Flask-Babel when the chart is drawn, so they follow the interface language; the Chinese text is the
message id. Every function here is pure for a given language: the same input always gives the same string,
and every piece of text that comes from the caller (unit names, criterion titles) is escaped.

- :func:`rank_interval_chart` — each application's bootstrap rank interval with its rank and the
  funding line;
- :func:`breakdown_chart` — one applicant's score per criterion against the criterion's maximum;
- :func:`leniency_chart` — each expert's leniency left (severe) or right (lenient) of zero.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

__all__ = [
    "BLUE",
    "GREY",
    "LABEL_CHARS",
    "PLOT_LEFT",
    "PLOT_RIGHT",
    "RED",
    "ROW_HEIGHT",
    "WIDTH",
    "breakdown_chart",
    "leniency_chart",
    "rank_interval_chart",
]

#: Palette: restrained, legible in black-and-white print.
BLUE = "#1f5fa8"
RED = "#a4161a"
GREY = "#9aa5b4"
LIGHT = "#dde3ea"
GRID = "#e6eaef"
INK = "#1f2933"
MUTED = "#52606d"

FONT_FAMILY = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
FONT_SIZE = 12

#: Width of every chart's viewBox; the element itself is ``width="100%"``.
WIDTH = 720
#: Labels are right-aligned at this x, left of the plot.
LABEL_RIGHT = 178
#: Labels longer than this many characters are shortened with "…" (the full text is in a <title>).
LABEL_CHARS = 14
#: The plot area of the rank-interval and breakdown charts, in viewBox units.
PLOT_LEFT = 190
PLOT_RIGHT = 700
#: Height of one row (one application, criterion or expert).
ROW_HEIGHT = 22

#: Shown (and used as the ``<desc>``) when a chart has no rows; translated when the chart is drawn.
EMPTY_TEXT = _l("暂无数据")
MISSING = "—"
MINUS = "−"

_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_CENT = Decimal("0.01")
#: Characters XML 1.0 does not allow at all (escaping cannot help): removed from caller text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------------------------------------------------
# Small builders. Everything is assembled as Markup; any plain ``str`` passed as content or as an attribute
# value is escaped, so caller text cannot break out of the document.


def _coord(value: float) -> str:
    """A coordinate with at most 2 decimals and no trailing zeros ("12", "12.5", "12.25")."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attrs(attrs: Mapping[str, Any]) -> Markup:
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, bool):  # pragma: no cover - no boolean attributes are used
            raise TypeError(name)
        text = _coord(float(value)) if isinstance(value, int | float) else value
        parts.append(Markup(' {}="{}"').format(Markup(name), text))
    return Markup("").join(parts)


def _tag(name: str, *content: Any, **attrs: Any) -> Markup:
    """``<name attrs>content</name>``; ``font_size=`` becomes ``font-size=``, ``class_=`` becomes ``class=``."""
    attributes = _attrs({key.rstrip("_").replace("_", "-"): value for key, value in attrs.items()})
    if not content:
        return Markup("<{}{}/>").format(Markup(name), attributes)
    body = Markup("").join(
        part if isinstance(part, Markup) else escape(_NOT_XML.sub("", str(part))) for part in content
    )
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(name), attributes, body)


def _text(x: float, y: float, text: str, **attrs: Any) -> Markup:
    attrs.setdefault("fill", INK)
    return _tag("text", text, x=x, y=y, **attrs)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _field(row: Any, index: int, name: str) -> Any:
    if isinstance(row, Mapping):
        return row[name]
    if hasattr(row, name):
        return getattr(row, name)
    return row[index]


def _fields(row: Any, names: Sequence[str]) -> tuple[Any, ...]:
    """A row's fields by attribute or key name, else by position (objects, mappings, tuples)."""
    return tuple(_field(row, index, name) for index, name in enumerate(names))


def _decimal(value: Any) -> Decimal | None:
    """A finite Decimal of `value` (floats via their shortest repr), or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    except (TypeError, ValueError, InvalidOperation, OverflowError):
        return None
    return number if number.is_finite() else None


def _fmt2(value: Decimal) -> str:
    """Two decimals, rounding half up (四舍五入)."""
    return str(_round2(value))


def _round2(value: Decimal) -> Decimal:
    context = Context(prec=max(28, value.adjusted() + 4), rounding=ROUND_HALF_UP)
    return value.quantize(_CENT, context=context)


def _fmt_max(value: Decimal) -> str:
    """A maximum as written on a rubric: "15" when whole, else two decimals."""
    whole = value.to_integral_value()
    return f"{whole:f}" if value == whole else _fmt2(value)


def _signed(value: Decimal) -> str:
    text = _fmt2(abs(value))
    rounded = _round2(value)
    if rounded > 0:
        return "+" + text
    if rounded < 0:
        return MINUS + text
    return text


def _chart_id(kind: str, chart_id: str | None, payload: Any) -> str:
    if chart_id is not None:
        if not _ID_RE.match(chart_id):
            raise ValueError(
                f"chart_id must start with a letter and hold only letters, digits, - and _: {chart_id!r}"
            )
        return chart_id
    digest = hashlib.sha256(repr((kind, payload)).encode("utf-8")).hexdigest()[:10]
    return f"chart-{kind}-{digest}"


def _svg(kind: str, ident: str, title: str, desc: str, height: float, body: Iterable[Markup]) -> Markup:
    head = Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img"'
        ' aria-labelledby="{ident}-title {ident}-desc" class="chart chart-{kind}"'
        ' font-family="{font}" font-size="{size}">'
    ).format(width=WIDTH, height=_coord(height), ident=ident, kind=kind, font=FONT_FAMILY, size=FONT_SIZE)
    parts = [
        head,
        _tag("title", title, id=f"{ident}-title"),
        _tag("desc", desc, id=f"{ident}-desc"),
        *body,
        Markup("</svg>"),
    ]
    return Markup("").join(parts)


def _empty(kind: str, ident: str, title: str) -> Markup:
    text = str(EMPTY_TEXT)
    body = [_text(WIDTH / 2, 30, text, text_anchor="middle", fill=MUTED, class_="chart-empty")]
    return _svg(kind, ident, title, text, 48, body)


def _sentences(*parts: str) -> str:
    """Sentences of a ``<desc>`` as one text: Chinese ones (ending in "。") are joined as they are, a
    sentence ending in a narrow character (an English ".") is followed by a space."""
    text = ""
    for part in parts:
        if text and not text[-1].isspace() and _text_width(text[-1]) < FONT_SIZE:
            text += " "
        text += part
    return text


def _text_width(text: str) -> float:
    """A generous estimate of the drawn width of `text` at :data:`FONT_SIZE`: a full em for wide (CJK)
    characters, 0.6 em for the others."""
    return sum(
        FONT_SIZE if unicodedata.east_asian_width(char) in ("W", "F") else 0.6 * FONT_SIZE for char in text
    )


def _legend_positions(start: float, items: Sequence[tuple[float, str]], gap: float = 14) -> list[float]:
    """x of each legend entry: at least its usual offset from `start`, and never over the previous entry
    (a marker 30 wide, then its label), so longer translations push the next entry to the right."""
    positions: list[float] = []
    for index, (offset, _label) in enumerate(items):
        x = start + offset
        if index:
            x = max(x, positions[-1] + 30 + _text_width(items[index - 1][1]) + gap)
        positions.append(x)
    return positions


def _legend_line(
    x: float, y: float, colour: str, label: str, *, dashed: bool = False, dot: bool = False
) -> Markup:
    parts = [
        _tag(
            "line",
            x1=x,
            y1=y,
            x2=x + 24,
            y2=y,
            stroke=colour,
            stroke_width=2,
            stroke_dasharray="4 3" if dashed else None,
        )
    ]
    if dot:
        parts.append(_tag("circle", cx=x + 12, cy=y, r=4, fill=colour))
    parts.append(_text(x + 30, y + 4, label))
    return Markup("").join(parts)


def _nice_step(span: float, most: int = 10) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … giving at most `most` steps over `span`."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if span / step <= most:
                return step
        magnitude *= 10


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is >= `value` (> 0)."""
    exponent = math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * 10.0**exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)  # pragma: no cover - the loop always returns


# ---------------------------------------------------------------------------------------------------------
# Rank intervals with the funding line.

_AXIS_Y = 46
_RANK_ROWS_TOP = 54


def _rank_x(rank: float, span: int) -> float:
    """x of a rank on an axis from 0.5 (left edge) to span + 0.5 (right edge)."""
    return PLOT_LEFT + (rank - 0.5) / span * (PLOT_RIGHT - PLOT_LEFT)


def rank_interval_chart(
    rows: Iterable[Any],
    cutoff_rank: int | None,
    *,
    title: str | None = None,
    chart_id: str | None = None,
) -> Markup:
    """Each application's bootstrap rank interval (a line from `low` to `high`, a dot at `rank`).

    Parameters
    ----------
    rows : iterable of (label, rank, low, high)
        Tuples, mappings or objects with those attributes, in rank order. ``rank`` None = unranked:
        listed at the bottom as "未排名". ``low``/``high`` None = no interval (only the dot).
    cutoff_rank : int or None
        The last funded rank; a dashed red line labelled "资助线" is drawn between it and the next
        rank (at ``cutoff_rank + 0.5``). Applications whose interval lies on both sides of the line
        (``low <= cutoff_rank < high``) are drawn in red, as the legend says ("跨越资助线").
    title : str, optional
        The chart's accessible name (its ``<title>``); by default "排名区间（自助法 5%–95%）" in the
        interface language.
    chart_id : str, optional
        Prefix of the ids of ``<title>`` and ``<desc>``; by default derived from the input, so pass one
        when the same chart appears twice on a page.

    Each row is a ``<g class="chart-row">`` (ranked) or ``<g class="chart-row unranked">`` holding a
    ``<title>`` with the full label; labels longer than 14 characters are shortened with "…". The rank
    axis runs from 0.5 at :data:`PLOT_LEFT` to ``n + 0.5`` at :data:`PLOT_RIGHT`, where ``n`` is the
    largest of the ranks, interval bounds and ``cutoff_rank``.
    """
    if title is None:
        title = _("排名区间（自助法 5%–95%）")
    ranked: list[tuple[str, int, int | None, int | None]] = []
    unranked: list[str] = []
    for label, rank, low, high in (_fields(row, ("label", "rank", "low", "high")) for row in rows):
        label = str(label)
        if rank is None:
            unranked.append(label)
            continue
        if low is not None and high is not None and low > high:
            low, high = high, low
        ranked.append(
            (label, int(rank), None if low is None else int(low), None if high is None else int(high))
        )
    ident = _chart_id("ranks", chart_id, (title, cutoff_rank, ranked, unranked))
    if not ranked and not unranked:
        return _empty("ranks", ident, title)

    span = max([1, cutoff_rank or 0] + [value for row in ranked for value in row[1:] if value is not None])
    rows_bottom = _RANK_ROWS_TOP + ROW_HEIGHT * len(ranked)
    body: list[Markup] = []

    # Legend.
    interval_label, straddle_label, cutoff_label = _("排名区间与名次（圆点）"), _("跨越资助线"), _("资助线")
    interval_x, straddle_x, cutoff_x = _legend_positions(
        PLOT_LEFT, [(0, interval_label), (190, straddle_label), (320, cutoff_label)]
    )
    body.append(_legend_line(interval_x, 14, BLUE, interval_label, dot=True))
    if cutoff_rank is not None:
        body.append(_legend_line(straddle_x, 14, RED, straddle_label, dot=True))
        body.append(_legend_line(cutoff_x, 14, RED, cutoff_label, dashed=True))

    straddling = 0
    if ranked:
        # Rank axis on top, with light grid lines through the rows.
        step = _nice_step(span)
        ticks = sorted({1, *range(step, span + 1, step)})
        axis = [
            _tag("line", x1=PLOT_LEFT, y1=_AXIS_Y, x2=PLOT_RIGHT, y2=_AXIS_Y, stroke=MUTED, stroke_width=1)
        ]
        axis.append(_text(LABEL_RIGHT, _AXIS_Y - 6, _("名次"), text_anchor="end", fill=MUTED))
        for tick in ticks:
            x = _rank_x(tick, span)
            axis.append(_tag("line", x1=x, y1=_AXIS_Y - 4, x2=x, y2=_AXIS_Y, stroke=MUTED, stroke_width=1))
            axis.append(_tag("line", x1=x, y1=_AXIS_Y, x2=x, y2=rows_bottom, stroke=GRID, stroke_width=1))
            axis.append(_text(x, _AXIS_Y - 8, str(tick), text_anchor="middle", fill=MUTED))
        body.append(_tag("g", *axis, class_="chart-axis"))

        for index, (label, rank, low, high) in enumerate(ranked):
            y = _RANK_ROWS_TOP + ROW_HEIGHT * index + ROW_HEIGHT / 2
            crosses = (
                cutoff_rank is not None and low is not None and high is not None and low <= cutoff_rank < high
            )
            straddling += crosses
            colour = RED if crosses else BLUE
            if crosses:
                tooltip = _(
                    "%(label)s：第 %(rank)s 名，区间第 %(low)s–%(high)s 名，跨越资助线",
                    label=label,
                    rank=str(rank),
                    low=str(low),
                    high=str(high),
                )
            elif low is not None and high is not None:
                tooltip = _(
                    "%(label)s：第 %(rank)s 名，区间第 %(low)s–%(high)s 名",
                    label=label,
                    rank=str(rank),
                    low=str(low),
                    high=str(high),
                )
            else:
                tooltip = _("%(label)s：第 %(rank)s 名", label=label, rank=str(rank))
            parts = [_tag("title", tooltip), _text(LABEL_RIGHT, y + 4, _short(label), text_anchor="end")]
            if low is not None and high is not None:
                parts.append(
                    _tag(
                        "line",
                        x1=_rank_x(low, span),
                        y1=y,
                        x2=_rank_x(high, span),
                        y2=y,
                        stroke=colour,
                        stroke_width=2,
                        stroke_linecap="round",
                        class_="interval",
                    )
                )
            parts.append(_tag("circle", cx=_rank_x(rank, span), cy=y, r=4, fill=colour, class_="rank"))
            body.append(_tag("g", *parts, class_="chart-row straddles" if crosses else "chart-row"))

        if cutoff_rank is not None:
            x = _rank_x(cutoff_rank + 0.5, span)
            body.append(
                _tag(
                    "g",
                    _tag("title", _("资助线：第 %(rank)s 名之后", rank=str(cutoff_rank))),
                    _tag(
                        "line",
                        x1=x,
                        y1=_AXIS_Y,
                        x2=x,
                        y2=rows_bottom + 4,
                        stroke=RED,
                        stroke_width=1.5,
                        stroke_dasharray="4 3",
                    ),
                    _text(x, rows_bottom + 18, cutoff_label, text_anchor="middle", fill=RED),
                    class_="cutoff",
                )
            )
        bottom = rows_bottom + 26
    else:
        bottom = 30

    if unranked:
        unranked_label = _("未排名")
        body.append(
            _text(LABEL_RIGHT, bottom + 12, unranked_label, text_anchor="end", fill=MUTED, font_weight="bold")
        )
        bottom += ROW_HEIGHT
        for index, label in enumerate(unranked):
            y = bottom + ROW_HEIGHT * index + ROW_HEIGHT / 2
            body.append(
                _tag(
                    "g",
                    _tag("title", _("%(label)s：未排名", label=label)),
                    _text(LABEL_RIGHT, y + 4, _short(label), text_anchor="end"),
                    _text(PLOT_LEFT, y + 4, unranked_label, fill=MUTED),
                    class_="chart-row unranked",
                )
            )
        bottom += ROW_HEIGHT * len(unranked)

    sentences = [
        _(
            "%(n)s 个已排名的申报。横轴为名次（1 为最好），线段为自助法 5%%–95%% 排名区间，圆点为实际名次。",
            n=str(len(ranked)),
        )
    ]
    if cutoff_rank is not None:
        sentences.append(
            _(
                "资助线在第 %(rank)s 名之后；%(n)s 个申报的排名区间跨越资助线（红色）。",
                rank=str(cutoff_rank),
                n=str(straddling),
            )
        )
    if unranked:
        sentences.append(_("%(n)s 个申报未排名。", n=str(len(unranked))))
    return _svg("ranks", ident, title, _sentences(*sentences), bottom + 8, body)


# ---------------------------------------------------------------------------------------------------------
# One applicant's breakdown against the maxima.

_BAR_RIGHT = 600
_BAR_HEIGHT = 12
_BREAKDOWN_TOP = 8


def breakdown_chart(items: Iterable[Any], *, title: str, chart_id: str | None = None) -> Markup:
    """Score per criterion (dark bar) against the criterion's maximum (light bar), with "13.50 / 15".

    Parameters
    ----------
    items : iterable of (title, score, maximum)
        Tuples, mappings or objects with those attributes; ``score`` Decimal, float or None (shown as
        "—", no bar); ``maximum`` Decimal or float.
    title : str
        The chart's accessible name.
    chart_id : str, optional
        As in :func:`rank_interval_chart`.

    All bars share one scale: the largest maximum spans the plot. Each criterion is a
    ``<g class="chart-row">`` with a ``<title>`` holding its full title and value; the score bar is
    ``<rect class="score">``, the maximum ``<rect class="maximum">``. Scores are drawn clipped to
    ``[0, maximum]``; the text shows the true value.
    """
    rows = [
        (str(label), _decimal(score), _decimal(maximum))
        for label, score, maximum in (_fields(item, ("title", "score", "maximum")) for item in items)
    ]
    ident = _chart_id("breakdown", chart_id, (title, rows))
    if not rows:
        return _empty("breakdown", ident, title)
    scale = max([Decimal(0)] + [maximum for _, _, maximum in rows if maximum is not None])
    width = _BAR_RIGHT - PLOT_LEFT

    def bar_width(value: Decimal) -> float:
        return 0.0 if scale <= 0 else max(0.0, min(float(value / scale), 1.0)) * width

    body: list[Markup] = []
    for index, (label, score, maximum) in enumerate(rows):
        y = _BREAKDOWN_TOP + ROW_HEIGHT * index
        value = f"{MISSING if score is None else _fmt2(score)} / {MISSING if maximum is None else _fmt_max(maximum)}"
        parts = [
            _tag("title", _("%(label)s：%(value)s", label=label, value=value)),
            _text(LABEL_RIGHT, y + 15, _short(label), text_anchor="end"),
        ]
        if maximum is not None:
            parts.append(
                _tag(
                    "rect",
                    x=PLOT_LEFT,
                    y=y + 5,
                    width=bar_width(maximum),
                    height=_BAR_HEIGHT,
                    fill=LIGHT,
                    class_="maximum",
                )
            )
        if score is not None:
            capped = score if maximum is None else min(score, maximum)
            parts.append(
                _tag(
                    "rect",
                    x=PLOT_LEFT,
                    y=y + 5,
                    width=bar_width(capped),
                    height=_BAR_HEIGHT,
                    fill=BLUE,
                    class_="score",
                )
            )
        parts.append(
            _text(_BAR_RIGHT + 10, y + 15, value, fill=INK if score is not None else MUTED, class_="value")
        )
        body.append(_tag("g", *parts, class_="chart-row"))

    known = [(score, maximum) for _, score, maximum in rows if score is not None and maximum is not None]
    first = _("%(n)s 个评分项的得分（深色）与满分（浅色）对照。", n=str(len(rows)))
    if len(known) == len(rows):
        total = sum((score for score, _maximum in known), Decimal(0))
        ceiling = sum((maximum for _score, maximum in known), Decimal(0))
        second = _("合计 %(total)s / %(maximum)s。", total=_fmt2(total), maximum=_fmt_max(ceiling))
    else:
        second = _("%(n)s 个评分项无得分（—）。", n=str(len(rows) - len(known)))
    desc = _sentences(first, second)
    return _svg("breakdown", ident, title, desc, _BREAKDOWN_TOP + ROW_HEIGHT * len(rows) + 8, body)


# ---------------------------------------------------------------------------------------------------------
# Expert leniency left and right of zero.

#: The leniency plot: zero in the middle, the scale's end at either side.
LENIENCY_LEFT = 250
LENIENCY_RIGHT = 650
LENIENCY_ZERO = (LENIENCY_LEFT + LENIENCY_RIGHT) / 2
_LENIENCY_TOP = 30

#: The caption under the leniency chart, one item per line; translated when the chart is drawn.
LENIENCY_CAPTION = (
    _l("横轴为宽严度：专家给出的总分与其他专家对同一申报的平均总分之差（分）。"),
    _l("负值（左）表示偏严，正值（右）表示偏宽；红色为被标记的专家。"),
)


def leniency_chart(rows: Iterable[Any], *, title: str | None = None, chart_id: str | None = None) -> Markup:
    """Each expert's leniency as a bar from zero: left = 偏严 (severe), right = 偏宽 (lenient).

    Parameters
    ----------
    rows : iterable of (label, leniency, flagged)
        Tuples, mappings or objects with those attributes; ``leniency`` float or None (shown as "—", no
        bar); ``flagged`` bars are red, others blue.
    title : str, optional
        The chart's accessible name; by default "专家宽严度" in the interface language.
    chart_id : str, optional
        As in :func:`rank_interval_chart`.

    The scale is symmetric: ±(the largest absolute leniency rounded up to 1, 2, 2.5 or 5 × 10^k) at
    :data:`LENIENCY_LEFT` / :data:`LENIENCY_RIGHT`, zero at :data:`LENIENCY_ZERO`. Each expert is a
    ``<g class="chart-row">`` (``"chart-row flagged"`` when flagged) with a ``<title>``; the bar is
    ``<rect class="leniency">``. A caption below states what the axis means.
    """
    if title is None:
        title = _("专家宽严度")
    entries = [
        (str(label), _decimal(leniency), bool(flagged))
        for label, leniency, flagged in (_fields(row, ("label", "leniency", "flagged")) for row in rows)
    ]
    ident = _chart_id("leniency", chart_id, (title, entries))
    if not entries:
        return _empty("leniency", ident, title)
    largest = max([0.0] + [abs(float(value)) for _, value, _ in entries if value is not None])
    bound = _nice_ceiling(largest) if largest > 0 else 1.0
    half = LENIENCY_RIGHT - LENIENCY_ZERO

    def to_x(value: float) -> float:
        return LENIENCY_ZERO + max(-1.0, min(value / bound, 1.0)) * half

    rows_bottom = _LENIENCY_TOP + ROW_HEIGHT * len(entries)
    body: list[Markup] = [
        _text(LENIENCY_LEFT, 16, _("← 偏严"), fill=MUTED),
        _text(LENIENCY_RIGHT, 16, _("偏宽 →"), text_anchor="end", fill=MUTED),
        _legend_line(LENIENCY_ZERO - 40, 12, RED, _("已标记")),
    ]
    # Axis below the rows, grid lines through them.
    axis = [
        _tag(
            "line",
            x1=LENIENCY_LEFT,
            y1=rows_bottom,
            x2=LENIENCY_RIGHT,
            y2=rows_bottom,
            stroke=MUTED,
            stroke_width=1,
        )
    ]
    for fraction in (-1.0, -0.5, 0.0, 0.5, 1.0):
        x = LENIENCY_ZERO + fraction * half
        tick = _decimal(fraction * bound) or Decimal(0)
        axis.append(
            _tag(
                "line",
                x1=x,
                y1=_LENIENCY_TOP,
                x2=x,
                y2=rows_bottom,
                stroke=MUTED if fraction == 0 else GRID,
                stroke_width=1,
            )
        )
        axis.append(
            _tag("line", x1=x, y1=rows_bottom, x2=x, y2=rows_bottom + 4, stroke=MUTED, stroke_width=1)
        )
        axis.append(_text(x, rows_bottom + 16, _signed(tick), text_anchor="middle", fill=MUTED))
    body.append(_tag("g", *axis, class_="chart-axis"))

    flagged_count = 0
    for index, (label, value, flagged) in enumerate(entries):
        y = _LENIENCY_TOP + ROW_HEIGHT * index
        colour = RED if flagged else BLUE
        flagged_count += flagged
        shown = MISSING if value is None else _signed(value)
        if flagged:
            tooltip = _("%(label)s：宽严度 %(value)s（已标记）", label=label, value=shown)
        else:
            tooltip = _("%(label)s：宽严度 %(value)s", label=label, value=shown)
        parts = [
            _tag("title", tooltip),
            _text(LABEL_RIGHT, y + 15, _short(label), text_anchor="end", fill=RED if flagged else INK),
        ]
        if value is None:
            parts.append(_text(LENIENCY_ZERO + 6, y + 15, MISSING, fill=MUTED, class_="value"))
        else:
            end = to_x(float(value))
            left, right = min(end, LENIENCY_ZERO), max(end, LENIENCY_ZERO)
            parts.append(
                _tag(
                    "rect",
                    x=left,
                    y=y + 5,
                    width=right - left,
                    height=_BAR_HEIGHT,
                    fill=colour,
                    class_="leniency",
                )
            )
            if value < 0:
                parts.append(_text(left - 4, y + 15, shown, text_anchor="end", class_="value"))
            else:
                parts.append(_text(right + 4, y + 15, shown, class_="value"))
        body.append(_tag("g", *parts, class_="chart-row flagged" if flagged else "chart-row"))

    caption_y = rows_bottom + 40
    caption = [str(line) for line in LENIENCY_CAPTION]
    body.append(
        _tag(
            "g",
            *(
                _text(PLOT_LEFT - 180, caption_y + 18 * line, text, fill=MUTED)
                for line, text in enumerate(caption)
            ),
            class_="chart-caption",
        )
    )
    desc = _sentences(
        _("%(n)s 位专家的宽严度，%(flagged)s 位被标记。", n=str(len(entries)), flagged=str(flagged_count)),
        *caption,
    )
    return _svg("leniency", ident, title, desc, caption_y + 18 * len(caption), body)
