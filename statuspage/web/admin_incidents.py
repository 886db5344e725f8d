"""Admin pages for incidents: list, create, post updates, edit, postmortem, delete, restore.

Every page needs an operator session and every form a CSRF token. A form with errors comes
back with status 400, the messages next to their fields and everything the operator typed.
After each write the public snapshot is rebuilt, so visitors see the change at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from statuspage import incident_store
from statuspage.incident_forms import (
    FORM_COMPONENT_STATES,
    Errors,
    FieldError,
    TimeRules,
    validate_changes,
    validate_new_incident,
    validate_postmortem,
    validate_update,
)
from statuspage.incidents import Impact, Incident, IncidentStatus
from statuspage.markdown import render_markdown
from statuspage.web.auth import csrf_token, operator_required, verified_form
from statuspage.web.context import AppContext

logger = logging.getLogger(__name__)

# Messages shown after a redirect, chosen by the `done` query parameter. Only these keys are
# shown, so the parameter cannot put arbitrary text on the page.
DONE_KEYS = frozenset(
    {"created", "update_posted", "saved", "postmortem_saved", "deleted", "restored"}
)
# Form values of the component selects, in the order the form lists them.
COMPONENT_STATE_VALUES = tuple(FORM_COMPONENT_STATES)


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _render(
    request: Request, template: str, values: Mapping[str, Any], status_code: int = 200
) -> Response:
    context = _context(request)
    page = {
        "csrf_token": csrf_token(request),
        "operator": request.state.operator,
        "components": context.config.components,
        "impacts": list(Impact),
        "statuses": list(IncidentStatus),
        "component_states": COMPONENT_STATE_VALUES,
        "zone": context.config.site.timezone,
        "markdown": render_markdown,
        **values,
    }
    return context.templates.TemplateResponse(request, template, page, status_code=status_code)


def _redirect(request: Request, route: str, done: str, **params: Any) -> Response:
    path = request.url_for(route, **params).path
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _time_rules(request: Request) -> TimeRules:
    return TimeRules(
        zone=_context(request).config.site.timezone,
        now=datetime.now(UTC),
        local_allowed=True,
    )


def _component_ids(request: Request) -> list[str]:
    return [component.id for component in _context(request).config.components]


def _component_fields(form: FormData, component_ids: list[str]) -> dict[str, str]:
    """Read the `components.<id>` selects. A component missing from the form is not affected."""
    fields = {}
    for component_id in component_ids:
        value = form.get(f"components.{component_id}")
        fields[component_id] = value if isinstance(value, str) else "operational"
    return fields


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _refresh(request: Request) -> None:
    await _context(request).monitor.refresh_snapshot()


async def _incident(request: Request) -> Incident:
    """Load the incident named in the path, even a deleted one, or raise 404."""
    context = _context(request)
    incident_id: int = request.path_params["incident_id"]
    incident = await context.store.call(
        incident_store.get_incident, context.store.db, incident_id, include_deleted=True
    )
    if incident is None:
        raise HTTPException(404, f"Incident {incident_id} not found.")
    return incident


def _component_values(incident: Incident) -> dict[str, str]:
    return {component_id: impact.value for component_id, impact in incident.components.items()}


# List


@operator_required
async def incident_list(request: Request) -> Response:
    context = _context(request)
    incidents = await context.store.call(
        incident_store.list_incidents, context.store.db, include_deleted=True
    )
    return _render(
        request, "admin/incidents.html", {"incidents": incidents, "done": _done(request)}
    )


def _done(request: Request) -> str | None:
    done = request.query_params.get("done")
    return done if done in DONE_KEYS else None


# New incident


@operator_required
async def new_incident(request: Request) -> Response:
    if request.method == "GET":
        values = {
            "title": "",
            "impact": Impact.MINOR.value,
            "status": IncidentStatus.INVESTIGATING.value,
            "body": "",
            "display_at": "",
            "components": {},
        }
        return _render(
            request,
            "admin/incident_form.html",
            {"incident": None, "values": values, "errors": {}},
        )

    form = await verified_form(request)
    component_ids = _component_ids(request)
    values = {
        "title": _form_text(form, "title"),
        "impact": _form_text(form, "impact"),
        "status": _form_text(form, "status"),
        "body": _form_text(form, "body"),
        "display_at": _form_text(form, "display_at"),
        "components": _component_fields(form, component_ids),
    }
    draft, errors = validate_new_incident(
        title=values["title"],
        impact=values["impact"],
        components=values["components"],
        status=values["status"],
        body=values["body"],
        display_at=values["display_at"],
        component_ids=component_ids,
        states=FORM_COMPONENT_STATES,
        rules=_time_rules(request),
    )
    if draft is None:
        return _render(
            request,
            "admin/incident_form.html",
            {"incident": None, "values": values, "errors": errors},
            status_code=400,
        )

    context = _context(request)
    incident_id = await context.store.call(
        incident_store.create_incident,
        context.store.db,
        title=draft.title,
        impact=draft.impact,
        components=draft.components,
        status=draft.status,
        body=draft.body,
        display_at=draft.display_at,
        created_by=request.state.operator,
    )
    await _refresh(request)
    return _redirect(request, "admin_incident", "created", incident_id=incident_id)


# One incident, its update form and its postmortem form


@operator_required
async def incident_detail(request: Request) -> Response:
    incident = await _incident(request)
    return _detail(request, incident, done=_done(request))


def _detail(
    request: Request,
    incident: Incident,
    *,
    status_code: int = 200,
    done: str | None = None,
    update_values: Mapping[str, str] | None = None,
    update_errors: Errors | None = None,
    update_notice: FieldError | None = None,
    postmortem_value: str | None = None,
    postmortem_errors: Errors | None = None,
    delete_errors: Errors | None = None,
) -> Response:
    """Render the incident page. Submitted values come back in their form.

    A form that was submitted is shown again even when the incident's state no longer offers
    it (deleted, or reopened before the postmortem was saved), so the typed text is not lost.
    """
    live = incident.deleted_at is None
    resolved = incident.status is IncidentStatus.RESOLVED
    show_update_form = live or update_values is not None
    show_postmortem_form = (live and resolved) or postmortem_value is not None
    if update_values is None:
        update_values = {"status": incident.status.value, "body": "", "display_at": ""}
    if postmortem_value is None:
        postmortem_value = incident.postmortem or ""
    return _render(
        request,
        "admin/incident.html",
        {
            "incident": incident,
            "done": done,
            "show_update_form": show_update_form,
            "update_values": update_values,
            "update_errors": update_errors or {},
            "update_notice": update_notice,
            "show_postmortem_form": show_postmortem_form,
            "postmortem_value": postmortem_value,
            "postmortem_errors": postmortem_errors or {},
            "delete_errors": delete_errors or {},
        },
        status_code=status_code,
    )


def _deleted_error(request: Request, incident: Incident, kept_text: bool = False) -> FieldError:
    logger.info(
        "%s %s by %s rejected: incident %d is deleted",
        request.method,
        request.url.path,
        request.state.operator,
        incident.id,
    )
    if kept_text:
        return FieldError(
            "Incident %(id)s is deleted. Restore it before changing it. "
            "The text below is not saved yet.",
            {"id": str(incident.id)},
        )
    return FieldError(
        "Incident %(id)s is deleted. Restore it before changing it.", {"id": str(incident.id)}
    )


async def _reload(request: Request, incident: Incident) -> Incident:
    """Return the incident as stored now, after a write that its state rejected."""
    context = _context(request)
    current = await context.store.call(
        incident_store.get_incident, context.store.db, incident.id, include_deleted=True
    )
    return current if current is not None else incident


@operator_required
async def post_update(request: Request) -> Response:
    incident = await _incident(request)
    form = await verified_form(request)
    values = {
        "status": _form_text(form, "status"),
        "body": _form_text(form, "body"),
        "display_at": _form_text(form, "display_at"),
    }
    update, errors = validate_update(
        status=values["status"],
        body=values["body"],
        display_at=values["display_at"],
        rules=_time_rules(request),
    )
    if update is None:
        return _detail(
            request, incident, status_code=400, update_values=values, update_errors=errors
        )

    context = _context(request)
    try:
        await context.store.call(
            incident_store.add_update,
            context.store.db,
            incident.id,
            status=update.status,
            body=update.body,
            display_at=update.display_at,
            created_by=request.state.operator,
        )
    except incident_store.IncidentDeleted:
        return _detail(
            request,
            await _reload(request, incident),
            status_code=409,
            update_values=values,
            update_notice=_deleted_error(request, incident, kept_text=True),
        )
    await _refresh(request)
    return _redirect(request, "admin_incident", "update_posted", incident_id=incident.id)


@operator_required
async def save_postmortem(request: Request) -> Response:
    incident = await _incident(request)
    form = await verified_form(request)
    raw = _form_text(form, "postmortem")
    postmortem, errors = validate_postmortem(raw)
    if errors:
        return _detail(
            request, incident, status_code=400, postmortem_value=raw, postmortem_errors=errors
        )

    context = _context(request)
    try:
        await context.store.call(
            incident_store.set_postmortem, context.store.db, incident.id, postmortem
        )
    except incident_store.IncidentNotResolved:
        logger.info(
            "postmortem for incident %d by %s rejected: the incident is not resolved",
            incident.id,
            request.state.operator,
        )
        errors = {
            "postmortem": FieldError(
                "Resolve the incident before writing its postmortem. "
                "The text below is not saved yet."
            )
        }
        return _detail(
            request,
            await _reload(request, incident),
            status_code=400,
            postmortem_value=raw,
            postmortem_errors=errors,
        )
    except incident_store.IncidentDeleted:
        errors = {"postmortem": _deleted_error(request, incident, kept_text=True)}
        return _detail(
            request,
            await _reload(request, incident),
            status_code=409,
            postmortem_value=raw,
            postmortem_errors=errors,
        )
    await _refresh(request)
    return _redirect(request, "admin_incident", "postmortem_saved", incident_id=incident.id)


# Edit


@operator_required
async def edit_incident(request: Request) -> Response:
    incident = await _incident(request)
    if request.method == "GET":
        values = {
            "title": incident.title,
            "impact": incident.impact.value,
            "components": _component_values(incident),
        }
        return _render(
            request,
            "admin/incident_form.html",
            {"incident": incident, "values": values, "errors": {}},
        )

    form = await verified_form(request)
    component_ids = _component_ids(request)
    values = {
        "title": _form_text(form, "title"),
        "impact": _form_text(form, "impact"),
        "components": _component_fields(form, component_ids),
    }
    changes, errors = validate_changes(
        title=values["title"],
        impact=values["impact"],
        components=values["components"],
        component_ids=component_ids,
        states=FORM_COMPONENT_STATES,
    )
    if changes is None:
        return _render(
            request,
            "admin/incident_form.html",
            {"incident": incident, "values": values, "errors": errors},
            status_code=400,
        )

    context = _context(request)
    try:
        await context.store.call(
            incident_store.change_incident,
            context.store.db,
            incident.id,
            title=changes.title,
            impact=changes.impact,
            components=changes.components,
        )
    except incident_store.IncidentDeleted:
        return _render(
            request,
            "admin/incident_form.html",
            {
                "incident": incident,
                "values": values,
                "errors": {"title": _deleted_error(request, incident)},
            },
            status_code=409,
        )
    await _refresh(request)
    return _redirect(request, "admin_incident", "saved", incident_id=incident.id)


# Delete and restore


@operator_required
async def delete_incident(request: Request) -> Response:
    incident = await _incident(request)
    form = await verified_form(request)
    if form.get("confirm") != "yes":
        errors = {
            "confirm": FieldError(
                "Tick the box to confirm that incident %(id)s should be deleted.",
                {"id": str(incident.id)},
            )
        }
        return _detail(request, incident, status_code=400, delete_errors=errors)

    context = _context(request)
    await context.store.call(incident_store.delete_incident, context.store.db, incident.id)
    await _refresh(request)
    return _redirect(request, "admin_incident", "deleted", incident_id=incident.id)


@operator_required
async def restore_incident(request: Request) -> Response:
    incident = await _incident(request)
    await verified_form(request)
    context = _context(request)
    await context.store.call(incident_store.restore_incident, context.store.db, incident.id)
    await _refresh(request)
    return _redirect(request, "admin_incident", "restored", incident_id=incident.id)


routes: list[BaseRoute] = [
    Route("/incidents", incident_list, name="admin_incidents"),
    Route("/incidents/new", new_incident, methods=["GET", "POST"], name="admin_incident_new"),
    Route("/incidents/{incident_id:int}", incident_detail, name="admin_incident"),
    Route(
        "/incidents/{incident_id:int}/updates",
        post_update,
        methods=["POST"],
        name="admin_incident_updates",
    ),
    Route(
        "/incidents/{incident_id:int}/edit",
        edit_incident,
        methods=["GET", "POST"],
        name="admin_incident_edit",
    ),
    Route(
        "/incidents/{incident_id:int}/postmortem",
        save_postmortem,
        methods=["POST"],
        name="admin_incident_postmortem",
    ),
    Route(
        "/incidents/{incident_id:int}/delete",
        delete_incident,
        methods=["POST"],
        name="admin_incident_delete",
    ),
    Route(
        "/incidents/{incident_id:int}/restore",
        restore_incident,
        methods=["POST"],
        name="admin_incident_restore",
    ),
]
