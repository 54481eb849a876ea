"""CurrentUser: the dependency every protected route stands on."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import repository
from app.core.errors import Unauthorized
from app.core.events import AUTH_TOKEN_REJECTED, security_event
from app.core.request_context import set_user_id
from app.core.tokens import AccessClaims, InvalidAccessToken, KeyRing, verify_access_token
from app.db.session import SessionDep
from app.users.models import User

# auto_error=False: a missing header must become our 401 problem body, not FastAPI's 403.
bearer_scheme = HTTPBearer(
    auto_error=False, description="Internal access token from POST /api/v1/auth/token"
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _reject(reason: str) -> Unauthorized:
    security_event(AUTH_TOKEN_REJECTED, reason=reason, token_kind="internal")  # noqa: S106
    return Unauthorized()


def has_several_authorization_headers(request: Request) -> bool:
    # Proxies and frameworks disagree on which of two headers counts (Starlette takes the
    # first); refusing the ambiguity means none of them can be steered to another token.
    return len(request.headers.getlist("authorization")) > 1


async def get_access_claims(request: Request, credentials: BearerCredentials) -> AccessClaims:
    # Async on purpose: it is pure CPU (an HS256 check, ~0.1 ms) with no I/O, and a sync
    # dependency costs a thread-pool round trip per request (~0.7 ms of CPU under load,
    # measured with bench/costs.py), more than the verification itself.
    if has_several_authorization_headers(request):
        raise _reject("duplicate_header")
    if credentials is None or not credentials.credentials:
        raise _reject("missing")
    ring: KeyRing = request.app.state.key_ring
    try:
        return verify_access_token(ring, credentials.credentials)
    except InvalidAccessToken as exc:
        raise _reject(exc.reason) from None


AccessClaimsDep = Annotated[AccessClaims, Depends(get_access_claims)]


def get_current_user(request: Request, claims: AccessClaimsDep, session: SessionDep) -> User:
    user, revoked = repository.load_token_subject(session, uuid.UUID(claims.sub), claims.sid)
    if user is None:
        raise _reject("unknown_user")
    if user.is_erased:
        raise _reject("user_erased")
    if user.token_version != claims.ver:
        raise _reject("revoked_version")
    if revoked:
        raise _reject("revoked_session")
    request.state.user_id = str(user.id)
    set_user_id(str(user.id))
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
#: For router-level ``dependencies=[...]``: every route below is protected by default.
require_user = Depends(get_current_user)
