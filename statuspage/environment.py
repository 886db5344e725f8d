"""`${NAME}` references to environment variables in configuration strings."""

from __future__ import annotations

import re
from collections.abc import Mapping

ENV_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)\}")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def interpolate(value: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace `${NAME}` with the environment variable NAME; `$$` is a literal `$`.

    Returns the new string and the names that are unset or empty (replaced by an empty
    string): `docker run -e NAME=` sets an empty value, which is no more usable than none.
    Raises ValueError for a malformed reference.
    """
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        if not ENV_NAME.fullmatch(name):
            raise ValueError(f"invalid environment variable reference ${{{name}}}")
        if not environ.get(name):
            missing.append(name)
            return ""
        return environ[name]

    if "${" in ENV_REFERENCE.sub("", value):
        raise ValueError("unterminated '${' reference; write '$$' for a literal '$'")
    return ENV_REFERENCE.sub(replace, value), missing
