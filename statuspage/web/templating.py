"""Jinja2 environment with the i18n extension and the site's time zone filters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from starlette.templating import Jinja2Templates

from statuspage.uptime import format_percent

_PACKAGE = Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    """Templates ship inside the wheel as statuspage/templates; a checkout keeps them at the top."""
    for candidate in (_PACKAGE / "templates", _PACKAGE.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError(
        f"templates not found in {_PACKAGE / 'templates'} or {_PACKAGE.parent / 'templates'}; "
        "reinstall the package"
    )


def create_templates(zone: ZoneInfo) -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=jinja2.select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # English until catalogues are added; every visible string already goes through gettext.
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]

    def local_time(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
        if moment is None:
            return ""
        try:
            return moment.astimezone(zone).strftime(pattern)
        except OverflowError:
            # The local time is outside datetime's years 1 to 9999, for example 9999-12-31
            # 23:00 UTC in Asia/Tokyo. Validation rejects such times, but rows stored before
            # it did must not break every page that shows them.
            return _utc_text(moment)

    environment.filters["local_time"] = local_time
    environment.filters["percent"] = format_percent
    return Jinja2Templates(env=environment)


def _utc_text(moment: datetime) -> str:
    """Return the ISO 8601 text of `moment` in UTC, or as given when even that overflows."""
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:
        return moment.isoformat()
