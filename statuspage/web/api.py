"""The JSON API under /api/v1: reads are public, writes need an API key."""

from __future__ import annotations

from starlette.routing import BaseRoute

from statuspage.web import api_incidents, api_maintenance, read_api
from statuspage.web.api_errors import ApiError, api_error_response, error_body

__all__ = ["ApiError", "api_error_response", "error_body", "routes"]

routes: list[BaseRoute] = [*read_api.routes, *api_incidents.routes, *api_maintenance.routes]
