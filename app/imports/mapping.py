"""A schema.org Recipe (as found by ``app.imports.extract``) mapped to our RecipeCreate.

The draft must be postable unchanged, so every value is cleaned and fitted here: text
goes through the same plain-text path as user input (nh3), anything over our limits is
cut with a warning rather than refused, and what cannot be used is dropped with a
warning. Nothing here raises on odd input: a page is data, not a request to validate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.core.sanitize import find_forbidden_character, strip_html
from app.imports.ingredients import ParsedLine, parse_lines
from app.imports.schemas import ImportWarning
from app.recipes import schemas as recipe_schemas
from app.recipes.schemas import IngredientIn, RecipeCreate

MAX_IMAGES = 10
_BLOCK_TAGS = re.compile(r"<\s*(?:br|/p|/li|/div|/h\d)\s*/?\s*>", re.IGNORECASE)
_STEP_NUMBER = re.compile(r"^\s*(?:step\s*)?\d{1,3}\s*[.):]\s+", re.IGNORECASE)
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)
_WORDY_DURATION = re.compile(
    r"(?:(?P<h>\d+)\s*(?:h|hrs?|hours?))?\s*(?:(?P<m>\d+)\s*(?:m|mins?|minutes?))?",
    re.IGNORECASE)
_FIRST_INT = re.compile(r"\d{1,6}")


@dataclass
class Mapping:
    draft: RecipeCreate
    image_urls: list[str]
    warnings: list[ImportWarning] = field(default_factory=list)


class Notes:
    """Collects the warnings of one mapping."""

    def __init__(self) -> None:
        self.items: list[ImportWarning] = []

    def add(self, code: str, field_name: str, detail: str) -> None:
        if len(self.items) < 100:
            self.items.append(ImportWarning(code=code, field=field_name, detail=detail))


def plain(value: Any, limit: int, field_name: str, notes: Notes, *,
          multiline: bool = False) -> str | None:
    """Clean text for one of our fields, cut to ``limit`` with a warning."""
    text = _as_text(value)
    if text is None:
        return None
    if multiline:
        text = _BLOCK_TAGS.sub("\n", text)
    text = strip_html(text[: limit * 8])
    text = "".join(ch if find_forbidden_character(ch, multiline=multiline) is None else " "
                   for ch in text.replace("\r\n", "\n"))
    if multiline:
        text = re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()
    else:
        text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
        notes.add("truncated", field_name, f"Cut to {limit} characters.")
    return text or None


def _as_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if v not in (None, "")), None)
    if isinstance(value, dict):
        value = value.get("text") or value.get("name") or value.get("@value")
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, str | int | float) else None


def minutes(value: Any) -> int | None:
    """ISO 8601 ("PT1H30M", "P0DT45M"), a number of minutes, or "1 hour 30 mins"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = _as_text(value)
    if not text:
        return None
    text = text.strip()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if match and any(match.groupdict().values()):
        parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
        return round(parts["d"] * 1440 + parts["h"] * 60 + parts["m"] + parts["s"] / 60)
    wordy = _WORDY_DURATION.search(text)
    if wordy and (wordy.group("h") or wordy.group("m")):
        return int(wordy.group("h") or 0) * 60 + int(wordy.group("m") or 0)
    return None


def servings(value: Any, notes: Notes) -> int:
    """The first whole number in the yield ("4 servings", "Makes 12", ["4", "4 people"])."""
    for item in value if isinstance(value, list) else [value]:
        text = _as_text(item)
        match = _FIRST_INT.search(text or "")
        if match and int(match.group()) > 0:
            number = int(match.group())
            if number > recipe_schemas.MAX_SERVINGS:
                notes.add("truncated", "servings",
                          f"{number} servings is more than {recipe_schemas.MAX_SERVINGS}.")
                return recipe_schemas.MAX_SERVINGS
            return number
    notes.add("guessed", "servings", "The page gives no number of servings; 1 was assumed.")
    return 1


def times(node: dict[str, Any], notes: Notes) -> tuple[int, int]:
    prep, cook, total = (minutes(node.get(k)) for k in ("prepTime", "cookTime", "totalTime"))
    if cook is None and total is not None:
        cook = max(0, total - (prep or 0))
        if cook:
            notes.add("guessed", "cook_minutes",
                      "The page gives a total time only; the rest after prep is cook time.")
    fitted = []
    for name, value in (("prep_minutes", prep), ("cook_minutes", cook)):
        value = value or 0
        if value > recipe_schemas.MAX_MINUTES:
            notes.add("truncated", name, f"Capped at {recipe_schemas.MAX_MINUTES} minutes.")
            value = recipe_schemas.MAX_MINUTES
        fitted.append(max(0, value))
    return fitted[0], fitted[1]


