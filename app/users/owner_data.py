"""Every domain's share of a person's data, for GDPR erasure and export, in one list.

Each entry is a domain's ``owner_data`` module, with ``erase_owner_data(session, owner_id)``
and ``export_owner_data(session, owner_id) -> dict`` (the domain's own top-level keys of
the export). A domain that stores anything about a person adds its module here, and
furnishes its rows in tests/users, which prove that erasure leaves none of them behind.
"""

from __future__ import annotations

import uuid
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

from app.collections import owner_data as collections_data
from app.idempotency import owner_data as idempotency_data
from app.mealplans import owner_data as mealplans_data
from app.media import owner_data as media_data
from app.recipes import owner_data as recipes_data
from app.shopping import owner_data as shopping_data

#: Recipes last: the other domains' rows point at recipes, not the other way round.
DOMAINS: tuple[ModuleType, ...] = (
    idempotency_data, collections_data, mealplans_data, shopping_data, media_data, recipes_data)


def erase_owner_data(session: Session, owner_id: uuid.UUID) -> None:
    for domain in DOMAINS:
        domain.erase_owner_data(session, owner_id)


def export_owner_data(session: Session, owner_id: uuid.UUID) -> dict[str, Any]:
    exported: dict[str, Any] = {}
    for domain in DOMAINS:
        exported.update(domain.export_owner_data(session, owner_id))
    return exported
