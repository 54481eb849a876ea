"""HTTP face of the meal-plans API: parse, call the service, shape headers. No rules here.

Mounted on the protected router. ``{plan_id:uuid}`` matches UUIDs only, so /active and
/feed-token are never taken for a plan id (nor listed in a 405's Allow for one).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.idempotency.dependencies import IDEMPOTENCY_PROBLEMS, Idempotent
from app.mealplans import feed, service
from app.mealplans.repository import PlanRow
from app.mealplans.schemas import (
    MAX_SCHEDULE_DAYS,
    CalendarDate,
    FeedTokenOut,
    MealPlanCreate,
    MealPlanListParams,
    MealPlanPage,
    MealPlanRead,
    MealPlanUpdate,
    ScheduleOut,
)
from app.media.dependencies import MediaLinks

router = APIRouter(prefix="/meal-plans", tags=["meal plans"], route_class=UnitOfWorkRoute)

PlanId = Annotated[uuid.UUID, Path(description="The meal plan's id (a UUID).")]
IfMatch = Annotated[
    str | None,
    Header(description="An ETag from a GET; the write is refused with 412 if it is stale."),
]
ListParams = Annotated[MealPlanListParams, Query()]
From = Annotated[CalendarDate, Query(
    alias="from", description="The first date, YYYY-MM-DD: the caller's local today, usually.")]
Days = Annotated[int, Query(ge=1, le=MAX_SCHEDULE_DAYS, description="How many days.")]

_PRIVATE = "private, no-cache"


def _read(
    session: SessionDep, user: CurrentPrincipal, plan: PlanRow, response: Response,
    links: MediaLinks,
) -> MealPlanRead:
    response.headers["ETag"] = service.plan_etag(plan.id, plan.version)
    response.headers["Cache-Control"] = _PRIVATE
    return service.to_read(session, user.id, plan, links)


@router.get("", response_model=MealPlanPage, responses=problem_responses(400))
def list_plans(
    params: ListParams, user: CurrentPrincipal, session: SessionDep, request: Request
) -> MealPlanPage:
    """The caller's plans, newest first (keyset pages); ``q`` searches names."""
    secret: str = request.app.state.key_ring.current_key
    return service.list_plans(session, user, params, secret)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MealPlanRead,
             responses={**problem_responses(400, 404, 409, 413), **IDEMPOTENCY_PROBLEMS},
             dependencies=[Idempotent])
def create_plan(
    body: MealPlanCreate, user: CurrentPrincipal, session: SessionDep, request: Request,
    response: Response, links: MediaLinks,
) -> MealPlanRead:
    plan = service.create_plan(session, user, body)
    response.headers["Location"] = request.url_for("get_plan", plan_id=str(plan.id)).path
    return _read(session, user, plan, response, links)


@router.post("/feed-token", status_code=status.HTTP_201_CREATED, response_model=FeedTokenOut)
def create_feed_token(
    user: CurrentPrincipal, session: SessionDep, request: Request, response: Response
) -> FeedTokenOut:
    """A secret calendar URL for the active plan (replacing any earlier one). Shown once:
    only its hash is kept. Logging out everywhere, erasure or DELETE end it."""
    token, created_at = feed.create_feed_token(session, user)
    response.headers["Cache-Control"] = "no-store"
    return FeedTokenOut(url=str(request.url_for("calendar_feed", token=token)),
                        created_at=created_at)


@router.delete("/feed-token", status_code=status.HTTP_204_NO_CONTENT)
def revoke_feed_token(user: CurrentPrincipal, session: SessionDep) -> Response:
    """Idempotent: the feed URL answers 404 from now on."""
    feed.revoke_feed_token(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/active", response_model=MealPlanRead, responses=problem_responses(404))
def get_active_plan(
    user: CurrentPrincipal, session: SessionDep, response: Response, links: MediaLinks
) -> MealPlanRead:
    """The active plan; 404 when none is active."""
    return _read(session, user, service.get_plan(session, user, None), response, links)


@router.delete("/active", status_code=status.HTTP_204_NO_CONTENT)
def deactivate(user: CurrentPrincipal, session: SessionDep) -> Response:
    """Leave no plan active (idempotent)."""
    service.deactivate(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/active/schedule", response_model=ScheduleOut, responses=problem_responses(404))
def get_active_schedule(
    start: From, user: CurrentPrincipal, session: SessionDep, links: MediaLinks,
    days: Days = 7,
) -> Response:
    """The active plan's concrete days from ``from``: each date's rotation week and meals."""
    return _json(service.get_schedule(session, user, None, start, days, links))


@router.get("/{plan_id:uuid}", response_model=MealPlanRead, responses=problem_responses(404))
def get_plan(
    plan_id: PlanId, user: CurrentPrincipal, session: SessionDep, response: Response,
    links: MediaLinks,
) -> MealPlanRead:
    return _read(session, user, service.get_plan(session, user, plan_id), response, links)


@router.patch("/{plan_id:uuid}", response_model=MealPlanRead,
              responses=problem_responses(400, 404, 412, 413))
def update_plan(
    plan_id: PlanId, body: MealPlanUpdate, user: CurrentPrincipal, session: SessionDep,
    response: Response, links: MediaLinks, if_match: IfMatch = None,
) -> MealPlanRead:
    """A partial update; ``entries``, when given, replaces the old list whole."""
    plan = service.update_plan(session, user, plan_id, body, if_match)
    return _read(session, user, plan, response, links)


@router.delete("/{plan_id:uuid}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 412))
def delete_plan(
    plan_id: PlanId, user: CurrentPrincipal, session: SessionDep, if_match: IfMatch = None
) -> Response:
    service.delete_plan(session, user, plan_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{plan_id:uuid}/active", response_model=MealPlanRead, responses=problem_responses(404))
def activate_plan(
    plan_id: PlanId, user: CurrentPrincipal, session: SessionDep, response: Response,
    links: MediaLinks,
) -> MealPlanRead:
    """Make this plan the active one (any other stops being active)."""
    return _read(session, user, service.activate_plan(session, user, plan_id), response,
                 links)


@router.get("/{plan_id:uuid}/schedule", response_model=ScheduleOut,
            responses=problem_responses(404))
def get_schedule(
    plan_id: PlanId, start: From, user: CurrentPrincipal, session: SessionDep,
    links: MediaLinks, days: Days = 7,
) -> Response:
    return _json(service.get_schedule(session, user, plan_id, start, days, links))


def _json(model: ScheduleOut) -> Response:
    # Serialised once, straight to bytes (as recipes' hot reads: FastAPI would validate
    # the returned model again, in one more thread-pool round trip).
    return Response(model.model_dump_json(), media_type="application/json",
                    headers={"Cache-Control": _PRIVATE})
