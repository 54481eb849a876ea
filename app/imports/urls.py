"""URL helpers for imports: the canonical form that duplicates are matched on."""

from __future__ import annotations

import httpx

from app.recipes.schemas import MAX_URL

#: Query parameters that only say where a click came from, never which recipe.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid",
                             "igshid", "ref", "ref_src", "_ga", "yclid", "srsltid"})


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters.

    Two links to the same recipe page (one from a newsletter with utm_* tags) compare
    equal. None for anything that is not an absolute http(s) URL.
    """
    if not url:
        return None
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.userinfo:
        return None
    kept = [(k, v) for k, v in parsed.params.multi_items()
            if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")]
    clean = parsed.copy_with(fragment=None, params=kept or None)
    text = str(clean)
    if text.endswith("?"):
        text = text[:-1]
    return text if len(text) <= MAX_URL else None


def absolute_http_url(value: str, base: str | None) -> str | None:
    """An absolute http(s) URL for ``value`` (joined onto ``base`` if relative)."""
    value = value.strip()
    if not value or len(value) > MAX_URL:
        return None
    try:
        url = httpx.URL(base).join(value) if base else httpx.URL(value)
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    if url.scheme not in ("http", "https") or not url.host or url.userinfo:
        return None
    text = str(url)
    return text if len(text) <= MAX_URL else None
