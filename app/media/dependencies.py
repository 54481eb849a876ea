"""The upload every photo route shares, and the app's link signer."""

from __future__ import annotations

from typing import IO, Annotated

import anyio.to_thread
from fastapi import Depends, Request

from app.auth.dependencies import CurrentPrincipal
from app.core.config import Settings
from app.core.upload import read_multipart_file
from app.db.session import SessionDep, release_connection
from app.imports import image_url
from app.media.images import ProcessedImage
from app.media.jobs import process_upload
from app.media.links import LinkSigner
from app.recipes.dependencies import OwnedRecipe

UPLOAD_BODY = {
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


async def get_processed_upload(
    request: Request, _recipe: OwnedRecipe, user: CurrentPrincipal, session: SessionDep
) -> ProcessedImage:
    """Ownership first (a stranger's upload is refused before a byte is read), then the
    body, size-capped in the event loop, then the decode in a CPU-limited worker."""
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


def link_signer(request: Request) -> LinkSigner:
    """Built once per app from SECRET_KEY and PREVIOUS_SECRET_KEYS."""
    signer: LinkSigner | None = getattr(request.app.state, "media_links", None)
    if signer is None:
        settings: Settings = request.app.state.settings
        signer = LinkSigner(settings.all_secret_keys(), settings.MEDIA_LINK_SECONDS)
        request.app.state.media_links = signer
    return signer


MediaLinks = Annotated[LinkSigner, Depends(link_signer)]
