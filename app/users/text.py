"""Plain-text hygiene for values mirrored from Clerk.

Unlike our own input (``app.core.sanitize`` refuses control characters with a 422), a
Clerk profile cannot be refused: it is cleaned instead. Control characters, lone
surrogates (PostgreSQL cannot store them) and bidi overrides (they make a name display
as something else) are dropped, markup is stripped, and the length is bounded.
"""

from __future__ import annotations

import unicodedata

from app.core.sanitize import strip_html

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_forbidden(char: str) -> bool:
    # Cc: C0/C1 controls incl. NUL; Cs: lone surrogates, which cannot be encoded as UTF-8.
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS


def drop_forbidden_chars(value: str) -> str:
    return "".join(char for char in value if not _is_forbidden(char))


def clean_line(value: object, max_len: int) -> str | None:
    """A single line of plain text, at most ``max_len`` characters; None if empty."""
    if not isinstance(value, str):
        return None
    # Dropped again after decoding: an entity such as &#x202e; can hide a control.
    text = drop_forbidden_chars(strip_html(drop_forbidden_chars(value)))
    text = " ".join(text.split())[:max_len].strip()
    return text or None
