"""Reading the JSON object of a write API request, with errors that name what is wrong."""

from __future__ import annotations

import json
import sys
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
    except RecursionError:
        # The parser recurses once per nested array or object.
        raise ApiError(
            400,
            "The request body nests arrays or objects too deeply to parse: "
            "send the object with its fields at most a few levels deep.",
        ) from None
    except ValueError:
        # Python refuses to convert longer digit strings to int (CVE-2020-10735).
        limit = sys.get_int_max_str_digits()
        raise ApiError(
            400,
            f"The request body has a number with more than {limit} digits: send shorter numbers.",
        ) from None
    if _has_lone_surrogate(payload):
        raise ApiError(
            400,
            "The request body has a string with an unpaired UTF-16 surrogate escape such as "
            "\\ud800, which is not a Unicode character: send the text as UTF-8.",
        )
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


def _has_lone_surrogate(payload: object) -> bool:
    """Tell whether any key or string in the parsed JSON cannot be encoded as UTF-8.

    json.loads turns an escape such as \\ud800 without its pair into a lone surrogate, which
    SQLite cannot store. The walk uses a stack, because the payload may nest as deeply as the
    parser allowed.
    """
    pending = [payload]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False
