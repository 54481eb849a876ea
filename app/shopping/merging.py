"""How contributions (a recipe's ingredients, a typed line) merge into a list's open lines.

Pure: no database. The rules (README "Merging rules"):

- Lines merge when their normalised names match (``name_key``: case, whitespace and a
  simple plural folded) and their kinds are compatible: the same dimension (mass with
  mass, volume with volume), plain counts with counts ("2 eggs" + "1 egg").
- A contribution without a quantity merges by name into any mergeable line ("salt"); a
  quantity merges into a line that so far had none.
- A unit pint does not know ("clove", "pinch") is kept as text: never merged either way.
- Only open lines take part: a ticked line is never merged into (the service passes
  open lines only).
- Totals are recomputed from every share as exact fractions, converted by pint's exact
  factors, and shown in the unit that reads best in one system: the contributions' own
  system when they agree (3 x 1/3 cup is 1 cup), the person's ``measurement_system``
  when they mix (1 cup + 100 ml).
- A line edited by hand keeps its own quantity and unit: a merge adds the share to it,
  converted to its unit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from app.recipes.scaling import exact_scale
from app.shopping import units
from app.shopping.units import System

_ES_ENDINGS = ("oes", "ches", "shes", "xes", "sses", "zes")


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"  # berries -> berry
    if word.endswith(_ES_ENDINGS):
        return word[:-2]  # tomatoes -> tomato, peaches -> peach
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]  # eggs -> egg (not glass, hummus, tahini's "is")
    return word


def name_key(name: str) -> str:
    """What merging compares: "  Ripe  TOMATOES " and "ripe tomato" are one line."""
    words = name.casefold().split()
    if words:
        words[-1] = _singular(words[-1])
    return " ".join(words)[:200]


@dataclass
class Share:
    """One contribution: a recipe's ingredient at some servings, or a typed quantity."""

    recipe_id: uuid.UUID | None
    servings: int | None
    recipe_servings: int | None
    quantity: Decimal | None
    unit: str | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    #: The share as an exact fraction, in ``unit`` (computed once: totals reread it).
    exact: Fraction | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.quantity is None:
            self.exact = None
        elif self.servings is None or self.recipe_servings is None:
            self.exact = Fraction(self.quantity)
        else:
            self.exact = exact_scale(self.quantity, self.recipe_servings, self.servings)


@dataclass
class Line:
    """An item while merging. ``new``/``changed`` say what the repository must write."""

    id: uuid.UUID
    name: str
    name_key: str
    quantity: Decimal | None
    unit: str | None
    edited: bool
    position: int
    shares: list[Share] = field(default_factory=list)
    note: str | None = None
    category: str | None = None
    new: bool = False
    changed: bool = False
    #: What it merges with (see ``kind``), kept up to date while merging.
    kind: str = ""

    def __post_init__(self) -> None:
        self.kind = self.kind or kind(self.quantity, self.unit)


def kind(quantity: Decimal | Fraction | None, unit: str | None) -> str:
    """"text" (unknown unit, unmergeable), "bare" (no quantity), "count", or a dimension."""
    parsed = units.parse_unit(unit)
    if unit is not None and parsed is None:
        return "text"
    if quantity is None:
        return "bare"
    return "count" if parsed is None else parsed.dimension


def total(shares: list[Share], system: System) -> tuple[Decimal | None, str | None]:
    """The exact sum of the shares and the unit it reads best in."""
    amounts = [(share.exact, share.unit) for share in shares if share.quantity is not None]
    if not amounts:
        return None, None
    first_unit = amounts[0][1]
    parsed = [units.parse_unit(unit) for _, unit in amounts]
    if first_unit is None or parsed[0] is None:
        # Counts, or one line in an unknown unit (never merged, so a single share).
        return units.to_decimal(sum((a for a, _ in amounts if a is not None), Fraction(0))), (
            first_unit
        )
    systems = {unit.system for unit in parsed if unit is not None}
    chosen: System = systems.pop() if len(systems) == 1 else system
    dimension = parsed[0].dimension
    smallest = units.smallest_unit(dimension, chosen)
    in_smallest = sum(
        (units.convert(a, u, smallest) for (a, _), u in zip(amounts, parsed, strict=True)
         if a is not None and u is not None),
        Fraction(0),
    )
    best = units.display_unit(dimension, chosen, in_smallest)
    return units.to_decimal(units.convert(in_smallest, smallest, units.short_unit(best))), best


def _add_to_edited(line: Line, share: Share) -> None:
    amount = share.exact
    if amount is None:
        return
    if line.quantity is None:
        line.quantity, line.unit = units.to_decimal(amount), share.unit
        return
    mine, theirs = units.parse_unit(line.unit), units.parse_unit(share.unit)
    if mine is not None and theirs is not None:
        amount = units.convert(amount, theirs, mine)
    line.quantity = units.to_decimal(Fraction(line.quantity) + amount)


class Merger:
    """Merges contributions into a list's open lines, in the order given."""

    def __init__(self, open_lines: list[Line], system: System, next_position: int) -> None:
        self.lines = list(open_lines)
        self.system = system
        self.next_position = next_position
        self._by_key: dict[str, list[Line]] = defaultdict(list)
        for line in open_lines:
            self._by_key[line.name_key].append(line)

    def _target(self, key: str, wanted: str) -> Line | None:
        if wanted == "text":
            return None
        candidates = [line for line in self._by_key.get(key, ()) if line.kind != "text"]
        if wanted == "bare":
            return candidates[0] if candidates else None
        for accepts in (wanted, "bare"):
            for line in candidates:
                if line.kind == accepts:
                    return line
        return None

    def add(self, name: str, share: Share) -> Line:
        """Merge one share; totals are settled once, in ``finish`` (not once per share:
        a week of recipes puts dozens of shares on "salt" and "onion")."""
        key = name_key(name)
        wanted = kind(share.quantity, share.unit)
        target = self._target(key, wanted)
        if target is None:
            target = Line(id=uuid.uuid4(), name=name, name_key=key, quantity=None, unit=None,
                          edited=False, position=self.next_position, new=True, kind=wanted)
            self.next_position += 1
            self.lines.append(target)
            self._by_key[key].append(target)
        elif target.kind == "bare":
            target.kind = wanted
        target.shares.append(share)
        if target.edited:
            _add_to_edited(target, share)
        target.changed = True
        return target

    def finish(self) -> list[Line]:
        """Settle the totals of the lines that changed; every line, new ones included."""
        for line in self.lines:
            if line.changed and not line.edited:
                line.quantity, line.unit = total(line.shares, self.system)
        return self.lines


def take_back(line: Line, recipe_id: uuid.UUID, checked: bool, system: System) -> bool:
    """Remove ``recipe_id``'s shares from ``line``; whether the line should go.

    A ticked or hand-edited line only loses the shares (it stays as the person left it);
    otherwise its total is recomputed exactly from what remains, and a line with nothing
    left goes.
    """
    remaining = [share for share in line.shares if share.recipe_id != recipe_id]
    if len(remaining) == len(line.shares):
        return False
    line.shares = remaining
    if checked or line.edited:
        return False
    if not remaining:
        return True
    line.quantity, line.unit = total(remaining, system)
    line.changed = True
    return False
