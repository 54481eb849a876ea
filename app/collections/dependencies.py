"""Dependencies that load the caller's collection; anyone else's answers like a missing id."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.auth.dependencies import CurrentPrincipal
from app.collections import repository
from app.collections.exceptions import CollectionNotFound
from app.collections.models import Collection
from app.db.session import SessionDep

CollectionId = Annotated[uuid.UUID, Path(description="The collection's id (a UUID).")]


def get_owned_collection(
    collection_id: CollectionId, user: CurrentPrincipal, session: SessionDep
) -> Collection:
    collection = repository.find_owned(session, collection_id, user.id)
    if collection is None:
        raise CollectionNotFound()
    return collection


OwnedCollection = Annotated[Collection, Depends(get_owned_collection)]
