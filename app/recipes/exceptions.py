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


class MalformedIfMatch(BadRequest):
    code = "malformed-if-match"
    detail = (
        'If-Match must be the ETag response header of the recipe, exactly as GET returned it '
        'without ?servings= (a quoted string, quotes included, like "9f2c1ab07e3d4c5b8a6f0e1d'
        '2c3b4a59"), or *.'
    )


class RelevanceNeedsQuery(Unprocessable):
    code = "relevance-needs-query"
    detail = "sort=relevance is only available together with q."
