"""JSON errors of the API: an exception naming the bad field, and its rendering."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class ApiError(HTTPException):
    """An API error naming the field at fault; rendered as JSON by `api_error_response`."""

    def __init__(self, status_code: int, message: str, field: str | None = None) -> None:
        super().__init__(status_code, message)
        self.field = field


def error_body(status_code: int, message: str, field: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"status": status_code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


async def api_error_response(request: Request, exc: Exception) -> Response:
    """Render HTTP errors under /api/ as JSON; other paths keep Starlette's plain responses."""
    assert isinstance(exc, HTTPException)
    field = exc.field if isinstance(exc, ApiError) else None
    return JSONResponse(
        error_body(exc.status_code, str(exc.detail), field),
        status_code=exc.status_code,
        headers=exc.headers,
    )
