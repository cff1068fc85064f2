"""The optional bearer token that guards every mutating route."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError

bearer = HTTPBearer(
    auto_error=False, description="required on PUT, POST and DELETE when the server has a token"
)


def token_guard(token: str | None) -> Any:
    """A dependency: with no token configured everything passes; otherwise 401 without
    credentials and 403 with the wrong ones."""

    def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        if token is None:
            return
        if credentials is None:
            raise ApiError(
                401,
                "this route needs a bearer token: send 'Authorization: Bearer <token>' "
                "(CLI: --token or $CM_TOKEN)",
                {"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            raise ApiError(403, "the bearer token is not valid for this server")

    return Depends(check)
