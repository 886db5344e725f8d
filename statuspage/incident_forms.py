"""Validation of incident input, shared by the admin forms and the write API.

Each `validate_*` function takes raw values (strings from a form, any JSON value from the API)
and returns either clean values or errors keyed by field name: `title`, `impact`, `status`,
`body`, `display_at`, `postmortem`, `components` and `components.<component id>`. The admin
templates show each error next to its field, and the API renames the field to its JSON path.

Messages are English templates with `%(name)s` placeholders, so the admin templates can pass
them through gettext before filling in the values. A message catalogue extractor finds them
with the keywords `InvalidField` and `FieldError`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from statuspage.incidents import ComponentImpact, Impact, IncidentStatus

T = TypeVar("T")

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 20_000
MAX_POSTMORTEM_LENGTH = 50_000
MAX_SHOWN_LENGTH = 60  # characters of a rejected value quoted in a message
# An operator's clock and the server's may differ a little. A time further ahead than this is a
# typo, such as a wrong day or hour.
MAX_FUTURE = timedelta(minutes=5)
# No status data predates the Unix epoch, and the public history starts at 1970-01. Earlier
# times also overflow datetime arithmetic near year 1 in time zones west of UTC.
EARLIEST_DISPLAY_AT = datetime(1970, 1, 1, tzinfo=UTC)
# Unicode categories that break a title over lines or hide characters: control characters
# (C0, DEL and C1, NEL U+0085 among them), the line separator U+2028 and the paragraph
# separator U+2029.
TITLE_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})

# Component states as the admin form's select sends them. "operational" means not affected.
FORM_COMPONENT_STATES: Mapping[str, ComponentImpact | None] = {
    "operational": None,
    "degraded": ComponentImpact.DEGRADED,
    "partial_outage": ComponentImpact.PARTIAL_OUTAGE,
    "major_outage": ComponentImpact.MAJOR_OUTAGE,
}
# The same states in the names of Atlassian Statuspage's API.
API_COMPONENT_STATES: Mapping[str, ComponentImpact | None] = {
    "operational": None,
    "degraded_performance": ComponentImpact.DEGRADED,
    "partial_outage": ComponentImpact.PARTIAL_OUTAGE,
    "major_outage": ComponentImpact.MAJOR_OUTAGE,
}


@dataclass(frozen=True)
class FieldError:
    """A message about one field: an English template and the values to fill into it."""

    message: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


Errors = dict[str, FieldError]


class InvalidField(ValueError):
    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message)
        self.error = FieldError(message, params)


@dataclass(frozen=True)
class NewIncident:
    title: str
    impact: Impact
    components: dict[str, ComponentImpact]
    status: IncidentStatus
    body: str
    display_at: datetime  # UTC


@dataclass(frozen=True)
class NewUpdate:
    status: IncidentStatus
    body: str
    display_at: datetime  # UTC


@dataclass(frozen=True)
class IncidentChanges:
    title: str
    impact: Impact
    components: dict[str, ComponentImpact]


@dataclass(frozen=True)
class TimeRules:
    """Rules for reading `display_at` values: the site's zone for local times, and the time now."""

    zone: ZoneInfo
    now: datetime
    # The admin form's datetime-local input sends a time without offset, meant in the site's
    # time zone. API clients must send an offset.
    local_allowed: bool


