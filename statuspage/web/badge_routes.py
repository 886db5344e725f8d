"""SVG badges of a component: its state, its uptime over a period and its response time.

Badges show what the public page shows: the effective state, uptime rounded down, and "no
data" where nothing was observed, never 0%. An unknown component is a plain-text 404, so an
image tag on another site shows a broken image instead of a badge that looks valid.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from statuspage import badges
from statuspage.snapshot import UPTIME_PERIODS, ComponentView
from statuspage.web.public_data import app_context

SVG_TYPE = "image/svg+xml; charset=utf-8"
DEFAULT_PERIOD = "90d"  # the period of the uptime shown on the status page


def _component(request: Request) -> ComponentView:
    component_id: str = request.path_params["component_id"]
    for view in app_context(request).monitor.snapshot.components:
        if view.id == component_id:
            return view
    raise HTTPException(404, f"Component {component_id!r} not found.")


async def status_badge(request: Request) -> Response:
    view = _component(request)
    return Response(badges.state_badge(view.name, view.effective_state.value), media_type=SVG_TYPE)


async def uptime_badge(request: Request) -> Response:
    view = _component(request)
    period = request.query_params.get("period", DEFAULT_PERIOD)
    if period not in UPTIME_PERIODS:
        raise HTTPException(
            400, f"Invalid period {period!r}: use one of {', '.join(UPTIME_PERIODS)}."
        )
    ratio = view.uptime_periods.get(period)
    return Response(badges.uptime_badge(view.name, ratio, period), media_type=SVG_TYPE)


async def response_time_badge(request: Request) -> Response:
    view = _component(request)
    return Response(badges.response_time_badge(view.name, view.latency_ms), media_type=SVG_TYPE)


routes: list[BaseRoute] = [
    Route("/badges/{component_id}/status.svg", status_badge, name="badge_status"),
    Route("/badges/{component_id}/uptime.svg", uptime_badge, name="badge_uptime"),
    Route(
        "/badges/{component_id}/response-time.svg",
        response_time_badge,
        name="badge_response_time",
    ),
]
