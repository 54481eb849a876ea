"""Idempotency-Key for create POSTs: one generic mechanism, opted into per route.

How a route opts in: add the ``Idempotent`` marker to its decorator, nothing else::

    from app.idempotency.dependencies import Idempotent

    @router.post("/collections", status_code=201, dependencies=[Idempotent],
                 responses=IDEMPOTENCY_PROBLEMS)
    def create_collection(...): ...   # written as usual

The route must be on a ``UnitOfWorkRoute`` router (every API router is) and return an
ordinary response (a model or a ``Response`` with a body, not a stream). Then:

- no ``Idempotency-Key`` header: nothing changes, and no query is added;
- a key seen before with the same method, path, query and body bytes, within 24 h:
  the stored status, body, Location/ETag/Content-Type are sent again with
  ``Idempotent-Replayed: true``; the endpoint does not run and nothing is written;
- the same key with another request: 422 ``idempotency-key-reused``;
- the same key while its first request still runs: 409 ``idempotency-key-in-use`` with
  ``Retry-After``, at once (a PostgreSQL advisory lock, tried, never waited for);
- otherwise the endpoint runs, and its response is stored in the same transaction as
  its write, just before the commit (``app.db.session.run_before_commit``). A request
  that fails (raises) stores nothing, so its retry runs afresh.

The marker must be in the route's ``dependencies=[...]`` (not a parameter) and the
endpoint a plain ``def``: the route class reads the marker to run the claim in the
endpoint's thread and to serialise without another thread hop while the transaction is
open (``app.db.session.adds_unit_of_work_steps``); anything else fails loudly.

Keys are per user (a principal is required), expire after 24 h and are purged by
``homechef purge-idempotency-keys`` (app/idempotency/cleanup.py).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.db.session import (
    AnswerInstead,
    SessionDep,
    adds_unit_of_work_steps,
    run_before_commit,
    run_before_endpoint,
)
from app.idempotency import service

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="1-255 printable ASCII characters, new for each new create. A retry "
        "with the same key and the same request gets the first response again "
        "(Idempotent-Replayed: true) and writes nothing. Kept 24 hours.",
    ),
]


@adds_unit_of_work_steps
async def idempotency(
    request: Request, principal: CurrentPrincipal, session: SessionDep,
    idempotency_key: KeyHeader = None,
) -> None:
    # No database work here: the claim runs first in the endpoint's own worker thread,
    # so the request holds no connection while it waits for a thread.
    if idempotency_key is None:
        return
    key = service.valid_key(request.headers.getlist("idempotency-key"))
    body = await request.body()  # already read and cached for the endpoint's body
    claimed = service.IdempotentRequest(
        user_id=principal.id, key=key, method=request.method, path=request.url.path,
        fingerprint=service.fingerprint(request.method, request.url.path,
                                        request.url.query, body),
    )
    run_before_endpoint(request, partial(_claim, session, claimed))
    run_before_commit(request, partial(service.remember, session, claimed))


def _claim(session: Session, claimed: service.IdempotentRequest) -> None:
    stored = service.claim(session, claimed)
    if stored is not None:
        raise AnswerInstead(stored)


#: The marker: ``dependencies=[Idempotent]`` on a create route.
Idempotent = Depends(idempotency)
#: The problems the marker adds, for the route's ``responses=``.
IDEMPOTENCY_PROBLEMS = problem_responses(400, 409, 422)
