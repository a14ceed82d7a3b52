"""Password hashing (argon2) and the password rule of §7."""

from __future__ import annotations

import secrets
import string
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from flask_babel import gettext as _

MIN_LENGTH = 10


@lru_cache(maxsize=4)
def _hasher_with(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (``ARGON2_*``; the library's recommended defaults otherwise)."""
    if has_app_context():
        c = current_app.config
        return _hasher_with(c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_COST"], c["ARGON2_PARALLELISM"])
    return _hasher_with(3, 65536, 4)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other cost parameters than the configured ones."""
    return _hasher().check_needs_rehash(password_hash)


def password_problems(password: str, username: str = "") -> list[str]:
    """Every way ``password`` breaks the rule, in the interface language; empty when it is acceptable.

    The rule: at least 10 characters, at least 3 of the 4 classes (upper case, lower case, digits,
    symbols or other characters such as Chinese), and not containing the username.

    >>> password_problems("Abcdefgh12")
    []
    """
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("密码至少需要 %(min)s 个字符（当前 %(n)s 个）。", min=MIN_LENGTH, n=len(password)))
    classes = [
        any(c.isascii() and c.isupper() for c in password),
        any(c.isascii() and c.islower() for c in password),
        any(c.isascii() and c.isdigit() for c in password),
        # Symbols, and any other character (Chinese characters included), form the fourth class.
        any(not (c.isascii() and c.isalnum()) for c in password),
    ]
    if sum(classes) < 3:
        problems.append(_("密码需包含大写字母、小写字母、数字、符号四类中的至少三类。"))
    if username and username.lower() in password.lower():
        problems.append(_("密码不能包含用户名。"))
    return problems


def generate_password(length: int = 14) -> str:
    """A random password that satisfies the rule, for new accounts and resets."""
    alphabet = string.ascii_letters + string.digits + "!@#%^*-_=+"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _unused in range(length))
        if not password_problems(candidate):
            return candidate
