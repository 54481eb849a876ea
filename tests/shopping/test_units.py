"""The pure parts: name folding, unit reading through pint, exact conversion and display."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pint
import pytest

from app.shopping import units
from app.shopping.merging import Merger, Share, name_key, total


@pytest.mark.parametrize(("name", "key"), [
    ("  Ripe  TOMATOES ", "ripe tomato"), ("eggs", "egg"), ("Berries", "berry"),
    ("peaches", "peach"), ("glass", "glass"), ("hummus", "hummus"), ("Salt", "salt"),
    ("potatoes", "potato"), ("", ""),
])
def test_names_fold_case_whitespace_and_simple_plurals(name: str, key: str) -> None:
    assert name_key(name) == key


@pytest.mark.parametrize(("text", "pint_name"), [
    ("g", "gram"), ("kg", "kilogram"), ("cups", "cup"), ("T", "tablespoon"),
    ("Tbsp.", "tablespoon"), ("t", "teaspoon"), ("tsp", "teaspoon"), ("fl oz", "fluid_ounce"),
    ("lbs", "pound"), ("litre", "liter"), ("ml", "milliliter"), ("c", "cup"),
])
def test_kitchen_units_are_read(text: str, pint_name: str) -> None:
    unit = units.parse_unit(text)
    assert unit is not None and unit.name == pint_name


@pytest.mark.parametrize("text", [
    "pinch", "clove", "handful", "m", "min", "bar", "__import__('os')", "kg**99999",
    "1e999 g", "g/ml", "x" * 300, "tablespoon of", "\u0000", "cupé",
])
def test_anything_else_is_an_unknown_unit(text: str) -> None:
    assert units.parse_unit(text) is None


def test_conversions_are_exact_where_a_decimal_registry_is_not() -> None:
    cup, ml = units.short_unit("cup"), units.short_unit("ml")
    assert units.convert(Fraction(1), cup, ml) == Fraction(473176473, 2000000)
    assert units.convert(Fraction(1, 3) * 3, cup, cup) == 1
    # Why Fraction: pint with Decimal numbers rounds a third at 28 digits.
    decimal_registry = pint.UnitRegistry(non_int_type=Decimal)
    third = decimal_registry.Quantity(Decimal(1) / Decimal(3), "cup") * 3
    assert third.magnitude != 1


def test_stored_decimals_are_exact_when_finite() -> None:
    assert units.to_decimal(Fraction(473176473, 2000000)) == Decimal("236.5882365")
    assert units.to_decimal(Fraction(3)) == Decimal(3)
    assert units.to_decimal(Fraction(1, 3)) == Decimal("0.333333333333")


@pytest.mark.parametrize(("shares", "system", "expected"), [
    ([("1500", "g")], "metric", ("1.5", "kg")),
    ([("999", "g")], "metric", ("999", "g")),
    ([("20", "oz")], "us", ("1.25", "lb")),
    ([("48", "tsp")], "us", ("1", "cup")),
    ([("2", "tsp")], "us", ("2", "tsp")),
    ([("1", "cup"), ("100", "ml")], "metric", ("336.5882365", "ml")),
    ([("500", "ml"), ("0.5", "l")], "us", ("1", "l")),
])
def test_totals_read_best_in_one_system(shares, system, expected) -> None:
    parts = [Share(None, None, None, Decimal(q), u) for q, u in shares]
    quantity, unit = total(parts, system)
    assert (str(quantity), unit) == expected


def test_a_merger_never_crosses_dimensions_or_merges_text_units() -> None:
    merger = Merger([], "metric", next_position=0)
    for quantity, unit in (("1", "cup"), ("100", "g"), ("2", "clove"), ("2", "clove"),
                           ("1", None), (None, None)):
        merger.add("Garlic", Share(None, None, None,
                                   None if quantity is None else Decimal(quantity), unit))
    lines = merger.finish()
    assert [(str(line.quantity), line.unit) for line in lines] == [
        ("1", "cup"), ("100", "g"), ("2", "clove"), ("2", "clove"), ("1", None)]
