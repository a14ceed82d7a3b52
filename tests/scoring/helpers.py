"""Building small rubrics and campaigns for the scoring tests."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from scoring.rubric import Rubric, parse_rubric


def toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rubric_text(
    *,
    method: str = "mean",
    min_experts: int = 1,
    trim_min_experts: int | None = None,
    decimals: int = 2,
    tie_break: tuple[str, ...] = (),
    expert: tuple[tuple[str, object, object], ...] = (("work", 60, "0.5"),),
    formula: tuple[tuple[str, object, list[dict]], ...] = (),
    indicators: tuple[tuple[str, str], ...] = (),
    allocation: dict | None = None,
    rubric_id: str = "test",
) -> str:
    """TOML text of a rubric; ``expert`` = (key, max, step); ``formula`` = (key, max, terms)."""
    lines = [
        f'id = "{rubric_id}"',
        'title = "测试细则"',
        'program = "post_subsidy"',
        'source = "科协计函企字〔2014〕25号"',
        "",
        "[aggregation]",
        f'method = "{method}"',
        f"min_experts = {min_experts}",
        f"decimals = {decimals}",
        f"tie_break = {toml_value(list(tie_break))}",
    ]
    if trim_min_experts is not None:
        lines.append(f"trim_min_experts = {trim_min_experts}")
    for key, kind in indicators:
        lines += [
            "",
            "[[indicators]]",
            f'key = "{key}"',
            f'title = "{key}"',
            'unit = "个"',
            f'kind = "{kind}"',
        ]
    for key, cmax, step in expert:
        lines += [
            "",
            "[[criteria]]",
            f'key = "{key}"',
            f'title = "{key}"',
            'kind = "expert"',
            f"max = {cmax}",
            f"step = {step}",
            'guidance = "评分说明"',
            'source = "三（三）1"',
        ]
    for key, cmax, terms in formula:
        lines += [
            "",
            "[[criteria]]",
            f'key = "{key}"',
            f'title = "{key}"',
            'kind = "formula"',
            f"max = {cmax}",
            'source = "三（二）4"',
        ]
        for term in terms:
            lines.append("  [[criteria.terms]]")
            for name, value in term.items():
                lines.append(f"  {name} = {toml_value(value)}")
    allocation = allocation or {"policy": "fixed", "amount": 100000}
    lines += ["", "[allocation]"] + [f"{k} = {toml_value(v)}" for k, v in allocation.items()]
    return "\n".join(lines) + "\n"


def make_rubric(**kwargs) -> Rubric:
    return parse_rubric(rubric_text(**kwargs), "test.toml")


def curve_text(points) -> list:
    return [[str(x), str(y)] for x, y in points]


# ------------------------------------------------------------------------------------ hypothesis


@st.composite
def rubrics(draw, methods: tuple[str, ...] = ("mean", "median", "trimmed_mean")) -> Rubric:
    """Random small valid rubrics covering every method, step and policy."""
    method = draw(st.sampled_from(methods))
    min_experts = draw(st.integers(1, 3))
    trim = draw(st.integers(3, 5)) if method == "trimmed_mean" else None
    decimals = draw(st.integers(0, 3))
    n_expert = draw(st.integers(1, 3))
    expert = []
    for i in range(n_expert):
        step = draw(st.sampled_from(["0.5", "1", "0.25", "2"]))
        n_steps = draw(st.integers(1, 12))
        expert.append((f"e{i}", str(Decimal(step) * n_steps), step))
    indicators = (("a", "count"), ("b", "count"), ("c", "amount"))
    formula = []
    for i in range(draw(st.integers(0, 2))):
        terms = []
        n_terms = draw(st.integers(1, 2))
        weights = ["1"] if n_terms == 1 else ["0.25", "0.75"]
        for j in range(n_terms):
            num = draw(st.sampled_from(["a", "b", "c"]))
            den = draw(st.sampled_from(["a", "b", "c", None]))
            x1 = draw(st.sampled_from(["0.1", "0.5", "1", "3"]))
            y1 = draw(st.sampled_from(["0.3", "0.6", "1"]))
            curve = [[Decimal(0), Decimal(0)], [Decimal(x1), Decimal(y1)], [Decimal(10), Decimal(1)]]
            term = {"weight": Decimal(weights[j]), "numerator": num, "curve": curve}
            if den is not None:
                term["denominator"] = den
            terms.append(term)
        formula.append((f"f{i}", draw(st.sampled_from(["10", "7", "2.5"])), terms))
    keys = [k for k, _, _ in expert] + [k for k, _, _ in formula]
    tie_break = tuple(draw(st.lists(st.sampled_from(keys), unique=True, max_size=2)))
    if draw(st.booleans()):
        allocation = {"policy": "fixed", "amount": draw(st.sampled_from([100000, 200000]))}
    else:
        allocation = {"policy": "linear", "amount_min": 100000, "amount_max": 150000, "step": 10000}
    if draw(st.booleans()):
        allocation["count"] = draw(st.integers(1, 6))
    if draw(st.booleans()):
        allocation["budget"] = draw(st.integers(1, 8)) * 100000
    if draw(st.booleans()):
        allocation["min_score"] = draw(st.sampled_from([Decimal(0), Decimal("0.25")]))
    return make_rubric(
        method=method,
        min_experts=min_experts,
        trim_min_experts=trim,
        decimals=decimals,
        tie_break=tie_break,
        expert=tuple(expert),
        formula=tuple((k, m, t) for k, m, t in formula),
        indicators=indicators,
        allocation=allocation,
    )


@st.composite
def campaigns(draw, rubric: Rubric):
    """Random scores, figures and applications for ``rubric``."""
    n_apps = draw(st.integers(1, 7))
    n_experts = draw(st.integers(1, 7))
    apps = [f"A{i:02d}" for i in range(n_apps)]
    experts = [f"x{i}" for i in draw(st.permutations(range(n_experts)))]
    scores = []
    for app in apps:
        reviewers = draw(st.lists(st.sampled_from(experts), unique=True, max_size=n_experts))
        for expert in reviewers:
            for c in rubric.expert_criteria:
                n_steps = int(c.max / c.step)
                k = draw(st.integers(0, n_steps))
                scores.append((app, expert, c.key, str(c.step * k)))
    indicators = []
    for app in apps:
        for ind in rubric.indicators:
            value = draw(st.one_of(st.none(), st.integers(0, 6)))
            if value is not None and ind.kind == "amount" and draw(st.booleans()):
                value = Decimal(value) + Decimal("0.5")
            if value is None and draw(st.booleans()):
                continue  # absent row: missing as well
            indicators.append((app, ind.key, None if value is None else str(value)))
    times = ["2014-10-30T09:00:00+08:00", "2014-10-31T10:00:00", "2014-10-31T02:00:00Z", ""]
    applications = [(app, f"单位{app}", None, draw(st.sampled_from(times))) for app in apps]
    return scores, indicators, applications
