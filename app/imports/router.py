"""POST /api/v1/recipe-imports/{url,html,ingredients}: previews, never saved.

The routes are async on purpose: the URL fetch awaits the network without holding a
worker thread, and the request's session (opened lazily) makes its first and only query
after the fetch and the parse, so no database connection is held while a slow site
answers.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request

from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.imports import service
from app.imports.dependencies import Fetcher, ImportRateLimit
from app.imports.schemas import (
    HtmlImportIn,
    ImportResult,
    IngredientLinesIn,
    IngredientLinesOut,
    UrlImportIn,
)

router = APIRouter(prefix="/recipe-imports", tags=["recipe import"],
                   route_class=UnitOfWorkRoute)


@router.post(
    "/url", response_model=ImportResult, dependencies=[ImportRateLimit],
    responses=problem_responses(400, 413, 422, 429, 503),
    summary="Fetch a recipe page and return a draft (not saved)",
)
async def import_from_url(body: UrlImportIn, user: CurrentPrincipal, session: SessionDep,
                          fetcher: Fetcher, request: Request) -> ImportResult:
    max_bytes = request.app.state.settings.IMPORT_MAX_PAGE_BYTES
    preview, final_url = await service.preview_url(fetcher, body.url, max_bytes)
    dupes = await anyio.to_thread.run_sync(service.duplicates, session, user.id,
                                           preview.draft.source_url)
    return service.result(preview, dupes, url=body.url, final_url=final_url)


@router.post(
    "/html", response_model=ImportResult, responses=problem_responses(400, 413, 422),
    summary="Read a recipe from a page the app already has (HTML or JSON-LD); no network",
)
async def import_from_html(body: HtmlImportIn, user: CurrentPrincipal,
                           session: SessionDep) -> ImportResult:
    preview = await service.preview_in_worker(body.html, body.source_url)
    dupes = await anyio.to_thread.run_sync(service.duplicates, session, user.id,
                                           preview.draft.source_url)
    return service.result(preview, dupes, url=body.source_url, final_url=body.source_url)


@router.post(
    "/ingredients", response_model=IngredientLinesOut,
    responses=problem_responses(400, 413),
    summary="Parse ingredient sentences into structured lines (at most 200)",
)
def parse_ingredient_lines(body: IngredientLinesIn, user: CurrentPrincipal) -> IngredientLinesOut:
    return service.parse_ingredient_lines(body.lines)
