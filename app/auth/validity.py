"""Which (user, Clerk session, token version) triples were valid a moment ago.

Every authenticated request must know that its token's user still exists, is not erased,
still has the token's version, and that the token's Clerk session was not revoked. Asking
PostgreSQL each time cost a connection, a round trip and a thread hop per request (most of
the authentication overhead bench/costs.py measured). This cache answers "still valid"
from memory, and is only trusted while it cannot be stale:

* It is **active** only while the revocation feed (``change_feed.py``) holds a live
  ``LISTEN`` on PostgreSQL, and only for a short lease that the feed renews after each
  heartbeat: a feed stuck on a connection that stopped answering (no error, no data)
  stops being trusted when its lease runs out. Triggers (migration 0002) notify every
  change of a user's token version, erasure or deletion, every revoked session and every
  TRUNCATE; the feed forgets what they name. When the feed's connection is lost, the
  cache is emptied and bypassed until the feed listens again, so a missed notification
  can never leave a revoked token working.
* A commit in this process that revoked something forgets it synchronously, before the
  response is sent (``note_revoked`` + ``install``), so a client never sees its own
  logout ignored by the same worker.
* A lookup that raced an invalidation is not stored (a generation counter), and every
  entry expires after ``ttl`` seconds anyway.

Only "valid" is remembered; refusals always go to the database.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

Key = tuple[uuid.UUID, str, int]

_PENDING = "homechef.auth.revoked"


class ValidityCache:
    def __init__(
        self, ttl_seconds: float, *, max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._expires: dict[Key, float] = {}
        self._by_user: dict[uuid.UUID, set[Key]] = {}
        self._by_sid: dict[str, set[Key]] = {}
        self._generation = 0
        self._active = False
        self._lease_until = float("inf")

    @property
    def active(self) -> bool:
        return self._active

    def __len__(self) -> int:
        return len(self._expires)

    # --- lookups (request path) -----------------------------------------------------------

    def is_valid(self, user_id: uuid.UUID, sid: str, version: int) -> bool:
        """True only if this triple was checked against the database and nothing that
        could revoke it has happened since."""
        if not self._active:
            return False
        key = (user_id, sid, version)
        with self._lock:
            expires = self._expires.get(key)
            if expires is None:
                return False
            now = self._clock()
            if now >= self._lease_until:
                return False
            if expires <= now:
                self._drop(key)
                return False
            return True

    def generation(self) -> int:
        """Take before reading the database; pass to ``remember`` afterwards."""
        return self._generation

    def remember(self, generation: int, user_id: uuid.UUID, sid: str, version: int) -> None:
        key = (user_id, sid, version)
        with self._lock:
            # Anything forgotten (or a feed outage) since the read began may concern it.
            if not self._active or generation != self._generation:
                return
            if self._clock() >= self._lease_until:
                return
            if key not in self._expires and len(self._expires) >= self.max_entries:
                self._drop(next(iter(self._expires)))  # the oldest insertion
            # Jittered, so users first seen together (a deploy, a benchmark's warm-up) are
            # not all re-checked in the same second.
            self._expires[key] = self._clock() + self.ttl * random.uniform(0.8, 1.0)  # noqa: S311
            self._by_user.setdefault(user_id, set()).add(key)
            self._by_sid.setdefault(sid, set()).add(key)

    # --- invalidation (feed thread, commits) ----------------------------------------------

    def forget_user(self, user_id: uuid.UUID) -> None:
        with self._lock:
            self._generation += 1
            for key in list(self._by_user.get(user_id, ())):
                self._drop(key)

    def forget_session(self, sid: str) -> None:
        with self._lock:
            self._generation += 1
            for key in list(self._by_sid.get(sid, ())):
                self._drop(key)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._clear()

    def activate(self, lease_seconds: float | None = None) -> None:
        """The feed listens now: start trusting (and filling) the cache, from empty.

        With ``lease_seconds``, trust lapses unless ``renew`` is called within it.
        """
        with self._lock:
            self._generation += 1
            self._clear()
            self._active = True
            self._lease_until = (float("inf") if lease_seconds is None
                                 else self._clock() + lease_seconds)

    def renew(self, lease_seconds: float) -> None:
        """The feed proved its connection alive and has applied every notification
        received so far. After a lapse, what was remembered may have missed one: start
        from empty."""
        with self._lock:
            now = self._clock()
            if now >= self._lease_until:
                self._generation += 1
                self._clear()
            self._lease_until = now + lease_seconds

    def deactivate(self) -> None:
        """The feed is down: notifications may be missed, so trust nothing remembered."""
        with self._lock:
            self._generation += 1
            self._active = False
            self._clear()

    def _clear(self) -> None:
        self._expires.clear()
        self._by_user.clear()
        self._by_sid.clear()

    def _drop(self, key: Key) -> None:
        if self._expires.pop(key, None) is None:
            return
        user_id, sid, _ = key
        for index, name in ((self._by_user, user_id), (self._by_sid, sid)):
            keys = index.get(name)  # type: ignore[call-overload]
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[name]  # type: ignore[arg-type]


# --- revocations made by this process -------------------------------------------------------


def note_revoked(session: Session, *, user_id: uuid.UUID | None = None,
                 sid: str | None = None) -> None:
    """Record, in the unit of work, that it revokes tokens; forgotten once it commits.

    Repositories call this next to the write itself. The database trigger tells every
    process too; this makes the writing process forget before its response goes out.
    """
    session.info.setdefault(_PENDING, []).append((user_id, sid))


def install(factory: sessionmaker[Session], cache: ValidityCache) -> None:
    """Make sessions from ``factory`` forget their noted revocations when they end.

    After a rollback too: forgetting a triple that stayed valid only costs one database
    check, and a commit whose acknowledgement was lost may still have revoked it.
    """

    def forget_pending(session: Session) -> None:
        for user_id, sid in session.info.pop(_PENDING, ()):
            if user_id is not None:
                cache.forget_user(user_id)
            if sid is not None:
                cache.forget_session(sid)

    event.listen(factory, "after_commit", forget_pending)
    event.listen(factory, "after_rollback", forget_pending)
