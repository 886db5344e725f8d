"""Maintenance: planned windows, one-off or recurring, in an IANA time zone.

A one-off maintenance has one window, entered as local start and end date-times in its zone.
A recurring maintenance has a cron expression of start times (one minute and one hour, for
example `0 3 * * SUN`) and a local end time "HH:MM". Its windows are materialized as rows for
the next `HORIZON`; each window then has its own lifecycle (`MaintenanceWindow.status`).

Time rules. Every window is computed in local wall-clock time with zoneinfo and only then
converted to UTC, so a 03:00-03:10 window is 03:00-03:10 local on every date, whatever the
UTC offset that day. The end is on the start's date, or on the next date when the end time is
not after the start time. Equal times mean 24 hours of local time, which is 23 or 25 real hours
on the days the clocks change. On those days:

- A local time that does not exist (the spring-forward gap) becomes the first valid local time
  after it, which is the moment of the change. This holds for starts and ends, so a 02:00-03:00
  window in Europe/Berlin on the spring-forward day becomes 03:00-03:00 and is skipped because
  it is empty, and a 01:30-02:30 window becomes 01:30-03:00 local, 30 real minutes. cron does
  the same with starts, and the recurring schedule is expanded with cronsim, which follows it.
- A local time that happens twice (the fall-back repeat) starts a window at its first
  occurrence and ends a window at its last occurrence. The window is therefore the shortest
  span that covers every moment the local clock shows a time between start and end: a
  02:00-03:00 window in Europe/Berlin on the fall-back day lasts from the first 02:00 to the 03:00
  after the repeat, two real hours. A start in the repeated hour runs once, as in cron.
- One-off windows are entered as exact local date-times, so a start or end inside a gap is
  rejected with the moment the clocks change, instead of being moved silently. A one-off time
  in the repeated hour follows the rule above. API clients send UTC offsets, which are exact.
"""

from __future__ import annotations

import enum
import functools
import re
import zoneinfo
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from statuspage.incident_forms import title_character_problem

