"""`${NAME}` references to environment variables in configuration strings."""

from __future__ import annotations

import re
from collections.abc import Mapping

ENV_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)\}")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def interpolate(value: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace `${NAME}` with the environment variable NAME; `$$` is a literal `$`.

    Returns the new string and the names that are unset (replaced by an empty string).
    Raises ValueError for a malformed reference.
    """
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        if not ENV_NAME.match(name):
            raise ValueError(f"invalid environment variable reference ${{{name}}}")
        if name not in environ:
            missing.append(name)
            return ""
        return environ[name]

    if "${" in ENV_REFERENCE.sub("", value):
        raise ValueError("unterminated '${' reference; write '$$' for a literal '$'")
    return ENV_REFERENCE.sub(replace, value), missing
