"""The no-op marker for text translated where it is shown, not where it is defined."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here; it is translated where shown.

    >>> N_("待评")
    '待评'
    """
    return message
