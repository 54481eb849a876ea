"""Purging expired idempotency keys: `homechef purge-idempotency-keys`, run from cron.

Expired keys are already ignored by requests (and a request that meets its own expired
key replaces it), so the purge only reclaims space; it runs outside requests, on a
schedule (hourly is plenty). Each batch is its own short transaction and skips rows a
request has locked, so it never makes a request wait, nor waits for one.
"""

from __future__ import annotations

from sqlalchemy import Engine

from app.db.session import script_session
from app.idempotency import service

DEFAULT_BATCH = 1000


def purge_expired_keys(engine: Engine, batch: int = DEFAULT_BATCH) -> int:
    """Delete every expired key, ``batch`` rows per transaction; how many went."""
    total = 0
    while True:
        with script_session(engine) as session:
            deleted = service.purge_expired(session, batch)
        total += deleted
        if deleted < batch:
            return total
