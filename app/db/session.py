"""The unit of work: one session per request, committed once, by this module only."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine, Executable, Result
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger("homechef.db")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: response models are built from objects after the commit.
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def _rollback_keeping_the_original_error(session: Session) -> None:
    try:
        session.rollback()
    except Exception:
        # With the database gone the rollback fails too; the error that matters (and
        # that the handlers map to 503) is the one already in flight.
        logger.warning("rollback failed", extra={"event": "db.rollback_failed"}, exc_info=True)


def _finish(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        _rollback_keeping_the_original_error(session)
        raise
    finally:
        session.close()


def _abandon(session: Session) -> None:
    try:
        _rollback_keeping_the_original_error(session)
    finally:
        session.close()


async def _in_own_thread(fn: Callable[[Session], None], session: Session) -> None:
    # A limiter of its own, as FastAPI does for a sync generator's exit: the commit frees
    # a pooled connection, so it must not queue behind requests waiting for one.
    # Shielded: when the client goes away mid-request the task is cancelled, and the
    # rollback and close must still run, or the connection stays checked out until GC.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(fn, session, limiter=anyio.CapacityLimiter(1))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Commit when the route returns normally, roll back on any error.

    Declared with scope="function" below, so the commit happens before the response is
    sent: a client never sees 2xx for a write that then failed to commit.

    Async, with the blocking end in a worker thread: making a Session does no I/O (it
    connects on its first statement), and a sync generator dependency costs a thread-pool
    round trip on entry as well as on exit (measured with bench/costs.py).
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        await _end(_abandon, session)
        raise
    await _end(_finish, session)


async def _end(fn: Callable[[Session], None], session: Session) -> None:
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await _in_own_thread(fn, session)
    else:
        # Never used (e.g. authentication answered from the validity cache): no
        # connection to return, so nothing that blocks, and no thread hop for it.
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def read_rows(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> Result[Any]:
    """Run a Core SELECT (columns, not entities) in the session's transaction.

    For the hot reads. ``Session.execute`` sends every statement through the ORM's
    execution path, which for a statement that loads no objects is pure overhead: about
    60 µs of a ~1 ms read (bench/README.md). Pending changes are flushed first, as
    autoflush would.
    """
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement, params)


@contextmanager
def script_session(engine: Engine) -> Iterator[Session]:
    """The unit of work for command-line tools: commit at the end, roll back on error."""
    session = make_session_factory(engine)()
    try:
        yield session
    except BaseException:
        _abandon(session)
        raise
    _finish(session)


def release_connection(session: Session) -> None:
    """End a read-only phase early, so a long wait holds no pooled connection.

    For routes that must stream a large body after authorising (an image upload from a
    slow phone would otherwise pin a connection for minutes). Only reads may have
    happened; loaded objects stay usable (expire_on_commit=False) and the next query
    starts a fresh transaction that the request's unit of work commits as usual.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release_connection() with pending writes")
    session.commit()
