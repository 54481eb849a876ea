"""Ingredient sentences into structured lines: "1 1/2 cups flour, sifted" ->
quantity 1.5, unit "cup", name "flour", note "sifted".

A rule-based parser, chosen over ingredient-parser-nlp after measuring both
(bench/README.md, "Recipe import"): the NLP parser needs NLTK tagger data that is
downloaded at run time, which this deployment cannot do, and costs far more per line.

Conventions (the labelled set in tests/imports/ingredient_lines.tsv follows them):
- the quantity is the first number; a range ("2-3") keeps its low end and the range goes
  into the note; "a"/"an" before a unit is 1;
- units are canonical short names ("cup", "tbsp", "tsp", "g", "ml", "oz", "lb", "clove",
  "can", ...); a size word ("large") stays in the name;
- after the first comma, parentheses, and phrases like "to taste" go into the note;
- a section heading ("For the sauce:") yields no ingredient; the lines after it carry
  the heading in their note (``section``), so a draft keeps the grouping.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal

from app.core.sanitize import strip_html
from app.recipes.fractions import NUMBER_PATTERN, expand_vulgar_fractions, parse_number

_UNITS: dict[str, tuple[str, ...]] = {
    "cup": ("cups", "cup", "c.", "c"),
    "tbsp": ("tablespoons", "tablespoon", "tbsps", "tbsp.", "tbsp", "tbs.", "tbs", "tbl.",
             "tbl", "tb.", "tb"),
    "tsp": ("teaspoons", "teaspoon", "tsps", "tsp.", "tsp", "tsps."),
    "g": ("grams", "gram", "grammes", "gramme", "gr.", "gr", "g.", "g"),
    "kg": ("kilograms", "kilogram", "kilos", "kilo", "kgs", "kg"),
    "mg": ("milligrams", "milligram", "mg"),
    "ml": ("millilitres", "milliliters", "millilitre", "milliliter", "mls", "ml"),
    "cl": ("centilitres", "centiliters", "cl"),
    "dl": ("decilitres", "deciliters", "dl"),
    "l": ("litres", "liters", "litre", "liter", "ltr", "l"),
    "fl oz": ("fluid ounces", "fluid ounce", "fl. oz.", "fl. oz", "fl oz.", "fl oz", "floz"),
    "oz": ("ounces", "ounce", "oz.", "oz"),
    "lb": ("pounds", "pound", "lbs.", "lbs", "lb.", "lb"),
    "pint": ("pints", "pint", "pts", "pt.", "pt"),
    "quart": ("quarts", "quart", "qts", "qt.", "qt"),
    "gallon": ("gallons", "gallon", "gal."),
    "pinch": ("pinches", "pinch"),
    "dash": ("dashes", "dash"),
    "splash": ("splashes", "splash"),
    "drop": ("drops", "drop"),
    "clove": ("cloves", "clove"),
    "can": ("cans", "can", "tins", "tin"),
    "jar": ("jars", "jar"),
    "package": ("packages", "package", "packets", "packet", "pkgs", "pkg.", "pkg", "packs",
                "pack"),
    "bag": ("bags", "bag"),
    "bottle": ("bottles", "bottle"),
    "box": ("boxes", "box"),
    "stick": ("sticks", "stick"),
    "slice": ("slices", "slice"),
    "piece": ("pieces", "piece", "pcs"),
    "bunch": ("bunches", "bunch"),
    "sprig": ("sprigs", "sprig"),
    "stalk": ("stalks", "stalk"),
    "head": ("heads", "head"),
    "handful": ("handfuls", "handful"),
    "sheet": ("sheets", "sheet"),
    "knob": ("knobs", "knob"),
    "inch": ("inches", "inch"),
    "cm": ("cm",),
}
#: Case matters for these alone: "1 T" is a tablespoon, "1 t" a teaspoon.
_CASED = {"T": "tbsp", "Tbsp": "tbsp", "t": "tsp", "L": "l"}
_ALIASES = {alias: unit for unit, aliases in _UNITS.items() for alias in aliases}
_UNIT_ALTERNATION = "|".join(
    re.escape(a) for a in sorted([*_ALIASES, *_CASED], key=len, reverse=True))
# A unit is followed by something that is not a letter ("200g", "2 cups,", "1 tbsp.").
_UNIT = re.compile(rf"(?P<unit>{_UNIT_ALTERNATION})(?![A-Za-z])", re.IGNORECASE)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
                 "twelve": 12, "half": Decimal("0.5"), "a half": Decimal("0.5"),
                 "dozen": 12, "a dozen": 12}
_NUM = rf"(?:{NUMBER_PATTERN})"
_QUANTITY = re.compile(
    rf"^(?P<low>{_NUM})(?:\s*(?:-|to|or)\s*(?P<high>{_NUM}))?(?![\d/])\s*", re.IGNORECASE)
_WORD_QUANTITY = re.compile(
    r"^(?P<word>a half|a dozen|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|half|dozen)\s+", re.IGNORECASE)
_MULTIPLIER = re.compile(rf"^x\s*(?P<size>{_NUM}\s*[a-zA-Z. ]{{0,12}}?)\s+(?=\S)", re.IGNORECASE)
_PARENS = re.compile(r"\s*\(([^()]*)\)\s*")
_BULLET = re.compile(r"^\s*(?:[-*•·▪►✓]|\d+[.)](?=\s))\s*")
_TRAILING_NOTES = re.compile(
    r"\s+(?P<note>(?:or\s+)?(?:to taste|as needed|as required|for (?:garnish|serving|"
    r"greasing|dusting|frying|decoration|the pan)|optional|divided|plus more[^,]*|"
    r"at room temperature|if needed))\s*$", re.IGNORECASE)
_MIXED_AND = re.compile(r"(\d+)\s+(?:&|and)\s+(\d+/\d+)")
_OF_FRUIT = re.compile(
    rf"^(?P<part>zest|juice|zest and juice|juice and zest) of "
    rf"(?P<n>{_NUM}|an?|one|two|three|four)\s+(?P<rest>.+)$", re.IGNORECASE)
_CONTAINER = re.compile(
    r"^(?P<c>can|tin|bag|jar|pack|package|packet|bottle|box|carton|tub)s?\s+(?=\S)",
    re.IGNORECASE)
_GARLIC_CLOVES = re.compile(r"^(?P<g>garlic)\s+cloves?\b\s*", re.IGNORECASE)
_MEASURES = frozenset({"g", "kg", "ml", "l", "oz", "lb", "fl oz", "cl", "dl"})
_SPACES = re.compile(r"\s+")
MAX_LINE = 500


@dataclass(frozen=True)
class ParsedLine:
    text: str
    #: A section heading: no ingredient, it names the lines after it.
    heading: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    name: str | None = None
    note: str | None = None


def normalise(text: str) -> str:
    text = strip_html(html.unescape(text[: MAX_LINE * 2]))
    text = expand_vulgar_fractions(text).replace("\u2013", "-").replace("\u2014", "-")
    text = _MIXED_AND.sub(r"\1 \2", _SPACES.sub(" ", text)).strip()
    # "1½" became "1 1/2"; "½cup" became "1/2cup": both read as written.
    return _BULLET.sub("", text, count=1).strip()


def _heading(text: str) -> str | None:
    bare = text.rstrip(":").strip()
    if not bare or any(ch.isdigit() for ch in bare) or len(bare) > 60:
        return None
    if text.endswith(":") or (bare.isupper() and len(bare) > 2):
        return bare
    return None


def parse_line(raw: str) -> ParsedLine | None:
    """One ingredient sentence; None for an empty line."""
    text = normalise(raw)
    if not text:
        return None
    heading = _heading(text)
    if heading is not None:
        return ParsedLine(text=text, heading=heading)
    of_fruit = _OF_FRUIT.match(text)
    if of_fruit:  # "juice of 2 limes": two limes to buy, for their juice
        return _of_fruit(text, of_fruit)
    notes: list[str] = []
    quantity, rest, range_note = _take_quantity(text)
    if range_note:
        notes.append(range_note)
    rest, size = _take_multiplier(rest) if quantity is not None else (rest, None)
    rest = _take_parentheses_before_unit(rest, notes)
    unit, rest = _take_unit(rest, quantity is not None)
    if size:
        notes.append(size)
    rest = _take_container(rest, unit, notes)
    if unit is None and quantity is not None and (garlic := _GARLIC_CLOVES.match(rest)):
        unit, rest = "clove", f"{garlic.group('g')} {rest[garlic.end():]}"
    if unit and quantity is None and unit not in ("pinch", "dash", "splash", "handful"):
        unit, rest = None, text  # "can opener", "head chef": not a quantity at all
    rest = _take_parentheses_before_unit(rest, notes)
    rest = re.sub(r"^of\s+", "", rest, flags=re.IGNORECASE)
    name, note_parts = _split_name(rest)
    notes.extend(note_parts)
    if not name:
        name = text
    note = "; ".join(n for n in notes if n) or None
    return ParsedLine(text=text, quantity=quantity, unit=unit, name=name[:200],
                      note=note[:500] if note else None)


def _take_quantity(text: str) -> tuple[Decimal | None, str, str | None]:
    match = _QUANTITY.match(text)
    if match:
        low = parse_number(match.group("low"))
        if low is not None:
            high = match.group("high")
            range_note = f"{match.group('low')}-{high}" if high else None
            return low, text[match.end():], range_note
    word = _WORD_QUANTITY.match(text)
    if word:
        rest = text[word.end():]
        value = Decimal(str(_WORD_NUMBERS[word.group("word").lower()]))
        if word.group("word").lower() == "half":
            rest = re.sub(r"^an?\s+", "", rest, flags=re.IGNORECASE)
        # "a" and "an" count only before a unit: "a pinch of salt", not "an egg wash".
        if word.group("word").lower() not in ("a", "an") or _UNIT.match(rest):
            return value, rest, None
    return None, text, None


def _of_fruit(text: str, match: re.Match[str]) -> ParsedLine:
    count = match.group("n").lower()
    quantity = parse_number(count) or Decimal(_WORD_NUMBERS.get(count, 1))
    name, notes = _split_name(match.group("rest"))
    note = "; ".join([match.group("part").lower(), *notes])
    return ParsedLine(text=text, quantity=quantity, name=name or text, note=note)


def _take_container(rest: str, unit: str | None, notes: list[str]) -> str:
    """"400g can chickpeas": the weight is the quantity, the can a remark."""
    match = _CONTAINER.match(rest) if unit in _MEASURES else None
    if match:
        notes.append(match.group("c").lower())
        return rest[match.end():]
    return rest


def _take_multiplier(rest: str) -> tuple[str, str | None]:
    """"2 x 400g cans tomatoes": the count is the quantity, the size goes to the note."""
    match = _MULTIPLIER.match(rest)
    if not match:
        return rest, None
    return rest[match.end():], match.group("size").strip()


def _take_parentheses_before_unit(rest: str, notes: list[str]) -> str:
    while rest.startswith("("):
        match = _PARENS.match(rest)
        if not match:
            break
        notes.append(match.group(1).strip())
        rest = rest[match.end():]
    return rest


def _take_unit(rest: str, has_quantity: bool) -> tuple[str | None, str]:
    match = _UNIT.match(rest)
    if not match:
        return None, rest
    written = match.group("unit")
    unit = _CASED.get(written) or _ALIASES.get(written.lower())
    if unit is None or (written in ("c", "C", "l", "t", "T") and not has_quantity):
        return None, rest
    return unit, rest[match.end():].lstrip(" .")


def _split_name(rest: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    name, comma, after = rest.partition(",")
    if comma and after.strip():
        notes.append(after.strip())
    # Parentheses anywhere in the name are a remark on it: "butter (softened)".
    for inner in _PARENS.findall(name):
        if inner.strip():
            notes.insert(0, inner.strip())
    name = _PARENS.sub(" ", name)
    trailing = _TRAILING_NOTES.search(name)
    if trailing:
        notes.insert(0, trailing.group("note"))
        name = name[: trailing.start()]
    return _SPACES.sub(" ", name).strip(" .;:-"), notes


def parse_lines(lines: list[str]) -> list[tuple[ParsedLine, str | None]]:
    """Every non-empty line with the section it belongs to (the last heading above it)."""
    section: str | None = None
    parsed: list[tuple[ParsedLine, str | None]] = []
    for raw in lines:
        line = parse_line(raw)
        if line is None:
            continue
        if line.heading is not None:
            section = line.heading
        parsed.append((line, section))
    return parsed
