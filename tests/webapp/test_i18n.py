"""The English catalog: complete, well-formed, in step with the sources, and used when chosen.

The message ids are the Chinese interface text, so zh_CN needs no catalog; ``en`` does. How to refresh it
after changing strings is written at the top of ``babel.cfg``. The .mo files are built (``make translations``,
or here by ``compile_catalogs``) and never committed.
"""

from __future__ import annotations

import enum
import importlib
import io
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.conftest import REPO, csrf_token
from webapp.auth.models import Role
from webapp.web.templating import NAV

TRANSLATIONS = REPO / "webapp" / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


def read_catalog(path: Path = EN_PO):
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=path.parent.parent.name)


def entries(catalog):
    return [message for message in catalog if message.id]


def msgid(message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def extracted_msgids() -> dict[str, str]:
    """Every msgid the extraction finds in the sources now, with where it was first seen."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename="babel.cfg")
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        text = message[0] if isinstance(message, (list, tuple)) else message
        if text:
            found.setdefault(text, f"{filename}:{lineno}")
    return found


def runtime_labels() -> dict[str, str]:
    """Labels that templates pass through ``_()`` as variables, with where each is defined: the ``label`` of
    every enum member in ``webapp/*/models.py`` (roles, phases, statuses, decisions, ...) and the navigation."""
    labels: dict[str, str] = {}
    for models_path in sorted((REPO / "webapp").glob("*/models.py")):
        module = importlib.import_module(f"webapp.{models_path.parent.name}.models")
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, enum.Enum)
                and value.__module__ == module.__name__
                and isinstance(getattr(value, "label", None), property)
            ):
                for member in value:
                    labels.setdefault(member.label, f"{module.__name__}.{name}.{member.name}")
    for role, items in NAV.items():
        for endpoint, label in items:
            labels.setdefault(label, f"webapp.web.templating.NAV[{role.value}] {endpoint}")
    return labels


def compile_catalogs() -> list[Path]:
    """Write each locale's .mo from its .po when missing or out of date (so a fresh clone works)."""
    written = []
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        buffer = io.BytesIO()
        write_mo(buffer, read_catalog(po_path), use_fuzzy=False)
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.read_bytes() == buffer.getvalue():
            continue
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(buffer.getvalue())
        os.replace(tmp, mo_path)
        written.append(mo_path)
    return written


def forget_translations(app) -> None:
    """Empty the app's translation cache (after a catalog was compiled during this session)."""
    babel_config = app.extensions.get("babel")
    domain = getattr(babel_config, "domain_instance", None)
    if domain is not None:
        domain.cache.clear()


@pytest.fixture(scope="session")
def compiled_catalogs():
    return compile_catalogs()


@pytest.fixture
def i18n_client(app, client, compiled_catalogs):
    """The test client, with the app's translation cache emptied if a catalog was just (re)compiled."""
    if compiled_catalogs:
        forget_translations(app)
    return client


def switch_language(client, lang: str, page: str = "/login"):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post("/language", data={"lang": lang, "next": page, "csrf_token": token})


# ---------------------------------------------------------------- the catalog file


def test_catalog_en_exists_with_entries():
    catalog = read_catalog()
    assert str(catalog.locale) == "en"
    assert len(entries(catalog)) > 100


def test_catalog_en_has_no_empty_translations():
    empty = [msgid(m) for m in entries(read_catalog()) if not all(s.strip() for s in strings(m))]
    assert empty == []


def test_catalog_en_has_no_fuzzy_entries():
    catalog = read_catalog()
    fuzzy = [msgid(m) for m in entries(catalog) if m.fuzzy]
    assert (catalog.fuzzy, fuzzy) == (False, [])


def test_catalog_en_placeholders_match_msgids():
    mismatched = []
    for message in entries(read_catalog()):
        expected = sorted(PLACEHOLDER.findall(msgid(message)))
        for translation in strings(message):
            if sorted(PLACEHOLDER.findall(translation)) != expected:
                mismatched.append((msgid(message), translation))
    assert mismatched == []


