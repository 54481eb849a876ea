"""Fixture pages modelled on the structures of big recipe sites (written for these tests;
no site's content is copied). Used by the tests and by bench/imports.py."""

from __future__ import annotations

import json
from typing import Any

# Navigation, scripts and comments around the recipe, as on a real page (~60 KB).
_CHROME = (
    "<nav>" + "".join(f'<a href="/category/{i}">Category {i}</a>' for i in range(300)) + "</nav>"
    + "<script>" + "window.__ads = [" + ",".join(f'{{"slot":{i}}}' for i in range(800)) + "];"
    + "</script>"
    + "".join(f'<div class="comment"><p>Comment {i}: made this twice, lovely!</p></div>'
              for i in range(200))
)


def _page(head: str, body: str = "", *, chrome: bool = True,
          charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}">{head}</head>'
            f'<body>{_CHROME if chrome else ""}{body}</body></html>')


def _ld(data: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


GRAPH_RECIPE: dict[str, Any] = {
    "@type": ["Recipe"],
    "@id": "https://recipes.example/mac-and-cheese/#recipe",
    "name": "Baked Mac &amp; Cheese",
    "description": "A <b>creamy</b> baked mac &amp; cheese with a crisp top.",
    "image": [
        {"@type": "ImageObject", "url": "https://recipes.example/img/mac-16x9.jpg"},
        "https://recipes.example/img/mac-1x1.jpg",
        "/img/mac-4x3.jpg",
    ],
    "recipeYield": ["4", "4 servings"],
    "prepTime": "PT15M",
    "cookTime": "P0DT45M",
    "totalTime": "PT1H",
    "keywords": "pasta, cheese, comfort food",
    "recipeCategory": ["Dinner", "Main Course"],
    "recipeCuisine": ["American"],
    "recipeIngredient": [
        "1 1/2 cups elbow macaroni",
        "2 tablespoons butter",
        "For the sauce:",
        "2 cups whole milk",
        "8 oz sharp cheddar, grated",
        "salt to taste",
    ],
    "recipeInstructions": [
        {"@type": "HowToSection", "name": "Pasta", "itemListElement": [
            {"@type": "HowToStep", "text": "Boil the macaroni until <b>al dente</b>."},
            {"@type": "HowToStep", "text": "Drain and toss with the butter."},
        ]},
        {"@type": "HowToSection", "name": "Sauce", "itemListElement": [
            {"@type": "HowToStep", "text": "Warm the milk &amp; stir in the cheese."},
        ]},
        {"@type": "HowToStep", "text": "Bake at 190&deg;C for 20 minutes."},
    ],
}


def graph_page(recipe: dict[str, Any] | None = None, *, chrome: bool = True) -> str:
    """A WordPress/Yoast-style @graph: WebSite, WebPage, Person and the Recipe."""
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "@id": "https://recipes.example/#website",
         "name": "Recipes Example"},
        {"@type": "WebPage", "@id": "https://recipes.example/mac-and-cheese/",
         "name": "Mac and cheese"},
        {"@type": "Person", "@id": "https://recipes.example/#/person/1", "name": "Sam Cook"},
        {"@context": "https://schema.org", **(recipe or GRAPH_RECIPE)},
    ]}
    return _page(f"<title>Mac and cheese</title>{_ld(graph)}", "<h1>Mac and cheese</h1>",
                 chrome=chrome)


def array_page() -> str:
    """A top-level JSON-LD array, instructions as one text block, "Makes 12"."""
    data = [
        {"@context": "https://schema.org", "@type": "Organization", "name": "Bakes Daily"},
        {"@context": "https://schema.org", "@type": "Recipe", "name": "Oat Cookies",
         "recipeYield": "Makes 12", "totalTime": "PT35M",
         "recipeIngredient": ["200g rolled oats", "100g butter, melted", "½ tsp salt"],
         "recipeInstructions": "1. Heat the oven.\n2. Mix everything.\n3. Bake 12 minutes.",
         "image": "https://bakes.example/oat.jpg"},
    ]
    return _page(_ld(data))


def microdata_page() -> str:
    return _page("", """
<div itemscope itemtype="http://schema.org/Recipe">
  <h1 itemprop="name">Tomato Soup</h1>
  <img itemprop="image" src="https://soup.example/tomato.jpg">
  <p itemprop="description">Simple &amp; quick.</p>
  <meta itemprop="prepTime" content="PT10M"><meta itemprop="cookTime" content="PT25M">
  <span itemprop="recipeYield">6 people</span>
  <span itemprop="recipeCuisine">Italian</span>
  <ul>
    <li itemprop="recipeIngredient">2 x 400g tins chopped tomatoes</li>
    <li itemprop="recipeIngredient">1 onion, diced</li>
    <li itemprop="recipeIngredient">500ml vegetable stock</li>
  </ul>
  <div itemprop="recipeInstructions"><p>Soften the onion.</p><p>Add the rest and simmer.</p></div>
</div>""")


def itemlist_page() -> str:
    """A Recipe inside an ItemList (roundup pages), which the generic finder misses."""
    data = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "item": {
            "@type": "Recipe", "name": "Green Salad",
            "recipeIngredient": ["1 head lettuce", "2 tbsp olive oil"],
            "recipeInstructions": {"@type": "ItemList", "itemListElement": [
                {"@type": "ListItem", "text": "Wash the lettuce."},
                {"@type": "ListItem", "text": "Dress and serve."}]},
            "recipeYield": 2}},
    ]}
    return _page(_ld(data))


def no_recipe_page() -> str:
    return _page('<meta property="og:type" content="article">'
                 '<meta property="og:title" content="Ten kitchen tips">',
                 "<article><h1>Ten kitchen tips</h1><p>Keep knives sharp.</p></article>")


def opengraph_recipe_page() -> str:
    return _page('<meta property="og:type" content="recipe">'
                 '<meta property="og:title" content="Grandma&#39;s Stew">'
                 '<meta property="og:description" content="Slow and warming.">'
                 '<meta property="og:image" content="https://stew.example/stew.jpg">'
                 '<meta property="og:site_name" content="Stew Blog">')


def bot_wall_page() -> str:
    return ('<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>'
            '<div id="cf-chl-widget"></div></body></html>')


def overlong_recipe() -> dict[str, Any]:
    return {
        "@context": "https://schema.org", "@type": "Recipe",
        "name": "T" * 300,
        "description": "word " * 3000,
        "recipeYield": "5000 servings",
        "cookTime": "PT200H",
        "keywords": ",".join(f"tag{i}" for i in range(30)) + "," + "x" * 60,
        "recipeIngredient": [f"{i} g ingredient {i}" for i in range(1, 151)],
        "recipeInstructions": [{"@type": "HowToStep", "text": "Stir. " * 1200}],
    }


def latin1_page() -> bytes:
    recipe = {"@context": "https://schema.org", "@type": "Recipe", "name": "Crème brûlée",
              "recipeIngredient": ["4 jaunes d'œufs"], "recipeInstructions": ["Cuire."]}
    text = _page(_ld(recipe).replace("Crème brûlée", "Cr\u00e8me br\u00fbl\u00e9e"),
                 chrome=False, charset="windows-1252")
    return json.loads(json.dumps(text)).encode("cp1252", errors="replace")


def corpus() -> dict[str, str]:
    """The bench's pages, by name."""
    return {"graph": graph_page(), "array": array_page(), "microdata": microdata_page(),
            "itemlist": itemlist_page(), "opengraph": opengraph_recipe_page()}
