from __future__ import annotations

from app.core.errors import Conflict, NotFound


class RecipeImageNotFound(NotFound):
    code = "recipe-image-not-found"
    detail = "This recipe has no image."


class ImageNotFound(NotFound):
    code = "image-not-found"
    detail = "No such image."


class TooManyImages(Conflict):
    code = "too-many-images"
    detail = "A recipe may have at most 10 photos; delete one first."


class CoverRequired(Conflict):
    code = "cover-required"
    detail = "A recipe with photos always has a cover: make another photo the cover instead."
