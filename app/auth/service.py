"""The token exchange and logout: Clerk proves who you are, we issue our own token."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.auth import repository
from app.auth.clerk import ClerkVerifier, InvalidClerkToken
from app.core.tokens import IssuedToken, KeyRing, issue_access_token
from app.users import service as users_service
from app.users.models import User

security_log = logging.getLogger("homechef.security")


def exchange_clerk_token(
    session: Session, verifier: ClerkVerifier, ring: KeyRing, clerk_token: str
) -> tuple[IssuedToken, User]:
    claims = verifier.verify_session_token(clerk_token)
    if repository.is_session_revoked(session, claims.sid):
        security_log.warning(
            "auth.token_rejected",
            extra={"event": "auth.token_rejected", "reason": "revoked_session",
                   "token_kind": "clerk"},
        )
        raise InvalidClerkToken("revoked_session")
    user = users_service.find_by_clerk_id(session, claims.sub)
    if user is None:
        # Only a first sign-in pays for the Backend API call; webhooks keep it fresh after.
        profile = verifier.fetch_user(claims.sub)
        user = users_service.get_or_create_from_clerk(session, claims.sub, profile)
    elif user.is_erased:
        users_service.raise_erased()
    issued = issue_access_token(ring, user_id=user.id, sid=claims.sid, version=user.token_version)
    security_log.info(
        "auth.token_issued",
        extra={"event": "auth.token_issued", "user_id": str(user.id), "kid": issued.claims.kid},
    )
    return issued, user


def logout(session: Session, user: User) -> None:
    """Every outstanding token of this user stops working at once."""
    users_service.bump_token_version(session, user)
    security_log.info("auth.logout", extra={"event": "auth.logout", "user_id": str(user.id)})
