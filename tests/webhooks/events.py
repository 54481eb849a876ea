"""Clerk event payloads shaped like the real ones (only the fields we read, plus a few)."""

from __future__ import annotations

from typing import Any


def clerk_user(
    clerk_id: str,
    *,
    updated_at: int,
    email: str | None = "cook@example.com",
    first_name: str | None = "Ada",
    last_name: str | None = "Lovelace",
    username: str | None = "ada",
    image_url: str | None = "https://img.clerk.com/ada.png",
) -> dict[str, Any]:
    addresses = []
    if email is not None:
        addresses = [
            {
                "id": "idn_other",
                "email_address": "secondary@example.com",
                "object": "email_address",
            },
            {"id": "idn_primary", "email_address": email, "object": "email_address"},
        ]
    return {
        "id": clerk_id,
        "object": "user",
        "email_addresses": addresses,
        "primary_email_address_id": "idn_primary" if email is not None else None,
        "first_name": first_name,
        "last_name": last_name,
        "username": username,
        "image_url": image_url,
        "created_at": 1_700_000_000_000,
        "updated_at": updated_at,
    }


def user_event(
    kind: str, clerk_id: str, *, updated_at: int = 1_700_000_000_000, **fields: Any
) -> dict[str, Any]:
    return {
        "object": "event",
        "type": f"user.{kind}",
        "data": clerk_user(clerk_id, updated_at=updated_at, **fields),
    }


def user_deleted(clerk_id: str) -> dict[str, Any]:
    return {
        "object": "event",
        "type": "user.deleted",
        "data": {"id": clerk_id, "object": "user", "deleted": True},
    }


def session_event(kind: str, sid: str, user_id: str = "user_x") -> dict[str, Any]:
    return {
        "object": "event",
        "type": f"session.{kind}",
        "data": {"id": sid, "object": "session", "user_id": user_id, "status": kind},
    }
