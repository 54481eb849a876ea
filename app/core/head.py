"""HEAD is answered wherever GET is, by one mechanism instead of one per route.

FastAPI's routes answer only the methods they declare, so ``HEAD /ready`` (a load
balancer's probe), ``HEAD`` on a recipe (a cache revalidating) or on an image was a 405.
Declaring HEAD route by route would be forgotten on the next route and would double every
GET in the OpenAPI schema. Instead this middleware routes a HEAD request as the GET it
shadows (same dependencies, so same authentication, ownership and 404s; the rate limiter
and the access line, outside it, still see HEAD) and sends the GET's status and headers,
Content-Length and ETag included, without the body (RFC 9110, 9.3.2).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # A copy, because the server still reads method HEAD from its own scope (and so
        # expects no body); what routing adds (the matched route) goes back for the log.
        inner = {**scope, "method": "GET"}
        try:
            await self.app(inner, receive, send_without_body)
        finally:
            scope.update({k: v for k, v in inner.items() if k != "method"})
