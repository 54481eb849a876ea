"""PUT, GET and DELETE /api/v1/recipes/{id}/image: the recipe's cover photo.

Kept from the one-image era: PUT replaces the cover in place (or adds the first photo),
GET serves it (``?size=thumb``: the card size) to a signed-in viewer, DELETE removes it
and promotes the next photo. Browsers should use the signed links in recipe responses
(app/media/public_router.py) instead.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.media import service
from app.media.dependencies import UPLOAD_BODY, ProcessedUpload
from app.media.http import IMAGE_SECURITY_HEADERS, filename_for, none_match
from app.recipes.dependencies import OwnedRecipe, RecipeId

router = APIRouter(prefix="/recipes", tags=["recipe images"], route_class=UnitOfWorkRoute)

# Served per viewer and revalidated: a shared cache keeping a public recipe's cover
# would go on serving it after the recipe turns private or the photo is removed.
IMAGE_CACHE = "private, no-cache"


class RecipeImageRead(BaseModel):
    recipe_id: uuid.UUID
    image_id: uuid.UUID
    content_type: str
    width: int
    height: int
    byte_size: int
    sha256: str
    thumb_content_type: str
    url: str
    thumb_url: str
    recipe_version: int


@router.put(
    "/{recipe_id}/image",
    response_model=RecipeImageRead,
    responses={201: {"model": RecipeImageRead},
               **problem_responses(400, 404, 413, 415, 422, 429, 503)},
    openapi_extra={"requestBody": UPLOAD_BODY},
    summary="Attach or replace a recipe's cover photo (multipart field 'file', or JSON "
    "{\"url\"}; JPEG, PNG, WebP)",
)
def put_recipe_image(
    # OwnedRecipe comes first: a stranger's upload is refused (404) before it is read.
    recipe: OwnedRecipe,
    upload: ProcessedUpload,
    user: CurrentPrincipal,
    session: SessionDep,
    request: Request,
    response: Response,
) -> RecipeImageRead:
    stored = service.replace_cover(session, recipe.id, user.id, upload)
    location = str(request.url_for("get_recipe_image", recipe_id=recipe.id).path)
    response.status_code = status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK
    response.headers["Location"] = location
    response.headers["ETag"] = service.variant_etag(upload.image.sha256)
    return RecipeImageRead(
        recipe_id=recipe.id, image_id=stored.id, content_type=stored.content_type,
        width=stored.width, height=stored.height, byte_size=stored.byte_size,
        sha256=stored.sha256, thumb_content_type=stored.thumb_content_type,
        url=location, thumb_url=f"{location}?size=thumb", recipe_version=stored.recipe_version,
    )


@router.get(
    "/{recipe_id}/image",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/webp": {}}, "description": "The image"},
        304: {"description": "Not modified"},
        **problem_responses(404, 422),
    },
    summary="A recipe's cover photo, or its card size with ?size=thumb",
)
def get_recipe_image(
    recipe_id: RecipeId,
    user: CurrentPrincipal,
    session: SessionDep,
    size: Annotated[Literal["thumb"] | None, Query()] = None,
    if_none_match: Annotated[str | None, Header(max_length=2048)] = None,
) -> Response:
    thumb = size == "thumb"
    head = service.cover_head(session, recipe_id, user.id, thumb=thumb)
    etag = service.variant_etag(head.sha256)
    cache = {"ETag": etag, "Cache-Control": IMAGE_CACHE, "Vary": "Authorization"}
    if none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=cache)
    data = service.read_bytes(session, head)
    filename = filename_for(f"recipe-{recipe_id}{'-thumb' if thumb else ''}", head.content_type)
    headers = {**cache, **IMAGE_SECURITY_HEADERS,
               "Content-Disposition": f'inline; filename="{filename}"'}
    return Response(content=data, media_type=head.content_type, headers=headers)


@router.delete(
    "/{recipe_id}/image",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(404),
    summary="Remove a recipe's cover photo (204 also when there was none)",
)
def delete_recipe_image(
    recipe: OwnedRecipe, user: CurrentPrincipal, session: SessionDep
) -> Response:
    service.remove_cover(session, recipe.id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
