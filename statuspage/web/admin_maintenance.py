"""Admin pages for maintenance: list, create, edit, end, extend or cancel windows, updates.

Every page needs an operator session and every form a CSRF token. A form with errors comes
back with status 400, the messages next to their fields and everything the operator typed.
Local date-times in forms are read in the maintenance's own time zone, which defaults to the
site's. After each write the public snapshot is rebuilt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from statuspage import maintenance_store
from statuspage.maintenance import (
    FieldMessage,
    Maintenance,
    MaintenanceError,
    MaintenanceInput,
    MaintenanceNotFound,
    MaintenanceWindow,
    ValidationError,
    WindowStatus,
    format_local,
    parse_display_at,
    parse_new_end,
    require_update_body,
    validate_maintenance,
    zone_names,
)
from statuspage.markdown import render_markdown
from statuspage.web.auth import csrf_token, operator_required, verified_form
from statuspage.web.context import AppContext

# Messages shown after a redirect, chosen by the `done` query parameter. Only these keys are
# shown, so the parameter cannot put arbitrary text on the page.
DONE_KEYS = frozenset(
    {"created", "saved", "ended", "extended", "cancelled", "update_posted", "deleted"}
)
UPCOMING_SHOWN = 10  # windows listed per section of the maintenance page
PAST_SHOWN = 10
FORM_FIELDS = ("title", "description", "timezone", "starts_at", "ends_at", "schedule", "end_time")


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _now() -> datetime:
    return datetime.now(UTC)


def _render(
    request: Request, template: str, values: Mapping[str, Any], status_code: int = 200
) -> Response:
    context = _context(request)
    page = {
        "csrf_token": csrf_token(request),
        "components": context.config.components,
        "component_names": {c.id: c.name for c in context.config.components},
        "site_zone": context.config.site.timezone.key,
        "markdown": render_markdown,
        "done": _done(request),
        **values,
    }
    return context.templates.TemplateResponse(request, template, page, status_code=status_code)


def _done(request: Request) -> str | None:
    done = request.query_params.get("done")
    return done if done in DONE_KEYS else None


def _redirect(request: Request, maintenance_id: int, done: str) -> Response:
    path = request.url_for("admin_maintenance", maintenance_id=maintenance_id).path
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _refresh(request: Request) -> None:
    await _context(request).monitor.refresh_snapshot()


def _local_input(moment: datetime, zone: ZoneInfo) -> str:
    """Format an instant for a datetime-local input; seconds only when there are any."""
    try:
        local = moment.astimezone(zone)
    except OverflowError:
        # Only rows stored before validation bounded the times can be this far out.
        local = moment.astimezone(UTC)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


def _window_view(window: MaintenanceWindow, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    return {
        "window": window,
        "status": window.status(now).value,
        "starts": format_local(window.starts_at, zone),
        "ends": format_local(window.effective_end, zone),
        "planned_end": format_local(window.ends_at, zone),
        "ends_input": _local_input(window.ends_at, zone),
    }


async def _maintenance(request: Request) -> Maintenance:
    context = _context(request)
    maintenance_id: int = request.path_params["maintenance_id"]
    maintenance = await context.store.call(
        maintenance_store.get_maintenance, context.store.db, maintenance_id
    )
    if maintenance is None:
        raise HTTPException(404, f"Maintenance {maintenance_id} not found.")
    return maintenance


# List


@operator_required
async def maintenance_list(request: Request) -> Response:
    context = _context(request)
    db = context.store.db
    now = _now()
    maintenances = await context.store.call(maintenance_store.list_maintenances, db)
    zones = {m.id: ZoneInfo(m.timezone) for m in maintenances}
    active = await context.store.call(maintenance_store.active_windows, db, now)
    upcoming = await context.store.call(maintenance_store.scheduled_windows, db, now)
    recent = await context.store.call(maintenance_store.recent_windows, db, now)
    next_windows: dict[int, dict[str, Any]] = {}
    for window in upcoming:
        next_windows.setdefault(
            window.maintenance_id, _window_view(window, zones[window.maintenance_id], now)
        )

    def views(windows: list[MaintenanceWindow]) -> list[dict[str, Any]]:
        return [
            _window_view(w, zones[w.maintenance_id], now)
            for w in windows
            if w.maintenance_id in zones
        ]

    return _render(
        request,
        "admin/maintenance_list.html",
        {
            "maintenances": maintenances,
            "in_progress": views(active),
            "upcoming": views(upcoming)[:20],
            "recent": views(recent)[:20],
            "next_windows": next_windows,
        },
    )


# Create and edit


def _input_from_form(form: FormData) -> tuple[dict[str, Any], MaintenanceInput]:
    values: dict[str, Any] = {name: _form_text(form, name) for name in FORM_FIELDS}
    values["kind"] = "recurring" if _form_text(form, "kind") == "recurring" else "one_off"
    values["components"] = [c for c in form.getlist("components") if isinstance(c, str)]
    values["body"] = _form_text(form, "body")
    data = MaintenanceInput(
        title=values["title"],
        description=values["description"],
        timezone=values["timezone"],
        components=values["components"],
        recurring=values["kind"] == "recurring",
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        schedule=values["schedule"],
        end_time=values["end_time"],
        body=values["body"],
    )
    return values, data


def _form_page(
    request: Request,
    maintenance: Maintenance | None,
    values: Mapping[str, Any],
    errors: Mapping[str, FieldMessage] | None = None,
    status_code: int = 200,
) -> Response:
    return _render(
        request,
        "admin/maintenance_form.html",
        {
            "maintenance": maintenance,
            "values": values,
            "errors": errors or {},
            "zone_names": zone_names(),
        },
        status_code=status_code,
    )


@operator_required
async def new_maintenance(request: Request) -> Response:
    context = _context(request)
    if request.method == "GET":
        values: dict[str, Any] = dict.fromkeys(FORM_FIELDS, "")
        values.update(
            kind="one_off", timezone=context.config.site.timezone.key, components=[], body=""
        )
        return _form_page(request, None, values)

    form = await verified_form(request)
    values, data = _input_from_form(form)
    now = _now()
    component_ids = [c.id for c in context.config.components]
    try:
        spec = validate_maintenance(data, component_ids, now)
    except ValidationError as error:
        return _form_page(request, None, values, error.errors, status_code=400)

    maintenance_id = await context.store.call(
        maintenance_store.create_maintenance,
        context.store.db,
        spec,
        now,
        request.state.operator,
        values["body"],
    )
    await _refresh(request)
    return _redirect(request, maintenance_id, "created")


@operator_required
async def edit_maintenance(request: Request) -> Response:
    context = _context(request)
    maintenance = await _maintenance(request)
    zone = ZoneInfo(maintenance.timezone)
    windows = await context.store.call(
        maintenance_store.windows_of, context.store.db, maintenance.id
    )
    one_off_window = windows[0] if windows and not maintenance.recurring else None
    stored = _stored_values(maintenance, one_off_window, zone)
    if request.method == "GET":
        return _form_page(request, maintenance, stored)

    form = await verified_form(request)
    values, data = _input_from_form(form)
    values["kind"] = stored["kind"]
    data = _keep_exact_times(data, values, stored, one_off_window)
    now = _now()
    component_ids = [c.id for c in context.config.components]
    current_start = one_off_window.starts_at if one_off_window else None
    try:
        spec = validate_maintenance(data, component_ids, now, current_start=current_start)
        await context.store.call(
            maintenance_store.update_maintenance, context.store.db, maintenance.id, spec, now
        )
    except ValidationError as error:
        return _form_page(request, maintenance, values, error.errors, status_code=400)
    except MaintenanceError as error:
        return _form_page(request, maintenance, values, {error.field: error.error}, status_code=400)
    except MaintenanceNotFound:
        raise HTTPException(404, f"Maintenance {maintenance.id} not found.") from None
    await _refresh(request)
    return _redirect(request, maintenance.id, "saved")


def _stored_values(
    maintenance: Maintenance, window: MaintenanceWindow | None, zone: ZoneInfo
) -> dict[str, Any]:
    return {
        "kind": "recurring" if maintenance.recurring else "one_off",
        "title": maintenance.title,
        "description": maintenance.description,
        "timezone": maintenance.timezone,
        "components": list(maintenance.components),
        "starts_at": _local_input(window.starts_at, zone) if window else "",
        "ends_at": _local_input(window.ends_at, zone) if window else "",
        "schedule": maintenance.schedule or "",
        "end_time": maintenance.end_time or "",
        "body": "",
    }


def _keep_exact_times(
    data: MaintenanceInput,
    values: Mapping[str, Any],
    stored: Mapping[str, Any],
    window: MaintenanceWindow | None,
) -> MaintenanceInput:
    """Keep a one-off window's stored instants when the form sends them back unchanged.

    Local text cannot tell the two occurrences of a repeated hour apart, so without this an
    untouched start in the second occurrence would read as a change.
    """
    if window is None or values["timezone"] != stored["timezone"]:
        return data
    starts_at: str | datetime = data.starts_at
    ends_at: str | datetime = data.ends_at
    if values["starts_at"] == stored["starts_at"]:
        starts_at = window.starts_at
    if values["ends_at"] == stored["ends_at"]:
        ends_at = window.ends_at
    return dataclasses.replace(data, starts_at=starts_at, ends_at=ends_at)


# One maintenance


@operator_required
async def maintenance_detail(request: Request) -> Response:
    maintenance = await _maintenance(request)
    return await _detail(request, maintenance)


async def _detail(
    request: Request,
    maintenance: Maintenance,
    *,
    status_code: int = 200,
    window_errors: Mapping[int, Mapping[str, FieldMessage]] | None = None,
    window_values: Mapping[int, Mapping[str, str]] | None = None,
    update_values: Mapping[str, str] | None = None,
    update_errors: Mapping[str, FieldMessage] | None = None,
    delete_errors: Mapping[str, FieldMessage] | None = None,
) -> Response:
    context = _context(request)
    zone = ZoneInfo(maintenance.timezone)
    now = _now()
    windows = await context.store.call(
        maintenance_store.windows_of, context.store.db, maintenance.id
    )
    updates = await context.store.call(
        maintenance_store.updates_of, context.store.db, maintenance.id
    )
    views = [_window_view(window, zone, now) for window in windows]
    in_progress = [v for v in views if v["status"] == WindowStatus.IN_PROGRESS]
    upcoming = [v for v in views if v["status"] == WindowStatus.SCHEDULED]
    past = [v for v in views if v["status"] in (WindowStatus.COMPLETED, WindowStatus.CANCELLED)]
    past.sort(key=lambda view: view["window"].starts_at, reverse=True)
    return _render(
        request,
        "admin/maintenance.html",
        {
            "maintenance": maintenance,
            "zone": zone,
            "in_progress": in_progress,
            "upcoming": upcoming[:UPCOMING_SHOWN],
            "upcoming_count": len(upcoming),
            "past": past[:PAST_SHOWN],
            "updates": [{"entry": u, "shown": format_local(u.display_at, zone)} for u in updates],
            "window_errors": window_errors or {},
            "window_values": window_values or {},
            "update_values": update_values or {"body": "", "display_at": ""},
            "update_errors": update_errors or {},
            "delete_errors": delete_errors or {},
        },
        status_code=status_code,
    )


# Window actions


async def _window_action(request: Request, action: str) -> Response:
    context = _context(request)
    form = await verified_form(request)
    window_id: int = request.path_params["window_id"]
    window = await context.store.call(maintenance_store.get_window, context.store.db, window_id)
    if window is None:
        raise HTTPException(404, f"Maintenance window {window_id} not found.")

    maintenance = await context.store.call(
        maintenance_store.get_maintenance, context.store.db, window.maintenance_id
    )
    if maintenance is None:
        raise HTTPException(404, f"Maintenance window {window_id} not found.")

    values = {"ends_at": _form_text(form, "ends_at"), "minutes": _form_text(form, "minutes")}
    now = _now()
    try:
        if action == "end":
            await context.store.call(maintenance_store.end_window, context.store.db, window_id, now)
        elif action == "cancel":
            await context.store.call(
                maintenance_store.cancel_window, context.store.db, window_id, now
            )
        else:
            new_end = parse_new_end(
                values["ends_at"],
                values["minutes"],
                window.ends_at,
                ZoneInfo(maintenance.timezone),
                starts_at=window.starts_at,
            )
            await context.store.call(
                maintenance_store.extend_window, context.store.db, window_id, new_end, now
            )
    except ValidationError as error:
        return await _detail(
            request,
            maintenance,
            status_code=400,
            window_errors={window_id: error.errors},
            window_values={window_id: values},
        )
    except MaintenanceError as error:
        return await _detail(
            request,
            maintenance,
            status_code=400,
            window_errors={window_id: {error.field: error.error}},
            window_values={window_id: values},
        )
    except MaintenanceNotFound:
        raise HTTPException(404, f"Maintenance window {window_id} not found.") from None

    await _refresh(request)
    done = {"end": "ended", "cancel": "cancelled", "extend": "extended"}[action]
    return _redirect(request, maintenance.id, done)


@operator_required
async def end_window(request: Request) -> Response:
    return await _window_action(request, "end")


@operator_required
async def extend_window(request: Request) -> Response:
    return await _window_action(request, "extend")


@operator_required
async def cancel_window(request: Request) -> Response:
    return await _window_action(request, "cancel")


# Updates and deletion


@operator_required
async def post_update(request: Request) -> Response:
    context = _context(request)
    maintenance = await _maintenance(request)
    form = await verified_form(request)
    values = {"body": _form_text(form, "body"), "display_at": _form_text(form, "display_at")}
    now = _now()
    errors: dict[str, FieldMessage] = {}
    body = ""
    display_at = now
    try:
        body = require_update_body(values["body"])
    except ValidationError as error:
        errors.update(error.errors)
    try:
        display_at = parse_display_at(values["display_at"], ZoneInfo(maintenance.timezone), now)
    except ValidationError as error:
        errors.update(error.errors)
    if errors:
        return await _detail(
            request, maintenance, status_code=400, update_values=values, update_errors=errors
        )

    try:
        await context.store.call(
            maintenance_store.add_update,
            context.store.db,
            maintenance.id,
            body,
            display_at,
            request.state.operator,
            now,
        )
    except MaintenanceNotFound:
        raise HTTPException(404, f"Maintenance {maintenance.id} not found.") from None
    await _refresh(request)
    return _redirect(request, maintenance.id, "update_posted")


@operator_required
async def delete_maintenance(request: Request) -> Response:
    context = _context(request)
    maintenance = await _maintenance(request)
    form = await verified_form(request)
    if form.get("confirm") != "yes":
        errors = {
            "confirm": FieldMessage(
                "Tick the box to confirm that maintenance %(id)s should be deleted.",
                {"id": str(maintenance.id)},
            )
        }
        return await _detail(request, maintenance, status_code=400, delete_errors=errors)

    try:
        await context.store.call(
            maintenance_store.cancel_maintenance, context.store.db, maintenance.id, _now()
        )
    except MaintenanceNotFound:
        raise HTTPException(404, f"Maintenance {maintenance.id} not found.") from None
    await _refresh(request)
    path = request.url_for("admin_maintenance_list").path
    return RedirectResponse(f"{path}?done=deleted", status_code=303)


routes: list[BaseRoute] = [
    Route("/maintenance", maintenance_list, name="admin_maintenance_list"),
    Route(
        "/maintenance/new",
        new_maintenance,
        methods=["GET", "POST"],
        name="admin_maintenance_new",
    ),
    Route("/maintenance/{maintenance_id:int}", maintenance_detail, name="admin_maintenance"),
    Route(
        "/maintenance/{maintenance_id:int}/edit",
        edit_maintenance,
        methods=["GET", "POST"],
        name="admin_maintenance_edit",
    ),
    Route(
        "/maintenance/{maintenance_id:int}/updates",
        post_update,
        methods=["POST"],
        name="admin_maintenance_updates",
    ),
    Route(
        "/maintenance/{maintenance_id:int}/delete",
        delete_maintenance,
        methods=["POST"],
        name="admin_maintenance_delete",
    ),
    Route(
        "/maintenance/windows/{window_id:int}/end",
        end_window,
        methods=["POST"],
        name="admin_maintenance_window_end",
    ),
    Route(
        "/maintenance/windows/{window_id:int}/extend",
        extend_window,
        methods=["POST"],
        name="admin_maintenance_window_extend",
    ),
    Route(
        "/maintenance/windows/{window_id:int}/cancel",
        cancel_window,
        methods=["POST"],
        name="admin_maintenance_window_cancel",
    ),
]
