"""Servings scaling with exact decimal arithmetic and rounding fit for a cook.

Quantities are ``Decimal`` from end to end (never float): 1/3 of a cup is computed with 28
significant digits, then rounded for display to what a kitchen scale or a measuring spoon
can express, and printed without trailing zeros or exponents.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

_PRECISION = 28
_SIGNIFICANT_BELOW_ONE = 3


def format_quantity(value: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal("1.5000") -> "1.5", 1.5E+3 -> "1500"."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _display_places(value: Decimal) -> int:
    magnitude = abs(value)
    if magnitude >= 100:
        return 0  # 1500 g, not 1500.37 g
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    # Below one: keep three significant digits (0.333 cup, 0.0625 tsp).
    return _SIGNIFICANT_BELOW_ONE - 1 - magnitude.adjusted()


def round_for_display(value: Decimal) -> Decimal:
    if value == 0:
        return Decimal(0)
    places = _display_places(value)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def scale_quantity(quantity: Decimal, from_servings: int, to_servings: int) -> Decimal:
    """``quantity`` for ``to_servings`` instead of ``from_servings``, rounded for display."""
    with localcontext() as context:
        context.prec = _PRECISION
        # Multiply first: 3 * 2 / 3 stays exactly 2.
        scaled = quantity * Decimal(to_servings) / Decimal(from_servings)
        return round_for_display(scaled)


def display_quantity(
    quantity: Decimal | None, from_servings: int, to_servings: int | None
) -> str | None:
    """The quantity as shown: exact as stored when not scaled, rounded when scaled."""
    if quantity is None:
        return None
    if to_servings is None or to_servings == from_servings:
        return format_quantity(quantity)
    return format_quantity(scale_quantity(quantity, from_servings, to_servings))


def exact_scale(quantity: Decimal, from_servings: int, to_servings: int) -> Fraction:
    """``quantity`` for ``to_servings`` with no rounding at all, as a fraction.

    For sums of scaled quantities (the shopping list): three thirds of a cup must add up
    to exactly one cup, which no finite decimal of 1/3 does.
    """
    return Fraction(quantity) * to_servings / from_servings
