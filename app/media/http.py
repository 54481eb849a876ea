"""HTTP details every image response shares."""

from __future__ import annotations

_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp"}
# An image opened directly in a browser must not be able to run anything, whatever the
# bytes turn out to be.
IMAGE_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def filename_for(stem: str, content_type: str) -> str:
    return f"{stem}.{_EXTENSIONS.get(content_type, 'img')}"


def none_match(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
