"""Operator sessions, CSRF protection and API keys for the admin area and the write API.

Interface used by the admin and API route modules (the implementation fills it in):

- `@operator_required` on an admin endpoint: without a valid session, HTML requests are
  redirected to /admin/login; with one, `request.state.operator` is the operator's name.
- `await verified_form(request)`: parse a submitted form and check its CSRF token; raises
  HTTPException(403) when the token is missing or wrong.
- `csrf_token(request)`: the token to put in a hidden `csrf_token` field of every form.
- `@api_key_required` on a write API endpoint: without a valid `Authorization: Bearer KEY`,
  answers 401 JSON; with one, `request.state.operator` is "api key NAME".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

Endpoint = Callable[[Request], Awaitable[Response]]


def operator_required(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        raise HTTPException(401)

    return guarded


def api_key_required(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        raise HTTPException(401)

    return guarded


async def verified_form(request: Request) -> FormData:
    raise HTTPException(403)


def csrf_token(request: Request) -> str:
    raise NotImplementedError


routes: list[BaseRoute] = []
