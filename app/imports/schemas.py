"""Request and response shapes of the import API.

The draft is exactly ``RecipeCreate``: the app shows it in its recipe form and posts it
back to POST /api/v1/recipes unchanged (or edited).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.recipes.schemas import IngredientIn, OptionalUrl, RecipeCreate

MAX_PASTED_PAGE = 5 * 1024 * 1024
MAX_LINES = 200
MAX_LINE = 500

Method = Literal["json-ld", "microdata", "site-parser", "opengraph"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UrlImportIn(Input):
    #: Checked by the guarded fetcher (scheme, port, address); a refusal is a 422 problem.
    url: Annotated[str, Field(min_length=1, max_length=2048)]


class HtmlImportIn(Input):
    #: A whole page as the app has it (e.g. from a share target), or JSON-LD on its own.
    html: Annotated[str, Field(min_length=1, max_length=MAX_PASTED_PAGE)]
    #: Where the page came from, if known: it becomes the draft's source_url.
    source_url: OptionalUrl = None


class ImportWarning(BaseModel):
    #: "truncated" (cut to our limits), "dropped" (left out) or "guessed" (not on the page).
    code: Literal["truncated", "dropped", "guessed"]
    #: The draft field it concerns.
    field: str
    detail: str


class Duplicate(BaseModel):
    id: uuid.UUID
    title: str


class ImportSource(BaseModel):
    url: str | None
    final_url: str | None
    site_name: str | None


class ImportResult(BaseModel):
    draft: RecipeCreate
    #: Absolute http(s) URLs of the recipe's pictures, best first (at most 10). Attach
    #: one after saving with PUT /api/v1/recipes/{id}/image and {"url": ...}.
    image_urls: list[str]
    #: The caller's own recipes with the same canonical source_url.
    duplicates: list[Duplicate]
    source: ImportSource
    method: Method
    warnings: list[ImportWarning]


class IngredientLinesIn(Input):
    lines: Annotated[list[Annotated[str, Field(max_length=MAX_LINE)]],
                     Field(min_length=1, max_length=MAX_LINES)]


class ParsedIngredientLine(BaseModel):
    #: The line as read (entities decoded, markup and bullets removed).
    text: str
    #: Set on a section heading ("For the sauce"); such a line has no ingredient. The
    #: lines after it carry the heading at the start of their note, as a draft does.
    heading: str | None
    ingredient: IngredientIn | None


class IngredientLinesOut(BaseModel):
    items: list[ParsedIngredientLine]
