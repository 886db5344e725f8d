"""Public routes: the status page, incident pages, the history and the health endpoint.

The status page is rendered from the snapshot alone. Incident and history pages read the
store, and each is cached until the next snapshot, so a crowd costs one query per page per
snapshot at most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from statuspage import incident_store
from statuspage.snapshot import build_history
from statuspage.web.context import AppContext, CachedPage

# The earliest month the history accepts; no status data predates the Unix epoch.
FIRST_MONTH = date(1970, 1, 1)
MAX_SQLITE_INTEGER = 2**63 - 1
MAX_SHOWN_LENGTH = 60  # characters of a rejected month quoted in the error message
# ASCII digits only, so each month has one spelling and one cache entry.
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


@dataclass(frozen=True)
class MonthError:
    """Why a requested month cannot be shown: `kind` is "format", "future" or "too_early"."""

    kind: str
    value: str  # as requested, cut to MAX_SHOWN_LENGTH characters


async def index(request: Request) -> Response:
    context: AppContext = request.app.state.context
    return HTMLResponse(context.render_page("index.html"))


async def incident(request: Request) -> Response:
    """Render one incident with its whole timeline, or 404 for an unknown or deleted one."""
    context: AppContext = request.app.state.context
    incident_id: int = request.path_params["incident_id"]
    snapshot = context.monitor.snapshot
    key = f"incident:{incident_id}"
    page = context.pages.get(snapshot, key)
    if page is None:
        found = None
        if incident_id <= MAX_SQLITE_INTEGER:
            found = await context.store.call(
                incident_store.get_incident, context.store.db, incident_id
            )
        if found is None:
            page = CachedPage(404, b"")
        else:
            page = CachedPage(200, context.render("incident.html", snapshot, incident=found))
        context.pages.put(snapshot, key, page)
    if page.status_code == 404:
        raise HTTPException(404, f"Incident {incident_id} not found.")
    return HTMLResponse(page.body)


async def history(request: Request) -> Response:
    """Render the incidents and completed maintenance of `?month=YYYY-MM`, by local day."""
    context: AppContext = request.app.state.context
    snapshot = context.monitor.snapshot
    current = snapshot.today.replace(day=1)
    requested = request.query_params.get("month")
    month = current
    if requested is not None:
        parsed = parse_month(requested, current)
        if isinstance(parsed, MonthError):
            body = context.render(
                "history.html", snapshot, error=parsed, current_month=current, history=None
            )
            return HTMLResponse(body, status_code=400)
        month = parsed

    key = f"history:{month.isoformat()}"
    page = context.pages.get(snapshot, key)
    if page is None:
        found = await context.store.call(
            build_history, context.store.db, snapshot.site.timezone, month, snapshot.built_at
        )
        body = context.render(
            "history.html",
            snapshot,
            error=None,
            current_month=current,
            history=found,
            previous_month=_previous_month(month) if month > FIRST_MONTH else None,
            next_month=_next_month(month) if month < current else None,
        )
        page = CachedPage(200, body)
        context.pages.put(snapshot, key, page)
    return HTMLResponse(page.body)


def parse_month(text: str, current: date) -> date | MonthError:
    """Parse "YYYY-MM" into the month's first day, between FIRST_MONTH and `current`."""
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        return MonthError("format", _shown(text))
    # Compared before building a date, because year 0000 is not a valid date.
    if (int(match[1]), int(match[2])) < (FIRST_MONTH.year, FIRST_MONTH.month):
        return MonthError("too_early", _shown(text))
    month = date(int(match[1]), int(match[2]), 1)
    if month > current:
        return MonthError("future", _shown(text))
    return month


def _shown(text: str) -> str:
    """Cut a rejected value to a length that fits in a message."""
    return text if len(text) <= MAX_SHOWN_LENGTH else text[: MAX_SHOWN_LENGTH - 1] + "…"


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


async def healthz(request: Request) -> Response:
    """200 while the process, its scheduler and its own store work; 503 otherwise."""
    context: AppContext = request.app.state.context
    problems = []
    try:
        await context.store.call(context.store.ping)
    except Exception:
        problems.append("store")
    if context.monitor.recording_failed:
        problems.append("recording")
    if context.scheduler is not None and not context.scheduler.running:
        problems.append("scheduler")
    body = {"status": "error" if problems else "ok", "failing": problems}
    return JSONResponse(body, status_code=503 if problems else 200)


routes = [
    Route("/", index, name="index"),
    Route("/incidents/{incident_id:int}", incident, name="incident"),
    Route("/history", history, name="history"),
    Route("/healthz", healthz, name="healthz"),
]
