"""``python -m scoring``: rubric check, rank, allocate, verify; every bad input gives exit 2 and no file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.cli import main
from scoring.io import loads_json

from .test_rubric import CRITERIA

REPO = Path(__file__).resolve().parents[2]
RUBRIC = CRITERIA / "cast-2014-post-subsidy.toml"
EXPERT_KEYS = ["leadership", "planning", "quality", "services", "timeliness"]

SCORES_HEADER = "application,expert,criterion,score\n"
INDICATORS = (
    "application,indicator,value\n"
    "110000,regulated_enterprises,2000\n"
    "110000,enterprise_kexie_total,122\n"
    "110000,task_new_kexie,100\n"
    "110000,enterprise_kexie_new,80\n"
    "310000,regulated_enterprises,3000\n"
    "310000,enterprise_kexie_total,100\n"
    "440000,regulated_enterprises,5000\n"
    "440000,enterprise_kexie_total,400\n"
    "440000,enterprise_kexie_new,100\n"
    "440000,task_new_kexie,100\n"
    "310000,enterprise_kexie_new,30\n"
    "310000,task_new_kexie,50\n"
)
APPLICATIONS = (
    "application,name,group,submitted_at\n"
    "110000,北京市科协,province,2014-10-30T10:00:00+08:00\n"
    "310000,上海市科协,province,2014-10-31T09:00:00+08:00\n"
    "440000,广东省科协,province,2014-10-29T16:00:00+08:00\n"
)


def review(app, expert, values):
    return "".join(f"{app},{expert},{k},{v}\n" for k, v in zip(EXPERT_KEYS, values, strict=True))


def good_scores():
    rows = SCORES_HEADER
    for i, e in enumerate(["李专家", "王专家", "张专家", "赵专家", "刘专家"]):
        rows += review("110000", e, [12 + i % 2, 13, 8, 10, 6.5])
        rows += review("310000", e, [11, 12.5 - i * 0.5, 7, 9, 6])
        rows += review("440000", e, [14, 14, 9, 11 - i, 7])
    return rows


@pytest.fixture
def files(tmp_path):
    def write(name, text, encoding="utf-8"):
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    write("scores.csv", good_scores())
    write("indicators.csv", INDICATORS)
    write("applications.csv", APPLICATIONS)
    write.dir = tmp_path
    return write


def rank_args(d: Path, scores="scores.csv", extra=()):
    return [
        "rank",
        "--rubric",
        str(RUBRIC),
        "--scores",
        str(d / scores),
        "--indicators",
        str(d / "indicators.csv"),
        "--applications",
        str(d / "applications.csv"),
        "--out",
        str(d / "result.json"),
        *extra,
    ]


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------------------ rubric check


@pytest.mark.parametrize("name", ["cast-2014-post-subsidy.toml", "cast-2014-pilot.toml"])
def test_cli_rubric_check_2014_rubrics_pass(name, capsys):
    code, out, err = run(["rubric", "check", str(CRITERIA / name)], capsys)
    assert (code, err) == (0, "")
    assert "OK" in out and "total maximum 100" in out


def test_cli_rubric_check_bad_rubric_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(RUBRIC.read_text(encoding="utf-8").replace("max = 15", "max = 15.3", 1), encoding="utf-8")
    code, out, err = run(["rubric", "check", str(bad)], capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"{bad}:113: criteria[1].step: step 0.5 does not divide max 15.3; "
        "choose a step such that max is a whole number of steps (e.g. 0.5 or 1)"
    ]


# ------------------------------------------------------------------------------------ rank


def test_cli_rank_writes_result(files, capsys):
    code, out, err = run(rank_args(files.dir, extra=["--bootstrap", "50", "--seed", "7"]), capsys)
    assert (code, err) == (0, "")
    text = (files.dir / "result.json").read_text(encoding="utf-8")
    assert "北京市科协" not in text and '"rubric": "cast-2014-post-subsidy"' in text
    data = loads_json(text)
    assert [a["application"] for a in data["applications"]] == ["440000", "110000", "310000"]
    assert [a["rank"] for a in data["applications"]] == [1, 2, 3]
    assert ".00" in text or ".50" in text  # decimals written at the rubric's precision
    assert data["applications"][0]["retained"] and data["applications"][0]["rank_interval"]


def test_cli_rank_chinese_expert_ids_unescaped(files, capsys):
    assert run(rank_args(files.dir), capsys)[0] == 0
    text = (files.dir / "result.json").read_text(encoding="utf-8")
    assert "李专家" in text and "\\u" not in text


@pytest.mark.parametrize(
    ("encoding", "newline", "bom"),
    [("utf-8", "\r\n", False), ("utf-8", "\n", True), ("gbk", "\r\n", False), ("gb18030", "\n", False)],
)
def test_cli_rank_accepts_excel_encodings(files, capsys, encoding, newline, bom):
    assert run(rank_args(files.dir), capsys)[0] == 0
    expected = (files.dir / "result.json").read_bytes()
    raw = good_scores().replace("\n", newline).encode(encoding)
    files("other.csv", "")
    (files.dir / "other.csv").write_bytes((b"\xef\xbb\xbf" if bom else b"") + raw)
    assert run(rank_args(files.dir, scores="other.csv"), capsys)[0] == 0
    assert (files.dir / "result.json").read_bytes() == expected


def bad_case(files, capsys, scores=None, indicators=None, applications=None, extra=()):
    if scores is not None:
        files("scores.csv", scores)
    if indicators is not None:
        files("indicators.csv", indicators)
    if applications is not None:
        files("applications.csv", applications)
    code, out, err = run(rank_args(files.dir, extra=extra), capsys)
    assert code == 2
    assert out == ""
    assert not (files.dir / "result.json").exists()
    return err.splitlines()


def test_cli_rank_unknown_application(files, capsys):
    scores = good_scores() + review("999999", "李专家", [1, 1, 1, 1, 1])
    err = bad_case(files, capsys, scores=scores)
    assert err[0] == (
        f"{files.dir / 'scores.csv'}:77: unknown application '999999'; use an application id listed in applications"
    )
    assert len(err) == 5  # one per row of that review


def test_cli_rank_unknown_criterion(files, capsys):
    err = bad_case(
        files, capsys, scores=good_scores().replace("110000,李专家,quality", "110000,李专家,qualty")
    )
    assert err == [
        f"{files.dir / 'scores.csv'}:4: unknown criterion 'qualty'; "
        "use one of: leadership, planning, quality, services, timeliness",
        f"{files.dir / 'scores.csv'}:2: the review of '110000' by '李专家' lacks quality; "
        "give a score for every expert criterion of the review",
    ]


def test_cli_rank_unknown_indicator(files, capsys):
    err = bad_case(files, capsys, indicators=INDICATORS + "110000,parks,3\n")
    assert err == [
        f"{files.dir / 'indicators.csv'}:14: unknown indicator 'parks'; use one of: "
        "regulated_enterprises, enterprise_kexie_total, enterprise_kexie_new, task_new_kexie, liaison_enterprises, "
        "task_liaison, parks_total, parks_with_kexie, national_parks_total, national_parks_with_kexie, "
        "academician_workstations, service_stations, haizhi_bases"
    ]


def test_cli_rank_score_out_of_range(files, capsys):
    err = bad_case(
        files,
        capsys,
        scores=good_scores().replace("110000,李专家,leadership,12", "110000,李专家,leadership,16"),
    )
    assert err == [
        f"{files.dir / 'scores.csv'}:2: score 16 for 'leadership' is outside 0..15; use a score from 0 to 15"
    ]


def test_cli_rank_score_off_step(files, capsys):
    err = bad_case(
        files,
        capsys,
        scores=good_scores().replace("110000,李专家,leadership,12", "110000,李专家,leadership,12.3"),
    )
    assert err == [
        f"{files.dir / 'scores.csv'}:2: score 12.3 for 'leadership' is not a multiple of its step 0.5; "
        "use a multiple of 0.5"
    ]


def test_cli_rank_non_numeric_score(files, capsys):
    err = bad_case(
        files,
        capsys,
        scores=good_scores().replace("110000,李专家,leadership,12", "110000,李专家,leadership,十二"),
    )
    assert err == [f"{files.dir / 'scores.csv'}:2: score '十二' is not a number; write a number from 0 to 15"]


def test_cli_rank_duplicate_row(files, capsys):
    err = bad_case(files, capsys, scores=good_scores() + "110000,李专家,leadership,12\n")
    assert err == [
        f"{files.dir / 'scores.csv'}:77: duplicate score of '110000' by '李专家' for 'leadership' "
        f"(first at {files.dir / 'scores.csv'}:2); keep one row for each application, expert and criterion"
    ]


def test_cli_rank_incomplete_review(files, capsys):
    lines = good_scores().splitlines(keepends=True)
    err = bad_case(files, capsys, scores="".join(lines[:3] + lines[4:]))
    assert err == [
        f"{files.dir / 'scores.csv'}:2: the review of '110000' by '李专家' lacks quality; "
        "give a score for every expert criterion of the review"
    ]


def test_cli_rank_non_numeric_indicator(files, capsys):
    err = bad_case(files, capsys, indicators=INDICATORS.replace("2000", "两千"))
    assert err == [
        f"{files.dir / 'indicators.csv'}:2: indicator 'regulated_enterprises' must be a number, got '两千'; "
        "write a number >= 0 (a whole number for counts), or leave blank"
    ]


@pytest.mark.parametrize("text", ["", "\r\n\r\n", "   "])
def test_cli_rank_empty_file(files, capsys, text):
    err = bad_case(files, capsys, scores=text)
    assert err == [
        f"{files.dir / 'scores.csv'}: the file is empty; give a header row (application,expert,criterion,score) "
        "and data rows"
    ]


def test_cli_rank_header_only(files, capsys):
    err = bad_case(files, capsys, scores=SCORES_HEADER)
    assert err == [f"{files.dir / 'scores.csv'}:1: the file has a header but no data rows; add the rows"]


def test_cli_rank_missing_column(files, capsys):
    err = bad_case(files, capsys, scores=good_scores().replace("criterion,score", "criterion,points"))
    assert err == [
        f"{files.dir / 'scores.csv'}:1: missing column 'score'; the header must name application,expert,criterion,score"
    ]


def test_cli_rank_wrong_number_of_values(files, capsys):
    err = bad_case(files, capsys, scores=good_scores() + "110000,李专家,leadership\n")
    assert err == [
        f"{files.dir / 'scores.csv'}:77: 3 values where the header has 4; "
        "check for a stray comma or a missing value (quote text that contains commas)"
    ]


def test_cli_rank_bad_submission_time(files, capsys):
    err = bad_case(
        files, capsys, applications=APPLICATIONS.replace("2014-10-30T10:00:00+08:00", "10/30/2014")
    )
    assert err == [
        f"{files.dir / 'applications.csv'}:2: submitted_at '10/30/2014' is not an ISO 8601 date-time; "
        "write it like 2014-10-31T17:30:00+08:00"
    ]


def test_cli_rank_not_text(files, capsys):
    (files.dir / "scores.csv").write_bytes(b"\xff\xfe\x00\x00\x81")
    code, _, err = run(rank_args(files.dir), capsys)
    assert code == 2
    assert err.splitlines() == [
        f"{files.dir / 'scores.csv'}: the file is neither UTF-8 nor GB18030/GBK text; save it as CSV UTF-8"
    ]


def test_cli_rank_problems_in_several_files_at_once(files, capsys):
    err = bad_case(files, capsys, scores="", indicators="application,value\n")
    assert len(err) == 2 and "scores.csv" in err[0] and "indicators.csv" in err[1]


def test_cli_rank_missing_file(files, capsys):
    code, _, err = run(rank_args(files.dir, scores="none.csv"), capsys)
    assert code == 2 and "none.csv: cannot be read" in err


def test_cli_rank_keeps_old_output_on_bad_input(files, capsys):
    assert run(rank_args(files.dir), capsys)[0] == 0
    before = (files.dir / "result.json").read_bytes()
    files("scores.csv", good_scores() + "110000,李专家,leadership,99\n")
    assert run(rank_args(files.dir), capsys)[0] == 2
    assert (files.dir / "result.json").read_bytes() == before


def test_cli_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["rank", "--rubric", "x.toml"])
    assert info.value.code == 2
    assert "required" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ allocate


def test_cli_allocate_writes_awards(files, capsys):
    assert run(rank_args(files.dir), capsys)[0] == 0
    args = ["allocate", "--rubric", str(RUBRIC), "--result", str(files.dir / "result.json")]
    code, out, err = run([*args, "--budget", "250000", "--out", str(files.dir / "awards.json")], capsys)
    assert (code, err) == (0, "")
    awards = loads_json((files.dir / "awards.json").read_bytes())
    assert [a["application"] for a in awards["awards"]] == ["440000", "110000"]
    assert [a["amount"] for a in awards["awards"]] == [150000, 100000]
    assert awards["total_amount"] == 250000 and awards["flags"] == ["budget_limited"]


def test_cli_allocate_refuses_result_of_other_rubric(files, capsys):
    assert run(rank_args(files.dir), capsys)[0] == 0
    pilot = CRITERIA / "cast-2014-pilot.toml"
    out_file = files.dir / "awards.json"
    code, _, err = run(
        [
            "allocate",
            "--rubric",
            str(pilot),
            "--result",
            str(files.dir / "result.json"),
            "--out",
            str(out_file),
        ],
        capsys,
    )
    assert code == 2 and not out_file.exists()
    assert "computed with rubric 'cast-2014-post-subsidy', not 'cast-2014-pilot'" in err


def test_cli_allocate_refuses_broken_json(files, capsys):
    files("result.json", "{not json")
    out_file = files.dir / "awards.json"
    code, _, err = run(
        [
            "allocate",
            "--rubric",
            str(RUBRIC),
            "--result",
            str(files.dir / "result.json"),
            "--out",
            str(out_file),
        ],
        capsys,
    )
    assert code == 2 and not out_file.exists() and "not valid JSON" in err


# ------------------------------------------------------------------------------------ verify


def make_package(files, capsys) -> Path:
    d = files.dir
    assert run(rank_args(d, extra=["--bootstrap", "40", "--seed", "3"]), capsys)[0] == 0
    assert (
        run(
            [
                "allocate",
                "--rubric",
                str(RUBRIC),
                "--result",
                str(d / "result.json"),
                "--out",
                str(d / "awards.json"),
            ],
            capsys,
        )[0]
        == 0
    )
    pkg = d / "package"
    pkg.mkdir()
    (pkg / "rubric.toml").write_bytes(RUBRIC.read_bytes())
    for name in ["scores.csv", "indicators.csv", "applications.csv", "result.json", "awards.json"]:
        (pkg / name).write_bytes((d / name).read_bytes())
    write_manifest(pkg, rank={"bootstrap": 40, "seed": 3})
    return pkg


def write_manifest(pkg: Path, **extra):
    hashes = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(pkg.iterdir())
        if p.name != "manifest.json"
    }
    (pkg / "manifest.json").write_text(
        json.dumps({"files": hashes, **extra}, ensure_ascii=False), encoding="utf-8"
    )


def test_cli_verify_directory_ok(files, capsys):
    pkg = make_package(files, capsys)
    code, out, err = run(["verify", str(pkg)], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"{pkg}: OK: 6 file hashes match and all ")


def test_cli_verify_zip_ok(files, capsys):
    pkg = make_package(files, capsys)
    archive = files.dir / "audit.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in pkg.iterdir():
            zf.write(p, f"audit-2014/{p.name}")
    code, out, _ = run(["verify", str(archive)], capsys)
    assert code == 0 and ": OK: " in out


def test_cli_verify_reports_each_disagreement(files, capsys):
    pkg = make_package(files, capsys)
    text = (pkg / "result.json").read_text(encoding="utf-8")
    data = loads_json(text)
    old_total = format(data["applications"][1]["total"], "f")
    text = text.replace(f'"total": {old_total}', '"total": 99.99', 1)
    (pkg / "result.json").write_text(text, encoding="utf-8")
    write_manifest(pkg, rank={"bootstrap": 40, "seed": 3})  # hashes match: only the numbers are wrong
    code, out, _ = run(["verify", str(pkg)], capsys)
    assert code == 1
    assert out.splitlines()[0] == (
        f"{pkg}: DIFFERS: result.json.applications[2](110000).total: the file says 99.99, recomputed {old_total}"
    )
    assert out.splitlines()[-1].startswith(f"{pkg}: 1 disagreement(s)")


def test_cli_verify_detects_changed_file(files, capsys):
    pkg = make_package(files, capsys)
    (pkg / "scores.csv").write_bytes((pkg / "scores.csv").read_bytes().replace(b",13\n", b",13.5\n", 1))
    code, out, _ = run(["verify", str(pkg)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{pkg}: DIFFERS: scores.csv: SHA-256 is ")
    assert any("result.json" in line for line in lines[1:])


def test_cli_verify_detects_unlisted_and_missing_files(files, capsys):
    pkg = make_package(files, capsys)
    (pkg / "extra.txt").write_text("x", encoding="utf-8")
    manifest = json.loads((pkg / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["publicity.xlsx"] = "0" * 64
    (pkg / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out, _ = run(["verify", str(pkg)], capsys)
    assert code == 1
    assert f"{pkg}: DIFFERS: publicity.xlsx: listed in the manifest but not in the package" in out
    assert f"{pkg}: DIFFERS: extra.txt: in the package but not listed in the manifest" in out


def test_cli_verify_without_manifest_exits_2(files, capsys):
    pkg = make_package(files, capsys)
    (pkg / "manifest.json").unlink()
    code, _, err = run(["verify", str(pkg)], capsys)
    assert code == 2 and "no manifest.json" in err


def test_cli_verify_missing_path_exits_2(tmp_path, capsys):
    code, _, err = run(["verify", str(tmp_path / "none.zip")], capsys)
    assert code == 2 and "does not exist" in err


def test_cli_verify_bad_inputs_exit_2(files, capsys):
    pkg = make_package(files, capsys)
    (pkg / "scores.csv").write_text(SCORES_HEADER + "110000,x,leadership,99\n", encoding="utf-8")
    write_manifest(pkg)
    code, _, err = run(["verify", str(pkg)], capsys)
    assert code == 2 and "scores.csv:2: score 99 for 'leadership' is outside 0..15" in err


def test_python_m_scoring_runs_as_a_module(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "scoring", "rubric", "check", str(RUBRIC)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "OK" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "scoring", "rank", "--rubric", str(RUBRIC)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2


def test_cli_verify_reliability_within_tolerance(files, capsys):
    pkg = make_package(files, capsys)
    data = loads_json((pkg / "result.json").read_bytes())
    value = data["reliability"]["kendall_w"]
    text = (pkg / "result.json").read_text(encoding="utf-8")
    nudged = text.replace(f'"kendall_w": {value}', f'"kendall_w": {value * (1 + Decimal("1e-12"))}')
    (pkg / "result.json").write_text(nudged, encoding="utf-8")
    write_manifest(pkg, rank={"bootstrap": 40, "seed": 3})
    assert run(["verify", str(pkg)], capsys)[0] == 0
    off = text.replace(f'"kendall_w": {value}', f'"kendall_w": {value + Decimal("0.001")}')
    (pkg / "result.json").write_text(off, encoding="utf-8")
    write_manifest(pkg, rank={"bootstrap": 40, "seed": 3})
    code, out, _ = run(["verify", str(pkg)], capsys)
    assert code == 1 and "result.json.reliability.kendall_w" in out


def test_cli_allocate_refuses_bad_count(files, capsys):
    assert run(rank_args(files.dir), capsys)[0] == 0
    out_file = files.dir / "awards.json"
    args = ["allocate", "--rubric", str(RUBRIC), "--result", str(files.dir / "result.json")]
    code, _, err = run([*args, "--count", "0", "--out", str(out_file)], capsys)
    assert code == 2 and not out_file.exists()
    assert err.splitlines() == [
        "--budget/--count: count must be a positive whole number, got 0; give positive whole numbers"
    ]


def test_cli_rank_refuses_bad_budget(files, capsys):
    err = bad_case(files, capsys, extra=["--budget", "-5"])
    assert err == [
        "--budget/--count: budget must be a positive whole number, got -5; give positive whole numbers"
    ]
