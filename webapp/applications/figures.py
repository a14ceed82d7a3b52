"""The figures form, built at run time from the rubric's indicators, its cross-checks, and the
ratio preview computed by the scoring engine (never a copy of its formulas)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from scoring.indicators import formula_scores
from scoring.rubric import Rubric

# Cross-checks officials expect: (smaller, larger, is_error). Applied when the rubric has both indicators.
CROSS_CHECKS: tuple[tuple[str, str, bool], ...] = (
    ("parks_with_kexie", "parks_total", True),
    ("national_parks_with_kexie", "national_parks_total", True),
    ("enterprise_kexie_new", "enterprise_kexie_total", True),
    ("national_parks_total", "parks_total", False),
    ("enterprise_kexie_total", "regulated_enterprises", False),
)


@dataclass(frozen=True)
class FigureProblems:
    errors: dict[str, list[str]]  # indicator key → messages (the form refuses to save)
    warnings: list[str]  # shown, but saving is allowed


def _normalise_number(text: str) -> str:
    """Accept full-width digits, thousands separators and stray spaces as officials type them."""
    table = str.maketrans("０１２３４５６７８９．，　", "0123456789., ")
    return text.translate(table).replace(",", "").replace(" ", "").strip()


def parse_figures(
    rubric: Rubric, raw: dict[str, str | None]
) -> tuple[dict[str, Decimal | None], FigureProblems]:
    """Turn the typed texts into numbers and check them; every message names the field and the fix."""
    values: dict[str, Decimal | None] = {}
    errors: dict[str, list[str]] = {}
    for indicator in rubric.indicators:
        text = _normalise_number(raw.get(indicator.key) or "")
        if text == "":
            values[indicator.key] = None
            continue
        try:
            number = Decimal(text)
        except InvalidOperation:
            errors.setdefault(indicator.key, []).append(
                _("“%(title)s”应填写数字，“%(text)s”不是数字。", title=indicator.title, text=raw.get(indicator.key))
            )
            continue
        if not number.is_finite():
            errors.setdefault(indicator.key, []).append(_("“%(title)s”应填写数字。", title=indicator.title))
            continue
        if number < 0:
            errors.setdefault(indicator.key, []).append(
                _("“%(title)s”不能为负数，请填写 0 或正数。", title=indicator.title)
            )
            continue
        if indicator.kind == "count" and number != number.to_integral_value():
            errors.setdefault(indicator.key, []).append(
                _(
                    "“%(title)s”是个数，应填写整数（如 %(example)s），不能有小数。",
                    title=indicator.title,
                    example=number.to_integral_value(),
                )
            )
            continue
        if indicator.kind == "amount" and number.as_tuple().exponent < -2:
            errors.setdefault(indicator.key, []).append(
                _("“%(title)s”是金额，最多保留两位小数（元、角、分）。", title=indicator.title)
            )
            continue
        if number >= Decimal("1e15"):
            errors.setdefault(indicator.key, []).append(_("“%(title)s”数值过大，请核对。", title=indicator.title))
            continue
        values[indicator.key] = number.quantize(Decimal(1)) if indicator.kind == "count" else number
    warnings = []
    keys = {i.key for i in rubric.indicators}
    for smaller, larger, is_error in CROSS_CHECKS:
        if smaller not in keys or larger not in keys:
            continue
        a, b = values.get(smaller), values.get(larger)
        if a is None or b is None or a <= b:
            continue
        s_title, l_title = rubric.indicator(smaller).title, rubric.indicator(larger).title
        if is_error:
            errors.setdefault(smaller, []).append(
                _(
                    "“%(smaller)s”（%(a)s）不能大于“%(larger)s”（%(b)s），请核对后修改其中一项。",
                    smaller=s_title,
                    a=a,
                    larger=l_title,
                    b=b,
                )
            )
        else:
            warnings.append(
                _(
                    "提示：“%(smaller)s”（%(a)s）大于“%(larger)s”（%(b)s），请确认数据无误。",
                    smaller=s_title,
                    a=a,
                    larger=l_title,
                    b=b,
                )
            )
    return values, FigureProblems(errors, warnings)


def figures_form_class(rubric: Rubric, locked: set[str] = frozenset()) -> type[FlaskForm]:
    """A form with one text field per indicator (numbers are parsed by ``parse_figures``, so full-width
    digits and thousands separators are accepted and every message can name the field in Chinese)."""

    class FiguresForm(FlaskForm):
        pass

    for indicator in rubric.indicators:
        kw = {"inputmode": "numeric" if indicator.kind == "count" else "decimal", "autocomplete": "off"}
        if indicator.key in locked:
            kw["readonly"] = True
        field = StringField(
            f"{indicator.title}（{indicator.unit}）" if indicator.unit else indicator.title,
            validators=[Optional(), Length(max=30)],
            description=getattr(indicator, "help", None) or "",
            render_kw=kw,
        )
        setattr(FiguresForm, indicator.key, field)
    return FiguresForm


@dataclass(frozen=True)
class RatioLine:
    criterion: str
    criterion_title: str
    numerator_title: str
    denominator_title: str | None
    ratio: float | None  # None: not applicable (denominator 0)
    missing: tuple[str, ...]


def ratio_preview(rubric: Rubric, values: dict[str, Decimal | None]) -> list[RatioLine]:
    """The ratios behind each formula criterion (coverage, task completion), from the scoring engine."""
    scores = formula_scores(
        rubric, {k: v for k, v in values.items() if k in {i.key for i in rubric.indicators}}
    )
    lines = []
    for criterion in rubric.formula_criteria:
        score = scores[criterion.key]
        missing = tuple(
            rubric.indicator(f.split(":", 1)[1]).title
            for f in score.flags
            if f.startswith("missing_indicator:")
        )
        for term in score.terms:
            lines.append(
                RatioLine(
                    criterion=criterion.key,
                    criterion_title=criterion.title,
                    numerator_title=rubric.indicator(term.numerator).title,
                    denominator_title=rubric.indicator(term.denominator).title if term.denominator else None,
                    ratio=term.ratio,
                    missing=missing,
                )
            )
    return lines
