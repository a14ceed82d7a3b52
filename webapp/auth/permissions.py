"""Permission predicates that answer (allowed, reason), so a page can say why (Hypha's habit).

Views load the object (404), then ask a predicate here (403 with the reason), then act.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import NamedTuple

from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user

from webapp.auth.models import Role


class Decision(NamedTuple):
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


def has_role(user, *roles: Role) -> Decision:
    """Whether ``user`` is signed in with one of ``roles``."""
    if user is None or not user.is_authenticated:
        return deny(_("请先登录。"))
    if Role(user.role) not in roles:
        names = _("、").join(_(r.label) for r in roles)
        return deny(_("此功能仅限%(roles)s使用。", roles=names))
    return ALLOW


def require(decision: Decision) -> None:
    """Abort with 403 and keep the reason for the error page."""
    if not decision.allowed:
        g.denied_reason = decision.reason
        abort(403)


def roles_required(*roles: Role) -> Callable:
    """View decorator: the signed-in user must have one of ``roles`` (checked on the server)."""

    def decorator(view):
        view.allowed_roles = roles

        @wraps(view)
        def wrapped(*args, **kwargs):
            require(has_role(current_user, *roles))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def public(view):
    """Mark a view as reachable without signing in (login page, the public publicity page)."""
    view.is_public = True
    return view
