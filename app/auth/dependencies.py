"""The dependencies every protected route stands on.

``require_user`` / ``CurrentPrincipal``: a valid access token whose user, version and Clerk
session are live. ``CurrentUser``: the same, plus the caller's ``User`` row.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session, sessionmaker

from app.auth import repository
from app.auth.principal import Principal
from app.auth.validity import ValidityCache
from app.core import metrics
from app.core.errors import Unauthorized
from app.core.events import AUTH_TOKEN_REJECTED, security_event
from app.core.request_context import set_user_id
from app.core.tokens import AccessClaims, InvalidAccessToken, KeyRing, verify_access_token
from app.db.session import SessionDep
from app.users.models import User


def _reject(reason: str) -> Unauthorized:
    security_event(AUTH_TOKEN_REJECTED, reason=reason, token_kind="internal")  # noqa: S106
    return Unauthorized()


def has_several_authorization_headers(request: Request) -> bool:
    # Proxies and frameworks disagree on which of two headers counts (Starlette takes the
    # first); refusing the ambiguity means none of them can be steered to another token.
    return len(request.headers.getlist("authorization")) > 1


def _verified_claims(request: Request) -> AccessClaims:
    if has_several_authorization_headers(request):
        raise _reject("duplicate_header")
    # HTTPBearer's own parsing (scheme case-insensitive), without building its model.
    authorization = request.headers.get("Authorization")
    scheme, token = get_authorization_scheme_param(authorization)
    if not token or scheme.lower() != "bearer":
        raise _reject("missing")
    ring: KeyRing = request.app.state.key_ring
    try:
        return verify_access_token(ring, token)
    except InvalidAccessToken as exc:
        raise _reject(exc.reason) from None


def _revocation_reason(
    factory: sessionmaker[Session], user_id: uuid.UUID, claims: AccessClaims
) -> str | None:
    # A read-only session of its own, ended before the route's unit of work begins: a
    # route that needs no database (or a cached token) then opens no session at all.
    with factory() as session:
        user, revoked = repository.load_token_subject(session, user_id, claims.sid)
        reason = _row_refusal(user, claims.ver)
        if reason is None and revoked:
            return "revoked_session"
        return reason


def _row_refusal(user: User | None, version: int) -> str | None:
    if user is None:
        return "unknown_user"
    if user.is_erased:
        return "user_erased"
    if user.token_version != version:
        return "revoked_version"
    return None


class AccessTokenBearer(HTTPBearer):
    """The bearer scheme of every protected route, and the check behind it.

    An ``HTTPBearer`` so that OpenAPI documents the scheme on each operation (and the
    route-protection tests read it there), extended to return the verified caller: one
    dependency instead of a chain, since every level of FastAPI's dependency solving costs
    CPU on every request (bench/costs.py).

    Async on purpose: the HS256 check is pure CPU, and when the validity cache vouches
    for the token (the common case, app/auth/validity.py) there is no I/O at all; a sync
    dependency would cost a thread-pool round trip per request. Otherwise one query, in a
    worker thread.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        claims = _verified_claims(request)
        user_id = uuid.UUID(claims.sub)
        state = request.app.state
        cache: ValidityCache | None = getattr(state, "validity_cache", None)
        cached = cache is not None and cache.is_valid(user_id, claims.sid, claims.ver)
        metrics.count_validity_lookup(
            "hit" if cached else "miss" if cache is not None and cache.active else "inactive")
        if not cached:
            generation = cache.generation() if cache is not None else 0
            reason = await anyio.to_thread.run_sync(
                _revocation_reason, state.session_factory, user_id, claims)
            if reason is not None:
                raise _reject(reason)
            if cache is not None:
                cache.remember(generation, user_id, claims.sid, claims.ver)
        # For the access line; the scope's dict rather than request.state, which builds a
        # State object per request.
        request.scope.setdefault("state", {})["user_id"] = claims.sub
        set_user_id(claims.sub)
        return Principal(id=user_id, sid=claims.sid, token_version=claims.ver)


# auto_error=False: a missing header must become our 401 problem body, not FastAPI's 403.
bearer_scheme = get_principal = AccessTokenBearer(
    auto_error=False, description="Internal access token from POST /api/v1/auth/token",
    scheme_name="HTTPBearer",
)
CurrentPrincipal = Annotated[Principal, Depends(bearer_scheme)]
#: For router-level ``dependencies=[...]``: every route below is protected by default.
require_user = Depends(bearer_scheme)


def get_current_user(principal: CurrentPrincipal, session: SessionDep) -> User:
    """The caller's ``User`` row, for routes about the person rather than their recipes."""
    user = repository.find_user(session, principal.id)
    # Re-checked on the row itself: it may have changed since the principal was vouched for.
    reason = _row_refusal(user, principal.token_version)
    if reason is not None:
        raise _reject(reason)
    return user  # type: ignore[return-value]  # _row_refusal rules out None


CurrentUser = Annotated[User, Depends(get_current_user)]
