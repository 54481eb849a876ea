"""HTTP face of the shopping lists: parse, call the service, shape headers. No rules here.

Mounted on the protected router: every route needs a valid access token. Another
person's list or item answers exactly like a missing one (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.idempotency.dependencies import IDEMPOTENCY_PROBLEMS, Idempotent
from app.shopping import contributions, service
from app.shopping.dependencies import ItemId, ListId, RecipeId, SyncSettings
from app.shopping.schemas import (
    AddMealPlan,
    AddRecipe,
    BulkItems,
    BulkResult,
    ItemCreate,
    ItemRead,
    ItemUpdate,
    ListCreate,
    ListDetail,
    ListPage,
    ListRead,
    ListUpdate,
    SyncPage,
)
from app.shopping.sync_token import MAX_TOKEN_CHARS

router = APIRouter(prefix="/shopping-lists", tags=["shopping lists"],
                   route_class=UnitOfWorkRoute)

IfMatch = Annotated[
    str | None,
    Header(description="An ETag from a GET; the write is refused with 412 if it is stale."),
]
ChangedSince = Annotated[
    str | None,
    Query(max_length=MAX_TOKEN_CHARS,
          description="The sync_token of an earlier read: only what changed after it."),
]
_PRIVATE = "private, no-cache"


def _json(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """The model as JSON, as FastAPI would serialise it, without FastAPI validating the
    returned model again (see app/recipes/router.py: measured on the hot reads). The
    route's response_model still declares the schema."""
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)


def _detail(detail: ListDetail) -> Response:
    return _json(detail, {"ETag": service.list_etag(detail.id, detail.version),
                          "Cache-Control": _PRIVATE})


@router.get("", response_model=ListPage)
def list_lists(user: CurrentPrincipal, session: SessionDep) -> ListPage:
    """The caller's lists, oldest first (at most 50)."""
    return service.list_lists(session, user)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ListRead,
             responses={**problem_responses(400, 409, 413), **IDEMPOTENCY_PROBLEMS},
             dependencies=[Idempotent])
def create_list(
    body: ListCreate, user: CurrentPrincipal, session: SessionDep, request: Request,
    response: Response,
) -> ListRead:
    created = service.create_list(session, user, body)
    response.headers["Location"] = request.url_for("get_list", list_id=str(created.id)).path
    response.headers["ETag"] = service.list_etag(created.id, created.version)
    return service.list_read(created)


@router.get("/{list_id}", response_model=ListDetail, responses=problem_responses(404))
def get_list(
    list_id: ListId, user: CurrentPrincipal, session: SessionDep, config: SyncSettings
) -> Response:
    """The list with its live items and a sync token for later changed_since reads."""
    return _detail(service.read_list(session, user, list_id, config))


@router.patch("/{list_id}", response_model=ListRead,
              responses=problem_responses(400, 404, 412, 413))
def rename_list(
    list_id: ListId, body: ListUpdate, user: CurrentPrincipal, session: SessionDep,
    response: Response, if_match: IfMatch = None,
) -> ListRead:
    renamed = service.rename_list(session, user, list_id, body, if_match)
    response.headers["ETag"] = service.list_etag(renamed.id, renamed.version)
    return service.list_read(renamed)


@router.delete("/{list_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 412))
def delete_list(
    list_id: ListId, user: CurrentPrincipal, session: SessionDep, if_match: IfMatch = None
) -> Response:
    service.delete_list(session, user, list_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- items -----------------------------------------------------------------------------------


@router.get("/{list_id}/items", response_model=SyncPage,
            responses=problem_responses(400, 404, 410))
def sync_items(
    list_id: ListId, user: CurrentPrincipal, session: SessionDep, config: SyncSettings,
    changed_since: ChangedSince = None,
) -> Response:
    """Without changed_since: every live item. With it: the items added or changed since
    that token, the ids deleted since (tombstones), and the next token. A token older than
    the tombstone retention is a 410: reload without changed_since."""
    page = service.sync(session, user, list_id, changed_since, config)
    return _json(page, {"Cache-Control": _PRIVATE})


@router.post("/{list_id}/items", status_code=status.HTTP_201_CREATED, response_model=ItemRead,
             responses={**problem_responses(400, 404, 409, 413), **IDEMPOTENCY_PROBLEMS},
             dependencies=[Idempotent])
def add_item(
    list_id: ListId, body: ItemCreate, user: CurrentPrincipal, session: SessionDep
) -> ItemRead:
    return service.add_item(session, user, list_id, body)


@router.patch("/{list_id}/items", response_model=BulkResult,
              responses=problem_responses(400, 404, 413))
def bulk_items(
    list_id: ListId, body: BulkItems, user: CurrentPrincipal, session: SessionDep,
    config: SyncSettings,
) -> BulkResult:
    """Check, uncheck or delete up to 500 items in one transaction: all or nothing (an id
    that is not an item of this list refuses the whole call with a 404)."""
    return service.bulk(session, user, list_id, body, config)


@router.patch("/{list_id}/items/{item_id}", response_model=ItemRead,
              responses=problem_responses(400, 404, 413))
def update_item(
    list_id: ListId, item_id: ItemId, body: ItemUpdate, user: CurrentPrincipal,
    session: SessionDep,
) -> ItemRead:
    """Only the fields given change. Changing name, quantity or unit marks the item as
    edited by hand: removing a recipe later leaves it as it is."""
    return service.update_item(session, user, list_id, item_id, body)


@router.delete("/{list_id}/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404))
def delete_item(
    list_id: ListId, item_id: ItemId, user: CurrentPrincipal, session: SessionDep,
    config: SyncSettings,
) -> Response:
    service.delete_item(session, user, list_id, item_id, config)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- recipes and the meal plan -----------------------------------------------------------


@router.post("/{list_id}/recipes", response_model=ListDetail,
             responses={**problem_responses(400, 404, 409, 413), **IDEMPOTENCY_PROBLEMS},
             dependencies=[Idempotent])
def add_recipe(
    list_id: ListId, body: AddRecipe, user: CurrentPrincipal, session: SessionDep,
    config: SyncSettings,
) -> Response:
    """The recipe's ingredients, scaled exactly to ``servings``, merged into open items."""
    contributions.add_recipe(session, user, list_id, body)
    return _detail(service.read_list(session, user, list_id, config))


@router.delete("/{list_id}/recipes/{recipe_id}", response_model=ListDetail,
               responses=problem_responses(404))
def remove_recipe(
    list_id: ListId, recipe_id: RecipeId, user: CurrentPrincipal, session: SessionDep,
    config: SyncSettings,
) -> Response:
    """Takes back exactly what the recipe contributed; ticked and edited items stay."""
    contributions.remove_recipe(session, user, list_id, recipe_id, config)
    return _detail(service.read_list(session, user, list_id, config))


@router.post("/{list_id}/meal-plan", response_model=ListDetail,
             responses={**problem_responses(400, 404, 409, 413), **IDEMPOTENCY_PROBLEMS},
             dependencies=[Idempotent])
def add_meal_plan(
    list_id: ListId, body: AddMealPlan, user: CurrentPrincipal, session: SessionDep,
    config: SyncSettings,
) -> Response:
    """Every recipe planned from ``from`` for ``days`` days (the active plan unless
    ``plan_id``), at each entry's servings."""
    contributions.add_meal_plan(session, user, list_id, body)
    return _detail(service.read_list(session, user, list_id, config))
