"""The labelled ingredient lines and the scoring used by the test and the bench."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).parent / "data" / "ingredient_lines.tsv"


@dataclass(frozen=True)
class Label:
    split: str
    heading: bool
    text: str
    quantity: Decimal | None
    unit: str | None
    name: str
    note: str | None


@dataclass(frozen=True)
class Guess:
    heading: bool
    quantity: Decimal | None
    unit: str | None
    name: str | None
    note: str | None


def load_labels() -> list[Label]:
    labels = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(("#", "set\t")):
            continue
        split, kind, text, quantity, unit, name, note = (line.split("\t") + [""] * 7)[:7]
        labels.append(Label(split, kind == "h", text, Decimal(quantity) if quantity else None,
                            unit or None, name, note or None))
    return labels


def _norm(text: str | None) -> str:
    return re.sub(r"[\s,;.()]+", " ", (text or "").lower()).strip()


def field_scores(label: Label, guess: Guess) -> dict[str, bool]:
    if label.heading or guess.heading:
        same = label.heading == guess.heading and _norm(label.name) == _norm(guess.name)
        return dict.fromkeys(("quantity", "unit", "name", "note"), same)
    return {
        "quantity": label.quantity == guess.quantity,
        "unit": label.unit == guess.unit,
        "name": _norm(label.name) == _norm(guess.name),
        "note": _norm(label.note) == _norm(guess.note),
    }


def evaluate(parse: Callable[[str], Guess], split: str) -> dict[str, float]:
    """Share of lines right per field, and whole lines right (every field)."""
    labels = [label for label in load_labels() if label.split == split]
    totals = {"quantity": 0, "unit": 0, "name": 0, "note": 0, "line": 0}
    for label in labels:
        scores = field_scores(label, parse(label.text))
        for field, right in scores.items():
            totals[field] += right
        totals["line"] += all(scores.values())
    return {field: count / len(labels) for field, count in totals.items()} | {
        "lines": len(labels)}


def rule_based_guess(text: str) -> Guess:
    from app.imports.ingredients import parse_line

    parsed = parse_line(text)
    if parsed is None:
        return Guess(False, None, None, None, None)
    if parsed.heading is not None:
        return Guess(True, None, None, parsed.heading, None)
    return Guess(False, parsed.quantity, parsed.unit, parsed.name, parsed.note)
