"""The caller's profile, its export and erasure, and other people's public profiles."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.auth.dependencies import CurrentUser
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.users import service
from app.users.models import User
from app.users.schemas import PublicProfile, UserExport, UserMe, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], route_class=UnitOfWorkRoute)

# Personal data: no shared or browser cache may keep a copy.
_NO_STORE = {"Cache-Control": "no-store"}


# The /me routes are declared before /{user_id}, which would otherwise claim "me".
@router.get("/me", response_model=UserMe, summary="Your profile")
def read_me(user: CurrentUser, response: Response) -> User:
    response.headers.update(_NO_STORE)
    return user


@router.patch(
    "/me",
    response_model=UserMe,
    summary="Change your profile",
    # An undecodable JSON body (e.g. not UTF-8) is 400; one over the body cap, 413.
    responses=problem_responses(400, 413),
)
def update_me(
    changes: UserUpdate, user: CurrentUser, session: SessionDep, response: Response
) -> User:
    response.headers.update(_NO_STORE)
    return service.update_profile(session, user, changes.changes())


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase your account and data here",
    response_class=Response,
)
def delete_me(user: CurrentUser, session: SessionDep) -> Response:
    service.erase_user(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/export", response_model=UserExport, summary="Everything stored about you")
def export_me(user: CurrentUser, session: SessionDep, response: Response) -> dict[str, object]:
    response.headers.update(_NO_STORE)
    response.headers["Content-Disposition"] = 'attachment; filename="homechef-export.json"'
    return service.export_user(session, user)


@router.get(
    "/{user_id}",
    response_model=PublicProfile,
    summary="A person's public profile",
    responses=problem_responses(404),
)
def read_public_profile(user_id: uuid.UUID, session: SessionDep) -> PublicProfile:
    user, public_recipes = service.get_public_user(session, user_id)
    return PublicProfile(
        id=user.id,
        display_name=user.display_name or user.first_name or user.username,
        avatar_url=user.image_url,
        public_recipe_count=public_recipes,
    )
