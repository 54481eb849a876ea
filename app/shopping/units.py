"""Kitchen units through ``pint``, with exact arithmetic, and how merged lines read.

Exactness: pint is built with ``non_int_type=Fraction``, so its definitions (inch =
2.54 cm, gallon = 231 in³, cup = gallon / 16, lb = 0.45359237 kg, ...) become exact
rationals and every conversion is exact (1 cup = 473176473/2000000 ml, not a float).
A ``Decimal`` registry is *not* exact: 1/3 cup x 3 gives 0.999…9 cup at 28 digits.
Quantities are ``Fraction`` while merging and are stored as ``Decimal`` at the end
(``to_decimal``), exactly whenever the result has a finite decimal expansion.

Safety: unit text comes from users and imported pages, so pint only sees short words
(``_WORD``), its answers are accepted only for mass and volume (pint reads "pinch" as a
pico-inch and "c" as the speed of light), and every lookup is cached and bounded.
Anything else is an unknown unit: kept as text, never converted, never merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import cache, lru_cache
from typing import Literal

import pint

Dimension = Literal["mass", "volume"]
System = Literal["metric", "us"]

_DIMENSIONS: tuple[tuple[dict[str, int], Dimension], ...] = (
    ({"[mass]": 1}, "mass"), ({"[length]": 3}, "volume"),
)
_WORD = re.compile(r"^[a-z]{1,20}( [a-z]{1,20})?$")

#: Kitchen spellings pint gets wrong or does not know (case-sensitive first: T / t).
_ALIASES = {
    "T": "tablespoon", "Tbsp": "tablespoon", "Tbs": "tablespoon", "t": "teaspoon",
    "c": "cup", "tbs": "tablespoon", "tbl": "tablespoon", "tbsps": "tablespoon",
    "tsps": "teaspoon", "fl oz": "fluid_ounce", "floz": "fluid_ounce",
    "fluid ounce": "fluid_ounce", "fluid ounces": "fluid_ounce", "lbs": "pound",
    "litre": "liter", "litres": "liter", "millilitre": "milliliter",
    "millilitres": "milliliter", "pt": "pint", "qt": "quart", "gal": "gallon",
}

#: Units a merged line may be shown in, per system and dimension, smallest first, each
#: with the amount (in that unit) from which it reads better than the smaller ones:
#: 1,000 g is 1 kg; a quarter cup is where measuring cups start.
_DISPLAY: dict[tuple[System, Dimension], tuple[tuple[str, Fraction], ...]] = {
    ("metric", "mass"): (("g", Fraction(0)), ("kg", Fraction(1))),
    ("metric", "volume"): (("ml", Fraction(0)), ("l", Fraction(1))),
    ("us", "mass"): (("oz", Fraction(0)), ("lb", Fraction(1))),
    ("us", "volume"): (("tsp", Fraction(0)), ("tbsp", Fraction(1)), ("cup", Fraction(1, 4))),
}
_PINT_NAMES = {
    "g": "gram", "kg": "kilogram", "mg": "milligram", "ml": "milliliter", "l": "liter",
    "cl": "centiliter", "dl": "deciliter", "oz": "ounce", "lb": "pound", "tsp": "teaspoon",
    "tbsp": "tablespoon", "cup": "cup",
}
_METRIC_WORDS = ("gram", "liter", "meter")


@dataclass(frozen=True, slots=True)
class KitchenUnit:
    """A unit pint understood: its pint name, dimension and which system it belongs to."""

    name: str
    dimension: Dimension
    system: System


@cache
def registry() -> pint.UnitRegistry:
    # Built once per process (~0.4 s); pint registries are safe to read from threads.
    return pint.UnitRegistry(non_int_type=Fraction)


def _dimension(dimensionality: dict[str, object]) -> Dimension | None:
    for wanted, dimension in _DIMENSIONS:
        if dimensionality == wanted:
            return dimension
    return None


def _clean(text: str) -> str:
    return " ".join(text.replace(".", " ").split())


@lru_cache(maxsize=2048)
def parse_unit(text: str | None) -> KitchenUnit | None:
    """The kitchen unit ``text`` names, or None for no unit or an unknown one."""
    if not text:
        return None
    cleaned = _clean(text)
    name = _ALIASES.get(cleaned) or _ALIASES.get(cleaned.lower()) or cleaned.lower()
    name = _PINT_NAMES.get(name, name)
    if not _WORD.match(name.replace("_", "")):
        return None
    try:
        pint_name = registry().get_name(name.replace(" ", "_"))
        dimensionality = dict(registry().get_dimensionality(pint_name))
    except Exception:  # pint raises many types; any of them means "unknown"
        return None
    dimension = _dimension(dimensionality)
    if dimension is None:
        return None
    system: System = "metric" if any(w in pint_name for w in _METRIC_WORDS) else "us"
    return KitchenUnit(name=pint_name, dimension=dimension, system=system)


@lru_cache(maxsize=512)
def factor(from_unit: str, to_unit: str) -> Fraction:
    """The exact factor taking a quantity in ``from_unit`` to ``to_unit`` (pint names)."""
    converted = registry().Quantity(Fraction(1), from_unit).to(to_unit).magnitude
    return Fraction(converted)


def convert(value: Fraction, from_unit: KitchenUnit, to_unit: KitchenUnit) -> Fraction:
    if from_unit.name == to_unit.name:
        return value
    return value * factor(from_unit.name, to_unit.name)


def display_unit(dimension: Dimension, system: System, amount_in_smallest: Fraction) -> str:
    """The unit that reads best for an amount given in the system's smallest unit: the
    biggest one the amount reaches (1,500 g reads 1.5 kg, 1/3 cup stays in cups, 2 tsp
    stay teaspoons)."""
    choices = _DISPLAY[(system, dimension)]
    smallest = _PINT_NAMES[choices[0][0]]
    best = choices[0][0]
    for candidate, threshold in choices[1:]:
        if amount_in_smallest >= threshold * factor(_PINT_NAMES[candidate], smallest):
            best = candidate
    return best


def smallest_unit(dimension: Dimension, system: System) -> KitchenUnit:
    short = _DISPLAY[(system, dimension)][0][0]
    return KitchenUnit(name=_PINT_NAMES[short], dimension=dimension, system=system)


def short_unit(short: str) -> KitchenUnit:
    unit = parse_unit(short)
    assert unit is not None, short
    return unit


#: Digits kept for a quantity with no finite decimal expansion (1/3 cup): far below
#: anything a kitchen measures, and only ever the last step (totals are recomputed from
#: the exact shares, never from a stored rounded total).
STORED_PLACES = 12


def to_decimal(value: Fraction) -> Decimal:
    """``value`` as a Decimal: exact when it has a finite expansion, else 12 places;
    without trailing zeros or an exponent (100, not 1E+2)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    with localcontext() as context:
        context.prec = 60
        result = Decimal(value.numerator) / Decimal(value.denominator)
        if denominator != 1:
            result = result.quantize(Decimal(1).scaleb(-STORED_PLACES))
        result = result.normalize()
        exponent = result.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:
            result = result.quantize(Decimal(1))
        return result


def to_fraction(value: Decimal) -> Fraction:
    return Fraction(value)
