"""A small recipe set and queries whose answers PostgreSQL and SQLite must agree on."""

from __future__ import annotations

from typing import Any

#: Created in this order through the API (so newest-first is the reverse).
SEARCH_SET: list[dict[str, Any]] = [
    {"title": "Tomato Tart", "description": "Garnish with basil before serving.",
     "tags": ["baking"], "ingredients": [{"name": "puff pastry"}, {"name": "tomatoes"}]},
    {"title": "Summer Salad", "description": "Crisp and fresh.", "tags": ["salad"],
     "ingredients": [{"name": "basil leaves"}, {"name": "cucumber"}]},
    {"title": "Green Sauce", "description": "Goes with everything.", "tags": ["basil", "sauce"],
     "ingredients": [{"name": "parsley"}, {"name": "garlic"}]},
    {"title": "Basil Pasta", "description": "Weeknight dinner.", "tags": ["pasta"],
     "ingredients": [{"name": "spaghetti"}, {"name": "olive oil"}]},
    {"title": "Mushroom Risotto", "description": "Creamy rice.", "tags": ["vegetarian"],
     "ingredients": [{"name": "arborio rice"}, {"name": "mushrooms"}]},
]

#: (query parameters, expected titles in order)
SEARCH_CASES: list[tuple[dict[str, Any], list[str]]] = [
    # Weights: title > tags > ingredient names > description.
    ({"q": "basil", "sort": "relevance"},
     ["Basil Pasta", "Green Sauce", "Summer Salad", "Tomato Tart"]),
    # Type-ahead: the last word is a prefix.
    ({"q": "tom"}, ["Tomato Tart"]),
    ({"q": "mushr"}, ["Mushroom Risotto"]),
    ({"q": "risotto mush"}, ["Mushroom Risotto"]),
    # Ingredient names are searched.
    ({"q": "cucumber"}, ["Summer Salad"]),
    ({"q": "spaghetti"}, ["Basil Pasta"]),
    # Words are ANDed; "or" and "-" follow web-search syntax.
    ({"q": "basil pasta"}, ["Basil Pasta"]),
    ({"q": "basil -pasta", "sort": "title"}, ["Green Sauce", "Summer Salad", "Tomato Tart"]),
    ({"q": "risotto or cucumber", "sort": "title"}, ["Mushroom Risotto", "Summer Salad"]),
    ({"q": '"tomato tart"'}, ["Tomato Tart"]),
    # Case and punctuation do not matter; nothing matches nothing.
    ({"q": "BASIL!!", "sort": "title"},
     ["Basil Pasta", "Green Sauce", "Summer Salad", "Tomato Tart"]),
    ({"q": "zucchini"}, []),
    # Search composes with the other filters.
    ({"q": "basil", "tag": "sauce"}, ["Green Sauce"]),
    ({"q": "basil", "ingredient": "cucumber"}, ["Summer Salad"]),
]
