"""Typed errors and the one place that renders every error response.

Every error leaves the service as RFC 9457 problem details::

    {"type": "urn:homechef:problem:not-found", "title": "Not found", "status": 404,
     "detail": "...", "instance": "/api/v1/recipes/...", "request_id": "..."}

Domain code raises an ``AppError`` subclass; routes never build an error body by hand.
Nothing from an exception's text, SQL or a traceback reaches the client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.core import metrics
from app.core.request_context import current_request_id

logger = logging.getLogger("homechef.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class AppError(Exception):
    """Base of every error the API reports on purpose."""

    status_code: int = 500
    code: str = "internal-error"
    title: str = "Internal server error"
    detail: str = "The server could not complete the request."

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail or self.detail)
        if detail is not None:
            self.detail = detail
        self.headers = dict(headers or {})

    def extra(self) -> dict[str, Any]:
        """Additional problem members, for subclasses that carry them."""
        return {}


class BadRequest(AppError):
    status_code, code, title = 400, "bad-request", "Bad request"
    detail = "The request is malformed."


class Unauthorized(AppError):
    status_code, code, title = 401, "unauthorized", "Not authenticated"
    detail = "A valid bearer token is required."

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer", **(headers or {})})


class Forbidden(AppError):
    status_code, code, title = 403, "forbidden", "Forbidden"
    detail = "You may not do this."


class NotFound(AppError):
    status_code, code, title = 404, "not-found", "Not found"
    detail = "The resource does not exist."


class Conflict(AppError):
    status_code, code, title = 409, "conflict", "Conflict"
    detail = "The request conflicts with the current state."


class Gone(AppError):
    status_code, code, title = 410, "gone", "Gone"
    detail = "The resource has been erased."


class PreconditionFailed(AppError):
    status_code, code, title = 412, "precondition-failed", "Precondition failed"
    detail = "The resource has changed since you last read it."


class PayloadTooLarge(AppError):
    status_code, code, title = 413, "payload-too-large", "Payload too large"
    detail = "The request body is larger than allowed."


class UnsupportedMediaType(AppError):
    status_code, code, title = 415, "unsupported-media-type", "Unsupported media type"
    detail = "The request body has a type this endpoint does not accept."


class Unprocessable(AppError):
    status_code, code, title = 422, "validation-error", "Validation failed"
    detail = "The request body or parameters are invalid."


class RateLimited(AppError):
    status_code, code, title = 429, "rate-limited", "Too many requests"
    detail = "Too many requests; retry later."


class ServiceUnavailable(AppError):
    status_code, code, title = 503, "service-unavailable", "Service unavailable"
    detail = "A dependency is unavailable; retry shortly."


class DatabaseUnavailable(ServiceUnavailable):
    code = "database-unavailable"
    detail = "The database is unavailable; retry shortly."


class ProblemDetail(BaseModel):
    """The error body, declared so OpenAPI (and schemathesis) know its shape."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[dict[str, Any]] | None = None


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:homechef:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": current_request_id() or "",
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _public_validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The offending input is left out on purpose: it may be a token or a secret, and
    # echoing hostile input back is how reflected injection starts.
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()[:50]
    ]


def _is_connection_failure(exc: DBAPIError) -> bool:
    # InterfaceError is psycopg2's "connection already closed": a connection that died
    # under us (the server went away between checkout and use), not a bug in a query.
    return isinstance(exc, OperationalError | InterfaceError) or bool(
        getattr(exc, "connection_invalidated", False)
    )


def _allowed_methods(request: Request) -> str:
    # The router's 405 names only the methods of the first route whose path matched, so
    # GET /users/me would hide PATCH and DELETE; Allow must list the resource's methods.
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(route.methods or ())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return render_app_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404:
            detail = "No such resource."
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers = {**(headers or {}), "Allow": allowed}
        return problem_response(
            request,
            status=exc.status_code,
            code=code,
            title=title,
            detail=detail,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            request,
            status=422,
            code=Unprocessable.code,
            title=Unprocessable.title,
            detail=Unprocessable.detail,
            extra={"errors": _public_validation_errors(exc)},
        )

    @app.exception_handler(PoolTimeoutError)
    async def _pool_exhausted(request: Request, exc: PoolTimeoutError) -> JSONResponse:
        logger.error("db.unavailable", extra={"event": "db.unavailable", "reason": "pool_timeout"})
        metrics.count_db_error("pool_timeout")
        return render_app_error(request, DatabaseUnavailable(), headers={"Retry-After": "1"})

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if _is_connection_failure(exc):
            metrics.count_db_error(
                "statement_timeout" if type(exc.orig).__name__ == "QueryCanceled" else "connection")
            logger.error(
                "db.unavailable",
                extra={"event": "db.unavailable", "reason": type(exc.orig).__name__},
            )
            return render_app_error(request, DatabaseUnavailable(), headers={"Retry-After": "1"})
        logger.exception("unhandled database error", extra={"event": "error.unhandled"})
        return render_app_error(request, AppError())

    # Exceptions no handler claims are rendered by UnhandledErrorMiddleware.


def render_app_error(
    request: Request, exc: AppError, headers: dict[str, str] | None = None
) -> JSONResponse:
    return problem_response(
        request,
        status=exc.status_code,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers={**exc.headers, **(headers or {})},
        extra=exc.extra(),
    )


#: For ``responses=`` on routers, so the OpenAPI schema declares the error shape.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ProblemDetail, "content": {PROBLEM_MEDIA_TYPE: {}}}
        for status in statuses
    }
