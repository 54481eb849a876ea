from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.auth import service
from app.auth.clerk_dependency import ClerkSessionToken, ClerkVerifierDep
from app.auth.dependencies import CurrentUser
from app.auth.schemas import TokenResponse, TokenUser
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute

public_router = APIRouter(prefix="/auth", tags=["auth"], route_class=UnitOfWorkRoute)
protected_router = APIRouter(prefix="/auth", tags=["auth"], route_class=UnitOfWorkRoute)


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
    clerk_token: ClerkSessionToken,
) -> TokenResponse:
    issued, user = service.exchange_clerk_token(
        session, verifier, request.app.state.key_ring, clerk_token
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
