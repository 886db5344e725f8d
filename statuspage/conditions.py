"""Conditions on a response body: substrings and JSON path comparisons.

A failed condition's message quotes only the condition as configured, never the value found in
the body, because some endpoints echo request data (cookies, tokens) back in their responses.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from statuspage.tomlreader import TableReader

OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "contains", "exists")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING: Any = object()


@dataclass(frozen=True)
class Condition:
    """One body condition; `kind` is "body_contains", "body_not_contains" or "json"."""

    kind: str
    text: str = ""  # for the body kinds
    path: tuple[str | int, ...] = ()  # for "json"
    path_text: str = ""
    operator: str = "=="
    value: Any = None

    @property
    def needs_json(self) -> bool:
        return self.kind == "json"

    def describe(self) -> str:
        if self.kind == "body_contains":
            return f"body contains {json.dumps(self.text, ensure_ascii=False)}"
        if self.kind == "body_not_contains":
            return f"body does not contain {json.dumps(self.text, ensure_ascii=False)}"
        if self.operator == "exists":
            return f"{self.path_text} exists"
        return f"{self.path_text} {self.operator} {json.dumps(self.value, ensure_ascii=False)}"


def parse_path(text: str) -> tuple[str | int, ...]:
    """Parse `data.items[0].ok` (an optional leading `$.` is allowed) into its parts."""
    body = text.removeprefix("$").removeprefix(".")
    if not body:
        raise ValueError("empty path")
    parts: list[str | int] = []
    position = 0
    for segment in body.split("."):
        if not segment:
            raise ValueError("empty segment between dots")
        for match in _PATH_PART.finditer(segment):
            parts.append(int(match.group(2)) if match.group(2) is not None else match.group(1))
        rebuilt = "".join(
            f"[{part}]" if isinstance(part, int) else str(part) for part in parts[position:]
        )
        if rebuilt != segment:
            raise ValueError(f"cannot parse segment {segment!r}")
        position = len(parts)
    return tuple(parts)


def parse_condition(table: TableReader) -> Condition:
    keys = [key for key in ("body_contains", "body_not_contains", "json_path") if key in table.data]
    if len(keys) != 1:
        raise table.error(
            keys[1] if len(keys) > 1 else "json_path",
            table.data,
            "expected exactly one of body_contains, body_not_contains or json_path",
        )
    kind = keys[0]
    if kind != "json_path":
        text = table.string(kind, required=True, allow_empty=False)
        table.finish()
        return Condition(kind=kind, text=text)

    path_text = table.string("json_path", required=True, allow_empty=False)
    try:
        path = parse_path(path_text)
    except ValueError as exc:
        raise table.error(
            "json_path", path_text, f"{exc}; expected a path such as status or data.items[0].ok"
        ) from None
    operator = table.choice("op", OPERATORS, default="==")
    value = table.data.get("value", _MISSING)
    table.read.add("value")
    if operator == "exists":
        if value is not _MISSING:
            raise table.error("value", value, 'must be omitted when op is "exists"')
        value = None
    elif value is _MISSING:
        raise table.error("value", "", f'missing; op "{operator}" compares with a value')
    elif isinstance(value, dict | list):
        raise table.error("value", value, "expected a string, number or boolean")
    elif isinstance(value, float) and not math.isfinite(value):
        raise table.error("value", value, "expected a finite number")
    elif operator in (">", ">=", "<", "<=") and _number(value) is None:
        raise table.error("value", value, f'op "{operator}" needs a number')
    table.finish()
    return Condition(kind="json", path=path, path_text=path_text, operator=operator, value=value)


def check_conditions(conditions: tuple[Condition, ...], body: bytes) -> str | None:
    """Return the first failed condition's message, or None when all hold."""
    document: Any = _MISSING
    for condition in conditions:
        if condition.kind == "body_contains":
            if condition.text.encode() not in body:
                return f"condition failed: {condition.describe()}"
            continue
        if condition.kind == "body_not_contains":
            if condition.text.encode() in body:
                return f"condition failed: {condition.describe()}"
            continue

        if document is _MISSING:
            try:
                document = json.loads(body, parse_float=Decimal, parse_int=Decimal)
            except (ValueError, RecursionError):
                return "response body is not valid JSON"
        found = _lookup(document, condition.path)
        if found is _MISSING:
            return f"JSON path {condition.path_text} not found"
        if not _compare(found, condition.operator, condition.value):
            return f"condition failed: {condition.describe()}"
    return None


def _lookup(document: Any, path: tuple[str | int, ...]) -> Any:
    current = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return _MISSING
            current = current[part]
        else:
            if not isinstance(current, dict) or part not in current:
                return _MISSING
            current = current[part]
    return current


def _number(value: Any) -> Decimal | None:
    """Convert a JSON or TOML number to Decimal.

    Decimal keeps float noise such as 0.1 + 0.2 from flipping a comparison.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # JSON bodies may carry NaN or Infinity, which no comparison can use.
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _compare(found: Any, operator: str, expected: Any) -> bool:
    if operator == "exists":
        return True
    if operator == "contains":
        if isinstance(found, str):
            return str(expected) in found
        if isinstance(found, list):
            return any(_equal(item, expected) for item in found)
        return False
    if operator in ("==", "!="):
        return _equal(found, expected) == (operator == "==")

    left, right = _number(found), _number(expected)
    if left is None or right is None:
        return False
    if operator == ">":
        return left > right
    if operator == ">=":
        return left >= right
    if operator == "<":
        return left < right
    return left <= right


def _equal(found: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(found, bool):
        return found is expected
    left, right = _number(found), _number(expected)
    if left is not None and right is not None and not isinstance(found, str):
        return left == right
    if isinstance(found, Decimal):
        return False
    return bool(found == expected)
