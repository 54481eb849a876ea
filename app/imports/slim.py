"""A page cut down to what the parsers read, before they build their trees.

recipe-scrapers builds a BeautifulSoup tree of the whole page with Python's html.parser:
for a 5 MiB page that took seconds and over 100 MB per parse, and most of the ~25-100 ms
of a typical page (bench/README.md, "Recipe import"). Its generic mode only reads
JSON-LD and microdata, and our fallback adds Open Graph, so a page of an unknown site is
reduced to exactly those parts first:
the JSON-LD script blocks (an HTML parser ends a script at the first ``</script``, as
the pattern below does), the <title> and <meta> tags, and the first microdata Recipe
subtree (found with lxml, only when the page names a Recipe item type). A known site's
own parser reads the page's markup, so its pages are kept whole up to ``KNOWN_SITE_MAX``.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

#: Pages of unknown sites are always cut down; the generic parsers read nothing else.
SLIM_ABOVE = 0
KNOWN_SITE_MAX = 2 * 1024 * 1024
_MAX_BLOCKS = 50

_JSON_LD = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script",
    re.IGNORECASE | re.DOTALL)
_HEAD_TAGS = re.compile(r"<title\b[^>]*>[^<]{0,500}</title\s*>|<meta\b[^>]{0,2000}>",
                        re.IGNORECASE)
_MICRODATA = re.compile(r"itemtype\s*=\s*[\"']?[^\"'>]*schema\.org/Recipe", re.IGNORECASE)


def slim_page(page: str, *, known_site: bool) -> str:
    limit = KNOWN_SITE_MAX if known_site else SLIM_ABOVE
    if len(page) <= limit:
        return page
    scripts = [f'<script type="application/ld+json">{m.group(1)}</script>'
               for _, m in zip(range(_MAX_BLOCKS), _JSON_LD.finditer(page), strict=False)]
    head_tags = [m.group(0) for _, m in zip(range(500), _HEAD_TAGS.finditer(page),
                                              strict=False)]
    body = _microdata_recipe(page) if _MICRODATA.search(page) else ""
    return (f"<!DOCTYPE html><html><head>{''.join(head_tags)}{''.join(scripts)}</head>"
            f"<body>{body}</body></html>")


def _microdata_recipe(page: str) -> str:
    try:
        root = lxml.html.fromstring(page)
    except (etree.ParserError, ValueError):
        return ""
    for element in root.iter():
        itemtype = element.get("itemtype") if isinstance(element.tag, str) else None
        if itemtype and "schema.org/recipe" in itemtype.lower():
            return lxml.html.tostring(element, encoding="unicode")
    return ""
