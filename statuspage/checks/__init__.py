"""Probes: one module per kind of check, each turning settings into a `Result`.

Probes never touch the store. `create_probe` is the only place that imports every kind.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from statuspage.config import Component, HttpCheck, PostgresCheck
from statuspage.result import Result


class Probe(Protocol):
    async def run(self) -> Result: ...

    async def close(self) -> None: ...


def create_probe(component: Component, client: httpx.AsyncClient) -> Probe:
    """Build the probe for a component's check; `client` is the shared HTTP client."""
    from statuspage.checks.http import HttpProbe
    from statuspage.checks.postgres import PostgresProbe

    if isinstance(component.check, HttpCheck):
        return HttpProbe(component.id, component.check, client)
    if isinstance(component.check, PostgresCheck):
        return PostgresProbe(component.id, component.check)
    raise TypeError(f"no probe for {type(component.check).__name__}")
