import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from statuspage.markdown import render_markdown, sanitize_html

# Each payload tries to run script, load a resource or leave the page, through Markdown or
# through HTML typed into Markdown.
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://example.com/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    "<iframe src=https://example.com></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;script:alert(1)">x</a>',
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="position:fixed;inset:0">x</div>',
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<!--><script>alert(1)</script>-->",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](jav&#x0A;ascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](file:///etc/passwd)",
    '[click](https://example.com "x" onmouseover="alert(1)")',
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x](https://example.com/a.png"onerror="alert(1))',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
]


class _Elements(HTMLParser):
    """Collect every start tag with its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def urls(html: str) -> list[str]:
    return [
        value or ""
        for _, attributes in elements(html)
        for name, value in attributes.items()
        if name in ("href", "src", "action", "data", "formaction")
    ]


SAFE_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
}  # fmt: skip


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_has_only_safe_tags(payload: str) -> None:
    tags = {tag for tag, _ in elements(render_markdown(payload))}
    assert tags <= SAFE_TAGS


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_has_no_event_handlers(payload: str) -> None:
    for _, attributes in elements(render_markdown(payload)):
        assert not [name for name in attributes if name.startswith("on")]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_has_no_style_attribute(payload: str) -> None:
    for _, attributes in elements(render_markdown(payload)):
        assert "style" not in attributes


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_urls_are_http_or_mailto(payload: str) -> None:
    for url in urls(render_markdown(payload)):
        assert re.match(r"(https?://|mailto:)", url), url


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payload_keeps_no_script_url(payload: str) -> None:
    html = render_markdown(payload)
    for url in urls(html):
        squeezed = re.sub(r"[\x00-\x20]", "", url).lower()
        assert not squeezed.startswith(("javascript:", "vbscript:", "data:"))


# The HTML payloads above never reach the sanitizer as HTML, because Markdown rendering
# escapes typed HTML. These check the sanitizer on its own, in case a Markdown rule ever emits
# raw HTML.
HTML_PAYLOADS = [payload for payload in XSS_PAYLOADS if payload.startswith("<")] + [
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="https://example.com" onclick="alert(1)" target="_blank">x</a>',
    '<a href="https://example.com" rel="opener">x</a>',
    '<img src="https://example.com/a.png" onerror="alert(1)" style="width:9999px">',
    '<img src="data:image/png;base64,AAAA">',
    '<table><tr><td style="text-align:right" onclick="alert(1)">1</td></tr></table>',
    '<p class="banner" id="login">x</p>',
]


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_sanitizer_keeps_only_safe_tags(payload: str) -> None:
    tags = {tag for tag, _ in elements(sanitize_html(payload))}
    assert tags <= SAFE_TAGS


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_sanitizer_removes_event_handlers_and_style(payload: str) -> None:
    for _, attributes in elements(sanitize_html(payload)):
        assert set(attributes) <= {"href", "src", "alt", "title", "rel", "start"}


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_sanitizer_keeps_only_web_urls(payload: str) -> None:
    for url in urls(sanitize_html(payload)):
        assert re.match(r"(https?://|mailto:)", url), url


def test_sanitizer_sets_own_rel() -> None:
    html = sanitize_html('<a href="https://example.com" rel="opener">x</a>')
    assert ("a", {"href": "https://example.com", "rel": "noopener noreferrer nofollow"}) in (
        elements(html)
    )


def test_sanitizer_drops_script_content() -> None:
    assert sanitize_html("<script>alert(1)</script>after") == "after"


def test_typed_html_is_shown_as_text() -> None:
    assert render_markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_result_is_markup() -> None:
    assert isinstance(render_markdown("text"), Markup)


def test_link_gets_rel() -> None:
    html = render_markdown("[status](https://example.com/status)")
    assert html == (
        '<p><a href="https://example.com/status" rel="noopener noreferrer nofollow">'
        "status</a></p>\n"
    )


def test_autolink_becomes_link() -> None:
    html = render_markdown("<https://example.com>")
    assert ("a", {"href": "https://example.com", "rel": "noopener noreferrer nofollow"}) in (
        elements(html)
    )


def test_email_autolink_becomes_mailto() -> None:
    assert urls(render_markdown("<ops@example.com>")) == ["mailto:ops@example.com"]


def test_relative_link_loses_href() -> None:
    assert urls(render_markdown("[x](/admin/logout)")) == []


def test_protocol_relative_link_loses_href() -> None:
    assert urls(render_markdown("[x](//example.com/x)")) == []


def test_http_image_is_kept() -> None:
    html = render_markdown("![graph](https://example.com/graph.png)")
    assert ("img", {"src": "https://example.com/graph.png", "alt": "graph"}) in elements(html)


def test_emphasis_and_lists() -> None:
    html = render_markdown("**API** is *slow*\n\n- one\n- two")
    assert html == (
        "<p><strong>API</strong> is <em>slow</em></p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
    )


def test_strikethrough() -> None:
    assert render_markdown("~~down~~") == "<p><s>down</s></p>\n"


def test_table_without_style() -> None:
    html = render_markdown("| a | b |\n|--:|---|\n| 1 | 2 |")
    assert [tag for tag, _ in elements(html)] == [
        "table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td",
    ]  # fmt: skip


def test_code_block_escapes_content() -> None:
    html = render_markdown("```\n<script>alert(1)</script>\n```")
    assert html == "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>\n"


def test_empty_source() -> None:
    assert render_markdown("") == ""
