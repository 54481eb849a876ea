"""The exchange's inputs: one ClerkVerifier per app (its JWKS cache must be shared) and the
Clerk session token from the Authorization header."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.clerk import ClerkUnavailable, ClerkVerifier, InvalidClerkToken
from app.auth.dependencies import has_several_authorization_headers
from app.core.config import Settings
from app.core.events import AUTH_TOKEN_REJECTED, security_event

_lock = threading.Lock()

clerk_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ClerkSession",
    description="A Clerk session token (from the frontend's Clerk SDK), only for /auth/token",
)
ClerkCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(clerk_bearer)]


def get_clerk_verifier(request: Request) -> ClerkVerifier:
    state = request.app.state
    verifier = getattr(state, "clerk_verifier", None)
    if verifier is not None:
        return verifier
    settings: Settings = state.settings
    if not settings.clerk_configured:
        raise ClerkUnavailable("not_configured")
    with _lock:
        verifier = getattr(state, "clerk_verifier", None)
        if verifier is None:
            verifier = ClerkVerifier(settings)
            state.clerk_verifier = verifier
    return verifier


def get_clerk_session_token(request: Request, credentials: ClerkCredentials) -> str:
    if has_several_authorization_headers(request):
        security_event(AUTH_TOKEN_REJECTED, reason="duplicate_header", token_kind="clerk")  # noqa: S106
        raise InvalidClerkToken("duplicate_header")
    # A missing or non-Bearer header is the empty token: the verifier refuses and logs it.
    return credentials.credentials if credentials else ""


ClerkVerifierDep = Annotated[ClerkVerifier, Depends(get_clerk_verifier)]
ClerkSessionToken = Annotated[str, Depends(get_clerk_session_token)]
