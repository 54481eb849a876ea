"""Quantities written the way cooks write them: "1/2", "1 1/2", "1-1/2", "½", "1½", "0,5".

Used by ``RecipeCreate`` (a quantity may be sent as such a string) and by the import's
ingredient parser. The value is an exact Decimal when it has one (halves, quarters,
eighths...); thirds and the like are rounded half-even to the 4 places the column keeps.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

PLACES = Decimal("0.0001")

VULGAR_FRACTIONS = {
    "½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5",
    "⅗": "3/5", "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅐": "1/7", "⅛": "1/8", "⅜": "3/8",
    "⅝": "5/8", "⅞": "7/8", "⅑": "1/9", "⅒": "1/10",
}
_VULGAR = re.compile("([0-9])?([" + "".join(VULGAR_FRACTIONS) + "])")
_FRACTION_SLASH = "\u2044"

#: A whole number, a decimal (point or comma), a fraction, or a whole number and a
#: fraction separated by a space or a hyphen.
NUMBER_PATTERN = r"(?:\d+(?:[ -]\d+/\d+)|\d+/\d+|\d+(?:[.,]\d+)?|[.,]\d+)"
_NUMBER = re.compile(rf"^{NUMBER_PATTERN}$")


def expand_vulgar_fractions(text: str) -> str:
    """"1½" -> "1 1/2", "½" -> "1/2", and the fraction slash to a plain slash."""

    def one(match: re.Match[str]) -> str:
        whole, fraction = match.group(1), VULGAR_FRACTIONS[match.group(2)]
        return f"{whole} {fraction}" if whole else fraction

    return _VULGAR.sub(one, text.replace(_FRACTION_SLASH, "/"))


def parse_number(text: str) -> Decimal | None:
    """The value of one written number, or None if ``text`` is not one."""
    text = expand_vulgar_fractions(text.strip())
    if not _NUMBER.match(text):
        return None
    try:
        whole, _, fraction = text.replace("-", " ").rpartition(" ")
        value = _simple(fraction) + (Decimal(whole) if whole else Decimal(0))
    except (InvalidOperation, ZeroDivisionError):
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        value = value.quantize(PLACES, rounding=ROUND_HALF_EVEN)
    return value


def _simple(text: str) -> Decimal:
    if "/" in text:
        numerator, denominator = text.split("/")
        return Decimal(numerator) / Decimal(denominator)
    return Decimal(text.replace(",", "."))


def quantity_before_validation(value: object) -> object:
    """For ``BeforeValidator``: turn a fraction string into a Decimal; leave the rest to
    the field's own validation (so "abc" is still a 422 with the usual message)."""
    if isinstance(value, str) and any(c in value for c in "/,½⅓⅔¼¾⅛⅜⅝⅞⅕⅖⅗⅘⅙⅚⅐⅑⅒\u2044 -"):
        parsed = parse_number(value)
        return parsed if parsed is not None else value
    return value
