"""Reading a database URL's raw text, before SQLAlchemy parses it.

SQLAlchemy splits a URL at the first '@', so a password holding an unencoded '@' turns
its tail into the "host" (and every connection error prints that host). These helpers
look at the text itself so such a URL can be refused and its password redacted.
"""

from __future__ import annotations


def userinfo(raw: str) -> str | None:
    """The text between "scheme://" and the last '@' before the query (a password may
    hold '@' or '/' unencoded; a host holds neither); None without one."""
    _, separator, rest = raw.partition("://")
    if not separator:
        return None
    rest = rest.split("?", 1)[0]
    at = rest.rfind("@")
    return rest[:at] if at >= 0 else None


def has_unencoded_at(raw: str) -> bool:
    info = userinfo(raw)
    return info is not None and "@" in info
