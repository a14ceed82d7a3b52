"""Rubric loading and validation: every problem at once, one line each, with file and line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scoring.rubric import EXAMPLE_RUBRIC, RubricError, load_rubric, parse_rubric

from .helpers import rubric_text

CRITERIA = Path(__file__).resolve().parents[2] / "criteria"


def problems_of(text: str) -> list[str]:
    with pytest.raises(RubricError) as info:
        parse_rubric(text, "r.toml")
    return info.value.problems


def test_parse_rubric_example():
    rubric = parse_rubric(EXAMPLE_RUBRIC, "example.toml")
    assert rubric.id == "example"
    assert [c.key for c in rubric.expert_criteria] == ["work"]
    assert [c.key for c in rubric.formula_criteria] == ["coverage"]
    assert rubric.expert_max == Decimal(60)
    assert rubric.total_max == Decimal(100)
    assert rubric.criterion("coverage").terms[0].curve[1] == (Decimal("0.061"), Decimal("0.6"))
    assert rubric.allocation.amount == 100000
    with pytest.raises(KeyError):
        rubric.criterion("nope")


def test_parse_rubric_keeps_decimals_exact():
    rubric = parse_rubric(rubric_text(expert=(("work", "10.5", "0.1"),)), "r.toml")
    assert (rubric.criterion("work").max, rubric.criterion("work").step) == (Decimal("10.5"), Decimal("0.1"))


def test_parse_rubric_invalid_toml_names_the_line():
    assert problems_of('id = "x"\ntitle = \n') == [
        "r.toml:2: file: not valid TOML (Invalid value (at line 2, column 9)); fix the syntax at that line"
    ]


def test_parse_rubric_lists_every_problem_at_once():
    text = rubric_text(
        expert=(("work", 10, 3), ("work", 0, 1)),
        tie_break=("nothing",),
        allocation={"policy": "linear", "amount_min": 150000, "amount_max": 100000, "step": 10000},
    )
    text = text.replace('program = "post_subsidy"', 'program = "subsidy"').replace(
        "[aggregation]", "[aggregation]\nfoo = 1"
    )
    found = problems_of(text)
    assert found == [
        "r.toml:3: program: 'program' is 'subsidy'; use one of: pilot, post_subsidy",
        "r.toml:7: aggregation.foo: unknown key 'foo'; remove it or use one of: "
        "method, trim_min_experts, min_experts, decimals, tie_break",
        "r.toml:11: aggregation.tie_break: tie_break names 'nothing', which is not a criterion; use criterion keys",
        "r.toml:18: criteria[1].step: step 3 does not divide max 10; "
        "choose a step such that max is a whole number of steps (e.g. 0.5 or 1)",
        "r.toml:23: criteria[2].key: duplicate criterion key 'work'; give each criterion its own key",
        "r.toml:26: criteria[2].max: 'max' is 0, it must be > 0; use a positive number",
        "r.toml:33: allocation.amount_min: amount_min 150000 exceeds amount_max 100000; swap them",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda t: t.replace('kind = "expert"', 'kind = "judged"'),
            "'kind' is 'judged'; use one of: expert, formula",
        ),
        (lambda t: t.replace("[allocation]", "[allocation]\nbonus = 1"), "unknown key 'bonus'"),
        (lambda t: t.replace('method = "mean"', 'method = "trimmed_mean"'), "'trim_min_experts' is missing"),
        (lambda t: t.replace("min_experts = 1", "min_experts = 0"), "'min_experts' is 0"),
        (lambda t: t.replace("decimals = 2", "decimals = 9"), "use a whole number between 0 and 4"),
        (lambda t: t.replace('guidance = "评分说明"\n', ""), "'guidance' is missing"),
        (lambda t: t.replace('source = "三（三）1"\n', ""), "'source' is missing"),
        (lambda t: t.replace("max = 60", 'max = "sixty"'), "'max' must be a number"),
        (lambda t: t.replace('id = "test"', 'id = "Test Rubric"'), "is not a simple name"),
    ],
)
def test_parse_rubric_explains_problem(change, expected):
    found = problems_of(change(rubric_text()))
    assert any(expected in p for p in found)


FORMULA = {
    "weight": Decimal("0.5"),
    "numerator": "a",
    "denominator": "b",
    "curve": [[0, 0], [Decimal("0.5"), 1]],
}


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ([FORMULA], "the weights of the terms sum to 0.5; make them add up to exactly 1"),
        ([{**FORMULA, "weight": 1, "numerator": "zz"}], "numerator 'zz' is not an indicator"),
        ([{**FORMULA, "weight": 1, "denominator": "zz"}], "denominator 'zz' is not an indicator"),
        ([{**FORMULA, "weight": 1, "curve": [[0, 0], [0, 1]]}], "x values must increase strictly (0 then 0)"),
        ([{**FORMULA, "weight": 1, "curve": [[0, 0], [1, Decimal("1.5")]]}], "y value 1.5 is outside [0, 1]"),
        ([{**FORMULA, "weight": 1, "curve": [[0, 0]]}], "a curve needs at least two [x, y] points"),
        ([{**FORMULA, "weight": 1, "curve": [[0, 0], [1]]}], "is not a pair of numbers"),
        ([{**FORMULA, "weight": 1, "power": 2}], "unknown key 'power'"),
    ],
)
def test_parse_rubric_explains_formula_problem(terms, expected):
    text = rubric_text(formula=(("cov", 10, terms),), indicators=(("a", "count"), ("b", "count")))
    found = problems_of(text)
    assert len(found) == 1 and expected in found[0]


def test_parse_rubric_formula_without_terms():
    text = rubric_text(formula=(("cov", 10, []),), indicators=(("a", "count"),))
    assert problems_of(text) == [
        "r.toml:27: criteria[2].terms: a formula criterion needs terms; add one or more [[criteria.terms]] tables"
    ]


def test_parse_rubric_requires_an_expert_criterion():
    text = rubric_text(
        expert=(),
        formula=(("cov", 10, [{**FORMULA, "weight": 1}]),),
        indicators=(("a", "count"), ("b", "count")),
    )
    assert any('no criterion has kind = "expert"' in p for p in problems_of(text))


def test_parse_rubric_term_line_points_into_the_term():
    terms = [FORMULA, {**FORMULA, "numerator": "zz"}]
    text = rubric_text(formula=(("cov", 10, terms),), indicators=(("a", "count"), ("b", "count")))
    found = problems_of(text)
    assert len(found) == 1
    line = int(found[0].split(":")[1])
    assert "numerator" in text.splitlines()[line - 1] and "zz" in text.splitlines()[line - 1]
    assert found[0].split(": ")[1] == "criteria[2].terms[2].numerator"


def test_load_rubric_missing_file(tmp_path):
    with pytest.raises(RubricError) as info:
        load_rubric(tmp_path / "none.toml")
    assert info.value.problems == [
        f"{tmp_path / 'none.toml'}: file: cannot be read (No such file or directory); check the path"
    ]


def test_load_rubric_not_utf8(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes(rubric_text().encode("gb18030"))
    with pytest.raises(RubricError, match="save the file as UTF-8"):
        load_rubric(path)


# ------------------------------------------------------------------------------------ 2014 rubrics


REQUIRED_POST_SUBSIDY_INDICATORS = [
    "regulated_enterprises",
    "enterprise_kexie_total",
    "enterprise_kexie_new",
    "task_new_kexie",
    "liaison_enterprises",
    "task_liaison",
    "parks_total",
    "parks_with_kexie",
    "national_parks_total",
    "national_parks_with_kexie",
    "academician_workstations",
    "service_stations",
    "haizhi_bases",
]


@pytest.mark.parametrize("name", ["cast-2014-post-subsidy.toml", "cast-2014-pilot.toml"])
def test_2014_rubric_valid_and_totals_100(name):
    rubric = load_rubric(CRITERIA / name)
    assert rubric.total_max == Decimal(100)
    assert rubric.source.startswith("科协计函企字〔2014〕25号")
    assert all(c.source for c in rubric.criteria)
    assert rubric.id == name.removesuffix(".toml")


def test_2014_post_subsidy_rubric_contents():
    rubric = load_rubric(CRITERIA / "cast-2014-post-subsidy.toml")
    keys = [i.key for i in rubric.indicators]
    assert all(k in keys for k in REQUIRED_POST_SUBSIDY_INDICATORS)
    assert [c.key for c in rubric.formula_criteria] == ["task_completion", "coverage"]
    coverage = rubric.criterion("coverage")
    assert [t.numerator for t in coverage.terms] == [
        "enterprise_kexie_total",
        "parks_with_kexie",
        "national_parks_with_kexie",
    ]
    assert coverage.terms[0].curve[1] == (Decimal("0.061"), Decimal("0.6"))  # the 6.1% national figure
    a = rubric.allocation
    assert (a.policy, a.amount_min, a.amount_max, a.step) == ("linear", 100000, 150000, 10000)
    assert a.budget is not None


def test_2014_pilot_rubric_contents():
    rubric = load_rubric(CRITERIA / "cast-2014-pilot.toml")
    assert rubric.program == "pilot"
    assert rubric.indicator("matching_funds").kind == "amount"
    assert [c.key for c in rubric.formula_criteria] == ["coverage"]
    assert (rubric.allocation.policy, rubric.allocation.amount) == ("fixed", 200000)
