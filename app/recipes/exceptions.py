"""Errors of the recipes domain, each rendered by the one problem-details handler."""

from __future__ import annotations

from app.core.errors import BadRequest, NotFound, PreconditionFailed, Unprocessable


class RecipeNotFound(NotFound):
    # Also what another user's private recipe answers: existence is not disclosed.
    code = "recipe-not-found"
    detail = "No such recipe."


class RecipeChanged(PreconditionFailed):
    code = "recipe-changed"
    detail = "The recipe has changed since the given ETag; fetch it again."


class InvalidCursor(BadRequest):
    code = "invalid-cursor"
    detail = "The cursor is invalid, expired or belongs to another query."


class RelevanceNeedsQuery(Unprocessable):
    code = "relevance-needs-query"
    detail = "sort=relevance is only available together with q."
