"""The admin area under /admin: every route except the login form requires an operator."""

from __future__ import annotations

from starlette.routing import BaseRoute

from statuspage.web import admin_incidents, admin_maintenance, auth

routes: list[BaseRoute] = [*auth.routes, *admin_incidents.routes, *admin_maintenance.routes]
