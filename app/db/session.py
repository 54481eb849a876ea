"""The unit of work: one session per request, committed once, by this module only."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
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


async def _in_own_thread(fn: Callable[..., None], *args: Any) -> None:
    # A limiter of its own, as FastAPI does for a sync generator's exit: the commit frees
    # a pooled connection, so it must not queue behind requests waiting for one.
    # Shielded: when the client goes away mid-request the task is cancelled, and the
    # rollback and close must still run, or the connection stays checked out until GC.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(fn, *args, limiter=anyio.CapacityLimiter(1))


#: Where a request's sessions are kept for its route to end them (the scope's state).
_SESSIONS = "homechef.sessions"
_WORK = "homechef.unit_of_work"


class UnitOfWorkRoute(APIRoute):
    """The route class of every API route: it ends the request's unit of work.

    After the endpoint returns and before the response is sent, the session is
    committed; if anything raised, it is rolled back; either way it is closed. So a
    client never sees 2xx for a write that then failed to commit. A sync endpoint's
    session ends in the endpoint's own worker thread, right after it returns, so
    endpoints return data that needs no further loading (they build their response
    models themselves).

    Why a route class rather than a ``yield`` dependency with scope="function" (the same
    guarantees): without FastAPI's generator machinery (an exit stack, a context
    manager, a shielded exit) and the second thread-pool round trip for the commit, a
    read costs 100-150 µs less of ~1 ms (bench/README.md, bench/inprocess.py).
    ``get_route_handler`` is FastAPI's documented hook for custom route classes.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Already wrapped when a router re-creates its routes on include.
        self.runs_steps = getattr(endpoint, _ADDS_STEPS, False)
        if not inspect.iscoroutinefunction(endpoint) and not inspect.isgeneratorfunction(
            endpoint
        ):
            endpoint = _ending_in_its_thread(endpoint)
            if any(getattr(d.dependency, _ADDS_STEPS, False)
                   for d in kwargs.get("dependencies") or ()):
                endpoint = _awaiting_its_thread(endpoint)
                self.runs_steps = True
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            work = _UnitOfWork(runs_steps=self.runs_steps)
            state = request.scope.setdefault("state", {})
            state[_SESSIONS] = work.sessions
            state[_WORK] = work
            # Seen by a sync endpoint's worker thread too (it runs in a copy of this context).
            token = _request_work.set(work)
            try:
                response = await handler(request)
            except AnswerInstead as answer:
                for session in work.sessions:
                    await _end(_abandon, session)
                return answer.response
            except BaseException:
                for session in work.sessions:
                    await _end(_abandon, session)
                raise
            finally:
                _request_work.reset(token)
            if work.before_commit:
                await _in_own_thread(_complete, work, response)
                return response
            for session in work.sessions:
                await _end(_finish, session)
            return response

        return handle


class AnswerInstead(Exception):
    """Raised by a dependency that answers the request itself (an idempotent replay).

    The route rolls back the unit of work (nothing was written) and sends ``response``
    instead of running the endpoint. Not an error: no handler renders it.
    """

    def __init__(self, response: Response) -> None:
        super().__init__("answered by a dependency")
        self.response = response


#: A step that writes into the request's transaction once the response is built.
BeforeCommit = Callable[[Response], None]
_ADDS_STEPS = "homechef_adds_unit_of_work_steps"


@dataclass
class _UnitOfWork:
    runs_steps: bool = False
    sessions: list[Session] = field(default_factory=list)
    before_endpoint: list[Callable[[], None]] = field(default_factory=list)
    before_commit: list[BeforeCommit] = field(default_factory=list)


def adds_unit_of_work_steps(dependency: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a dependency that calls ``run_before_endpoint`` / ``run_before_commit``.

    A sync route that lists it in ``dependencies=[...]`` is then run so that its
    connection is never held while waiting for a thread: the steps before the endpoint
    run in the endpoint's own worker thread (they open the transaction), FastAPI
    serialises the response on the event loop (not in one more thread-pool round trip),
    and the commit has a thread of its own. Otherwise requests holding connections could
    wait for threads held by requests waiting for connections, until the pool timeout.
    """
    setattr(dependency, _ADDS_STEPS, True)
    return dependency


def _work(request: Request) -> _UnitOfWork:
    work: _UnitOfWork | None = (request.scope.get("state") or {}).get(_WORK)
    if work is None or not work.runs_steps:
        raise RuntimeError(f"{request.url.path}: unit-of-work steps need a sync endpoint on a "
                           "UnitOfWorkRoute, with the marked dependency in dependencies=[...]")
    return work


def run_before_endpoint(request: Request, step: Callable[[], None]) -> None:
    """Run ``step()`` first in the endpoint's worker thread, in the request's transaction.

    It may raise ``AnswerInstead`` (the endpoint does not run) or an error.
    """
    _work(request).before_endpoint.append(step)


def run_before_commit(request: Request, step: BeforeCommit) -> None:
    """Run ``step(response)`` after the endpoint has returned and its response is built,
    in the same transaction as the endpoint's writes, just before the commit.

    So a write and a record of the response it got (app/idempotency) commit together
    or not at all.
    """
    _work(request).before_commit.append(step)


def _complete(work: _UnitOfWork, response: Response) -> None:
    try:
        for step in work.before_commit:
            step(response)
    except BaseException:
        while work.sessions:
            _abandon(work.sessions.pop())
        raise
    while work.sessions:
        _finish(work.sessions.pop())


_request_work: ContextVar[_UnitOfWork | None] = ContextVar("request_work", default=None)


def _ending_in_its_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A sync endpoint that ends the request's sessions in its own worker thread.

    Committing there, right after the endpoint returned, saves the thread-pool round
    trip the route would otherwise make for it (most routes are sync). Whatever is left
    (an endpoint that never ran, a commit that failed) the route still ends.
    """

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        work = _request_work.get()
        sessions = work.sessions if work is not None else []
        try:
            for step in work.before_endpoint if work is not None else ():
                step()
            result = endpoint(*args, **kwargs)
        except BaseException:
            while sessions:
                _abandon(sessions.pop())
            raise
        if work is not None and work.before_commit:
            return result  # the route commits once the response is built
        while sessions:
            _finish(sessions.pop())  # on failure it has rolled back and closed
        return result

    return run


def _awaiting_its_thread(run: Callable[..., Any]) -> Callable[..., Any]:
    """The sync endpoint as a coroutine, so FastAPI serialises its result on the event loop."""

    @functools.wraps(run)
    async def awaiting(*args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(run, *args, **kwargs))

    setattr(awaiting, _ADDS_STEPS, True)
    return awaiting


async def get_session(request: Request) -> Session:
    """The request's session (one per request: FastAPI caches a dependency's value).

    Making a Session does no I/O (it connects on its first statement). The route
    (UnitOfWorkRoute) commits or rolls it back and closes it.
    """
    sessions: list[Session] | None = (request.scope.get("state") or {}).get(_SESSIONS)
    if sessions is None:
        # Nobody would end it: the connection would stay checked out until GC.
        raise RuntimeError(f"{request.url.path}: SessionDep needs a UnitOfWorkRoute")
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    sessions.append(session)
    return session


async def _end(fn: Callable[[Session], None], session: Session) -> None:
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await _in_own_thread(fn, session)
    else:
        # Never used (e.g. authentication answered from the validity cache): no
        # connection to return, so nothing that blocks, and no thread hop for it.
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


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
