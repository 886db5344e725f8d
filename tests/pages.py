"""Read the status page's HTML the way a visitor's browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ComponentRow:
    id: str
    state: str
    text: str = ""
    bars: list[str] = field(default_factory=list)  # class of each day bar, oldest first


class _StatusPageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.banner = ""
        self.components: dict[str, ComponentRow] = {}
        self._current: ComponentRow | None = None
        self._depth = 0
        self._in_banner = False
        self._in_bars = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if self._current is not None and tag == "div":
            self._depth += 1
        if "banner" in classes:
            self._in_banner = True
        elif "component" in classes and attributes.get("id", "").startswith("component-"):
            component_id = (attributes["id"] or "").removeprefix("component-")
            self._current = ComponentRow(component_id, attributes.get("data-state") or "")
            self.components[component_id] = self._current
            self._depth = 1
        elif "bars" in classes:
            self._in_bars = True
        elif self._in_bars and tag == "span" and self._current is not None:
            self._current.bars.append(attributes.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag != "div":
            return
        self._in_banner = False
        self._in_bars = False
        if self._current is not None:
            self._depth -= 1
            if self._depth == 0:
                self._current = None

    def handle_data(self, data: str) -> None:
        if self._in_banner:
            self.banner += data.strip()
        elif self._current is not None and data.strip():
            self._current.text += " " + data.strip()


@dataclass
class StatusPage:
    banner: str
    components: dict[str, ComponentRow]


def parse_status_page(html: str) -> StatusPage:
    parser = _StatusPageParser()
    parser.feed(html)
    return StatusPage(parser.banner, parser.components)
