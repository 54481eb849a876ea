"""Errors of the meal-plans domain, each rendered by the one problem-details handler."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound, PreconditionFailed, Unprocessable


class MealPlanNotFound(NotFound):
    # Also what another user's plan answers: existence is not disclosed.
    code = "meal-plan-not-found"
    detail = "No such meal plan."


class NoActiveMealPlan(MealPlanNotFound):
    code = "no-active-meal-plan"
    detail = "No meal plan is active."


class MealPlanChanged(PreconditionFailed):
    code = "meal-plan-changed"
    detail = "The meal plan has changed since the given ETag; fetch it again."


class TooManyMealPlans(Conflict):
    code = "meal-plan-limit"
    detail = "You have reached the maximum number of meal plans; delete one first."


class WeekOutsideRotation(Unprocessable):
    code = "week-outside-rotation"
    detail = "An entry's week is beyond the plan's rotation_weeks."


class InvalidScheduleRange(Unprocessable):
    code = "invalid-schedule-range"
    detail = "The requested days are outside the supported calendar range."


class FeedNotFound(NotFound):
    # Wrong, revoked, logged-out and erased feeds all answer alike.
    code = "calendar-feed-not-found"
    detail = "No such calendar feed."
