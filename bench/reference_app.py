"""The reference: the practical ceiling of this stack on this machine.

FastAPI, uvicorn, SQLAlchemy's connection pool and psycopg2, exactly like the project,
answering the same reads with one hand-written SQL statement each, and nothing else: no
authentication (the caller's id is a query parameter), no validation, no middleware, no
response models, no logging (bench/reference_duty.py wraps it with the per-request
duties the API cannot skip: the equal-duty reference). The benchmarks start it with the
same uvicorn flags, worker count, pool size and thread-pool size as the project and drive
it with the same load.

    GET /recipes/{id}?as_user=UUID                  one recipe with tags, ingredients, steps
    GET /recipes?as_user=UUID[&q=...][&limit=20][&after_created=TS&after_id=UUID]
                 [&sort=relevance]                  a page of summaries (mine + public, newest),
                                                    keyset-paged like the project, or ranked
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, create_engine

from app.core.config import Settings

_RECIPE = """
SELECT r.id, r.owner_id, r.title, r.description, r.servings, r.prep_minutes, r.cook_minutes,
       r.total_minutes, r.cuisine, r.source_url, r.visibility, r.version,
       r.image_sha256 IS NOT NULL AS has_image, r.created_at, r.updated_at,
       ARRAY(SELECT t.tag FROM recipe_tags t WHERE t.recipe_id = r.id ORDER BY t.tag) AS tags,
       (SELECT json_agg(json_build_object('quantity', i.quantity::text, 'unit', i.unit,
                                          'name', i.name, 'note', i.note) ORDER BY i.position)
          FROM recipe_ingredients i WHERE i.recipe_id = r.id) AS ingredients,
       (SELECT json_agg(json_build_object('text', s.text) ORDER BY s.position)
          FROM recipe_steps s WHERE s.recipe_id = r.id) AS steps
FROM recipes r
WHERE r.id = %(id)s AND (r.owner_id = %(me)s OR r.visibility = 'public')
"""

_SUMMARY = """
SELECT r.id, r.owner_id, r.title, substr(r.description, 1, 281) AS excerpt, r.servings,
       r.prep_minutes, r.cook_minutes, r.total_minutes, r.cuisine, r.visibility,
       r.image_sha256 IS NOT NULL AS has_image,
       EXISTS (SELECT 1 FROM favorites f WHERE f.user_id = %(me)s AND f.recipe_id = r.id)
         AS is_favorite,
       r.created_at, r.updated_at
FROM recipes r
"""

# "Mine or public" as two index-ordered branches, each cut at the page size, then merged:
# what a careful hand-written query does with this OR.
_PAGE = """
WITH page AS (
  ({summary} WHERE r.owner_id = %(me)s {search} {after}
   ORDER BY r.created_at DESC, r.id DESC LIMIT %(limit)s)
  UNION ALL
  ({summary} WHERE r.visibility = 'public' AND r.owner_id <> %(me)s {search} {after}
   ORDER BY r.created_at DESC, r.id DESC LIMIT %(limit)s)
)
SELECT page.*, ARRAY(SELECT t.tag FROM recipe_tags t WHERE t.recipe_id = page.id
                     ORDER BY t.tag) AS tags
FROM page ORDER BY created_at DESC, id DESC LIMIT %(limit)s
"""

_PREFIX = "(to_tsquery('english', %(prefix)s) || to_tsquery('simple', %(prefix)s))"
_SEARCH_PREFIX = f"AND r.search_vector @@ {_PREFIX}"
_SEARCH_BOTH = f"AND r.search_vector @@ (websearch_to_tsquery('english', %(head)s) && {_PREFIX})"

# Ranked search: every match is ranked, so one query over "mine or public" (no keyset).
_RANKED = """
SELECT page.*, ARRAY(SELECT t.tag FROM recipe_tags t WHERE t.recipe_id = page.id
                     ORDER BY t.tag) AS tags
FROM ({summary_rank} WHERE (r.owner_id = %(me)s OR r.visibility = 'public') {search}
      ORDER BY rank DESC, r.id DESC LIMIT %(limit)s) AS page
ORDER BY rank DESC, id DESC
"""
_AFTER = "AND (r.created_at, r.id) < (%(after_created)s, %(after_id)s)"
#: (has a search head word, has a cursor) -> statement
_SEARCHES = {"": "", "prefix": _SEARCH_PREFIX, "both": _SEARCH_BOTH}
_STATEMENTS = {
    (kind, paged): _PAGE.format(summary=_SUMMARY, search=search, after=_AFTER if paged else "")
    for kind, search in _SEARCHES.items() for paged in (False, True)
}
_QUERY = {"prefix": _PREFIX,
          "both": f"(websearch_to_tsquery('english', %(head)s) && {_PREFIX})"}
_RANKED_STATEMENTS = {
    kind: _RANKED.format(
        summary_rank=_SUMMARY.replace(
            "FROM recipes r", f", ts_rank(r.search_vector, {_QUERY[kind]}) AS rank FROM recipes r"),
        search=_SEARCHES[kind])
    for kind in ("prefix", "both")
}
_WORD = re.compile(r"[^\W_]+")


def _engine(settings: Settings) -> Engine:
    return create_engine(
        settings.database_url,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
    )


def _rows(engine: Engine, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        connection.commit()
        return rows
    finally:
        connection.close()  # back to the pool


def create_app() -> FastAPI:
    settings = Settings()
    engine = _engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The same thread-pool size the project sets for itself.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = settings.DB_POOL_SIZE + settings.DB_MAX_OVERFLOW
        yield
        engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.reference_engine = engine  # for the equal-duty wrapper (reference_duty.py)

    @app.get("/ready")
    def ready() -> dict[str, str]:
        _rows(engine, "SELECT 1 AS ok", {})
        return {"status": "ready"}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/recipes/{recipe_id}")
    def get_recipe(recipe_id: str, as_user: str) -> Any:
        rows = _rows(engine, _RECIPE, {"id": recipe_id, "me": as_user})
        if not rows:
            return JSONResponse({"detail": "not found"}, status_code=404)
        recipe = rows[0]
        recipe["ingredients"] = recipe["ingredients"] or []
        recipe["steps"] = recipe["steps"] or []
        return recipe

    @app.get("/recipes")
    def list_recipes(
        as_user: str, q: str | None = None, limit: int = 20, after_created: str | None = None,
        after_id: str | None = None, sort: str = "newest",
    ) -> Any:
        params: dict[str, Any] = {"me": as_user, "limit": limit + 1,
                                  "after_created": after_created, "after_id": after_id}
        kind = ""
        words = _WORD.findall(q.lower()) if q else []
        if words:
            params["prefix"] = f"{words[-1]}:*"
            params["head"] = " ".join(words[:-1])
            kind = "both" if params["head"] else "prefix"
        if sort == "relevance" and kind:
            sql = _RANKED_STATEMENTS[kind]
        else:
            sql = _STATEMENTS[(kind, after_created is not None and after_id is not None)]
        rows = _rows(engine, sql, params)
        last = rows[limit - 1] if len(rows) > limit else None
        return {
            "items": rows[:limit],
            "next": {"created_at": last["created_at"], "id": last["id"]} if last else None,
        }

    return app
