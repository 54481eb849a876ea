"""CORS from Settings: exact origins, no credentials unless asked, problem JSON refusals.

- ALLOWED_ORIGINS is compared exactly (scheme, host and port), so a look-alike such as
  ``https://app.example.com.evil.example`` never matches. No regex origins.
- ``null`` (sandboxed iframes, file:// pages) is never allowed, even if configured.
- Bearer tokens need no credentials mode: Access-Control-Allow-Credentials is sent
  only with CORS_ALLOW_CREDENTIALS=true, and never together with ``*`` (startup
  validation refuses that combination, and ``*`` at all in staging/production).
- A preflight is answered with the allowed methods and headers only; a refused one is
  400 problem JSON rather than Starlette's plain text.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import problem_response

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Idempotency-Key: the PWA sends one with every create (docs/FRONTEND.md); a browser on
# another origin cannot send a header the preflight does not name.
ALLOWED_HEADERS = (
    "Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID",
    "Idempotency-Key",
)
EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "X-Request-ID",
    "Retry-After",
    "Idempotent-Replayed",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
#: Browsers cache a successful preflight this long (seconds); Chrome caps it at 7200.
PREFLIGHT_MAX_AGE = 600


def allowed_origins(settings: Settings) -> list[str]:
    # Browsers send an origin without a trailing slash; a configured one would never match.
    origins = [origin.strip().rstrip("/") for origin in settings.ALLOWED_ORIGINS]
    return [origin for origin in origins if origin and origin.lower() != "null"]


class ApiCORSMiddleware(CORSMiddleware):
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        origins = allowed_origins(settings)
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            # Belt and braces: '*' with credentials would let any site act as the user.
            allow_credentials=settings.CORS_ALLOW_CREDENTIALS and "*" not in origins,
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code >= 400:
                    reason = bytes(response.body).decode("utf-8", "replace")
                    kept = {k: v for k, v in response.headers.items()
                            if k.lower().startswith("access-control-") or k.lower() == "vary"}
                    response = problem_response(
                        Request(scope), status=response.status_code, code="cors-refused",
                        title="CORS preflight refused", detail=f"{reason}.", headers=kept,
                    )
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