HORIZON = timedelta(days=90)  # how far ahead recurring windows are materialized
# A one-off start may lie this far in the past, so an operator can post a window that has
# just started. Older starts are almost always a wrong date.
PAST_START_MARGIN = timedelta(minutes=15)
TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 20_000  # characters of Markdown in a description or an update
# A window, extensions included, lasts at most this long. Longer work is several windows.
MAX_WINDOW_LENGTH = timedelta(days=7)
MAX_EXTENSION_MINUTES = int(MAX_WINDOW_LENGTH.total_seconds() // 60)
# Validation keeps every time of a window or an update in [EARLIEST_TIME, LATEST_TIME). No
# status data predates the Unix epoch, and within these bounds the local time in any zone stays
# within datetime's years 1 to 9999, so formatting a validated time cannot overflow.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9000, 1, 1, tzinfo=UTC)
MAX_SHOWN_LENGTH = 60  # characters of a rejected value quoted in a message
_TIME_LABELS = {"starts_at": "Start", "ends_at": "End", "display_at": "Display time"}
CRON_EXAMPLE = "0 3 * * SUN"
LOCAL_DATETIME_EXAMPLE = "2026-12-06T03:00"

_FIXED_OFFSET_ZONE = re.compile(r"^(?:Etc/)?GMT[+-]\d+$|^(?:EST|MST|HST)$")
_UTC_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*[+-]\d{1,2}(?::?\d{2})?$", re.IGNORECASE)
_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_CRON_NUMBER = re.compile(r"^\d{1,2}$")
# ASCII digits only: str.isdigit() also accepts characters such as "²" that int() rejects.
_MINUTES = re.compile(r"[0-9]{1,9}")


class WindowStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Maintenance:
    """A maintenance as the operator defined it; its windows are materialized separately."""

    id: int
    title: str
    description: str  # Markdown source
    timezone: str  # IANA name
    components: tuple[str, ...]
    schedule: str | None = None  # cron expression of start times, recurring only
    start_time: str | None = None  # local "HH:MM", recurring only
    end_time: str | None = None  # local "HH:MM", recurring only
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def recurring(self) -> bool:
        return self.schedule is not None


@dataclass(frozen=True)
class MaintenanceWindow:
    """One occurrence of a maintenance, with its own lifecycle."""

    id: int
    maintenance_id: int
    title: str
    components: tuple[str, ...]
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC; later than planned when extended
    ended_at: datetime | None = None  # UTC, when the operator ended it early
    cancelled_at: datetime | None = None
    # UTC whole seconds: the last stored change to the window, or to its maintenance while the
    # window was not over. Each change moves it at least one second past the one before.
    revised_at: datetime | None = None

    def status(self, now: datetime) -> WindowStatus:
        if self.cancelled_at is not None:
            return WindowStatus.CANCELLED
        if self.ended_at is not None and self.ended_at <= now:
            return WindowStatus.COMPLETED
        if now < self.starts_at:
            return WindowStatus.SCHEDULED
        if now < self.ends_at:
            return WindowStatus.IN_PROGRESS
        return WindowStatus.COMPLETED

    @property
    def effective_end(self) -> datetime:
        """When the window really ends: early end, or the planned (possibly extended) end."""
        if self.ended_at is not None and self.ended_at < self.ends_at:
            return self.ended_at
        return self.ends_at


@dataclass(frozen=True)
class MaintenanceUpdate:
    """A note posted on a maintenance, shown on its timeline."""

    id: int
    maintenance_id: int
    body: str  # Markdown source
    display_at: datetime  # UTC
    created_at: datetime  # UTC
    created_by: str  # operator name or "api key NAME"
    window_id: int | None = None


@dataclass(frozen=True)
class MaintenanceSpec:
    """Validated input for creating or editing a maintenance."""

    title: str
    description: str
    timezone: str
    components: tuple[str, ...]
    starts_at: datetime | None = None  # UTC, one-off only
    ends_at: datetime | None = None  # UTC, one-off only
    schedule: str | None = None
    start_time: str | None = None  # "HH:MM", the cron expression's time of day
    end_time: str | None = None

    @property
    def recurring(self) -> bool:
        return self.schedule is not None


@dataclass(frozen=True)
class MaintenanceInput:
    """A maintenance as submitted, before validation.

    A form sends `starts_at` and `ends_at` as local "YYYY-MM-DDTHH:MM" text in `timezone`; the
    API sends aware datetimes, which are exact and are only checked.
    """

    title: str
    timezone: str
    components: Sequence[str] = ()
    description: str = ""
    recurring: bool = False
    starts_at: str | datetime = ""
    ends_at: str | datetime = ""
    schedule: str = ""
    end_time: str = ""
    body: str = ""  # the optional first update, checked only for its length


@dataclass(frozen=True)
class FieldMessage:
    """A message about one field: an English template with %(name)s placeholders, and values.

    Templates translate the template and then fill in the values; `str()` gives the English.
    """

    message: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


class ValidationError(Exception):
    """Invalid maintenance input; `errors` maps each field name to a message."""

    def __init__(self, errors: dict[str, FieldMessage]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


class MaintenanceError(Exception):
    """A change the current state does not allow, such as ending a completed window."""

    def __init__(self, field: str, message: str, **params: str) -> None:
        self.error = FieldMessage(message, params)
        super().__init__(str(self.error))
        self.field = field


class MaintenanceNotFound(LookupError):
    pass


# Local time


def local_instant(wall: datetime, zone: ZoneInfo, fold: int) -> datetime:
    """Convert a naive local wall-clock time to UTC under this module's time rules.

    `fold=0` takes the first occurrence of a repeated time (for starts), `fold=1` the last
    (for ends). A time in a spring-forward gap becomes the moment the clocks change.
    """
    aware = wall.replace(tzinfo=zone, fold=fold)
    if _exists(wall, zone):
        return aware.astimezone(UTC)
    return _gap_end(wall, zone)


def nonexistent_gap(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """Return the local wall-clock times where a gap containing `wall` starts and ends."""
    if _exists(wall, zone):
        return None
    change = _gap_end(wall, zone)
    before = change - timedelta(seconds=1)
    offset_before = before.astimezone(zone).utcoffset()
    assert offset_before is not None
    gap_start = (change + offset_before).replace(tzinfo=None)
    gap_end = change.astimezone(zone).replace(tzinfo=None)
    return gap_start, gap_end


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """Find, in UTC, the clock change that skips over the nonexistent local time `wall`.

    PEP 495 maps a gap time with fold=1 to UTC using the offset after the change and with
    fold=0 using the offset before it; the change lies between those two instants, so a
    binary search over whole seconds finds it.
    """
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if low > high:
        low, high = high, low
    offset_after = high.astimezone(zone).utcoffset()
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high


def window_bounds(
    day: date, start: time, end: time, zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """Return the UTC start and end of a window starting at `start` local time on `day`.

    The end is on `day`, or on the next day when `end` is not after `start`. Returns None
    when the window is empty, which happens only when the clocks skip over all of it.
    """
    end_day = day if end > start else day + timedelta(days=1)
    starts_at = local_instant(datetime.combine(day, start), zone, fold=0)
    ends_at = local_instant(datetime.combine(end_day, end), zone, fold=1)
    if ends_at <= starts_at:
        return None
    return starts_at, ends_at


def recurring_windows(
    schedule: str, end_time: str, zone: ZoneInfo, after: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """Expand a cron schedule into UTC windows whose start is after `after`, up to `until`.

    cronsim yields each start as a local time in `zone`, moved out of a spring-forward gap and
    at the first occurrence of a repeated hour. The end is computed from that start's date.
    """
    start_clock = cron_start_time(schedule)
    end_clock = parse_clock_time(end_time)
    windows = []
    for occurrence in CronSim(schedule, after.astimezone(zone)):
        if occurrence.astimezone(UTC) > until:
            break
        bounds = window_bounds(occurrence.date(), start_clock, end_clock, zone)
        if bounds is not None and bounds[0] > after:
            windows.append(bounds)
    return windows


def cron_start_time(schedule: str) -> time:
    """Return the single local time of day at which a validated cron schedule starts."""
    fields = schedule.split()
    return time(int(fields[1]), int(fields[0]))


def parse_clock_time(text: str) -> time:
    match = _CLOCK_TIME.match(text.strip())
    if match is None:
        raise ValueError(text)
    return time(int(match[1]), int(match[2]))


def format_clock_time(moment: time) -> str:
    return moment.strftime("%H:%M")


def format_local(moment: datetime, zone: ZoneInfo) -> str:
    """Format a UTC instant as local time with its abbreviation, e.g. 2026-12-06 03:00 JST.

    An instant whose local time is outside datetime's range, which validation keeps out of the
    database, is formatted in UTC instead, so a page that shows it still renders.
    """
    try:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    except OverflowError:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@functools.cache
def _iana_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_names() -> list[str]:
    """Return the IANA names operators may choose, sorted, without fixed-offset zones."""
    return sorted(name for name in _iana_names() if timezone_error(name) is None)


def timezone_error(name: str) -> FieldMessage | None:
    """Return why `name` is not an acceptable time zone, or None when it is."""
    if not name:
        return FieldMessage("Time zone is required: use an IANA name such as Asia/Tokyo.")
    if _UTC_OFFSET.match(name) or _FIXED_OFFSET_ZONE.match(name):
        return FieldMessage(
            "'%(value)s' is a fixed UTC offset, which ignores daylight saving time: "
            "use an IANA name such as Asia/Tokyo or Europe/Berlin.",
            {"value": _shown(name)},
        )
    if name == "localtime" or name not in _iana_names():
        return FieldMessage(
            "'%(value)s' is not an IANA time zone name: use a name such as Asia/Tokyo or "
            "Europe/Berlin (Area/City, capitalized as written).",
            {"value": _shown(name)},
        )
    return None


# Validation


def validate_maintenance(
    data: MaintenanceInput,
    component_ids: Collection[str],
    now: datetime,
    current_start: datetime | None = None,
) -> MaintenanceSpec:
    """Check submitted input and return the spec to store; raises ValidationError.

    `current_start` is the stored start of a one-off being edited: keeping it unchanged is
    allowed even after the start has passed.
    """
    errors: dict[str, FieldMessage] = {}
    title = data.title.strip()
    title_problem = title_character_problem(title)
    if not title:
        errors["title"] = FieldMessage(
            'Title is required: describe the work, for example "Database upgrade".'
        )
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = FieldMessage(
            "Title is %(length)s characters long: shorten it to at most %(max)s.",
            {"length": str(len(title)), "max": str(TITLE_MAX_LENGTH)},
        )
    elif title_problem is not None:
        errors["title"] = FieldMessage(
            "Title contains %(character)s: it must be one line without control characters.",
            {"character": title_problem},
        )

    description = data.description.strip()
    if len(description) > TEXT_MAX_LENGTH:
        errors["description"] = _too_long("Description", description)
    body = data.body.strip()
    if len(body) > TEXT_MAX_LENGTH:
        errors["body"] = _too_long("First update", body)

    timezone = data.timezone.strip()
    zone_problem = timezone_error(timezone)
    if zone_problem is not None:
        errors["timezone"] = zone_problem
    zone = ZoneInfo(timezone) if zone_problem is None else None

    components = tuple(dict.fromkeys(c.strip() for c in data.components if c.strip()))
    unknown = [c for c in components if c not in component_ids]
    if unknown:
        errors["components"] = FieldMessage(
            "Unknown component %(value)s: choose from %(known)s.",
            {"value": _shown(", ".join(unknown)), "known": ", ".join(component_ids)},
        )

    spec = MaintenanceSpec(
        title=title,
        description=description,
        timezone=timezone,
        components=components,
    )
    if data.recurring:
        recurrence = _validate_recurring(data, zone, now, errors)
        if recurrence is not None:
            schedule, start_time, end_time = recurrence
            spec = replace(spec, schedule=schedule, start_time=start_time, end_time=end_time)
    else:
        span = _validate_one_off(data, zone, now, current_start, errors)
        if span is not None:
            spec = replace(spec, starts_at=span[0], ends_at=span[1])

    if errors:
        raise ValidationError(errors)
    return spec


def _validate_one_off(
    data: MaintenanceInput,
    zone: ZoneInfo | None,
    now: datetime,
    current_start: datetime | None,
    errors: dict[str, FieldMessage],
) -> tuple[datetime, datetime] | None:
    starts_at = _instant(data.starts_at, "starts_at", zone, 0, errors)
    ends_at = _instant(data.ends_at, "ends_at", zone, 1, errors)
    if starts_at is None or ends_at is None or zone is None:
        return None
    if ends_at <= starts_at:
        errors["ends_at"] = FieldMessage(
            "End %(value)s is not after the start %(start)s: choose a later end.",
            {"value": format_local(ends_at, zone), "start": format_local(starts_at, zone)},
        )
    elif ends_at - starts_at > MAX_WINDOW_LENGTH:
        errors["ends_at"] = _too_long_window("End", ends_at, starts_at, zone)
    if starts_at < now - PAST_START_MARGIN and starts_at != current_start:
        errors["starts_at"] = FieldMessage(
            "Start %(value)s is %(minutes)s minutes in the past, and a window may start at "
            "most %(margin)s minutes ago: choose a later start.",
            {
                "value": format_local(starts_at, zone),
                "minutes": str(int((now - starts_at).total_seconds() // 60)),
                "margin": str(int(PAST_START_MARGIN.total_seconds() // 60)),
            },
        )
    return starts_at, ends_at


def _instant(
    value: str | datetime,
    name: str,
    zone: ZoneInfo | None,
    fold: int,
    errors: dict[str, FieldMessage],
) -> datetime | None:
    """Parse a one-off start or end: aware datetimes are exact, text is local time in `zone`."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("datetimes from the API must be aware")
        return _in_range(value, name, value.isoformat(), errors)
    text = value.strip()
    if not text:
        errors[name] = FieldMessage(
            "A date and time is required, for example %(example)s.",
            {"example": LOCAL_DATETIME_EXAMPLE},
        )
        return None
    try:
        wall = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = FieldMessage(
            "'%(value)s' is not a date and time: use YYYY-MM-DDTHH:MM, for example %(example)s.",
            {"value": _shown(text), "example": LOCAL_DATETIME_EXAMPLE},
        )
        return None
    if wall.tzinfo is not None:
        return _in_range(wall, name, text, errors)
    if zone is None:
        return None
    try:
        gap = nonexistent_gap(wall, zone)
        moment = local_instant(wall, zone, fold)
    except OverflowError:
        # Local times within a day of year 1 or year 9999 have no UTC equivalent in datetime.
        errors[name] = _out_of_range(name, text)
        return None
    if gap is not None:
        errors[name] = FieldMessage(
            "%(value)s does not exist in %(zone)s, because the clocks move forward from "
            "%(gap_start)s to %(gap_end)s that night: choose %(gap_end)s or later, or a time "
            "before %(gap_start)s.",
            {
                "value": f"{wall:%Y-%m-%d %H:%M}",
                "zone": zone.key,
                "gap_start": f"{gap[0]:%H:%M}",
                "gap_end": f"{gap[1]:%H:%M}",
            },
        )
        return None
    return _in_range(moment, name, text, errors)


def _in_range(
    moment: datetime, name: str, text: str, errors: dict[str, FieldMessage]
) -> datetime | None:
    """Return `moment` in UTC when it lies within the allowed range, else record an error."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST_TIME <= utc < LATEST_TIME:
        errors[name] = _out_of_range(name, text)
        return None
    return utc


def _out_of_range(name: str, text: str) -> FieldMessage:
    return FieldMessage(
        "%(label)s %(value)s is outside the allowed range: enter a time from %(earliest)s "
        "to before %(latest)s.",
        {
            "label": _TIME_LABELS.get(name, name),
            "value": _shown(text),
            "earliest": f"{EARLIEST_TIME:%Y-%m-%d %H:%M} UTC",
            "latest": f"{LATEST_TIME:%Y-%m-%d %H:%M} UTC",
        },
    )


def _too_long_window(
    label: str, ends_at: datetime, starts_at: datetime, zone: ZoneInfo
) -> FieldMessage:
    # Only lengths above MAX_WINDOW_LENGTH are described, so there are always many hours.
    hours, seconds = divmod(int((ends_at - starts_at).total_seconds()), 3600)
    minutes = seconds // 60
    length = f"{hours} hours"
    if minutes:
        length += f" {minutes} minute" if minutes == 1 else f" {minutes} minutes"
    return FieldMessage(
        "%(label)s %(value)s is %(length)s after the start %(start)s, but a window may "
        "last at most %(max)s hours (%(days)s days): choose an earlier end, or schedule "
        "several windows.",
        {
            "label": label,
            "value": format_local(ends_at, zone),
            "length": length,
            "start": format_local(starts_at, zone),
            "max": str(int(MAX_WINDOW_LENGTH.total_seconds() // 3600)),
            "days": str(MAX_WINDOW_LENGTH.days),
        },
    )


def _shown(text: str) -> str:
    """Cut a rejected value to a length that fits in a message."""
    return text if len(text) <= MAX_SHOWN_LENGTH else text[: MAX_SHOWN_LENGTH - 1] + "…"


def _validate_recurring(
    data: MaintenanceInput,
    zone: ZoneInfo | None,
    now: datetime,
    errors: dict[str, FieldMessage],
) -> tuple[str, str, str] | None:
    """Return the schedule, its start time and the end time, or None after adding errors."""
    schedule = " ".join(data.schedule.split())
    schedule_problem = cron_error(schedule)
    if schedule_problem is not None:
        errors["schedule"] = schedule_problem

    end_text = data.end_time.strip()
    end_clock: time | None = None
    if not end_text:
        errors["end_time"] = FieldMessage("End time is required: enter a local time such as 03:10.")
    else:
        try:
            end_clock = parse_clock_time(end_text)
        except ValueError:
            errors["end_time"] = FieldMessage(
                "'%(value)s' is not a time: use HH:MM, for example 03:10.",
                {"value": _shown(end_text)},
            )

    if schedule_problem is not None or end_clock is None or zone is None:
        return None
    end_time = format_clock_time(end_clock)
    if not recurring_windows(schedule, end_time, zone, now, now + HORIZON):
        errors["schedule"] = FieldMessage(
            "'%(value)s' has no window in the next %(days)s days: choose a schedule that runs "
            "sooner, for example '%(example)s' for every Sunday at 03:00.",
            {"value": _shown(schedule), "days": str(HORIZON.days), "example": CRON_EXAMPLE},
        )
        return None
    return schedule, format_clock_time(cron_start_time(schedule)), end_time


def cron_error(schedule: str) -> FieldMessage | None:
    """Return why `schedule` is not a usable cron schedule of start times, or None."""
    if not schedule:
        return FieldMessage(
            "Schedule is required: enter a cron expression (minute hour day-of-month month "
            "day-of-week), for example '%(example)s' for every Sunday at 03:00.",
            {"example": CRON_EXAMPLE},
        )
    fields = schedule.split()
    if len(fields) != 5:
        return FieldMessage(
            "'%(value)s' has %(count)s fields, but a cron expression has 5 (minute hour "
            "day-of-month month day-of-week): for example '%(example)s' for every Sunday at "
            "03:00.",
            {"value": _shown(schedule), "count": str(len(fields)), "example": CRON_EXAMPLE},
        )
    try:
        CronSim(schedule, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        return FieldMessage(
            "'%(value)s' is not a valid cron expression (%(reason)s): use minute hour "
            "day-of-month month day-of-week, for example '%(example)s' for every Sunday at "
            "03:00.",
            {"value": _shown(schedule), "reason": str(error), "example": CRON_EXAMPLE},
        )
    minute, hour = fields[0], fields[1]
    if not (_CRON_NUMBER.match(minute) and _CRON_NUMBER.match(hour)):
        return FieldMessage(
            "'%(value)s' starts at more than one time of day: give a single minute and hour, "
            "for example '%(example)s' for every Sunday at 03:00, and create one maintenance "
            "per time of day.",
            {"value": _shown(schedule), "example": CRON_EXAMPLE},
        )
    return None


def parse_new_end(
    ends_at: str | datetime,
    minutes: str,
    current_end: datetime,
    zone: ZoneInfo,
    starts_at: datetime | None = None,
) -> datetime:
    """Return the new end of an extended window; raises ValidationError.

    `ends_at` is a local date-time in `zone` (or an aware datetime). `minutes` ("30" or "+30")
    adds that many real minutes to `current_end`, so the window lasts exactly that much
    longer even on a night the clocks change. Give one of the two. When `starts_at` (the
    window's start) is given, a new end more than MAX_WINDOW_LENGTH after it is rejected here,
    so the error names the field the operator used. `check_extension` enforces the same limit
    when the store saves the new end.
    """
    errors: dict[str, FieldMessage] = {}
    minutes_text = minutes.strip().removeprefix("+").strip()
    has_end = isinstance(ends_at, datetime) or bool(ends_at.strip())
    if has_end and minutes_text:
        errors["minutes"] = FieldMessage(
            "Give either a new end or a number of minutes to add, not both."
        )
        raise ValidationError(errors)
    if minutes_text:
        if not _MINUTES.fullmatch(minutes_text) or not (
            1 <= int(minutes_text) <= MAX_EXTENSION_MINUTES
        ):
            errors["minutes"] = FieldMessage(
                "'%(value)s' is not a number of minutes from 1 to %(max)s: enter for example 30.",
                {"value": _shown(minutes.strip()), "max": str(MAX_EXTENSION_MINUTES)},
            )
            raise ValidationError(errors)
        new_end = current_end + timedelta(minutes=int(minutes_text))
        field_name = "minutes"
    elif not has_end:
        errors["ends_at"] = FieldMessage(
            "Enter a new end, or a number of minutes to add, for example 30."
        )
        raise ValidationError(errors)
    else:
        parsed = _instant(ends_at, "ends_at", zone, 1, errors)
        if parsed is None:
            raise ValidationError(errors)
        new_end = parsed
        field_name = "ends_at"

    if starts_at is not None and new_end - starts_at > MAX_WINDOW_LENGTH:
        label = "The extended end" if field_name == "minutes" else "End"
        errors[field_name] = _too_long_window(label, new_end, starts_at, zone)
        raise ValidationError(errors)
    return new_end


def parse_display_at(value: str | datetime, zone: ZoneInfo, now: datetime) -> datetime:
    """Return when an update is shown: `now` when empty, else a local date-time in `zone`."""
    if isinstance(value, str) and not value.strip():
        return now
    errors: dict[str, FieldMessage] = {}
    moment = _instant(value, "display_at", zone, 0, errors)
    if moment is None:
        raise ValidationError(errors)
    return moment


# Lifecycle rules, checked by the store inside its write transaction


def check_end_early(window: MaintenanceWindow, now: datetime) -> None:
    status = window.status(now)
    if status is WindowStatus.SCHEDULED:
        raise MaintenanceError(
            "window", "This window has not started yet: cancel it instead of ending it."
        )
    if status is WindowStatus.COMPLETED:
        raise MaintenanceError("window", "This window is already completed.")
    if status is WindowStatus.CANCELLED:
        raise MaintenanceError("window", "This window is cancelled.")


def check_extension(
    window: MaintenanceWindow, new_end: datetime, now: datetime, zone: ZoneInfo
) -> None:
    status = window.status(now)
    if status is WindowStatus.COMPLETED:
        raise MaintenanceError("window", "This window is already completed and cannot be extended.")
    if status is WindowStatus.CANCELLED:
        raise MaintenanceError("window", "This window is cancelled and cannot be extended.")
    if new_end <= window.ends_at:
        raise MaintenanceError(
            "ends_at",
            "The new end %(value)s is not after the current end %(current)s: choose a later end.",
            value=format_local(new_end, zone),
            current=format_local(window.ends_at, zone),
        )
    if new_end >= LATEST_TIME:
        error = _out_of_range("ends_at", new_end.isoformat())
        raise MaintenanceError("ends_at", error.message, **error.params)
    if new_end - window.starts_at > MAX_WINDOW_LENGTH:
        error = _too_long_window("The new end", new_end, window.starts_at, zone)
        raise MaintenanceError("ends_at", error.message, **error.params)


def check_cancel(window: MaintenanceWindow, now: datetime) -> None:
    status = window.status(now)
    if status is WindowStatus.COMPLETED:
        raise MaintenanceError(
            "window", "This window is already completed and cannot be cancelled."
        )
    if status is WindowStatus.CANCELLED:
        raise MaintenanceError("window", "This window is already cancelled.")


def require_update_body(body: str) -> str:
    """Return the stripped body of an update; raises ValidationError when empty or too long."""
    text = body.strip()
    if not text:
        raise ValidationError(
            {"body": FieldMessage("Update text is required: say what is happening, in Markdown.")}
        )
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError({"body": _too_long("Update text", text)})
    return text


def _too_long(label: str, text: str) -> FieldMessage:
    return FieldMessage(
        "%(label)s is %(length)s characters long: shorten it to at most %(max)s.",
        {"label": label, "length": str(len(text)), "max": str(TEXT_MAX_LENGTH)},
    )
