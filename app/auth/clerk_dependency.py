"""One ClerkVerifier per app, built on first use (its JWKS cache must be shared)."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from app.auth.clerk import ClerkUnavailable, ClerkVerifier
from app.core.config import Settings

_lock = threading.Lock()


def get_clerk_verifier(request: Request) -> ClerkVerifier:
    state = request.app.state
    verifier = getattr(state, "clerk_verifier", None)
    if verifier is not None:
        return verifier
    settings: Settings = state.settings
    if not settings.clerk_configured:
        raise ClerkUnavailable("not_configured")
    with _lock:
        verifier = getattr(state, "clerk_verifier", None)
        if verifier is None:
            verifier = ClerkVerifier(settings)
            state.clerk_verifier = verifier
    return verifier


ClerkVerifierDep = Annotated[ClerkVerifier, Depends(get_clerk_verifier)]
