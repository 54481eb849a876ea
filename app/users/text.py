"""Plain-text hygiene for people's names and profile text.

Stored text is plain text: clients render it, and must still escape it, but nothing we
hand out should carry markup, terminal escapes, bidi overrides or NULs (which
PostgreSQL refuses) in the first place.
"""

from __future__ import annotations

import html
import unicodedata

import nh3

# Bidi embeddings, overrides and isolates: they let a name display as something else.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALLOWED_IN_BLOCKS = frozenset("\n\t")


def _is_forbidden(char: str, *, multiline: bool) -> bool:
    if multiline and char in _ALLOWED_IN_BLOCKS:
        return False
    # Cc: C0/C1 controls incl. NUL; Cs: lone surrogates, which cannot be encoded as UTF-8.
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS


def has_forbidden_chars(value: str, *, multiline: bool = False) -> bool:
    return any(_is_forbidden(char, multiline=multiline) for char in value)


def drop_forbidden_chars(value: str, *, multiline: bool = False) -> str:
    return "".join(char for char in value if not _is_forbidden(char, multiline=multiline))


def strip_html(value: str) -> str:
    """Text with every tag removed and entities decoded, to a fixed point.

    Decoding once would turn ``&lt;script&gt;`` into a live tag, so cleaning repeats
    until decoding reveals nothing new.
    """
    for _ in range(4):
        cleaned = html.unescape(nh3.clean(value, tags=set()))
        if cleaned == value:
            return cleaned
        value = cleaned
    # Still changing: deeply nested escaping is an attack, not a name.
    return value.replace("<", "").replace(">", "")


def clean_line(value: object, max_len: int) -> str | None:
    """A single line of plain text, at most ``max_len`` characters; None if empty."""
    if not isinstance(value, str):
        return None
    # Dropped again after decoding: an entity such as &#x202e; can hide a control.
    text = drop_forbidden_chars(strip_html(drop_forbidden_chars(value)))
    text = " ".join(text.split())[:max_len].strip()
    return text or None


def clean_block(value: str, max_len: int) -> str:
    """Multi-line plain text (a bio): tags removed, line breaks kept, bounded."""
    text = strip_html(drop_forbidden_chars(value, multiline=True))
    text = drop_forbidden_chars(text, multiline=True)
    return text.strip()[:max_len]
