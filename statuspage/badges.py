"""SVG status badges in the flat style of shields.io, for READMEs and dashboards.

A badge is a grey label on the left and a colored message on the right. Text widths are
estimated from a table of Verdana advance widths at 11px, the font the badge requests. Each text
element also carries `textLength`, so a renderer that falls back to another font squeezes or
stretches the text to the estimated width instead of letting it overflow its box.
"""

from __future__ import annotations

import math
import re
import unicodedata
from xml.sax.saxutils import escape, quoteattr

from statuspage.uptime import format_percent

__all__ = [
    "COLORS",
    "render_badge",
    "response_time_badge",
    "state_badge",
    "text_width",
    "uptime_badge",
]

# The shields.io palette, by the names shields.io gives these colors.
COLORS = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "grey": "#9f9f9f",
    "label": "#555",
}

# Message and color for each component state. "down" is the monitor's word for a component
# that fails its checks, which the public page shows as "Down".
STATE_BADGES = {
    "operational": ("operational", COLORS["brightgreen"]),
    "degraded": ("degraded", COLORS["yellow"]),
    "partial_outage": ("partial outage", COLORS["orange"]),
    "major_outage": ("major outage", COLORS["red"]),
    "down": ("down", COLORS["red"]),
    "maintenance": ("maintenance", COLORS["blue"]),
    "no_data": ("no data", COLORS["grey"]),
}

# Uptime colors by the lowest percentage that earns them, highest first.
UPTIME_COLORS = (
    (99.9, COLORS["brightgreen"]),
    (99.0, COLORS["green"]),
    (97.0, COLORS["yellowgreen"]),
    (95.0, COLORS["yellow"]),
    (90.0, COLORS["orange"]),
)
# Response-time colors by the highest time in milliseconds that earns them, lowest first.
RESPONSE_TIME_COLORS = (
    (300.0, COLORS["brightgreen"]),
    (1000.0, COLORS["yellow"]),
    (3000.0, COLORS["orange"]),
)

FONT_SIZE = 11  # px
HEIGHT = 20  # px
PADDING = 5  # px on each side of a text
# Advance widths of Verdana's printable ASCII glyphs (U+0020 to U+007E) in thousandths of an em.
# NOTE: these are estimates to within a few units, not values read from a font file.
_VERDANA_WIDTHS = (
    352, 394, 459, 818, 636, 1076, 727, 269, 454, 454, 636, 818, 364, 454, 364, 454,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 454, 454, 818, 818, 818, 545,
    1000, 684, 686, 698, 771, 632, 575, 775, 751, 421, 455, 693, 557, 843, 748, 787,
    603, 787, 695, 684, 616, 732, 684, 989, 685, 615, 685, 454, 454, 454, 818, 636,
    636, 601, 623, 521, 623, 596, 352, 623, 633, 274, 344, 592, 274, 973, 633, 607,
    623, 623, 427, 521, 394, 633, 592, 818, 592, 592, 525, 635, 454, 635, 818,
)  # fmt: skip
# Widths of characters outside the table. East Asian wide and fullwidth characters take a whole
# em in CJK fonts. Other characters get a width near Verdana's widest lowercase letters, so an
# error makes the box slightly too wide instead of letting the text overflow.
_WIDE_EM = 1000
_FALLBACK_EM = 700
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def render_badge(label: str, message: str, color: str) -> bytes:
    """Render a flat badge as UTF-8 SVG, with `color` (#rgb or #rrggbb) behind the message."""
    if not _HEX_COLOR.match(color):
        raise ValueError(f"invalid badge color {color!r}: expected #rgb or #rrggbb")
    label = _clean_text(label)
    message = _clean_text(message)
    label_text_width = text_width(label)
    message_text_width = text_width(message)
    label_width = label_text_width + 2 * PADDING
    message_width = message_text_width + 2 * PADDING
    total_width = label_width + message_width
    title = f"{label}: {message}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width:g}" height="{HEIGHT}" '
        f'role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        '<linearGradient id="s" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>',
        f'<clipPath id="r"><rect width="{total_width:g}" height="{HEIGHT}" rx="3" fill="#fff"/>'
        "</clipPath>",
        '<g clip-path="url(#r)">',
        f'<rect width="{label_width:g}" height="{HEIGHT}" fill="{COLORS["label"]}"/>',
        f'<rect x="{label_width:g}" width="{message_width:g}" height="{HEIGHT}" fill="{color}"/>',
        f'<rect width="{total_width:g}" height="{HEIGHT}" fill="url(#s)"/>',
        "</g>",
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'text-rendering="geometricPrecision" font-size="{FONT_SIZE}">',
        *_text_elements(label, label_width / 2, label_text_width),
        *_text_elements(message, label_width + message_width / 2, message_text_width),
        "</g>",
        "</svg>",
    ]
    return "".join(parts).encode("utf-8")