def steps(value: Any, notes: Notes) -> list[dict[str, str]]:
    texts: list[str] = []
    _collect_steps(value, texts, prefix=None, depth=0)
    cleaned = [t for t in (plain(t, recipe_schemas.MAX_STEP, "steps", notes, multiline=True)
                           for t in texts) if t]
    if len(cleaned) > recipe_schemas.MAX_STEPS:
        notes.add("dropped", "steps", f"Only the first {recipe_schemas.MAX_STEPS} steps "
                  f"were kept of {len(cleaned)}.")
    return [{"text": t} for t in cleaned[: recipe_schemas.MAX_STEPS]]


def _collect_steps(value: Any, out: list[str], prefix: str | None, depth: int) -> None:
    """Flatten strings, HowToStep, HowToSection (its name prefixes its first step),
    ItemList and ListItem into step texts."""
    if depth > 6 or len(out) > 2 * recipe_schemas.MAX_STEPS:
        return
    if isinstance(value, str):
        for line in _BLOCK_TAGS.sub("\n", value).split("\n"):
            line = _STEP_NUMBER.sub("", line).strip()
            if strip_html(line).strip():
                out.append(f"{prefix}: {line}" if prefix else line)
                prefix = None
    elif isinstance(value, list):
        for item in value[:500]:
            _collect_steps(item, out, prefix, depth + 1)
            prefix = None
    elif isinstance(value, dict):
        children = value.get("itemListElement") or value.get("steps")
        if children:
            _collect_steps(children, out, _as_text(value.get("name")), depth + 1)
        else:
            text = _as_text(value.get("text")) or _as_text(value.get("name")) or _as_text(
                value.get("item"))
            if text:
                _collect_steps(text, out, prefix, depth + 1)


def ingredients(value: Any, notes: Notes) -> list[dict[str, Any]]:
    lines = value if isinstance(value, list) else ([value] if value else [])
    texts = [t for t in (_as_text(line) for line in lines[:1000]) if t]
    if len(texts) == 1 and "\n" in texts[0]:
        texts = texts[0].split("\n")
    result = [ingredient.model_dump() for parsed, section in parse_lines(texts)
              if parsed.heading is None
              and (ingredient := ingredient_in(parsed, section, notes)) is not None]
    if len(result) > recipe_schemas.MAX_INGREDIENTS:
        notes.add("dropped", "ingredients", f"Only the first {recipe_schemas.MAX_INGREDIENTS}"
                  f" ingredients were kept of {len(result)}.")
    return result[: recipe_schemas.MAX_INGREDIENTS]


def ingredient_in(parsed: ParsedLine, section: str | None, notes: Notes) -> IngredientIn | None:
    """The parsed line as our ingredient; the heading it sits under starts its note."""
    note = "; ".join(p for p in (section, parsed.note) if p) or None
    candidate = {"quantity": parsed.quantity, "unit": parsed.unit,
                 "name": plain(parsed.name, 200, "ingredients", notes),
                 "note": plain(note, 500, "ingredients", notes)}
    try:
        return IngredientIn.model_validate(candidate)
    except ValidationError:
        pass
    candidate["quantity"] = None  # e.g. more digits than the column keeps
    try:
        ingredient = IngredientIn.model_validate(candidate)
    except ValidationError:
        notes.add("dropped", "ingredients", f"A line could not be used: {parsed.text[:80]}")
        return None
    notes.add("dropped", "ingredients", f"A quantity could not be used: {parsed.text[:80]}")
    return ingredient


def tags(node: dict[str, Any], notes: Notes) -> list[str]:
    raw: list[Any] = []
    for key in ("keywords", "recipeCategory"):
        value = node.get(key)
        for item in value if isinstance(value, list) else [value]:
            text = _as_text(item)
            raw.extend(text.split(",") if text else [])
    found: list[str] = []
    for item in raw[:500]:
        tag = plain(item, 10_000, "tags", notes)
        if not tag:
            continue
        if len(tag) > recipe_schemas.MAX_TAG:
            notes.add("dropped", "tags", f"A tag longer than {recipe_schemas.MAX_TAG} "
                      "characters was left out.")
        elif tag.lower() not in found:
            found.append(tag.lower())
    if len(found) > recipe_schemas.MAX_TAGS:
        notes.add("dropped", "tags", f"Only the first {recipe_schemas.MAX_TAGS} tags were "
                  f"kept of {len(found)}.")
    return found[: recipe_schemas.MAX_TAGS]


def image_urls(value: Any, fallback: list[str], base: str | None) -> list[str]:
    from app.imports.urls import absolute_http_url

    urls: list[str] = []
    for item in (value if isinstance(value, list) else [value]) + fallback:
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl")
        url = absolute_http_url(item, base) if isinstance(item, str) else None
        if url and url not in urls:
            urls.append(url)
    return urls[:MAX_IMAGES]
