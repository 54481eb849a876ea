"""Clerk's view of a person, made safe to store.

Everyone controls their own Clerk profile, so every value is hostile until cleaned:
bounded to the column size, HTML stripped, control characters dropped, and URLs kept
only if they are plain https. A value of the wrong type counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.users.text import clean_line

EMAIL_MAX = 320
NAME_MAX = 100
USERNAME_MAX = 64
IMAGE_URL_MAX = 2048

_EMAIL = re.compile(r"^[^@\s<>\"'`]{1,64}@[^@\s<>\"'`]{1,255}$")
# Printable ASCII without space, quotes, angle brackets, backslash or backtick: such a
# URL cannot break out of an HTML attribute or a CSS url() wherever a client puts it.
_SAFE_URL = re.compile(r"^[!#-&(-;=?-\[\]-_a-~]+$")


class ClerkProfileLike(Protocol):
    """What the token exchange's Backend API fetch and a webhook both provide."""

    @property
    def email(self) -> str | None: ...
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...
    @property
    def image_url(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ClerkProfile:
    """A profile as Clerk sent it (not yet cleaned); ``updated_at`` is in milliseconds."""

    email: str | None = field(default=None, repr=False)
    first_name: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)
    username: str | None = field(default=None, repr=False)
    image_url: str | None = field(default=None, repr=False)
    updated_at: int | None = None


def profile_from_user_object(data: Mapping[str, Any]) -> ClerkProfile:
    """The fields we mirror from a Clerk user object (webhook ``data``)."""
    return ClerkProfile(
        email=_primary_email(data),
        first_name=_str(data.get("first_name")),
        last_name=_str(data.get("last_name")),
        username=_str(data.get("username")),
        image_url=_str(data.get("image_url")),
        updated_at=clerk_timestamp(data.get("updated_at")),
    )


def clerk_timestamp(value: object) -> int | None:
    # bool is an int in Python; JSON true must not pass for a timestamp.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        return None
    return value


def profile_columns(profile: ClerkProfileLike | None) -> dict[str, Any]:
    """Column values for ``users``, cleaned; every mirrored column is present."""
    if profile is None:
        return dict.fromkeys(("email", "first_name", "last_name", "username", "image_url"))
    return {
        "email": safe_email(profile.email),
        "first_name": clean_line(profile.first_name, NAME_MAX),
        "last_name": clean_line(profile.last_name, NAME_MAX),
        "username": clean_line(profile.username, USERNAME_MAX),
        "image_url": safe_https_url(profile.image_url),
    }


def profile_updated_at(profile: ClerkProfileLike | None) -> int | None:
    return clerk_timestamp(getattr(profile, "updated_at", None))


def safe_email(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > EMAIL_MAX or not value.isprintable() or not _EMAIL.match(value):
        return None
    return value


def safe_https_url(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > IMAGE_URL_MAX or not _SAFE_URL.match(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname:
        return None
    return value


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _primary_email(data: Mapping[str, Any]) -> str | None:
    primary_id = data.get("primary_email_address_id")
    addresses = data.get("email_addresses")
    if not isinstance(primary_id, str) or not isinstance(addresses, list):
        return None
    for entry in addresses:
        if isinstance(entry, dict) and entry.get("id") == primary_id:
            return _str(entry.get("email_address"))
    return None
