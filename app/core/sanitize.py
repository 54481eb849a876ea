"""Plain-text hygiene for user-supplied strings.

Stored text is plain: HTML is stripped with nh3 (ammonia), a maintained sanitiser, and
entities are decoded so "Mac &amp; Cheese" is kept as "Mac & Cheese". Control characters
are refused rather than silently dropped: PostgreSQL cannot store NUL (an unguarded NUL is
a 500), lone surrogates cannot be encoded to UTF-8 at all, and the rest have no business
in a recipe.

Helpers raise ``ValueError``, so inside a Pydantic validator a refusal becomes a 422.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

import nh3
from pydantic import AfterValidator, Field

#: Whitespace a multi-line field (a description, a step) may keep.
MULTILINE_WHITESPACE = frozenset("\n\t")

# Decoding entities can reveal markup ("&lt;b&gt;" -> "<b>"), so strip and decode until the
# text is stable. Real text settles in one or two rounds; this bounds hostile nesting.
_MAX_STRIP_ROUNDS = 5

_WHITESPACE_RUN = re.compile(r"\s+")


def find_forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control character or lone surrogate in ``value``, if any.

    ``multiline`` allows newline and tab (after CRLF has been normalised).
    """
    allowed = MULTILINE_WHITESPACE if multiline else frozenset()
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") and char not in allowed:
            return char
    return None


def refuse_control_characters(value: str, *, multiline: bool = False) -> str:
    """Return ``value`` (CRLF normalised to LF when multiline) or raise ValueError."""
    if multiline:
        value = value.replace("\r\n", "\n")
    bad = find_forbidden_character(value, multiline=multiline)
    if bad is not None:
        # The code point, never the text: echoing hostile input is how reflection starts.
        raise ValueError(f"control character U+{ord(bad):04X} is not allowed")
    return value


def strip_html(text: str) -> str:
    """Remove every tag (and the content of script/style), decode entities.

    The result contains no markup that a second pass would change.
    """
    if "<" not in text and "&" not in text:
        return text
    current = text
    for _ in range(_MAX_STRIP_ROUNDS):
        cleaned = nh3.clean(current, tags=set(), attributes={}, strip_comments=True)
        decoded = html.unescape(cleaned)
        if decoded == current:
            return decoded
        current = decoded
    # Still changing: keep the sanitiser's own output, which has no tags (only entities).
    return nh3.clean(current, tags=set(), attributes={}, strip_comments=True)


def clean_text(value: str, max_len: int, *, multiline: bool = False, fold: bool = False) -> str:
    """Refuse control characters, strip HTML and surrounding whitespace, (``fold``:
    case-fold with ``fold_case``), then bound the length of exactly what is returned.

    Single-line values also have inner whitespace runs collapsed to one space. An empty
    result is returned as "" for the caller to judge (a title must not be empty, a bio may).
    """
    value = refuse_control_characters(value, multiline=multiline)
    value = strip_html(value).strip()
    if not multiline:
        value = _WHITESPACE_RUN.sub(" ", value)
    if fold:
        value = fold_case(value)
    # The sanitiser may decode entities into new control characters ("&#0;").
    refuse_control_characters(value, multiline=multiline)
    if len(value) > max_len:
        raise ValueError(f"must be at most {max_len} characters")
    return value


def fold_case(value: str) -> str:
    """NFC, lowercased, NFC again: the form case-insensitive values (tags) are kept in.

    Lowercasing can lengthen text ("İ" becomes "i" plus a combining dot), so any length
    check must come after this, never before.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).lower())


def _plain_text_validator(
    max_len: int, *, multiline: bool, min_len: int, fold: bool = False
) -> Callable[[str], str]:
    def validate(value: str) -> str:
        cleaned = clean_text(value, max_len, multiline=multiline, fold=fold)
        if len(cleaned) < min_len:
            raise ValueError("must not be empty once markup and whitespace are removed")
        return cleaned

    return validate


def PlainText(
    max_len: int, *, multiline: bool = False, min_len: int = 0, fold: bool = False
) -> type[str]:
    """A Pydantic string type: cleaned with ``clean_text`` and length-checked.

    ``fold`` stores the value case-folded (``fold_case``); the folding happens before the
    cleaning and the length check, so what is checked is exactly what is stored.

    The raw input is also capped (at a generous multiple of ``max_len``) before any work,
    so a huge payload is refused without sanitising it first.
    """
    return Annotated[  # type: ignore[return-value]
        str,
        Field(max_length=max_len * 4 + 64),
        AfterValidator(
            _plain_text_validator(max_len, multiline=multiline, min_len=min_len, fold=fold)
        ),
    ]
