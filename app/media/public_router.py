"""GET/HEAD /api/v1/media/{image_id}/{size}?exp=&sig=: the one public image route.

No token: the signed link is the permission (app/media/links.py). Every refusal (bad,
expired or tampered signature, malformed parameters, a photo or recipe deleted or
erased) is the same 404, before or instead of any database work for a bad signature.

Caching: the bytes under a link never change (a new photo is a new id), so the response
may be kept until the link expires: ``public, immutable`` for a public recipe,
``private`` (the browser only, no shared cache) for a private one. Conditional requests
use the ETag of the size's bytes.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.media import service
from app.media.dependencies import MediaLinks
from app.media.exceptions import ImageNotFound
from app.media.http import IMAGE_SECURITY_HEADERS, filename_for, none_match
from app.media.links import MAX_SIG_CHARS
from app.media.models import SIZES

router = APIRouter(prefix="/media", tags=["media"], route_class=UnitOfWorkRoute)

#: The route's path under the API prefix, for PUBLIC_PATHS and the rate limiter.
MEDIA_ROUTE = "/media/{image_id}/{size}"


def _parse(image_id: str, size: str, exp: str | None, sig: str | None) -> tuple[uuid.UUID, int]:
    if (size not in SIZES or exp is None or sig is None or len(exp) > 12
            or not (exp.isascii() and exp.isdigit()) or len(sig) > MAX_SIG_CHARS):
        raise ImageNotFound()
    try:
        return uuid.UUID(image_id), int(exp)
    except ValueError:
        raise ImageNotFound() from None


_OPERATION = dict(
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/webp": {}}, "description": "The image"},
        304: {"description": "Not modified"},
        **problem_responses(404),
    },
    summary="One size of a photo, through a signed link from a recipe response (no token)",
)


@router.get(MEDIA_ROUTE.removeprefix("/media"), operation_id="get_media", **_OPERATION)
@router.head(MEDIA_ROUTE.removeprefix("/media"), operation_id="head_media", **_OPERATION)
def get_media(
    request: Request,
    links: MediaLinks,
    session: SessionDep,
    image_id: str,
    size: str,
    # Unconstrained here on purpose: a malformed link is a 404 like any bad link, never
    # a 422 telling which part is wrong (the checks are in _parse and links.verify).
    exp: Annotated[str | None, Query()] = None,
    sig: Annotated[str | None, Query()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    parsed_id, expiry = _parse(image_id, size, exp, sig)
    if sig is None or not links.verify(parsed_id, size, expiry, sig):
        raise ImageNotFound()
    head = service.linked_head(session, parsed_id, size)
    etag = service.variant_etag(head.sha256)
    age = links.seconds_left(expiry)
    cache = (f"public, max-age={age}, immutable" if head.visibility == "public"
             else f"private, max-age={age}")
    headers = {
        "ETag": etag, "Cache-Control": cache,
        "Cross-Origin-Resource-Policy": "cross-origin", **IMAGE_SECURITY_HEADERS,
    }
    if if_none_match is not None and len(if_none_match) <= 2048 and none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    filename = filename_for(f"photo-{size}", head.content_type)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    redirect = service.delivery_url(head)
    if redirect is not None:
        # A presigned GET of minutes on a private bucket, never a public object URL;
        # the redirect itself is not cached (it expires before the link does).
        headers["Cache-Control"] = "private, no-store"
        headers["Location"] = redirect
        return Response(status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(head.byte_size)
        return Response(status_code=status.HTTP_200_OK, media_type=head.content_type,
                        headers=headers)
    return Response(content=service.read_bytes(session, head), media_type=head.content_type,
                    headers=headers)
