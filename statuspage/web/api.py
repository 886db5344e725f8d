"""The JSON API under /api/v1: reads are public, writes need an API key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from statuspage.web import api_incidents, api_maintenance, read_api
from statuspage.web.api_errors import ApiError, api_error_response, error_body

__all__ = ["ApiError", "api_error_response", "error_body", "routes"]

# The order in which the Allow header lists methods.
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def options_routes(api_routes: Sequence[BaseRoute]) -> list[Route]:
    """Return an OPTIONS route for each path that responds 204 with every method of the path.

    Without them, Starlette responds to OPTIONS with 405 and lists only the methods of the
    first route that matches the path, which leaves out POST where reads and writes are
    separate routes. These responses have no CORS headers. `cors.ReadOnlyCorsMiddleware`
    handles preflights for reads before they get here, and writes stay same-origin or
    server-to-server.
    """
    methods: dict[str, set[str]] = {}
    for route in api_routes:
        if isinstance(route, Route) and route.methods:
            methods.setdefault(route.path, set()).update(route.methods)
    return [
        Route(path, _options_endpoint(allowed | {"OPTIONS"}), methods=["OPTIONS"])
        for path, allowed in methods.items()
    ]


def _options_endpoint(methods: set[str]) -> Callable[[Request], Awaitable[Response]]:
    allow = ", ".join(method for method in METHOD_ORDER if method in methods)

    async def endpoint(request: Request) -> Response:
        return Response(status_code=204, headers={"Allow": allow})

    return endpoint


_routes: list[BaseRoute] = [*read_api.routes, *api_incidents.routes, *api_maintenance.routes]
routes: list[BaseRoute] = [*_routes, *options_routes(_routes)]
