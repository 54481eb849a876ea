"""PUT /api/v1/recipes/{id}/image with a JSON body {"url": ...}: the image is fetched by
the guarded fetcher, then handed to the existing image pipeline as if uploaded."""

from __future__ import annotations

import tempfile
from typing import IO, Annotated

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.auth.principal import Principal
from app.core.upload import capped_body
from app.imports.dependencies import get_fetcher, limit_imports

#: A URL of at most 2048 characters, in JSON: anything longer is not a request for this.
MAX_URL_BODY = 8 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024


class ImageUrlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=1, max_length=2048)]


def wants_url(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json"


async def fetch_image_body(request: Request, user: Principal) -> IO[bytes]:
    """The image at the body's URL, rewound, in a spooled file the caller closes."""
    raw = b"".join([chunk async for chunk in capped_body(request, MAX_URL_BODY)])
    try:
        body = ImageUrlIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from None
    await limit_imports(request, user)
    fetcher = await get_fetcher(request)
    fetched = await fetcher.fetch(body.url, kind="image",
                                  max_bytes=request.app.state.settings.MAX_UPLOAD_BYTES)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    spool.write(fetched.body)
    spool.seek(0)
    return spool
