from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from statuspage.badges import (
    COLORS,
    render_badge,
    response_time_badge,
    state_badge,
    text_width,
    uptime_badge,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(badge: bytes) -> ET.Element:
    return ET.fromstring(badge)


def title(badge: bytes) -> str:
    element = parse(badge).find(f"{SVG}title")
    assert element is not None
    return element.text or ""


def visible_texts(badge: bytes) -> list[str]:
    """Return the label and message as drawn, without their shadows."""
    return [
        element.text or ""
        for element in parse(badge).iter(f"{SVG}text")
        if element.get("aria-hidden") != "true"
    ]


def message_color(badge: bytes) -> str | None:
    rects = parse(badge).findall(f"{SVG}g/{SVG}rect")
    return rects[1].get("fill")


def width(badge: bytes) -> float:
    return float(parse(badge).get("width", "0"))


def test_badge_is_svg_document() -> None:
    root = parse(render_badge("build", "passing", "#4c1"))

    assert root.tag == f"{SVG}svg"


def test_badge_title_reads_label_and_message() -> None:
    badge = render_badge("API", "operational", "#4c1")

    assert title(badge) == "API: operational"


def test_badge_has_accessible_name() -> None:
    root = parse(render_badge("API", "operational", "#4c1"))

    assert root.get("role") == "img"
    assert root.get("aria-label") == "API: operational"


def test_badge_escapes_markup_characters() -> None:
    badge = render_badge('A<b>&"c', "x > y", "#4c1")

    assert b"<b>" not in badge
    assert visible_texts(badge) == ['A<b>&"c', "x > y"]
    assert title(badge) == 'A<b>&"c: x > y'
    assert parse(badge).get("aria-label") == 'A<b>&"c: x > y'


def test_badge_drops_characters_xml_forbids() -> None:
    badge = render_badge("a\x00b\x1bc", "line\nbreak\ttab", "#4c1")

    assert visible_texts(badge) == ["abc", "line break tab"]


def test_badge_keeps_japanese_label() -> None:
    badge = state_badge("決済 API", "operational")

    assert visible_texts(badge) == ["決済 API", "operational"]
    assert title(badge) == "決済 API: operational"


def test_badge_width_grows_with_label() -> None:
    short = render_badge("API", "ok", "#4c1")
    long = render_badge("API gateway", "ok", "#4c1")

    assert width(long) > width(short)


def test_badge_width_grows_with_message() -> None:
    short = render_badge("API", "ok", "#4c1")
    long = render_badge("API", "operational", "#4c1")

    assert width(long) > width(short)


def test_badge_text_fits_estimated_width() -> None:
    root = parse(render_badge("API", "operational", "#4c1"))
    label_rect = root.findall(f"{SVG}g/{SVG}rect")[0]
    label_text = next(e for e in root.iter(f"{SVG}text") if e.get("aria-hidden") != "true")

    assert float(label_rect.get("width", "0")) == float(label_text.get("textLength", "0")) + 10


def test_badge_rejects_invalid_color() -> None:
    with pytest.raises(ValueError, match="invalid badge color"):
        render_badge("API", "ok", 'red" onload="alert(1)')


def test_text_width_counts_wide_characters_as_one_em() -> None:
    assert text_width("決済") == 22.0


def test_text_width_of_narrow_and_wide_latin_letters() -> None:
    assert text_width("iiii") < text_width("WWWW")


def test_text_width_treats_accented_letter_as_base_letter() -> None:
    assert text_width("é") == text_width("e")


@pytest.mark.parametrize(
    ("state", "message", "color"),
    [
        ("operational", "operational", COLORS["brightgreen"]),
        ("degraded", "degraded", COLORS["yellow"]),
        ("partial_outage", "partial outage", COLORS["orange"]),
        ("major_outage", "major outage", COLORS["red"]),
        ("down", "down", COLORS["red"]),
        ("maintenance", "maintenance", COLORS["blue"]),
        ("no_data", "no data", COLORS["grey"]),
    ],
)
def test_state_badge_message_and_color(state: str, message: str, color: str) -> None:
    badge = state_badge("API", state)

    assert visible_texts(badge) == ["API", message]
    assert message_color(badge) == color


def test_state_badge_rejects_unknown_state() -> None:
    with pytest.raises(ValueError, match="unknown component state 'broken'"):
        state_badge("API", "broken")


def test_uptime_badge_without_data_reads_no_data() -> None:
    badge = uptime_badge("API", None, "30d")

    assert visible_texts(badge) == ["API uptime 30d", "no data"]
    assert message_color(badge) == COLORS["grey"]


def test_uptime_badge_never_shows_zero_without_data() -> None:
    badge = uptime_badge("API", None, "30d")

    assert not any("%" in text for text in visible_texts(badge))
    assert "%" not in title(badge)


def test_uptime_badge_rounds_down_with_downtime() -> None:
    badge = uptime_badge("API", 0.99996, "30d")

    assert visible_texts(badge)[1] == "99.99%"


def test_uptime_badge_full_uptime() -> None:
    badge = uptime_badge("API", 1.0, "30d")

    assert visible_texts(badge)[1] == "100.00%"


def test_uptime_badge_zero_uptime_is_red() -> None:
    badge = uptime_badge("API", 0.0, "24h")

    assert visible_texts(badge)[1] == "0.00%"
    assert message_color(badge) == COLORS["red"]


@pytest.mark.parametrize(
    ("ratio", "color"),
    [
        (0.9995, COLORS["brightgreen"]),
        (0.995, COLORS["green"]),
        (0.98, COLORS["yellowgreen"]),
        (0.96, COLORS["yellow"]),
        (0.92, COLORS["orange"]),
        (0.5, COLORS["red"]),
    ],
)
def test_uptime_badge_color(ratio: float, color: str) -> None:
    assert message_color(uptime_badge("API", ratio, "30d")) == color


def test_uptime_badge_color_follows_shown_percentage() -> None:
    # 0.998999... shows as 99.89%, below the 99.9% needed for bright green.
    assert message_color(uptime_badge("API", 0.9989999, "30d")) == COLORS["green"]


def test_uptime_badge_rejects_ratio_above_one() -> None:
    with pytest.raises(ValueError, match=r"invalid uptime ratio 1\.5"):
        uptime_badge("API", 1.5, "30d")


def test_response_time_badge_in_milliseconds() -> None:
    badge = response_time_badge("API", 142.4)

    assert visible_texts(badge) == ["API response time", "142 ms"]
    assert message_color(badge) == COLORS["brightgreen"]


def test_response_time_badge_in_seconds() -> None:
    badge = response_time_badge("API", 2345.0)

    assert visible_texts(badge)[1] == "2.35 s"
    assert message_color(badge) == COLORS["orange"]


def test_response_time_badge_rounding_to_one_second() -> None:
    assert visible_texts(response_time_badge("API", 999.7))[1] == "1.00 s"


def test_response_time_badge_without_data() -> None:
    badge = response_time_badge("API", None)

    assert visible_texts(badge)[1] == "no data"
    assert message_color(badge) == COLORS["grey"]


def test_response_time_badge_rejects_negative_time() -> None:
    with pytest.raises(ValueError, match="invalid response time"):
        response_time_badge("API", -1.0)
