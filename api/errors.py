"""The error model of docs/API.md: every refusal is JSON ``{"message": ...}`` with a 4xx code.

model.errors -> HTTP:

- InvalidInput -> 400 (with ``errors`` when the exception lists several problems)
- request bodies / query parameters refused by their schema -> 422 with ``errors``
- NotFound -> 404, Conflict -> 409
- StoreUnavailable -> 503: ZooKeeper is unreachable; nothing was done, retry later.
- CorruptRecord, UnsupportedSchema -> 503 naming the record: not a bug of the request and not
  something a retry of the client fixes, but the service cannot answer for that resource until an
  operator repairs the record (or upgrades). A 500 stays reserved for bugs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from model.errors import (
    Conflict,
    CorruptRecord,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    UnsupportedSchema,
)

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP refusal decided in the API layer itself (auth, empty bodies...)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_body(message: str, errors: Sequence[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = list(errors)
    return body


def describe_validation_error(err: Mapping[str, Any]) -> str:
    """One line naming the field: ``body.nodes: Input should be ...`` -> ``nodes: ...``."""
    loc = [str(p) for p in err.get("loc", ())]
    where = loc[0] if loc else ""
    path = ".".join(loc[1:]) if where in ("body", "query", "path") else ".".join(loc)
    if err.get("type") == "extra_forbidden":
        return f"{path}: unknown field"
    if err.get("type") == "missing":
        kind = {"query": "query parameter", "path": "path parameter"}.get(where, "field")
        return f"{path}: missing {kind}" if path else "request body is missing"
    if err.get("type") == "json_invalid":
        return f"request body is not valid JSON: {err.get('ctx', {}).get('error', err.get('msg'))}"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{path or {'body': 'request body'}.get(where, where)}: {msg}" if path or where else msg


def install_error_handlers(app: FastAPI) -> None:
    def respond(
        status: int, message: str, errors: Sequence[str] | None = None, **headers: str
    ) -> JSONResponse:
        return JSONResponse(error_body(message, errors), status_code=status, headers=headers or None)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.message), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        # InvalidSpec and UpdateRefused carry one line per problem in ``errors``.
        errors = getattr(exc, "errors", None)
        return respond(400, str(exc), errors if isinstance(errors, list) else None)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return respond(404, str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return respond(409, str(exc))

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        return respond(
            503, f"state store unavailable, nothing was done; retry later: {exc}", **{"Retry-After": "5"}
        )

    @app.exception_handler(CorruptRecord)
    async def _corrupt(_: Request, exc: CorruptRecord) -> JSONResponse:
        log.error("unreadable record: %s", exc)
        return respond(503, f"a stored record cannot be read and needs an operator's repair: {exc}")

    @app.exception_handler(UnsupportedSchema)
    async def _schema(_: Request, exc: UnsupportedSchema) -> JSONResponse:
        return respond(503, f"the store was written by a newer version of the framework: {exc}")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        lines = [describe_validation_error(e) for e in exc.errors()]
        return respond(422, "invalid request: " + "; ".join(lines), lines)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and message == "Not Found":
            message = "no such route; see /docs for the API"
        if exc.status_code == 405:
            # Starlette names only the first route of the path; list every method the path has.
            allowed = allowed_methods(app, request)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return JSONResponse(error_body(message), status_code=exc.status_code, headers=headers or None)


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)
