"""Errors of the shopping-list domain, each rendered by the one problem-details handler."""

from __future__ import annotations

from app.core.errors import BadRequest, Conflict, Gone, NotFound, PreconditionFailed


class ShoppingListNotFound(NotFound):
    # Also what another user's list answers: existence is not disclosed.
    code = "shopping-list-not-found"
    detail = "No such shopping list."


class ShoppingItemNotFound(NotFound):
    # Also what an item of another list (anyone's) answers under this list's id.
    code = "shopping-item-not-found"
    detail = "No such item on this shopping list."


class ShoppingListChanged(PreconditionFailed):
    code = "shopping-list-changed"
    detail = "The shopping list has changed since the given ETag; fetch it again."


class TooManyShoppingLists(Conflict):
    code = "too-many-shopping-lists"
    detail = "A person may keep at most 50 shopping lists; delete one first."


class TooManyShoppingItems(Conflict):
    code = "too-many-shopping-items"
    detail = "A shopping list may hold at most 1000 items; remove some first."


class InvalidSyncToken(BadRequest):
    code = "invalid-sync-token"
    detail = "The changed_since token is malformed, forged or for another list."


class SyncTokenExpired(Gone):
    code = "sync-token-expired"
    detail = (
        "The changed_since token is older than the deletion history kept; "
        "do a full reload (GET the items without changed_since)."
    )


class RecipeNotOnList(NotFound):
    code = "recipe-not-on-shopping-list"
    detail = "That recipe contributed nothing to this shopping list."