def test_catalog_en_percent_signs_format_like_msgids():
    """Templates format every message (``%%`` is a literal percent sign); a stray ``%`` would break the page."""
    broken = []
    for message in entries(read_catalog()):
        values = {name: "1" for name in PLACEHOLDER.findall(msgid(message))}
        try:
            msgid(message) % values
        except (ValueError, TypeError, KeyError):
            continue  # used from Python without formatting; nothing to match
        for translation in strings(message):
            try:
                translation % values
            except (ValueError, TypeError, KeyError) as exc:
                broken.append((msgid(message), translation, str(exc)))
    assert broken == []


def test_catalog_en_passes_babel_checks():
    problems = [(msgid(m), [str(e) for e in errors]) for m, errors in read_catalog().check() if errors]
    assert problems == []


def untranslated_chinese(source: str, translation: str) -> list[str]:
    """Runs of Chinese in ``translation`` that are not quoted verbatim from ``source`` (such as a sample
    document number, which stays in Chinese)."""
    return [run for run in CJK_RUN.findall(translation) if run not in source]


def test_untranslated_chinese_allows_only_verbatim_quotes():
    source = "如 科协函企字〔2014〕58号"
    assert untranslated_chinese(source, "e.g. 科协函企字〔2014〕58号") == []
    assert untranslated_chinese(source, "e.g. 科协函 number") == []
    assert untranslated_chinese(source, "例如 科协函企字") == ["例如"]


def test_catalog_en_translations_contain_no_chinese():
    untranslated = [
        (msgid(m), s)
        for m in entries(read_catalog())
        for s in strings(m)
        if untranslated_chinese(msgid(m), s)
    ]
    assert untranslated == []


# ---------------------------------------------------------------- in step with the sources


def test_catalog_en_covers_every_extracted_msgid():
    catalog_ids = {msgid(m) for m in entries(read_catalog())}
    missing = {text: where for text, where in extracted_msgids().items() if text not in catalog_ids}
    assert missing == {}, (
        "untranslated strings; re-run extraction and update webapp/translations (see babel.cfg)"
    )


def test_catalog_en_covers_labels_translated_at_runtime():
    """Enum labels and navigation labels are shown through ``_(label)``; extraction cannot see them all."""
    catalog_ids = {msgid(m) for m in entries(read_catalog())}
    missing = {label: where for label, where in runtime_labels().items() if label not in catalog_ids}
    assert missing == {}


def test_runtime_labels_include_roles_phases_and_navigation():
    labels = runtime_labels()
    assert (labels["系统管理员"], labels["形式审查"], labels["链完整性"]) == (
        "webapp.auth.models.Role.sysadmin",
        "webapp.campaigns.models.Phase.formal_check",
        "webapp.web.templating.NAV[auditor] audit.verify",
    )


def test_compile_catalogs_is_idempotent(compiled_catalogs):
    assert compile_catalogs() == []
    assert EN_PO.with_suffix(".mo").exists()


# ---------------------------------------------------------------- the language switch


def test_login_page_chinese_by_default(i18n_client):
    html = i18n_client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html
    assert "Sign in" not in html


def test_login_page_english_after_language_switch(i18n_client):
    response = switch_language(i18n_client, "en")
    assert response.status_code == 302
    html = i18n_client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert "Beijing time" in html
    assert '<label for="username">Username</label>' in html
    assert "登录" not in html


def test_login_page_chinese_again_after_switching_back(i18n_client):
    switch_language(i18n_client, "en")
    switch_language(i18n_client, "zh_CN")
    html = i18n_client.get("/login").get_data(as_text=True)
    assert "<h1>登录</h1>" in html


def test_language_switch_unknown_language_rejected(i18n_client):
    token = csrf_token(i18n_client.get("/login").get_data(as_text=True))
    response = i18n_client.post("/language", data={"lang": "fr", "csrf_token": token})
    assert response.status_code == 400


def test_error_page_and_labels_english_after_switch(i18n_client, make_user, login):
    user = make_user(Role.sysadmin)
    login(user)
    switch_language(i18n_client, "en", page="/admin/users")
    response = i18n_client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html
    assert "页面不存在" not in html
    users = i18n_client.get("/admin/users").get_data(as_text=True)
    assert ">System administrator</option>" in users
    assert ">Accounts</a>" in users


