from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel


class TokenUser(BaseModel):
    id: uuid.UUID
    email: str | None
    display_name: str | None
    first_name: str | None
    last_name: str | None
    username: str | None
    image_url: str | None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type)
    expires_in: int
    user: TokenUser
