"""The token exchange and logout: Clerk proves who you are, we issue our own token."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth import repository
from app.auth.clerk import ClerkVerifier, InvalidClerkToken
from app.core.events import AUTH_LOGOUT, AUTH_TOKEN_ISSUED, AUTH_TOKEN_REJECTED, security_event
from app.core.tokens import IssuedToken, KeyRing, issue_access_token
from app.users import service as users_service
from app.users.models import User


def exchange_clerk_token(
    session: Session, verifier: ClerkVerifier, ring: KeyRing, clerk_token: str
) -> tuple[IssuedToken, User]:
    claims = verifier.verify_session_token(clerk_token)
    if repository.is_session_revoked(session, claims.sid):
        _reject("revoked_session")
        raise InvalidClerkToken("revoked_session")
    if not users_service.valid_clerk_user_id(claims.sub):
        _reject("bad_sub")
        raise InvalidClerkToken("bad_sub")
    user = _local_user(session, verifier, claims.sub)
    issued = issue_access_token(ring, user_id=user.id, sid=claims.sid, version=user.token_version)
    security_event(AUTH_TOKEN_ISSUED, user_id=str(user.id), kid=issued.claims.kid)
    return issued, user


def _local_user(session: Session, verifier: ClerkVerifier, clerk_user_id: str) -> User:
    user = users_service.find_by_clerk_id(session, clerk_user_id)
    try:
        if user is None:
            # Only a first sign-in pays for the Backend API call; webhooks keep it fresh.
            profile = verifier.fetch_user(clerk_user_id)
            user = users_service.get_or_create_from_clerk(session, clerk_user_id, profile)
        elif user.is_erased:
            users_service.raise_erased()
    except users_service.UserErased:
        # Erased stays erased (a tombstone may also have won a race with this sign-in).
        # The client gets the same generic refusal as for any other bad token.
        _reject("user_erased")
        raise InvalidClerkToken("user_erased") from None
    return user


def logout(session: Session, user: User) -> None:
    """Every outstanding token of this user stops working at once."""
    users_service.bump_token_version(session, user)
    security_event(AUTH_LOGOUT, user_id=str(user.id))


def _reject(reason: str) -> None:
    security_event(AUTH_TOKEN_REJECTED, reason=reason, token_kind="clerk")  # noqa: S106