def test_language_choice_survives_sign_in(client, make_user, login):
    from tests.conftest import PASSWORD, csrf_token
    from webapp.auth.models import Role

    user = make_user(Role.office)
    page = client.get("/login").get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf_token(page), "lang": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(page)})
    body = client.get("/campaigns").get_data(as_text=True)
    assert '<html lang="en">' in body


# ---------------------------------------------------------------- charts drawn on the server

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def english(app, compiled_catalogs):
    """A request whose interface language is English, as after the language switch."""
    from flask_babel import force_locale

    if compiled_catalogs:
        forget_translations(app)
    with app.test_request_context("/"), force_locale("en"):
        yield


def chart_words(chart) -> list[str]:
    """Every text a reader or a screen reader meets in a chart: ``<title>``, ``<desc>`` and ``<text>``."""
    root = ET.fromstring(str(chart))
    return [
        "".join(element.itertext())
        for element in root.iter()
        if element.tag.removeprefix(SVG) in {"title", "desc", "text"}
    ]


def leftover_chinese(chart, *data: str) -> list[str]:
    """Runs of Chinese in the chart's texts once the caller's own data (unit names, counting words) is
    taken out."""
    runs = []
    for text in chart_words(chart):
        for label in sorted(data, key=len, reverse=True):
            text = text.replace(label, "")
        runs += CJK_RUN.findall(text)
    return runs


def test_results_charts_in_english(english):
    from webapp.results.charts import breakdown_chart, leniency_chart, rank_interval_chart

    units = ("甲单位", "乙单位", "丙单位")
    ranks = rank_interval_chart(
        [(units[0], 1, None, None), (units[1], 2, 1, 4), (units[2], None, None, None)], 1
    )
    words = chart_words(ranks)
    assert words[:2] == [
        "Rank interval (bootstrap 5%–95%)",
        "Ranked applications: 2. The horizontal axis is the rank (1 is best); each line is the bootstrap "
        "5%–95% rank interval, each dot the actual rank. The funding line is after rank 1; applications whose "
        "rank interval straddles it (red): 1. Applications not ranked: 1.",
    ]
    assert {"Interval and rank (dot)", "Straddles funding line", "Funding line", "Rank", "Not ranked"} <= set(
        words
    )
    assert {
        "甲单位: rank 1",
        "乙单位: rank 2, interval 1–4, straddles the funding line",
        "丙单位: not ranked",
        "Funding line: after rank 1",
    } <= set(words)

    experts = ("专家甲", "专家乙", "专家丙")
    leniency = leniency_chart([(experts[0], -1.3, True), (experts[1], 0.4, False), (experts[2], None, False)])
    words = chart_words(leniency)
    assert words[0] == "Expert leniency"
    assert words[1].startswith("Leniency of the experts (3); flagged: 1. Leniency (points): ")
    assert {
        "← Strict",
        "Lenient →",
        "Flagged",
        "专家甲: leniency −1.30 (flagged)",
        "专家乙: leniency +0.40",
    } <= set(words)
    assert (
        "Negative (left) means strict, positive (right) means lenient; flagged experts are in red." in words
    )

    criteria = ("创新性", "可行性")
    breakdown = breakdown_chart([(criteria[0], Decimal("13.5"), 15), (criteria[1], 3, 10)], title="Scores")
    words = chart_words(breakdown)
    assert words[:2] == [
        "Scores",
        "Criteria: 2, each score (dark) against its maximum (light). Total 16.50 / 25.",
    ]
    assert "创新性: 13.50 / 15" in words

    empty = rank_interval_chart([], None)
    assert chart_words(empty) == ["Rank interval (bootstrap 5%–95%)", "No data", "No data"]

    for chart, data in ((ranks, units), (leniency, experts), (breakdown, criteria), (empty, ())):
        assert leftover_chinese(chart, *data) == []