def _text(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidField("Expected text, got %(value)s.", value=type(raw).__name__)
    return raw


def parse_title(raw: object) -> str:
    title = _text(raw).strip()
    if not title:
        raise InvalidField("Enter a title.")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidField(
            "The title has %(length)s characters. Shorten it to %(max)s.",
            length=str(len(title)),
            max=str(MAX_TITLE_LENGTH),
        )
    problem = title_character_problem(title)
    if problem is not None:
        raise InvalidField(
            "The title contains %(character)s. It must be one line without control characters.",
            character=problem,
        )
    return title


def title_character_problem(title: str) -> str | None:
    """Name the first character a title may not contain, such as "U+2028 at position 4"."""
    for position, character in enumerate(title, start=1):
        if unicodedata.category(character) in TITLE_FORBIDDEN_CATEGORIES:
            return f"U+{ord(character):04X} at position {position}"
    return None


def parse_impact(raw: object) -> Impact:
    value = _text(raw).strip()
    if not value:
        raise InvalidField("Choose an impact: %(allowed)s.", allowed=_names(Impact))
    try:
        return Impact(value)
    except ValueError:
        raise InvalidField(
            "Impact %(value)s is not one of %(allowed)s.",
            value=_shown(value),
            allowed=_names(Impact),
        ) from None


def parse_status(raw: object) -> IncidentStatus:
    value = _text(raw).strip()
    if not value:
        raise InvalidField("Choose a status: %(allowed)s.", allowed=_names(IncidentStatus))
    try:
        return IncidentStatus(value)
    except ValueError:
        raise InvalidField(
            "Status %(value)s is not one of %(allowed)s.",
            value=_shown(value),
            allowed=_names(IncidentStatus),
        ) from None


def parse_body(raw: object) -> str:
    # Browsers submit textarea line breaks as CRLF, so they are stored as LF.
    body = _text(raw).replace("\r\n", "\n").strip()
    if not body:
        raise InvalidField("Enter a message describing the incident's state.")
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidField(
            "The message has %(length)s characters. Shorten it to %(max)s.",
            length=str(len(body)),
            max=str(MAX_BODY_LENGTH),
        )
    return body


def parse_postmortem(raw: object) -> str | None:
    """Return the postmortem's Markdown source, or None when it is empty (which removes it)."""
    text = _text(raw).replace("\r\n", "\n").strip()
    if len(text) > MAX_POSTMORTEM_LENGTH:
        raise InvalidField(
            "The postmortem has %(length)s characters. Shorten it to %(max)s.",
            length=str(len(text)),
            max=str(MAX_POSTMORTEM_LENGTH),
        )
    return text or None


def parse_display_at(raw: object, rules: TimeRules) -> datetime:
    """Parse a display time into UTC. An empty value means now."""
    text = _text(raw).strip()
    if not text:
        return rules.now.astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        example = "2026-12-04T12:00" if rules.local_allowed else "2026-12-04T12:00:00+09:00"
        raise InvalidField(
            "%(value)s is not a valid date and time. Use ISO 8601, for example %(example)s.",
            value=_shown(text),
            example=example,
        ) from None

    if moment.tzinfo is None:
        if not rules.local_allowed:
            raise InvalidField(
                "%(value)s has no UTC offset. Add one, for example %(value)s+09:00 or %(value)sZ.",
                value=text,
            )
        moment = _localize(moment, rules.zone)

    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        # A time within a day of year 1 or year 9999 has no UTC equivalent that datetime holds.
        raise _out_of_range(text) from None
    if moment < EARLIEST_DISPLAY_AT:
        raise _out_of_range(text)
    if moment > rules.now + MAX_FUTURE:
        raise InvalidField(
            "%(value)s is in the future. Enter a time up to now, or leave the field empty for now.",
            value=text,
        )
    return moment


def _out_of_range(text: str) -> InvalidField:
    return InvalidField(
        "%(value)s is outside the allowed range. Enter a time from %(earliest)s up to now.",
        value=text,
        earliest=EARLIEST_DISPLAY_AT.strftime("%Y-%m-%dT%H:%MZ"),
    )


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    # A wall-clock time in a daylight saving gap never happened, and zoneinfo would silently
    # shift it by an hour, so it is rejected. In a repeated hour the first one (fold=0) is taken.
    local = naive.replace(tzinfo=zone)
    try:
        round_trip = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise _out_of_range(naive.isoformat(timespec="minutes")) from None
    if round_trip != naive:
        raise InvalidField(
            "%(value)s does not exist in %(zone)s because the clocks changed. Pick another time.",
            value=naive.isoformat(timespec="minutes"),
            zone=zone.key,
        )
    return local


def parse_components(
    raw: object, component_ids: Iterable[str], states: Mapping[str, ComponentImpact | None]
) -> tuple[dict[str, ComponentImpact], Errors]:
    """Map component ids to their declared impact. Components left operational are omitted."""
    errors: Errors = {}
    if raw is None:
        return {}, errors
    if not isinstance(raw, Mapping):
        errors["components"] = FieldError(
            "Expected an object mapping component ids to states, got %(value)s.",
            {"value": type(raw).__name__},
        )
        return {}, errors

    known = list(component_ids)
    components: dict[str, ComponentImpact] = {}
    for component_id, state in raw.items():
        key = f"components.{component_id}"
        if component_id not in known:
            errors[key] = FieldError(
                "Unknown component %(value)s. The components are %(allowed)s.",
                {"value": _shown(component_id), "allowed": ", ".join(known)},
            )
            continue
        if not isinstance(state, str) or state not in states:
            errors[key] = FieldError(
                "State %(value)s is not one of %(allowed)s.",
                {"value": _shown(state), "allowed": ", ".join(states)},
            )
            continue
        impact = states[state]
        if impact is not None:
            components[component_id] = impact
    return components, errors


def validate_new_incident(
    *,
    title: object,
    impact: object,
    components: object,
    status: object,
    body: object,
    display_at: object,
    component_ids: Iterable[str],
    states: Mapping[str, ComponentImpact | None],
    rules: TimeRules,
) -> tuple[NewIncident | None, Errors]:
    changes, errors = validate_changes(
        title=title,
        impact=impact,
        components=components,
        component_ids=component_ids,
        states=states,
    )
    update, update_errors = validate_update(
        status=status, body=body, display_at=display_at, rules=rules
    )
    errors.update(update_errors)
    if changes is None or update is None:
        return None, errors
    incident = NewIncident(
        title=changes.title,
        impact=changes.impact,
        components=changes.components,
        status=update.status,
        body=update.body,
        display_at=update.display_at,
    )
    return incident, errors


def validate_update(
    *, status: object, body: object, display_at: object, rules: TimeRules
) -> tuple[NewUpdate | None, Errors]:
    errors: Errors = {}
    parsed_status = _field(errors, "status", parse_status, status)
    parsed_body = _field(errors, "body", parse_body, body)
    parsed_display_at = _field(
        errors, "display_at", lambda raw: parse_display_at(raw, rules), display_at
    )
    if parsed_status is None or parsed_body is None or parsed_display_at is None:
        return None, errors
    return NewUpdate(parsed_status, parsed_body, parsed_display_at), errors


def validate_changes(
    *,
    title: object,
    impact: object,
    components: object,
    component_ids: Iterable[str],
    states: Mapping[str, ComponentImpact | None],
) -> tuple[IncidentChanges | None, Errors]:
    errors: Errors = {}
    parsed_title = _field(errors, "title", parse_title, title)
    parsed_impact = _field(errors, "impact", parse_impact, impact)
    parsed_components, component_errors = parse_components(components, component_ids, states)
    errors.update(component_errors)
    if parsed_title is None or parsed_impact is None or component_errors:
        return None, errors
    return IncidentChanges(parsed_title, parsed_impact, parsed_components), errors


def validate_postmortem(raw: object) -> tuple[str | None, Errors]:
    try:
        return parse_postmortem(raw), {}
    except InvalidField as error:
        return None, {"postmortem": error.error}


def _field(errors: Errors, name: str, parse: Callable[[object], T], raw: object) -> T | None:
    """Parse one field, recording its error under `name` instead of raising."""
    try:
        return parse(raw)
    except InvalidField as error:
        errors[name] = error.error
        return None


def _shown(value: object) -> str:
    """Quote a rejected value for a message, cut to a length that fits on one line."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_LENGTH else text[: MAX_SHOWN_LENGTH - 1] + "…"


def _names(values: Iterable[object]) -> str:
    return ", ".join(str(value) for value in values)
