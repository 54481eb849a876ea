"""Who is calling: what a verified, unrevoked access token establishes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a protected route.

    Routes that act on the caller's own rows (recipes, favourites, images) need only
    this; routes about the person (profile, logout, erasure, export) load the ``User``
    row through ``CurrentUser``.
    """

    id: uuid.UUID
    sid: str
    token_version: int
