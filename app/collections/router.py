"""HTTP face of the collections API: parse, call the service, shape headers. No rules here.

Mounted on the protected router: every route needs a valid access token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from app.auth.dependencies import CurrentPrincipal
from app.collections import service
from app.collections.dependencies import OwnedCollection
from app.collections.schemas import (
    CollectionCreate,
    CollectionList,
    CollectionRead,
    CollectionUpdate,
    MembershipState,
)
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.idempotency.dependencies import IDEMPOTENCY_PROBLEMS, Idempotent
from app.recipes.dependencies import RecipeId

router = APIRouter(tags=["collections"], route_class=UnitOfWorkRoute)

IfMatch = Annotated[
    str | None,
    Header(description="An ETag from a GET; the write is refused with 412 if it is stale."),
]


def _location(request: Request, collection_id: object) -> str:
    return request.url_for("get_collection", collection_id=str(collection_id)).path


@router.get("/collections", response_model=CollectionList)
def list_collections(user: CurrentPrincipal, session: SessionDep) -> Response:
    """The caller's collections by position, then name, each with its recipe count."""
    # Serialised here, as FastAPI would, as the recipe list does (app/recipes/router.py
    # _json): FastAPI re-validates a returned model, for a sync route in one more
    # thread-pool round trip. The response_model still declares the schema.
    return Response(service.list_collections(session, user).model_dump_json(),
                    media_type="application/json")


@router.post(
    "/collections",
    status_code=status.HTTP_201_CREATED,
    response_model=CollectionRead,
    responses={**problem_responses(400, 404, 409, 413), **IDEMPOTENCY_PROBLEMS},
    dependencies=[Idempotent],
    summary="Create a hand-picked collection, or a smart one with a filter",
)
def create_collection(
    body: CollectionCreate, user: CurrentPrincipal, session: SessionDep, request: Request,
    response: Response,
) -> CollectionRead:
    collection = service.create_collection(session, user, body)
    response.headers["Location"] = _location(request, collection.id)
    response.headers["ETag"] = service.collection_etag(collection)
    return service.read_one(session, user, collection)


@router.get("/collections/{collection_id}", response_model=CollectionRead,
            responses=problem_responses(404))
def get_collection(
    collection: OwnedCollection, user: CurrentPrincipal, session: SessionDep,
    response: Response,
) -> CollectionRead:
    response.headers["ETag"] = service.collection_etag(collection)
    response.headers["Cache-Control"] = "private, no-cache"
    return service.read_one(session, user, collection)


@router.patch("/collections/{collection_id}", response_model=CollectionRead,
              responses=problem_responses(400, 404, 409, 412, 413))
def update_collection(
    collection: OwnedCollection, body: CollectionUpdate, user: CurrentPrincipal,
    session: SessionDep, response: Response, if_match: IfMatch = None,
) -> CollectionRead:
    updated = service.update_collection(session, user, collection, body, if_match)
    response.headers["ETag"] = service.collection_etag(updated)
    return service.read_one(session, user, updated)


@router.delete("/collections/{collection_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 412))
def delete_collection(
    collection: OwnedCollection, session: SessionDep, if_match: IfMatch = None
) -> Response:
    service.delete_collection(session, collection, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/collections/{collection_id}/recipes/{recipe_id}", response_model=MembershipState,
            responses=problem_responses(404, 409))
def add_recipe(
    collection: OwnedCollection, recipe_id: RecipeId, user: CurrentPrincipal,
    session: SessionDep,
) -> MembershipState:
    """Idempotent: adding a recipe twice is the same as once."""
    return service.add_recipe(session, user, collection, recipe_id)


@router.delete("/collections/{collection_id}/recipes/{recipe_id}",
               response_model=MembershipState, responses=problem_responses(404, 409))
def remove_recipe(
    collection: OwnedCollection, recipe_id: RecipeId, user: CurrentPrincipal,
    session: SessionDep,
) -> MembershipState:
    """Idempotent: removing a recipe that is not in the collection succeeds."""
    return service.remove_recipe(session, user, collection, recipe_id)
