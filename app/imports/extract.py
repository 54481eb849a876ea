"""Finding the recipe in a page: recipe-scrapers first, extruct as the fallback.

recipe-scrapers knows the big sites (their own parsers: method "site-parser") and, in its
generic mode, any page with a schema.org Recipe in JSON-LD or microdata. Where it finds
nothing (a Recipe inside an ItemList, a context it does not recognise, a page that only
has Open Graph tags), extruct reads JSON-LD, microdata and Open Graph and we walk the
result ourselves. Neither library fetches anything here: recipe-scrapers gets the HTML
(never ``online=True``), and extruct is not asked for RDFa, whose vocabulary expansion
could reach the network.

The result is one schema.org-shaped dict, mapped to our draft by ``app.imports.mapping``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import extruct
import httpx
from recipe_scrapers import SCRAPERS, scrape_html

from app.imports.exceptions import NoRecipeFound, SiteRefused
from app.imports.slim import slim_page

logger = logging.getLogger("homechef.imports")

Method = Literal["json-ld", "microdata", "site-parser", "opengraph"]
Node = dict[str, Any]

#: recipe-scrapers needs a URL to pick a parser; a pasted page without one gets this.
PLACEHOLDER_URL = "https://pasted.invalid/"
_MAX_DEPTH = 8
_MAX_ITEMS = 500
_NESTING_KEYS = ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement", "item",
                 "hasPart", "about", "subjectOf")
_SITE_FIELDS = {
    "name": "title", "description": "description", "recipeIngredient": "ingredients",
    "recipeInstructions": "instructions_list", "recipeYield": "yields",
    "prepTime": "prep_time", "cookTime": "cook_time", "totalTime": "total_time",
    "image": "image", "keywords": "keywords", "recipeCategory": "category",
    "recipeCuisine": "cuisine",
}
_BOT_WALL_MARKERS = ("cf-chl-", "challenge-platform", "<title>Just a moment",
                     "captcha-delivery.com", "px-captcha")


@dataclass
class Found:
    node: Node
    method: Method
    site_name: str | None = None
    #: Image URLs from Open Graph, used when the recipe names none.
    og_images: list[str] = field(default_factory=list)


def find_recipe(page: str, url: str | None) -> Found:
    """The recipe in ``page`` (HTML, or JSON-LD pasted on its own); NoRecipeFound if none."""
    stripped = page.lstrip()
    if stripped[:1] in ("{", "["):
        return _from_json(stripped)
    known_site = bool(url) and _host(url) in SCRAPERS
    parsed = slim_page(page, known_site=known_site)
    found = _with_recipe_scrapers(parsed, url) or _with_extruct(parsed, url)
    if found is not None:
        return found
    if any(marker in page[:200_000] for marker in _BOT_WALL_MARKERS):
        raise SiteRefused()
    raise NoRecipeFound()


def _host(url: str) -> str:
    """The host as recipe-scrapers keys its parsers ("www." dropped)."""
    try:
        return httpx.URL(url).host.removeprefix("www.")
    except (httpx.InvalidURL, ValueError):
        return ""


def _from_json(text: str) -> Found:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise NoRecipeFound("The pasted text is not valid JSON-LD.") from None
    node = next(recipe_nodes(data), None)
    if node is None:
        raise NoRecipeFound()
    return Found(node=node, method="json-ld")


def _with_recipe_scrapers(page: str, url: str | None) -> Found | None:
    try:
        scraper = scrape_html(page, org_url=url or PLACEHOLDER_URL, supported_only=False)
    except Exception:  # the library raises a zoo of types on odd pages
        logger.debug("recipe-scrapers found nothing", exc_info=True)
        return None
    site_name = _call(scraper.schema.site_name) if scraper.schema.data else None
    if scraper.host() in SCRAPERS:
        node = {key: value for key, method in _SITE_FIELDS.items()
                if (value := _call(getattr(scraper, method, None))) not in (None, "", [])}
        if node.get("name") and (node.get("recipeIngredient") or node.get("recipeInstructions")):
            return Found(node=node, method="site-parser", site_name=site_name)
    if not scraper.schema.data or not _is_recipe(scraper.schema.data):
        return None
    method: Method = "microdata" if scraper.schema.format == "microdata" else "json-ld"
    return Found(node=scraper.schema.data, method=method, site_name=site_name)


def _call(method: Any) -> Any:
    if method is None:
        return None
    try:
        return method()
    except Exception:  # a missing field raises; absent is all it means
        return None


def _with_extruct(page: str, url: str | None) -> Found | None:
    try:
        data = extruct.extract(page, base_url=url, syntaxes=["json-ld", "microdata",
                                                             "opengraph"],
                               uniform=True, errors="ignore")
    except Exception:  # malformed markup must be "no recipe", not a 500
        logger.debug("extruct failed", exc_info=True)
        return None
    og = _opengraph(data.get("opengraph") or [])
    site_name = og.get("og:site_name")
    for syntax in ("json-ld", "microdata"):
        node = next(recipe_nodes(data.get(syntax) or []), None)
        if node is not None:
            return Found(node=node, method=syntax, site_name=site_name,  # type: ignore[arg-type]
                         og_images=_as_list(og.get("og:image")))
    og_type = str(og.get("og:type") or og.get("@type") or "")  # uniform=True moves og:type
    if "recipe" in og_type.lower() and og.get("og:title"):
        node = {"name": og["og:title"], "description": og.get("og:description"),
                "image": og.get("og:image")}
        return Found(node=node, method="opengraph", site_name=site_name)
    return None


def _opengraph(items: list[Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict):
            for key, value in item.items():
                merged.setdefault(key, value)
    return merged


def _as_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def _is_recipe(node: Node) -> bool:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower()
               == "recipe" for t in names)


def recipe_nodes(data: Any, depth: int = 0) -> Any:
    """Every schema.org Recipe in ``data``: top level, in @graph, arrays, ItemList
    elements, a WebPage's mainEntity. Bounded in depth and breadth."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data[:_MAX_ITEMS]:
            yield from recipe_nodes(item, depth + 1)
    elif isinstance(data, dict):
        if _is_recipe(data):
            yield data
            return
        for key in _NESTING_KEYS:
            if key in data:
                yield from recipe_nodes(data[key], depth + 1)
