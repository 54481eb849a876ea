"""PUT, GET and DELETE /api/v1/recipes/{id}/image (and GET ?size=thumb).

Upload order matters: the owner check runs before a byte of the body is read, the body
is read size-capped in the event loop (no thread is held while a slow client trickles
bytes in), decoding runs on a small dedicated thread pool, and only then does the sync
route store the result.
"""

from __future__ import annotations

import uuid
from typing import IO, Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import BaseModel

from app.auth.dependencies import CurrentPrincipal
from app.core.config import Settings
from app.core.errors import problem_responses
from app.core.upload import read_multipart_file
from app.db.session import SessionDep, UnitOfWorkRoute, release_connection
from app.imports import image_url
from app.recipes import images_service as service
from app.recipes.dependencies import OwnedRecipe, RecipeId
from app.recipes.images import ProcessedImage
from app.recipes.images_jobs import process_upload

router = APIRouter(prefix="/recipes", tags=["recipe images"], route_class=UnitOfWorkRoute)

# Every image, a public recipe's too, is served per viewer and revalidated: a shared
# cache keeping a public one would go on serving it after the recipe turns private or
# the image is removed. (Signed media links, when they come, may cache longer because
# the link itself expires.)
IMAGE_CACHE = "private, no-cache"
_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp"}
# An image opened directly in a browser must not be able to run anything, whatever the
# bytes turn out to be.
_IMAGE_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        # Or the server fetches the image (guarded fetcher, RATE_LIMIT_IMPORT).
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["url"],
                "additionalProperties": False,
                "properties": {"url": {"type": "string", "minLength": 1, "maxLength": 2048}},
            }
        },
    },
}


class RecipeImageRead(BaseModel):
    recipe_id: uuid.UUID
    content_type: str
    width: int
    height: int
    byte_size: int
    sha256: str
    thumb_content_type: str
    url: str
    thumb_url: str
    recipe_version: int


async def get_processed_upload(
    request: Request, _recipe: OwnedRecipe, user: CurrentPrincipal, session: SessionDep
) -> ProcessedImage:
    settings: Settings = request.app.state.settings
    # Ownership is settled; don't pin a pooled connection while a slow client uploads
    # (or while the guarded fetcher fetches the image at a URL).
    await anyio.to_thread.run_sync(release_connection, session)
    if image_url.wants_url(request):
        spool: IO[bytes] = await image_url.fetch_image_body(request, user)
    else:
        spool = await read_multipart_file(
            request, field="file", max_file_bytes=settings.MAX_UPLOAD_BYTES
        )
    try:
        data = spool.read()  # at most MAX_UPLOAD_BYTES
    finally:
        spool.close()
    return await process_upload(
        data,
        user_id=user.id,
        max_pixels=settings.MAX_IMAGE_PIXELS,
        max_scans=settings.IMAGE_MAX_SCANS,
        cpu_seconds=settings.IMAGE_CPU_SECONDS,
    )


ProcessedUpload = Annotated[ProcessedImage, Depends(get_processed_upload)]


@router.put(
    "/{recipe_id}/image",
    response_model=RecipeImageRead,
    responses={201: {"model": RecipeImageRead},
               **problem_responses(400, 404, 413, 415, 422, 429, 503)},
    openapi_extra={"requestBody": _UPLOAD_BODY},
    summary="Attach or replace a recipe's image (multipart field 'file', or JSON {\"url\"}; "
    "JPEG, PNG or WebP)",
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
    stored = service.store_image(session, recipe.id, user.id, upload)
    location = str(request.url_for("get_recipe_image", recipe_id=recipe.id).path)
    response.status_code = status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK
    response.headers["Location"] = location
    response.headers["ETag"] = service.image_etag(stored.sha256, thumb=False)
    return RecipeImageRead(
        recipe_id=recipe.id,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
        byte_size=stored.byte_size,
        sha256=stored.sha256,
        thumb_content_type=stored.thumb_content_type,
        url=location,
        thumb_url=f"{location}?size=thumb",
        recipe_version=stored.recipe_version,
    )


@router.get(
    "/{recipe_id}/image",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/webp": {}}, "description": "The image"},
        304: {"description": "Not modified"},
        **problem_responses(404, 422),
    },
    summary="A recipe's image, or its thumbnail with ?size=thumb",
)
def get_recipe_image(
    recipe_id: RecipeId,
    user: CurrentPrincipal,
    session: SessionDep,
    size: Annotated[Literal["thumb"] | None, Query()] = None,
    if_none_match: Annotated[str | None, Header(max_length=2048)] = None,
) -> Response:
    thumb = size == "thumb"
    head = service.image_head(session, recipe_id, user.id)
    etag = service.image_etag(head.sha256, thumb=thumb)
    if _etag_matches(if_none_match, etag):
        headers = _cache_headers(etag)
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    content = service.image_content(session, recipe_id, user.id, thumb=thumb)
    etag = service.image_etag(content.sha256, thumb=thumb)
    extension = _EXTENSIONS.get(content.content_type, "img")
    filename = f"recipe-{recipe_id}{'-thumb' if thumb else ''}.{extension}"
    headers = {
        **_cache_headers(etag),
        **_IMAGE_SECURITY_HEADERS,
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    return Response(content=content.data, media_type=content.content_type, headers=headers)


@router.delete(
    "/{recipe_id}/image",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(404),
    summary="Remove a recipe's image (204 also when there was none)",
)
def delete_recipe_image(
    recipe: OwnedRecipe, user: CurrentPrincipal, session: SessionDep
) -> Response:
    service.remove_image(session, recipe.id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _cache_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": IMAGE_CACHE, "Vary": "Authorization"}


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
