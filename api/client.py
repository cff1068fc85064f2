"""A small synchronous client of the REST API, used by the CLI (and handy in scripts)."""

from __future__ import annotations

from typing import Any

import httpx

from model.errors import CassandraMesosError

DEFAULT_API = "http://127.0.0.1:9000"


class ApiUnreachable(CassandraMesosError):
    """No answer from the API server (refused, timed out, DNS...)."""


class ApiRefused(CassandraMesosError):
    """The server answered with an error status; ``message`` is its sentence."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.errors = errors or []


class ApiClient:
    def __init__(self, base_url: str = DEFAULT_API, token: str | None = None, timeout: float = 15.0) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        try:
            resp = self._http.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise ApiUnreachable(
                f"cannot reach the API at {self.base_url}: {type(exc).__name__}: {exc}"
            ) from None
        if resp.status_code >= 400:
            message, errors = f"{resp.reason_phrase}", None
            try:
                body = resp.json()
                if isinstance(body, dict):
                    message = str(body.get("message") or message)
                    errors = body.get("errors") if isinstance(body.get("errors"), list) else None
            except ValueError:
                message = resp.text[:300] or message
            raise ApiRefused(resp.status_code, message, errors)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return resp.text

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, json=body)

    def post(self, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, json=body, params=params)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)
