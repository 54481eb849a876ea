"""Errors of the collections domain, each rendered by the one problem-details handler."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound, PreconditionFailed


class CollectionNotFound(NotFound):
    # Also what another user's collection answers: existence is not disclosed.
    code = "collection-not-found"
    detail = "No such collection."


class CollectionChanged(PreconditionFailed):
    code = "collection-changed"
    detail = "The collection has changed since the given ETag; fetch it again."


class CollectionNameTaken(Conflict):
    code = "collection-name-taken"
    detail = "You already have a collection with this name (names ignore case)."


class SmartCollectionMembership(Conflict):
    code = "smart-collection"
    detail = "A smart collection's recipes are those matching its filter; they cannot be " \
             "added or removed by hand."


class CollectionKindFixed(Conflict):
    code = "collection-kind-fixed"
    detail = "A hand-picked collection cannot be given a filter, nor a smart one lose it."


class TooManyCollections(Conflict):
    code = "too-many-collections"
    detail = "You have reached the limit of collections; delete one first."


class CollectionFull(Conflict):
    code = "collection-full"
    detail = "This collection holds the maximum number of recipes; remove one first."


class CollectionFilterInvalid(Conflict):
    code = "collection-filter-invalid"
    detail = "The collection's saved filter is no longer valid; update it."
