"""Render operators' Markdown to HTML that is safe to put on a public page.

markdown-it-py turns CommonMark (plus tables and strikethrough) into HTML with raw HTML input
disabled, so tags typed by an operator are shown as text. nh3 (the Ammonia sanitizer) then
cleans the result against an explicit allowlist, which keeps the output inert even if a
Markdown rule ever emits something unexpected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import markupsafe
import nh3
from markdown_it import MarkdownIt

__all__ = ["render_markdown", "sanitize_html"]

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
URL_ATTRIBUTES = frozenset({"href", "src"})
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

_parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _keep_absolute_url(tag: str, attribute: str, value: str) -> str | None:
    """Drop a URL attribute unless it is an absolute http, https or mailto URL.

    nh3's scheme list lets relative URLs through, and a browser strips tabs and newlines from
    a URL before reading its scheme, so `jav<TAB>ascript:` would pass a plain prefix test.
    Any whitespace or control character therefore removes the attribute outright.
    """
    if attribute not in URL_ATTRIBUTES:
        return value
    if any(
        character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F
        for character in value
    ):
        return None
    scheme = urlsplit(value).scheme.lower()
    if scheme not in URL_SCHEMES:
        return None
    if scheme in ("http", "https") and not value.lower().startswith(f"{scheme}://"):
        return None
    return value


def render_markdown(source: str) -> markupsafe.Markup:
    """Render Markdown source to sanitized HTML."""
    return markupsafe.Markup(sanitize_html(_parser.render(source)))


def sanitize_html(html: str) -> str:
    """Remove every tag, attribute and URL outside the allowlist from an HTML fragment."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_keep_absolute_url,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
    )
