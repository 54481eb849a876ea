"""Development without Clerk: a local user and a real internal token, from the shell."""

from __future__ import annotations

import hashlib
import uuid

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from app.auth.clerk import ClerkUserProfile
from app.core.config import Settings
from app.core.tokens import IssuedToken, KeyRing, issue_access_token
from app.users import service as users_service


class DevTokenRefused(RuntimeError):
    pass


def dev_clerk_id(email: str) -> str:
    # Stable per email, so running the command twice gives the same user.
    return "dev_" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def _valid_email(email: str) -> str:
    """The address as email-validator normalises it; syntax only (no DNS lookup)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise DevTokenRefused(f"--email is not an email address: {exc}") from None


def issue_dev_token(session: Session, settings: Settings, email: str) -> IssuedToken:
    if settings.ENVIRONMENT != "development":
        raise DevTokenRefused(
            f"dev-token runs only with ENVIRONMENT=development (this is {settings.ENVIRONMENT})."
        )
    if settings.SECRET_KEY is None:
        # Checked before the user is written, so a refused run leaves nothing behind.
        raise DevTokenRefused("SECRET_KEY is not set; `homechef dev` creates a .env with one.")
    email = _valid_email(email)
    clerk_id = dev_clerk_id(email)
    profile = ClerkUserProfile(
        id=clerk_id, email=email.strip(), email_verified=True, first_name=None,
        last_name=None, username=email.split("@", 1)[0][:64] or None, image_url=None,
        updated_at=None,
    )
    user = users_service.get_or_create_from_clerk(session, clerk_id, profile)
    return issue_access_token(
        KeyRing(settings), user_id=user.id, sid=f"dev_{uuid.uuid4().hex}",
        version=user.token_version,
    )
