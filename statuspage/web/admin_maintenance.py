"""Routes of this module are filled in with their feature."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
