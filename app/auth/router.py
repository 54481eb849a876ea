from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service
from app.auth.clerk_dependency import ClerkVerifierDep
from app.auth.dependencies import CurrentUser
from app.auth.schemas import TokenResponse, TokenUser
from app.core.errors import problem_responses
from app.db.session import SessionDep

clerk_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ClerkSession",
    description="A Clerk session token (from the frontend's Clerk SDK), only for /auth/token",
)
ClerkCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(clerk_bearer)]

public_router = APIRouter(prefix="/auth", tags=["auth"])
protected_router = APIRouter(prefix="/auth", tags=["auth"])


@public_router.post(
    "/token",
    response_model=TokenResponse,
    responses=problem_responses(401, 503),
    summary="Exchange a Clerk session token for an internal access token",
)
def exchange_token(
    request: Request,
    session: SessionDep,
    verifier: ClerkVerifierDep,
    credentials: ClerkCredentials,
) -> TokenResponse:
    # A missing or non-Bearer header verifies as the empty token: refused and logged.
    token = credentials.credentials if credentials else ""
    issued, user = service.exchange_clerk_token(
        session, verifier, request.app.state.key_ring, token
    )
    return TokenResponse(
        access_token=issued.token,
        expires_in=issued.expires_in,
        user=TokenUser.model_validate(user, from_attributes=True),
    )


@protected_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke every outstanding token of the caller",
)
def logout(session: SessionDep, user: CurrentUser) -> Response:
    service.logout(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
