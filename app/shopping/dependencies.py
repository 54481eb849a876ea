"""Dependencies of the shopping-list routes: path ids and the sync-token configuration."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Path, Request

from app.shopping.service import SyncConfig
from app.shopping.sync_token import token_key

ListId = Annotated[uuid.UUID, Path(description="The shopping list's id (a UUID).")]
ItemId = Annotated[uuid.UUID, Path(description="The item's id (a UUID).")]
RecipeId = Annotated[uuid.UUID, Path(description="The recipe's id (a UUID).")]


@lru_cache(maxsize=8)
def _config(secret: str, retention_days: int) -> SyncConfig:
    return SyncConfig(key=token_key(secret), retention=timedelta(days=retention_days))


async def get_sync_config(request: Request) -> SyncConfig:
    """Sync tokens are signed with a key derived from the current SECRET_KEY; a rotation
    makes old tokens a 400 (the phone reloads the list, which is harmless). Async: it
    does no I/O, so it needs no thread-pool hop."""
    return _config(request.app.state.key_ring.current_key,
                   request.app.state.settings.SHOPPING_TOMBSTONE_RETENTION_DAYS)


SyncSettings = Annotated[SyncConfig, Depends(get_sync_config)]
