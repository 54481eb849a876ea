"""Started apps kept for the session and reused by later tests with the same settings.

Why: FastAPI (0.165) builds each included route's request handling lazily, per app, on
the first request that walks past it, which costs about 0.15-0.3 s for a new app, more
than most tests take. A test still gets a fresh lifespan, so everything the app
establishes at startup (key ring, validity cache, revocation feed, media store) is new,
and whatever was put on ``app.state`` since construction is dropped first.

An app is handed out again only if nothing a test can change stuck to it: the same
routes and middleware, no dependency overrides, and no rate limiter (whose counters
would carry over). Anything else is built afresh, as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

from app.core import metrics
from app.core.config import Settings


def settings_key(settings: Settings) -> str:
    """Every value, secrets included (a dump would mask them and merge distinct settings)."""
    values = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings
    }
    return json.dumps(values, sort_keys=True, default=str)


@dataclass
class ReusableApp:
    app: FastAPI
    key: str  # the settings it was built with, whatever a test does to app.state
    routes: int = 0
    middleware: int = 0
    state: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def wrap(cls, app: FastAPI, settings: Settings) -> ReusableApp:
        return cls(app, settings_key(settings), len(app.router.routes),
                   len(app.user_middleware), dict(app.state._state))

    def pristine(self) -> bool:
        app = self.app
        return (
            len(app.router.routes) == self.routes
            and len(app.user_middleware) == self.middleware
            and not app.dependency_overrides
            and getattr(app.state, "rate_limiter", None) is None
        )

    def reset(self) -> FastAPI:
        self.app.state._state.clear()
        self.app.state._state.update(self.state)
        # create_app sets this process-wide switch; another app may have flipped it since.
        metrics.set_enabled(self.state["settings"].METRICS_ENABLED)
        return self.app


class AppPool:
    """At most one idle app per (engine, settings); a test holding one takes it out."""

    def __init__(self) -> None:
        self._idle: dict[tuple[int, str], ReusableApp] = {}

    def take(self, engine_id: int, settings: Settings) -> ReusableApp | None:
        held = self._idle.pop((engine_id, settings_key(settings)), None)
        if held is None or not held.pristine():
            return None
        held.reset()
        return held

    def give_back(self, engine_id: int, held: ReusableApp) -> None:
        if held.pristine():
            self._idle[(engine_id, held.key)] = held