def test_dashboard_charts_in_english(english):
    from webapp.inspection.dashboard_charts import Gauge, completion_chart, progress_chart

    labels = ("新建企业科协", "国家级园区覆盖率", "联系人")
    progress = progress_chart(
        [
            Gauge(labels[0], Decimal(4213), Decimal(6000), "个"),
            Gauge(labels[1], Decimal("0.7"), Decimal("0.4"), "%"),
            Gauge(labels[2], Decimal(10), Decimal(0), "家"),
        ]
    )
    words = chart_words(progress)
    assert words[0] == "Progress against the national targets"
    assert words[1] == (
        "Progress on the national targets (3): the light bar is the target (100%), the dark bar what has been "
        "achieved, the dashed line the target line; bars beyond 150% are cut off and marked. Targets reached: 1."
    )
    assert {"Completed", "Target", "Target line (100%)", "4,213 / 6,000 个 (70.2%)", "10 / 0 家 (—)"} <= set(
        words
    )
    assert "国家级园区覆盖率: 70.0% / 40.0% (175.0%); the part beyond 150% is not drawn" in words

    units = ("甲", "乙", "丙")
    completion = completion_chart(
        [(units[0], Decimal("0.2")), (units[1], Decimal("1.2")), (units[2], None)], title="Task completion"
    )
    words = chart_words(completion)
    assert words[:2] == [
        "Task completion",
        "Task completion rates of 3 units on an axis from 0 to 150%; the dashed line is 100%, the red dashed "
        "line the 50% alert line. Units below the alert line (red), candidates for a criticism notice: 1. "
        "Units without data (—): 1.",
    ]
    assert {"Task (100%)", "50% alert line", "Below (criticism candidate)", "Completion"} <= set(words)
    assert {"甲: completion 20.0%, below 50%", "乙: completion 120.0%", "丙: completion —"} <= set(words)

    assert leftover_chinese(progress, *labels, "个", "家") == []
    assert leftover_chinese(completion, *units) == []
    assert chart_words(completion_chart([], title="Task completion"))[1:] == ["No data", "No data"]


def test_charts_in_chinese_same_inside_a_request_as_outside(app):
    """Chinese is the message id: a chart drawn for a Chinese page is the one drawn without translations."""
    from webapp.inspection.dashboard_charts import Gauge, completion_chart, progress_chart
    from webapp.results.charts import breakdown_chart, leniency_chart, rank_interval_chart

    def draw() -> list[str]:
        return [
            str(chart)
            for chart in (
                rank_interval_chart([("甲", 1, 1, 2), ("乙", 2, 1, 4), ("丙", None, None, None)], 1),
                rank_interval_chart([], None),
                breakdown_chart([("创新性", Decimal("13.5"), 15), ("可行性", None, 10)], title="得分构成"),
                leniency_chart([("专家甲", -1.3, True), ("专家乙", None, False)]),
                progress_chart([Gauge("新建", Decimal(9500), Decimal(6000), "个")]),
                completion_chart([("甲", Decimal("0.2")), ("乙", None)], title="完成率"),
            )
        ]

    outside = draw()
    with app.test_request_context("/"):
        assert draw() == outside
    assert "排名区间与名次（圆点）" in outside[0] and "资助线在第 1 名之后" in outside[0]
    assert "超出 150% 的部分未画出" in outside[4] and "虚线为 100%，红色虚线为 50% 警戒线" in outside[5]


def test_results_explain_and_dashboard_pages_draw_charts_in_english(
    i18n_client, frozen, login, make_user, make_program, unit, session
):
    from sqlalchemy import select

    from tests.webapp.results_helpers import AT, build_scored_program
    from webapp.results.models import ResultRun

    frozen(AT)
    program, _apps, _experts = build_scored_program(session, make_program, make_user, unit)
    login(make_user(Role.office))
    page = f"/programs/{program.id}/results"
    token = csrf_token(i18n_client.get(page).get_data(as_text=True))
    run_response = i18n_client.post(
        f"{page}/run", data={"csrf_token": token, "bootstrap": "200", "seed": "11"}
    )
    assert run_response.status_code == 302
    switch_language(i18n_client, "en", page=page)

    results = i18n_client.get(page).get_data(as_text=True)
    assert "Rank interval (bootstrap 5%–95%)" in results and "Interval and rank (dot)" in results
    assert "Expert leniency" in results and "← Strict" in results
    assert "排名区间与名次" not in results and "专家宽严度" not in results and "偏严" not in results

    run = session.scalar(select(ResultRun))
    code = run.result_data()["applications"][0]["application"]
    explain = i18n_client.get(f"{page}/{run.number}/{code}").get_data(as_text=True)
    assert ": score per criterion against the maximum</title>" in explain
    assert "各项得分与满分" not in explain and "个评分项的得分" not in explain

    dashboard = i18n_client.get(f"/campaigns/{program.campaign_id}/dashboard").get_data(as_text=True)
    assert "Completion of the new-association task (after verification)</title>" in dashboard
    assert "Task (100%)" in dashboard and "alert line" in dashboard
    assert "任务完成率（核实后）" not in dashboard and "警戒线" not in dashboard


