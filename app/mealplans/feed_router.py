"""The public calendar feed: ``GET /api/v1/calendar/{token}.ics``.

Public (in PUBLIC_PATHS) because calendar apps cannot send bearer tokens: the secret
token in the path is the credential. Rate limited per client IP and per token by the
rate-limit middleware (category ``feed``), before the database is touched.
"""

from __future__ import annotations

import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.mealplans import feed

router = APIRouter(tags=["calendar"], route_class=UnitOfWorkRoute)

# No length limit here: a 422 would tell a guesser something a 404 does not. The service
# refuses any token not shaped like one of ours before it touches the database.
Token = Annotated[str, Path(description="The secret feed token.")]


@router.get(
    "/calendar/{token}.ics",
    name="calendar_feed",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **problem_responses(404)},
)
def calendar_feed(token: Token, session: SessionDep) -> Response:
    """The owner's active meal plan, yesterday (UTC) and the next 8 weeks, as iCalendar.

    A wrong, revoked or expired token answers 404, never 401: nothing tells a guesser
    that a token once existed.
    """
    today = datetime.datetime.now(datetime.UTC).date()
    body = feed.calendar_feed(session, token, today)
    return Response(
        body, media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                 "Content-Disposition": 'inline; filename="meal-plan.ics"'},
    )
