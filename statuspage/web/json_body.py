"""Reading the JSON object of a write API request, with errors that name what is wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from statuspage.web.api_errors import ApiError

MAX_REQUEST_BYTES = 256 * 1024


async def read_json_object(
    request: Request, wrappers: tuple[str, ...]
) -> tuple[Mapping[str, Any], str]:
    """Parse the body as a JSON object and unwrap it.

    Statuspage clients send `{"incident": {...}}`; the object may also come unwrapped. Returns
    the object and the prefix of its field paths ("incident." or "") for error messages.
    """
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_REQUEST_BYTES:
            raise ApiError(413, f"The request body is larger than {MAX_REQUEST_BYTES} bytes.")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"The request body is not valid JSON: {error}.") from None
    if not isinstance(payload, dict):
        raise ApiError(400, f"Expected a JSON object, got {type(payload).__name__}.")

    for wrapper in wrappers:
        if wrapper not in payload:
            continue
        wrapped = payload[wrapper]
        if not isinstance(wrapped, dict):
            raise ApiError(
                422, f"Expected {wrapper} to be an object, got {type(wrapped).__name__}.", wrapper
            )
        return wrapped, f"{wrapper}."
    return payload, ""
