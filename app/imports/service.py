"""Import rules: from a page (pasted or fetched) to a draft, and the caller's duplicates.

Parsing is CPU-bound and runs on a small pool of its own threads; the fetch is async and
holds no thread and no database connection; the one query (duplicates) runs after both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import anyio.to_thread
import httpx
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from sqlalchemy.orm import Session
from w3lib.encoding import html_to_unicode

from app.imports import repository
from app.imports.draft import build_draft
from app.imports.extract import Method, find_recipe
from app.imports.fetcher import Fetched, GuardedFetcher
from app.imports.ingredients import parse_lines
from app.imports.mapping import Notes, ingredient_in
from app.imports.schemas import (
    Duplicate,
    ImportResult,
    ImportSource,
    ImportWarning,
    IngredientLinesOut,
    ParsedIngredientLine,
)
from app.imports.urls import canonical_url
from app.recipes.schemas import RecipeCreate

#: Parsing is CPU-bound: more threads than cores only adds memory.
PARSE_WORKERS = 2
_parse_workers: RunVar[CapacityLimiter] = RunVar("import_parse_workers")


@dataclass(frozen=True)
class Preview:
    draft: RecipeCreate
    image_urls: list[str]
    method: Method
    site_name: str | None
    warnings: list[ImportWarning]


def _workers() -> CapacityLimiter:
    try:
        return _parse_workers.get()
    except LookupError:
        limiter = CapacityLimiter(PARSE_WORKERS)
        _parse_workers.set(limiter)
        return limiter


def preview_page(page: str, source_url: str | None) -> Preview:
    """Find the recipe in ``page`` and map it (sync; NoRecipeFound if there is none)."""
    found = find_recipe(page, source_url)
    mapped = build_draft(found, source_url)
    site_name = found.site_name or (httpx.URL(source_url).host if source_url else None)
    return Preview(mapped.draft, mapped.image_urls, found.method, site_name, mapped.warnings)


async def preview_in_worker(page: str, source_url: str | None) -> Preview:
    return await anyio.to_thread.run_sync(preview_page, page, source_url, limiter=_workers())


def decode_page(fetched: Fetched) -> str:
    """The page as text: the header's charset, else a BOM or <meta charset>, else UTF-8."""
    header = f"{fetched.content_type}; charset={fetched.charset}" if fetched.charset else None
    _encoding, text = html_to_unicode(header, fetched.body)
    return text


async def preview_url(fetcher: GuardedFetcher, url: str, max_bytes: int) -> tuple[Preview, str]:
    fetched = await fetcher.fetch(url, kind="page", max_bytes=max_bytes)
    page = await anyio.to_thread.run_sync(decode_page, fetched, limiter=_workers())
    return await preview_in_worker(page, fetched.final_url), fetched.final_url


def duplicates(session: Session, owner_id: uuid.UUID, source_url: str | None) -> list[Duplicate]:
    """The caller's recipes whose source_url is the same page (canonical form)."""
    canonical = canonical_url(source_url)
    if canonical is None:
        return []
    host = httpx.URL(canonical).host
    return [Duplicate(id=recipe_id, title=title)
            for recipe_id, title, url in repository.own_recipes_from_host(session, owner_id,
                                                                          host)
            if canonical_url(url) == canonical]


def result(preview: Preview, dupes: list[Duplicate], *, url: str | None,
           final_url: str | None) -> ImportResult:
    return ImportResult(
        draft=preview.draft, image_urls=preview.image_urls, duplicates=dupes,
        source=ImportSource(url=url, final_url=final_url, site_name=preview.site_name),
        method=preview.method, warnings=preview.warnings,
    )


def parse_ingredient_lines(lines: list[str]) -> IngredientLinesOut:
    notes = Notes()  # the endpoint reports an unusable line as ingredient null
    items = [
        ParsedIngredientLine(text=parsed.text, heading=parsed.heading, ingredient=None)
        if parsed.heading is not None
        else ParsedIngredientLine(text=parsed.text, heading=None,
                                  ingredient=ingredient_in(parsed, section, notes))
        for parsed, section in parse_lines(lines)
    ]
    return IngredientLinesOut(items=items)
