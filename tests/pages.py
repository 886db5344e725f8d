"""Read the public pages' HTML the way a visitor's browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements without an end tag: they must not open a nesting level.
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class ComponentRow:
    id: str
    state: str  # the check's state, from data-state
    effective_state: str = ""  # the state visitors see, from data-effective-state
    text: str = ""
    bars: list[str] = field(default_factory=list)  # class of each day bar, oldest first
    bar_titles: list[str] = field(default_factory=list)
    bar_links: list[str | None] = field(default_factory=list)  # href of each bar, if a link


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
        elif "component" in classes and (attributes.get("id") or "").startswith("component-"):
            component_id = (attributes["id"] or "").removeprefix("component-")
            self._current = ComponentRow(
                component_id,
                attributes.get("data-state") or "",
                attributes.get("data-effective-state") or "",
            )
            self.components[component_id] = self._current
            self._depth = 1
        elif "bars" in classes:
            self._in_bars = True
        elif self._in_bars and tag in ("span", "a") and self._current is not None:
            self._current.bars.append(attributes.get("class") or "")
            self._current.bar_titles.append(attributes.get("title") or "")
            self._current.bar_links.append(attributes.get("href") if tag == "a" else None)

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


@dataclass
class Element:
    """One element of a page with the visible text inside it, spaces collapsed."""

    tag: str
    attributes: dict[str, str]
    text: str = ""
    # Every element inside, in document order, as (tag, attributes).
    descendants: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # href of every link inside
    times: list[tuple[str, str]] = field(default_factory=list)  # (datetime, text) of <time>


class _ElementParser(HTMLParser):
    """Collect every element that matches an id or a class, with its text and links."""

    def __init__(self, element_id: str | None, class_name: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.class_name = class_name
        self.found: list[Element] = []
        # Open matching elements with the nesting depth at which each one closes.
        self._open: list[tuple[Element, int, list[str]]] = []
        self._depth = 0
        self._time: tuple[str, list[str]] | None = None

    def _matches(self, attributes: dict[str, str]) -> bool:
        if self.element_id is not None:
            return attributes.get("id") == self.element_id
        return self.class_name in attributes.get("class", "").split()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for element, _, _parts in self._open:
            element.descendants.append((tag, attributes))
            if tag == "a" and "href" in attributes:
                element.links.append(attributes["href"])
        if tag == "time":
            self._time = (attributes.get("datetime", ""), [])
        if tag in VOID_ELEMENTS:
            return
        self._depth += 1
        if self._matches(attributes):
            element = Element(tag, attributes)
            self.found.append(element)
            self._open.append((element, self._depth, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for element, _, _parts in self._open:
            element.descendants.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            return
        if tag == "time" and self._time is not None:
            moment, pieces = self._time
            for element, _, _parts in self._open:
                element.times.append((moment, " ".join(pieces)))
            self._time = None
        still_open = []
        for element, depth, parts in self._open:
            if depth == self._depth:
                element.text = " ".join(" ".join(parts).split())
            else:
                still_open.append((element, depth, parts))
        self._open = still_open
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._time is not None and data.strip():
            self._time[1].append(data.strip())
        for _element, _, parts in self._open:
            if data.strip():
                parts.append(data.strip())


def find_element(html: str, element_id: str) -> Element | None:
    """Return the element with this id, or None."""
    parser = _ElementParser(element_id, None)
    parser.feed(html)
    return parser.found[0] if parser.found else None


def find_elements(html: str, class_name: str) -> list[Element]:
    """Return every element with this class, in document order."""
    parser = _ElementParser(None, class_name)
    parser.feed(html)
    return parser.found


def element_text(html: str, element_id: str) -> str:
    """Return the visible text of the element with this id. Fails the test when it is missing."""
    element = find_element(html, element_id)
    assert element is not None, f"no element with id {element_id!r} on the page"
    return element.text
