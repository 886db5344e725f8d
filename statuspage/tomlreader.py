"""Typed access to one parsed TOML table, with errors that name the key path."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from statuspage.environment import interpolate

T = TypeVar("T")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")
_ABSENT: Any = object()


class ConfigError(Exception):
    """A configuration file that cannot be used, with where and why."""

    def __init__(self, file: str, key_path: str, message: str) -> None:
        self.file = file
        self.key_path = key_path
        self.message = message
        where = f"{file}: {key_path}" if key_path else file
        super().__init__(f"{where}: {message}")


def describe(value: Any) -> str:
    """Render a TOML value the way it was probably written."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    if isinstance(value, float) and value.is_integer():
        # Durations are stored as floats; show 60 the way it was most likely written.
        return str(int(value))
    return str(value)


class TableReader:
    """Reads keys of one table; `finish()` rejects any key that was never read."""

    def __init__(self, file: str, path: str, data: Mapping[str, Any]) -> None:
        self.file = file
        self.path = path
        self.data = dict(data)
        self.read: set[str] = set()
        self.has_missing_env = False
        self.missing_env_keys: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(
            self.file, self.key_path(key), f"invalid value {describe(value)}: {allowed}"
        )

    def finish(self) -> None:
        unknown = [key for key in self.data if key not in self.read]
        if unknown:
            known = ", ".join(sorted(self.read)) or "none"
            raise ConfigError(
                self.file,
                self.key_path(unknown[0]),
                f"unknown key; keys allowed here: {known}",
            )

    def interpolate(
        self,
        environ: Mapping[str, str],
        strict: bool = False,
        lenient: frozenset[str] = frozenset(),
    ) -> tuple[str, ...]:
        """Expand `${NAME}` in every string of this table and its subtables.

        Returns the names of unset variables; keys that referred to them are left empty and
        not validated, because the check is reported as not configured instead. That applies
        only to the top-level keys in `lenient`; elsewhere, or with `strict`, an unset variable
        is a ConfigError.
        """
        missing: list[str] = []

        def expand(value: Any, path: str) -> Any:
            if isinstance(value, str):
                try:
                    expanded, unset = interpolate(value, environ)
                except ValueError as exc:
                    raise ConfigError(self.file, path, f"{exc}") from None
                top_key = path[len(self.path) + 1 :].split(".")[0].split("[")[0]
                if unset and (strict or top_key not in lenient):
                    raise ConfigError(
                        self.file, path, f"environment variable {unset[0]} is not set or empty"
                    )
                missing.extend(name for name in unset if name not in missing)
                if unset:
                    self.missing_env_keys.add(path)
                return expanded
            if isinstance(value, dict):
                return {key: expand(item, f"{path}.{key}") for key, item in value.items()}
            if isinstance(value, list):
                return [expand(item, f"{path}[{index}]") for index, item in enumerate(value)]
            return value

        self.data = {key: expand(value, self.key_path(key)) for key, value in self.data.items()}
        self.has_missing_env = bool(missing)
        return tuple(missing)

    def _get(self, key: str, required: bool, default: Any) -> Any:
        self.read.add(key)
        if key in self.data:
            return self.data[key]
        if required:
            raise ConfigError(self.file, self.key_path(key), "missing required key")
        return default

    def table(self, key: str, required: bool = False) -> TableReader:
        value = self._get(key, required, {})
        if not isinstance(value, dict):
            raise self.error(key, value, "expected a table")
        return TableReader(self.file, self.key_path(key), value)

    def array_of_tables(self, key: str, required: bool = False) -> list[TableReader]:
        value = self._get(key, required, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(key, value, f"expected an array of tables ([[{self.key_path(key)}]])")
        return [
            TableReader(self.file, f"{self.key_path(key)}[{index}]", item)
            for index, item in enumerate(value)
        ]

    def string(
        self, key: str, required: bool = False, default: Any = _ABSENT, allow_empty: bool = True
    ) -> Any:
        value = self._get(key, required, default)
        if value is _ABSENT:
            raise ConfigError(self.file, self.key_path(key), "missing required key")
        if value is None and default is None and key not in self.data:
            return None
        if not isinstance(value, str):
            raise self.error(key, value, "expected a string")
        if not allow_empty and not value.strip():
            raise self.error(key, value, "expected a non-empty string")
        return value

    def choice(
        self, key: str, allowed: tuple[str, ...], required: bool = False, default: Any = None
    ) -> str:
        value = self._get(key, required, default)
        if value not in allowed:
            choices = ", ".join(json.dumps(item) for item in allowed)
            raise self.error(key, value, f"expected one of {choices}")
        return str(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, False, default)
        if not isinstance(value, bool):
            raise self.error(key, value, "expected true or false")
        return value

    def integer(
        self, key: str, default: int, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._get(key, False, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, value, "expected an integer")
        if minimum is not None and value < minimum:
            raise self.error(key, value, f"expected an integer of at least {minimum}")
        if maximum is not None and value > maximum:
            raise self.error(key, value, f"expected an integer of at most {maximum}")
        return value

    def seconds(
        self, key: str, default: Any, minimum: float = 0.1, maximum: float = 86400.0
    ) -> Any:
        """Read a duration in seconds, written as an integer or a float."""
        value = self._get(key, False, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.error(key, value, "expected a number of seconds")
        if not minimum <= value <= maximum:
            raise self.error(
                key, value, f"expected a number of seconds from {minimum:g} to {maximum:g}"
            )
        return float(value)

    def ratio(self, key: str, default: float) -> float:
        value = self._get(key, False, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise self.error(key, value, "expected a number above 0 and at most 1 (0.9 is 90%)")
        return float(value)

    def url(self, key: str, required: bool = False) -> str | None:
        value = self._get(key, required, None)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, value, "expected an http:// or https:// URL")
        if self.key_path(key) in self.missing_env_keys:
            return value
        allowed = "expected an http:// or https:// URL with a host name"
        if any(character.isspace() or not character.isprintable() for character in value):
            raise self.error(key, value, f"{allowed}, without spaces or control characters")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError as exc:
            raise self.error(key, value, f"{allowed} ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(key, value, allowed)
        return value

    def headers(self, key: str) -> tuple[tuple[str, str], ...]:
        """HTTP header names and values that a request can carry as written."""
        value = self._get(key, False, {})
        if not isinstance(value, dict):
            raise self.error(
                key, value, 'expected a table of strings, e.g. { Accept = "text/html" }'
            )
        headers = TableReader(self.file, self.key_path(key), value)
        for name in value:
            if not HEADER_NAME.fullmatch(name):
                raise ConfigError(
                    self.file,
                    headers.key_path(name),
                    "invalid header name: expected letters, digits and - (an RFC 9110 token)",
                )
            headers.header_value(name, default=None)
        return tuple(value.items())

    def header_value(self, key: str, default: Any) -> Any:
        value = self._get(key, False, default)
        if not isinstance(value, str):
            raise self.error(key, value, "expected a string")
        if not HEADER_VALUE.fullmatch(value):
            raise self.error(
                key, value, "expected printable ASCII without line breaks (an HTTP header value)"
            )
        return value

    def status_codes(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        """Status codes as integers or class strings such as "2xx"."""
        value = self._get(key, False, _ABSENT)
        if value is _ABSENT:
            return default
        allowed = 'expected an array of status codes (100-599) or classes such as "2xx"'
        if not isinstance(value, list) or not value:
            raise self.error(key, value, allowed)
        codes: list[int] = []
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
                codes.append(item)
            elif (
                isinstance(item, str) and len(item) == 3 and item[0] in "12345" and item[1:] == "xx"
            ):
                first = int(item[0]) * 100
                codes.extend(range(first, first + 100))
            else:
                raise self.error(key, item, allowed)
        return tuple(sorted(set(codes)))