def test_english_chart_legends_neither_overlap_nor_leave_the_chart(english):
    from webapp.inspection.dashboard_charts import Gauge, completion_chart, progress_chart
    from webapp.results.charts import WIDTH, _text_width, rank_interval_chart

    charts = [
        rank_interval_chart([("甲", 1, 1, 2), ("乙", 2, 1, 3)], 1),
        progress_chart([Gauge("新建", Decimal(1), Decimal(2), "个")]),
        completion_chart([("甲", Decimal("0.2"))], title="t", threshold=Decimal("0.125")),
    ]
    for chart in charts:
        root = ET.fromstring(str(chart))
        legend = sorted(
            (float(text.get("x")), text.text)
            for text in root.iter(f"{SVG}text")
            if text.get("y") == "18" and text.get("text-anchor") is None
        )
        assert len(legend) == 3
        for (x, label), (next_x, _next_label) in zip(legend, legend[1:], strict=False):
            assert x + _text_width(label) <= next_x - 30, (
                label,
                legend,
            )  # the next entry's marker is 30 wide
        last_x, last_label = legend[-1]
        assert last_x + _text_width(last_label) <= WIDTH, legend


def test_messages_outside_a_request_are_chinese(app):
    """The ``flask`` commands run with an application but no request: messages keep their Chinese text."""
    from flask_babel import gettext

    with app.app_context():
        assert gettext("请先登录。") == "请先登录。"
        assert gettext("已记录第 %(n)s 行的核查结论。", n=3) == "已记录第 3 行的核查结论。"


def test_operation_problems_follow_the_interface_language(i18n_client, make_user, login):
    """A problem an operation raises (here the password rules) is shown in the language the user chose."""
    from tests.conftest import PASSWORD

    user = make_user(Role.office)
    login(user)

    def attempt() -> str:
        page = i18n_client.get("/account/password").get_data(as_text=True)
        return i18n_client.post("/account/password", data={
            "csrf_token": csrf_token(page), "current_password": PASSWORD,
            "new_password": "Ab1!x", "confirm": "Ab1!x"}).get_data(as_text=True)

    assert "密码至少需要 10 个字符（当前 5 个）。" in attempt()
    switch_language(i18n_client, "en", page="/account/password")
    english = attempt()
    assert "The password must be at least 10 characters long (currently 5)." in english
    assert "密码至少需要" not in english


def test_refused_phase_move_shown_in_english_is_audited_in_chinese(app, session, make_program, compiled_catalogs):
    """A phase guard's reason reaches the user in their language; the audit log keeps the Chinese."""
    from flask_babel import force_locale
    from sqlalchemy import select

    from webapp.audit.models import AuditEvent
    from webapp.campaigns.models import Phase, ProgramKind
    from webapp.campaigns.operations import CampaignError, advance_phase

    if compiled_catalogs:
        forget_translations(app)
    program = make_program(ProgramKind.post_subsidy, phase=Phase.formal_check)
    with app.test_request_context("/"), force_locale("en"):
        with pytest.raises(CampaignError) as refused:
            advance_phase(program, Phase.review)  # no application has passed the formal check
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "program.phase")
                                .order_by(AuditEvent.id.desc())).first()
    shown = refused.value.problems[0]
    assert shown and not CJK_RUN.search(shown)
    assert event.detail_data["reason"] == "没有通过形式审查的申报，无法进入专家评审。"
