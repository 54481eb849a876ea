"""HTTP face of the recipes API: parse, call the service, shape headers. No rules here.

Mounted on the protected router: every route needs a valid access token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.idempotency.dependencies import IDEMPOTENCY_PROBLEMS, Idempotent
from app.media.dependencies import MediaLinks
from app.recipes import service
from app.recipes.dependencies import OwnedRecipe, RecipeId, VisibleRecipe
from app.recipes.schemas import (
    MAX_SERVINGS,
    FavoriteState,
    RecipeCreate,
    RecipeListParams,
    RecipePage,
    RecipeRead,
    RecipeUpdate,
    TagList,
)

router = APIRouter(tags=["recipes"], route_class=UnitOfWorkRoute)

IfMatch = Annotated[
    str | None,
    Header(description="The ETag of a GET without ?servings= (quotes included), or *; "
                       "412 if it is stale, 400 if it is not an ETag at all."),
]
IfNoneMatch = Annotated[str | None, Header()]
Servings = Annotated[
    int | None,
    Query(ge=1, le=MAX_SERVINGS, description="Scale ingredient quantities to this many servings."),
]
ListParams = Annotated[RecipeListParams, Query()]

# A recipe's representation depends on who asks (private recipes), so shared caches must
# not keep it; browsers may, but must revalidate (cheap: a 304 via If-None-Match).
_PRIVATE_REVALIDATE = "private, no-cache"
# A JSON body can be undecodable (400, e.g. not UTF-8) or over the body cap (413).
_BODY_ERRORS = problem_responses(400, 413)


def _json(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """The model as JSON, serialised as FastAPI would (by alias, straight to bytes).

    For the hot reads: FastAPI re-validates a returned model, and for a sync route does
    so in one more thread-pool round trip (measured with py-spy under bench/load.py).
    The route's response_model still declares the schema.
    """
    return Response(model.model_dump_json(by_alias=True), media_type="application/json",
                    headers=headers)


def _location(request: Request, recipe_id: object) -> str:
    return request.url_for("get_recipe", recipe_id=str(recipe_id)).path


@router.post(
    "/recipes",
    status_code=status.HTTP_201_CREATED,
    response_model=RecipeRead,
    responses={**_BODY_ERRORS, **IDEMPOTENCY_PROBLEMS},
    summary="Create a recipe with its ingredients, steps and tags",
    dependencies=[Idempotent],
)
def create_recipe(
    body: RecipeCreate, user: CurrentPrincipal, session: SessionDep, request: Request,
    response: Response, links: MediaLinks,
) -> RecipeRead:
    recipe = service.create_recipe(session, user, body)
    response.headers["Location"] = _location(request, recipe.id)
    response.headers["ETag"] = service.recipe_etag(recipe)
    return service.to_read(recipe, links)


@router.get("/recipes", response_model=RecipePage, responses=problem_responses(400))
def list_recipes(
    params: ListParams, user: CurrentPrincipal, session: SessionDep, request: Request,
    links: MediaLinks,
) -> Response:
    """The caller's recipes (scope=public/all for other people's public ones): filters,
    collections, search, sort, keyset pages."""
    secret: str = request.app.state.key_ring.current_key
    return _json(service.list_recipes(session, user, params, secret, links))


@router.get(
    "/recipes/{recipe_id}",
    response_model=RecipeRead,
    responses={304: {"description": "Not modified"}, **problem_responses(404)},
)
def get_recipe(
    recipe_id: RecipeId, user: CurrentPrincipal, session: SessionDep,
    links: MediaLinks, servings: Servings = None, if_none_match: IfNoneMatch = None,
) -> Response:
    exp = links.expiry()
    if if_none_match is not None:
        # Revalidation (the app's offline cache): decided on a small row, no children.
        current = service.current_etag(session, user, recipe_id, servings, exp)
        if current is not None and service.etag_matches(if_none_match, current):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED,
                            headers=_detail_headers(current))
    recipe = service.get_recipe_detail(session, user, recipe_id)
    etag = service.recipe_etag(recipe, servings, exp)
    if if_none_match is not None and service.etag_matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=_detail_headers(etag))
    return _json(service.detail_to_read(recipe, links, servings, exp), _detail_headers(etag))


def _detail_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": _PRIVATE_REVALIDATE, "Vary": "Authorization"}


@router.patch(
    "/recipes/{recipe_id}",
    response_model=RecipeRead,
    responses=problem_responses(400, 404, 412, 413),
)
def update_recipe(
    recipe: OwnedRecipe, body: RecipeUpdate, user: CurrentPrincipal, session: SessionDep,
    response: Response, links: MediaLinks, if_match: IfMatch = None,
) -> RecipeRead:
    """A partial update; a list that is given replaces the old one whole. Owner only."""
    updated = service.update_recipe(session, user, recipe, body, if_match)
    read, response.headers["ETag"] = service.to_read_for(session, user, updated, links)
    return read


@router.delete(
    "/recipes/{recipe_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 404, 412),
)
def delete_recipe(recipe: OwnedRecipe, session: SessionDep, if_match: IfMatch = None) -> Response:
    service.delete_recipe(session, recipe, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/recipes/{recipe_id}/favorite",
    response_model=FavoriteState,
    responses=problem_responses(404),
)
def add_favorite(
    recipe: VisibleRecipe, user: CurrentPrincipal, session: SessionDep
) -> FavoriteState:
    """Idempotent: favouriting twice is the same as once."""
    return service.add_favorite(session, user, recipe)


@router.delete(
    "/recipes/{recipe_id}/favorite",
    response_model=FavoriteState,
    responses=problem_responses(404),
)
def remove_favorite(
    recipe_id: RecipeId, user: CurrentPrincipal, session: SessionDep
) -> FavoriteState:
    """Idempotent: removing a favourite that is not there succeeds."""
    return service.remove_favorite(session, user, recipe_id)


@router.get("/tags", response_model=TagList)
def list_tags(user: CurrentPrincipal, session: SessionDep) -> TagList:
    """The caller's own tags with how many of their recipes carry each."""
    return service.list_tags(session, user)
