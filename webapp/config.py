"""Configuration: defaults, then the environment, then a test's overrides (see ``create_app``)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CRITERIA_DIR = BASE_DIR / "criteria"
SEEDS_DIR = BASE_DIR / "seeds"


class Config:
    """Defaults. Anything here can be overridden by a ``WEBAPP_*`` environment variable or a test."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # filled in by from_environment
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    UPLOAD_DIR: str | None = None
    CRITERIA_DIR = str(CRITERIA_DIR)
    SEEDS_DIR = str(SEEDS_DIR)

    # Sessions and cookies (§7): idle sessions end after 30 minutes; cookies are Secure, HttpOnly, SameSite.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)
    SESSION_IDLE_MINUTES = 30
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "kexie_session"
    REMEMBER_COOKIE_SECURE = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which idles out after 30 min

    # Login throttling (§7): 5 failures lock the name for 30 minutes.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 30

    # Uploads (§3): per file and per application; requests larger than this are cut off before reading.
    UPLOAD_MAX_FILE_MB = 50
    UPLOAD_MAX_APPLICATION_MB = 300
    MAX_CONTENT_LENGTH = 52 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    # Inspection (seed 002, 003): below these a unit is listed as a candidate for 通报批评.
    SPOT_CHECK_MIN_RATE = "0.6"
    TASK_COMPLETION_MIN = "0.5"

    # argon2id cost (RFC 9106 "second recommended" profile: 64 MiB, 3 passes, 4 lanes).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    # Audit retention (§7): nothing younger than this may be deleted.
    AUDIT_RETENTION_DAYS = 180

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")

    # A fixed "now" for tests and demos (aware datetime or callable returning one); None means the real clock.
    FROZEN_NOW = None


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def from_environment(config: dict, instance_path: str) -> None:
    """Apply ``WEBAPP_*`` variables; generate the secret key into the instance folder on first run."""
    env = os.environ
    instance = Path(instance_path)
    url = env.get("WEBAPP_DATABASE_URL") or f"sqlite:///{instance / 'webapp.sqlite'}"
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    config["UPLOAD_DIR"] = env.get("WEBAPP_UPLOAD_DIR") or str(instance / "uploads")
    if "WEBAPP_COOKIE_SECURE" in env:
        secure = _bool(env["WEBAPP_COOKIE_SECURE"])
        config["SESSION_COOKIE_SECURE"] = secure
        config["REMEMBER_COOKIE_SECURE"] = secure
    if env.get("WEBAPP_CRITERIA_DIR"):
        config["CRITERIA_DIR"] = env["WEBAPP_CRITERIA_DIR"]
    secret = env.get("WEBAPP_SECRET_KEY")
    if not secret:
        key_file = instance / "secret_key"
        if key_file.exists():
            secret = key_file.read_text(encoding="utf-8").strip()
        else:
            instance.mkdir(parents=True, exist_ok=True)
            secret = secrets.token_hex(32)
            # Several app servers must share one key: in production set WEBAPP_SECRET_KEY instead.
            key_file.write_text(secret, encoding="utf-8")
            key_file.chmod(0o600)
    config["SECRET_KEY"] = secret
