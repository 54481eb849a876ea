"""A recipe's photos: POST/GET /recipes/{id}/images, PATCH/DELETE .../images/{image_id}.

Up to 10 per recipe. Each upload is decoded once, off the event loop in a CPU-limited
worker, into three sizes (original, hero, card). Responses carry signed links.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.media import service
from app.media.dependencies import UPLOAD_BODY, MediaLinks, ProcessedUpload
from app.media.links import LinkSigner, photo_link
from app.media.repository import GalleryRow
from app.media.schemas import GalleryImageRead, GalleryItem, ImageList, ImagePatch
from app.recipes.dependencies import OwnedRecipe, VisibleRecipe

router = APIRouter(prefix="/recipes", tags=["recipe images"], route_class=UnitOfWorkRoute)

ImageId = Annotated[uuid.UUID, Path(description="The photo's id (a UUID).")]


def _read(links: LinkSigner, recipe_id: uuid.UUID, stored: service.StoredImage) -> GalleryImageRead:
    link = photo_link(links, stored.id, stored.width, stored.height, links.expiry())
    return GalleryImageRead(
        **link.model_dump(), recipe_id=recipe_id, position=stored.position,
        is_cover=stored.is_cover, content_type=stored.content_type,
        byte_size=stored.byte_size, sha256=stored.sha256,
        recipe_version=stored.recipe_version,
    )


@router.post(
    "/{recipe_id}/images",
    status_code=status.HTTP_201_CREATED,
    response_model=GalleryImageRead,
    responses={
        200: {"model": GalleryImageRead,
              "description": "This photo is already in the recipe's gallery (a retried "
                             "upload): the existing one, unchanged."},
        **problem_responses(400, 404, 409, 413, 415, 422, 429, 503),
    },
    openapi_extra={"requestBody": UPLOAD_BODY},
    summary="Add a photo to a recipe (multipart field 'file'; at most 10 per recipe)",
)
def add_recipe_photo(
    recipe: OwnedRecipe, upload: ProcessedUpload, user: CurrentPrincipal,
    session: SessionDep, links: MediaLinks, response: Response,
) -> GalleryImageRead:
    stored = service.add_image(session, recipe.id, user.id, upload)
    if not stored.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = links.url(stored.id, "original", links.expiry())
    return _read(links, recipe.id, stored)


@router.get(
    "/{recipe_id}/images",
    response_model=ImageList,
    responses=problem_responses(404),
    summary="A recipe's photos in gallery order, with signed links",
)
def list_recipe_photos(recipe: VisibleRecipe, session: SessionDep, links: MediaLinks) -> ImageList:
    exp = links.expiry()
    return ImageList(items=[_gallery_item(links, row, exp)
                            for row in service.gallery(session, recipe.id)])


def _gallery_item(
    links: LinkSigner, row: GalleryRow, exp: int
) -> GalleryItem:
    link = photo_link(links, row.id, row.width, row.height, exp)
    return GalleryItem(**link.model_dump(), position=row.position, is_cover=row.is_cover)


@router.patch(
    "/{recipe_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(400, 404, 409),
    summary="Move a photo (position) or make it the cover (is_cover: true)",
)
def update_recipe_photo(
    recipe: OwnedRecipe, image_id: ImageId, patch: ImagePatch, user: CurrentPrincipal,
    session: SessionDep,
) -> Response:
    service.update_image(session, recipe.id, user.id, image_id, patch)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{recipe_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(404),
    summary="Delete a photo (its links stop working at once)",
)
def delete_recipe_photo(
    recipe: OwnedRecipe, image_id: ImageId, user: CurrentPrincipal, session: SessionDep
) -> Response:
    service.delete_image(session, recipe.id, user.id, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