def state_badge(component_name: str, state: str) -> bytes:
    """Render a badge of a component's state, one of the keys of `STATE_BADGES`."""
    try:
        message, color = STATE_BADGES[state]
    except KeyError:
        raise ValueError(
            f"unknown component state {state!r}: expected one of {', '.join(STATE_BADGES)}"
        ) from None
    return render_badge(component_name, message, color)


def uptime_badge(name: str, ratio: float | None, period_label: str) -> bytes:
    """Render an uptime badge such as "API uptime 30d | 99.99%", or "no data" for None.

    The percentage is rounded down as on the status page, so any downtime shows below 100%.
    """
    label = f"{name} uptime {period_label}"
    if ratio is not None and not 0 <= ratio <= 1:
        raise ValueError(f"invalid uptime ratio {ratio!r}: expected a number from 0 to 1")
    percent = format_percent(ratio)
    if percent is None:
        return render_badge(label, "no data", COLORS["grey"])
    # The color follows the rounded-down percentage, so 99.89% is never colored as 99.9%.
    displayed = float(percent.rstrip("%"))
    color = next((color for minimum, color in UPTIME_COLORS if displayed >= minimum), COLORS["red"])
    return render_badge(label, percent, color)


def response_time_badge(name: str, milliseconds: float | None) -> bytes:
    """Render a badge of the last response time, such as "API response time | 142 ms"."""
    label = f"{name} response time"
    if milliseconds is None:
        return render_badge(label, "no data", COLORS["grey"])
    if not math.isfinite(milliseconds) or milliseconds < 0:
        raise ValueError(f"invalid response time {milliseconds!r} ms: expected 0 or more")
    color = next(
        (color for maximum, color in RESPONSE_TIME_COLORS if milliseconds < maximum),
        COLORS["red"],
    )
    return render_badge(label, _format_milliseconds(milliseconds), color)


def text_width(text: str) -> float:
    """Estimate the width in px of `text` in Verdana 11px, rounded up to a tenth of a pixel."""
    ems = sum(_character_width(character) for character in text)
    return math.ceil(ems * FONT_SIZE / 100) / 10


def _character_width(character: str) -> int:
    code = ord(character)
    if 0x20 <= code <= 0x7E:
        return _VERDANA_WIDTHS[code - 0x20]
    if unicodedata.combining(character) or unicodedata.category(character) == "Cf":
        return 0
    if unicodedata.east_asian_width(character) in ("W", "F"):
        return _WIDE_EM
    # An accented Latin letter is about as wide as its base letter.
    base = unicodedata.normalize("NFKD", character)[:1]
    if base and base != character and 0x20 <= ord(base) <= 0x7E:
        return _VERDANA_WIDTHS[ord(base) - 0x20]
    return _FALLBACK_EM


def _clean_text(text: str) -> str:
    """Turn each whitespace character into a space and drop characters that XML 1.0 forbids.

    The forbidden ones are the control characters other than tab and newlines, surrogates,
    U+FFFE and U+FFFF; a badge has one line, so tabs and newlines become spaces as well.
    """
    characters = []
    for character in text:
        if character.isspace():
            characters.append(" ")
        elif unicodedata.category(character) in ("Cc", "Cs") or character in "\ufffe\uffff":
            continue
        else:
            characters.append(character)
    return "".join(characters).strip()


def _text_elements(text: str, center: float, width: float) -> list[str]:
    """Return a text element and its shadow one pixel below, both fitted to `width`."""
    escaped = escape(text)
    return [
        f'<text aria-hidden="true" x="{center:g}" y="15" fill="#010101" fill-opacity=".3" '
        f'textLength="{width:g}">{escaped}</text>',
        f'<text x="{center:g}" y="14" textLength="{width:g}">{escaped}</text>',
    ]


def _format_milliseconds(milliseconds: float) -> str:
    if round(milliseconds) < 1000:
        return f"{round(milliseconds)} ms"
    return f"{milliseconds / 1000:.2f} s"
