"""From a found recipe to the draft: the one function that assembles RecipeCreate."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from app.imports import mapping
from app.imports.exceptions import NoRecipeFound
from app.imports.extract import Found
from app.imports.mapping import Mapping, Notes, plain
from app.imports.urls import canonical_url
from app.recipes import schemas as recipe_schemas
from app.recipes.schemas import RecipeCreate

logger = logging.getLogger("homechef.imports")


def build_draft(found: Found, source_url: str | None) -> Mapping:
    notes = Notes()
    node = found.node
    title = plain(node.get("name") or node.get("headline"), recipe_schemas.MAX_TITLE,
                  "title", notes)
    if not title:
        title = "Imported recipe"
        notes.add("guessed", "title", "The page names no title; a placeholder was used.")
    prep, cook = mapping.times(node, notes)
    fields = {
        "title": title,
        "description": plain(node.get("description"), recipe_schemas.MAX_DESCRIPTION,
                             "description", notes, multiline=True),
        "servings": mapping.servings(node.get("recipeYield") or node.get("yield"), notes),
        "prep_minutes": prep,
        "cook_minutes": cook,
        "cuisine": plain(node.get("recipeCuisine"), 60, "cuisine", notes),
        "source_url": _source(source_url, notes),
        "tags": mapping.tags(node, notes),
        "ingredients": mapping.ingredients(
            node.get("recipeIngredient") or node.get("ingredients"), notes),
        "steps": mapping.steps(node.get("recipeInstructions"), notes),
    }
    if not fields["ingredients"]:
        notes.add("dropped", "ingredients", "The page lists no ingredients.")
    if not fields["steps"]:
        notes.add("dropped", "steps", "The page gives no steps.")
    try:
        draft = RecipeCreate.model_validate(fields)
    except ValidationError as exc:
        # Every field was fitted above; reaching this is a bug, and still no 500.
        logger.warning("import draft invalid", extra={"event": "import.draft_invalid",
                                                       "errors": exc.error_count()})
        raise NoRecipeFound("The recipe on this page could not be read.") from None
    images = mapping.image_urls(node.get("image"), found.og_images, source_url)
    return Mapping(draft=draft, image_urls=images, warnings=notes.items)


def _source(url: str | None, notes: Notes) -> str | None:
    canonical = canonical_url(url)
    if url and canonical is None:
        notes.add("dropped", "source_url", "The page's address could not be kept.")
    return canonical
