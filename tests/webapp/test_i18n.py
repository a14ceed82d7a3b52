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


@pytest.fixture(scope="session")
def compiled_catalogs():
    return compile_catalogs()


@pytest.fixture
def i18n_client(app, client, compiled_catalogs):
    """The test client, with the app's translation cache emptied if a catalog was just (re)compiled."""
    if compiled_catalogs:
        babel_config = app.extensions.get("babel")
        domain = getattr(babel_config, "domain_instance", None)
        if domain is not None:
            domain.cache.clear()
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
