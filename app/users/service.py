"""Rules for people: first sign-in, Clerk sync ordering, erasure, profile and export."""

from __future__ import annotations

import uuid
from typing import Any, Literal, NoReturn

from sqlalchemy.orm import Session

from app.core.errors import NotFound, Unauthorized
from app.core.events import AUTH_LOGOUT, security_event
from app.db.base import utcnow
from app.recipes import owner_data as recipes_data
from app.users import owner_data, repository
from app.users.clerk_profile import (
    ClerkProfileLike,
    profile_columns,
    profile_updated_at,
)
from app.users.models import User

#: Not (yet) among app.core.events' constants; same logger and shape.
USER_ERASED = "user.erased"

CLERK_USER_ID_MAX = 64

SyncOutcome = Literal["created", "updated", "stale", "erased"]
EraseOutcome = Literal["erased", "already-erased", "tombstoned"]


class UserErased(Unauthorized):
    code = "user-erased"
    detail = "This account has been erased."


class InvalidClerkUserId(Unauthorized):
    code = "invalid-clerk-user-id"
    detail = "The identity provider named an unusable user id."


class UserNotFound(NotFound):
    code = "user-not-found"
    detail = "No such user."


def valid_clerk_user_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= CLERK_USER_ID_MAX and value.isprintable()


def find_by_clerk_id(session: Session, clerk_user_id: str) -> User | None:
    return repository.find_by_clerk_id(session, clerk_user_id)


def raise_erased() -> NoReturn:
    raise UserErased()


def guard_active_for_write(session: Session, user_id: uuid.UUID) -> None:
    """Call before attaching new rows to the user: refuses if erased meanwhile."""
    if repository.is_erased_share_locked(session, user_id):
        raise_erased()


def lock_active_for_write(session: Session, user_id: uuid.UUID) -> None:
    """``guard_active_for_write``, serialising this user's writers until the transaction
    ends: for rules across the user's rows (a count limit, one active meal plan)."""
    if repository.is_erased_update_locked(session, user_id):
        raise_erased()


def get_or_create_from_clerk(
    session: Session, clerk_user_id: str, profile: ClerkProfileLike | None
) -> User:
    """The user for a Clerk id, created on first sign-in; an erased person stays erased.

    Safe under races: concurrent first sign-ins (and a racing user.created webhook)
    leave exactly one row.
    """
    if not valid_clerk_user_id(clerk_user_id):
        raise InvalidClerkUserId()
    values = {
        "clerk_user_id": clerk_user_id,
        **profile_columns(profile),
        "clerk_updated_at": profile_updated_at(profile),
    }
    repository.insert_if_absent(session, values)
    user = repository.find_by_clerk_id(session, clerk_user_id)
    if user is None:  # pragma: no cover - the insert or its conflict guarantees a row
        raise RuntimeError("user row vanished between insert and select")
    if user.is_erased:
        raise UserErased()
    return user


def revoke_all_tokens(
    session: Session, *, clerk_user_id: str | None = None, user_id: uuid.UUID | None = None
) -> User | None:
    """The operator's "sign this person out everywhere" (homechef revoke-user)."""
    if clerk_user_id is not None:
        user = repository.find_by_clerk_id(session, clerk_user_id)
    else:
        user = repository.find_by_id(session, user_id) if user_id else None
    if user is None:
        return None
    bump_token_version(session, user)
    session.refresh(user)
    security_event(AUTH_LOGOUT, user_id=str(user.id), reason="operator_revocation")
    return user


def bump_token_version(session: Session, user: User) -> None:
    """Every internal token issued to ``user`` so far stops working."""
    repository.bump_token_version(session, user)


def sync_from_clerk(
    session: Session, clerk_user_id: str, profile: ClerkProfileLike | None
) -> SyncOutcome:
    """Apply a Clerk user.created/user.updated, whatever order they arrive in.

    A newer ``updated_at`` wins; an older or equal one is stale. An event without a
    usable ``updated_at`` only fills a row that has no ordering yet. A tombstone is final.
    """
    columns = profile_columns(profile)
    updated_at = profile_updated_at(profile)
    values = {"clerk_user_id": clerk_user_id, **columns, "clerk_updated_at": updated_at}
    if repository.insert_if_absent(session, values) is not None:
        return "created"
    user = repository.find_by_clerk_id(session, clerk_user_id, lock=True)
    if user is None:  # pragma: no cover - the conflict above means the row exists
        raise RuntimeError("user row vanished after an insert conflict")
    if user.is_erased:
        return "erased"
    if not _is_newer(updated_at, user.clerk_updated_at):
        return "stale"
    for name, value in columns.items():
        setattr(user, name, value)
    user.clerk_updated_at = updated_at
    session.flush()
    return "updated"


def _is_newer(incoming: int | None, stored: int | None) -> bool:
    if stored is None:
        return True
    return incoming is not None and incoming > stored


def erase_by_clerk_id(session: Session, clerk_user_id: str) -> EraseOutcome:
    """user.deleted: erase the person, or leave a tombstone if we never met them."""
    tombstone = {"clerk_user_id": clerk_user_id, "deleted_at": utcnow()}
    if repository.insert_if_absent(session, tombstone) is not None:
        return "tombstoned"
    user = repository.find_by_clerk_id(session, clerk_user_id, lock=True)
    if user is None:  # pragma: no cover - the conflict above means the row exists
        raise RuntimeError("user row vanished after an insert conflict")
    if user.is_erased:
        return "already-erased"
    _erase_locked(session, user)
    return "erased"


def erase_user(session: Session, user: User) -> None:
    """DELETE /users/me: the same erasure as Clerk's user.deleted."""
    locked = repository.lock(session, user)
    if not locked.is_erased:
        _erase_locked(session, locked)


_PERSONAL_FIELDS: dict[str, Any] = {
    "email": None,
    "first_name": None,
    "last_name": None,
    "username": None,
    "image_url": None,
    "display_name": None,
    "bio": None,
}


def _erase_locked(session: Session, user: User) -> None:
    owner_data.erase_owner_data(session, user.id)
    for name, value in _PERSONAL_FIELDS.items():
        setattr(user, name, value)
    user.dietary_tags = []
    user.measurement_system = "metric"
    user.deleted_at = utcnow()
    session.flush()
    repository.bump_token_version(session, user)
    security_event(USER_ERASED, user_id=str(user.id))


def get_public_user(session: Session, user_id: uuid.UUID) -> tuple[User, int]:
    """A live user and their number of public recipes; erased people do not exist."""
    user = repository.find_by_id(session, user_id)
    if user is None or user.is_erased:
        raise UserNotFound()
    return user, recipes_data.count_public_recipes(session, user.id)


def update_profile(session: Session, user: User, changes: dict[str, Any]) -> User:
    """Apply already-validated changes to the fields this service owns.

    Under the row lock, so a PATCH racing an erasure cannot write into the tombstone.
    """
    user = repository.lock(session, user)
    if user.is_erased:
        raise UserErased()
    for name, value in changes.items():
        setattr(user, name, value)
    session.flush()
    return user


def export_user(session: Session, user: User) -> dict[str, Any]:
    """Everything stored about ``user``, for access and portability requests."""
    return {
        "exported_at": utcnow(),
        "profile": user,
        **owner_data.export_owner_data(session, user.id),
    }
