"""Validators, 304 responses, Cache-Control and one render per snapshot, through the app."""

import asyncio
import functools
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import Headers

from statuspage import statuspage_v2
from statuspage.config import Site
from statuspage.snapshot import Snapshot
from statuspage.state import EffectiveState
from statuspage.web import public_data
from statuspage.web.caching import (
    PUBLIC_CACHE_CONTROL,
    CachedResponse,
    ResponseCache,
    cache_key,
    not_modified,
)
from statuspage.web.context import AppContext
from tests.public_app import AUTH, INCIDENT, NOW, App, running_app

CACHED_PATHS = (
    "/",
    "/history",
    "/feed.atom",
    "/maintenance.ics",
    "/badges/api/status.svg",
    "/api/v1/components",
    "/api/v2/summary.json",
)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with running_app(tmp_path) as running:
        yield running


class Counter:
    """Wrap a function and count its calls."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.function(*args, **kwargs)

    def __get__(self, instance: Any, owner: Any) -> Callable[..., Any]:
        """Bind like a function, so a Counter can replace a method on a class."""
        return functools.partial(self, instance)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    """Count page renders, summary.json payloads and reads of the published records."""
    counters = {
        "page": Counter(AppContext.render),
        "summary": Counter(statuspage_v2.PAYLOADS["summary.json"]),
        "published": Counter(public_data.load_published),
    }
    monkeypatch.setattr(AppContext, "render", counters["page"])
    monkeypatch.setitem(statuspage_v2.PAYLOADS, "summary.json", counters["summary"])  # type: ignore[arg-type]
    monkeypatch.setattr(public_data, "load_published", counters["published"])
    return counters


# Validators


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_response_has_strong_etag(app: App, path: str) -> None:
    etag = app.client.get(path).headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')


def test_etag_is_hash_of_body(app: App) -> None:
    response = app.client.get("/api/v1/components")
    expected = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    assert response.headers["etag"] == expected


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_matching_etag_is_304(app: App, path: str) -> None:
    etag = app.client.get(path).headers["etag"]
    response = app.client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_304_has_no_body(app: App) -> None:
    etag = app.client.get("/").headers["etag"]
    assert app.client.get("/", headers={"If-None-Match": etag}).content == b""


def test_304_repeats_validators(app: App) -> None:
    first = app.client.get("/feed.atom")
    response = app.client.get("/feed.atom", headers={"If-None-Match": first.headers["etag"]})
    assert response.headers["etag"] == first.headers["etag"]
    assert response.headers["last-modified"] == first.headers["last-modified"]
    assert response.headers["cache-control"] == PUBLIC_CACHE_CONTROL


def test_other_etag_is_200(app: App) -> None:
    response = app.client.get("/", headers={"If-None-Match": '"something-else"'})
    assert response.status_code == 200


def test_weak_form_of_etag_is_304(app: App) -> None:
    etag = app.client.get("/").headers["etag"]
    response = app.client.get("/", headers={"If-None-Match": f'"x", W/{etag}'})
    assert response.status_code == 304


def test_etag_changes_with_body(app: App) -> None:
    before = app.client.get("/api/v1/incidents").headers["etag"]
    app.post_incident()
    assert app.client.get("/api/v1/incidents").headers["etag"] != before


def test_if_modified_since_last_modified_is_304(app: App) -> None:
    last_modified = app.client.get("/api/v2/summary.json").headers["last-modified"]
    response = app.client.get("/api/v2/summary.json", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304


def test_if_modified_since_earlier_is_200(app: App) -> None:
    earlier = format_datetime(NOW - timedelta(seconds=1), usegmt=True)
    response = app.client.get("/api/v2/summary.json", headers={"If-Modified-Since": earlier})
    assert response.status_code == 200


def test_invalid_if_modified_since_is_200(app: App) -> None:
    response = app.client.get("/", headers={"If-Modified-Since": "yesterday"})
    assert response.status_code == 200


def test_if_none_match_wins_over_if_modified_since(app: App) -> None:
    last_modified = app.client.get("/").headers["last-modified"]
    headers = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert app.client.get("/", headers=headers).status_code == 200


def test_last_modified_is_snapshot_time_not_now(app: App) -> None:
    app.clock.shift(timedelta(minutes=7))
    last_modified = app.client.get("/api/v1/status").headers["last-modified"]
    assert parsedate_to_datetime(last_modified) == NOW


def test_last_modified_stays_while_body_is_unchanged(app: App) -> None:
    app.client.get("/badges/website/status.svg")
    app.clock.shift(timedelta(minutes=7))
    app.refresh()
    last_modified = app.client.get("/badges/website/status.svg").headers["last-modified"]
    assert parsedate_to_datetime(last_modified) == NOW


def test_last_modified_moves_when_body_changes(app: App) -> None:
    app.client.get("/api/v1/incidents")
    app.clock.shift(timedelta(minutes=7))
    app.post_incident()
    last_modified = app.client.get("/api/v1/incidents").headers["last-modified"]
    assert parsedate_to_datetime(last_modified) == NOW + timedelta(minutes=7)


# Cache-Control


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_public_response_cache_control(app: App, path: str) -> None:
    assert app.client.get(path).headers["cache-control"] == PUBLIC_CACHE_CONTROL


def test_write_response_is_no_store(app: App) -> None:
    response = app.client.post("/api/v1/incidents", json=INCIDENT, headers=AUTH)
    assert response.headers["cache-control"] == "no-store"


def test_rejected_write_is_no_store(app: App) -> None:
    response = app.client.post("/api/v1/incidents", json=INCIDENT)
    assert response.headers["cache-control"] == "no-store"


def test_admin_is_no_store(app: App) -> None:
    response = app.client.get("/admin/login")
    assert response.headers["cache-control"] == "no-store"


def test_healthz_is_not_cached(app: App) -> None:
    assert "etag" not in app.client.get("/healthz").headers


def test_not_found_is_not_cached(app: App) -> None:
    assert "etag" not in app.client.get("/incidents/999").headers


# HEAD


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_head_has_no_body(app: App, path: str) -> None:
    response = app.client.head(path)
    assert response.status_code == 200
    assert response.content == b""


def test_head_has_headers_of_get(app: App) -> None:
    head = app.client.head("/api/v2/summary.json")
    get = app.client.get("/api/v2/summary.json")
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == get.headers["content-type"]


def test_head_first_then_get_returns_body(app: App) -> None:
    app.client.head("/feed.rss")
    assert app.client.get("/feed.rss").content.startswith(b"<?xml")


def test_head_with_matching_etag_is_304(app: App) -> None:
    etag = app.client.get("/").headers["etag"]
    assert app.client.head("/", headers={"If-None-Match": etag}).status_code == 304


# One render per snapshot


def test_crowd_renders_each_response_once(app: App, renders: dict[str, Counter]) -> None:
    statuses = set()
    for _ in range(1000):
        statuses.add(app.client.get("/").status_code)
        statuses.add(app.client.get("/api/v2/summary.json").status_code)

    assert statuses == {200}
    assert renders["page"].calls == 1
    assert renders["summary"].calls == 1
    assert renders["published"].calls == 1


def test_new_snapshot_renders_again(app: App, renders: dict[str, Counter]) -> None:
    app.client.get("/")
    app.refresh()
    app.client.get("/")
    assert renders["page"].calls == 2


def test_feeds_of_one_snapshot_read_store_once(app: App, renders: dict[str, Counter]) -> None:
    for path in ("/feed.rss", "/feed.atom", "/maintenance.ics", "/api/v1/incidents"):
        app.client.get(path)
    assert renders["published"].calls == 1


def test_unknown_query_parameter_shares_response(app: App, renders: dict[str, Counter]) -> None:
    app.client.get("/")
    app.client.get("/?utm_source=mail")
    assert renders["page"].calls == 1


def test_month_parameter_renders_each_month(app: App, renders: dict[str, Counter]) -> None:
    app.client.get("/history?month=2026-11")
    app.client.get("/history?month=2026-12")
    assert renders["page"].calls == 2


def test_repeated_parameter_order_is_part_of_key(app: App) -> None:
    first = app.client.get("/api/v1/components/api/history?days=1&days=2")
    second = app.client.get("/api/v1/components/api/history?days=2&days=1")
    assert (len(first.json()["days"]), len(second.json()["days"])) == (2, 1)


def test_repeated_parameter_keeps_every_value_in_key() -> None:
    scope = {"path": "/history", "query_string": b"month=2026-11&x=1&month=2026-10"}
    assert cache_key(scope, include_host=False) == "/history?month=2026-11&month=2026-10"


def test_host_is_part_of_key_without_site_url(app: App) -> None:
    app.client.get("/feed.atom")
    other = app.client.get("/feed.atom", headers={"Host": "status.example.org"})
    assert b"http://status.example.org/feed.atom" in other.content


# ResponseCache


def snapshot_at(moment: datetime) -> Snapshot:
    site = Site(name="PullLog", timezone=ZoneInfo("Asia/Tokyo"))
    return Snapshot(moment, site, moment.date(), EffectiveState.NO_DATA, (), ())


def put(cache: ResponseCache, snapshot: Snapshot, key: str, body: bytes) -> CachedResponse:
    cache.get(snapshot, key)
    return cache.put(snapshot, key, (), body)


def test_cache_keeps_last_modified_of_same_body() -> None:
    cache = ResponseCache()
    put(cache, snapshot_at(NOW), "/", b"same")
    later = put(cache, snapshot_at(NOW + timedelta(minutes=5)), "/", b"same")
    assert later.last_modified == NOW


def test_cache_moves_last_modified_on_new_body() -> None:
    cache = ResponseCache()
    put(cache, snapshot_at(NOW), "/", b"old")
    later = put(cache, snapshot_at(NOW + timedelta(minutes=5)), "/", b"new")
    assert later.last_modified == NOW + timedelta(minutes=5)


def test_last_modified_moves_within_second() -> None:
    cache = ResponseCache()
    first = put(cache, snapshot_at(NOW + timedelta(milliseconds=100)), "/", b"old")
    second = put(cache, snapshot_at(NOW + timedelta(milliseconds=600)), "/", b"new")
    assert second.last_modified > first.last_modified


def test_new_body_within_second_is_200() -> None:
    cache = ResponseCache()
    first = put(cache, snapshot_at(NOW + timedelta(milliseconds=100)), "/", b"old")
    second = put(cache, snapshot_at(NOW + timedelta(milliseconds=600)), "/", b"new")
    since = format_datetime(first.last_modified, usegmt=True)
    assert not not_modified(Headers({"if-modified-since": since}), second)


def test_last_modified_grows_per_new_body() -> None:
    cache = ResponseCache()
    times = [
        put(cache, snapshot_at(NOW + timedelta(milliseconds=n)), "/", body).last_modified
        for n, body in ((0, b"a"), (300, b"b"), (600, b"a"))
    ]
    assert times == [NOW, NOW + timedelta(seconds=1), NOW + timedelta(seconds=2)]


def test_body_after_stale_response_is_later() -> None:
    cache = ResponseCache()
    put(cache, snapshot_at(NOW), "/", b"old")
    stale_snapshot = snapshot_at(NOW + timedelta(milliseconds=100))
    cache.get(stale_snapshot, "/")
    current = snapshot_at(NOW + timedelta(milliseconds=200))
    cache.get(current, "/")
    stale = cache.put(stale_snapshot, "/", (), b"stale")
    kept = cache.put(current, "/", (), b"old")
    assert kept.last_modified > stale.last_modified


def test_cache_last_modified_has_whole_seconds() -> None:
    cache = ResponseCache()
    kept = put(cache, snapshot_at(NOW + timedelta(microseconds=900)), "/", b"body")
    assert kept.last_modified == NOW


def test_cache_drops_responses_of_old_snapshot() -> None:
    cache = ResponseCache()
    put(cache, snapshot_at(NOW), "/", b"body")
    assert cache.get(snapshot_at(NOW), "/") is None


def test_cache_stops_keeping_at_max_entries() -> None:
    cache = ResponseCache(max_entries=2)
    snapshot = snapshot_at(NOW)
    for key in ("/a", "/b", "/c"):
        put(cache, snapshot, key, b"body")
    kept = [key for key in ("/a", "/b", "/c") if cache.get(snapshot, key) is not None]
    assert kept == ["/a", "/b"]


def test_cache_stops_keeping_at_max_bytes() -> None:
    cache = ResponseCache(max_bytes=10)
    snapshot = snapshot_at(NOW)
    put(cache, snapshot, "/a", b"12345678")
    put(cache, snapshot, "/b", b"123")
    assert cache.get(snapshot, "/b") is None


def test_cache_does_not_keep_response_of_replaced_snapshot() -> None:
    cache = ResponseCache()
    old = snapshot_at(NOW)
    cache.get(old, "/")
    cache.get(snapshot_at(NOW), "/")
    cache.put(old, "/", (), b"stale")
    assert cache.get(old, "/") is None


def test_cache_value_is_computed_once_per_snapshot() -> None:
    cache = ResponseCache()
    snapshot = snapshot_at(NOW)
    calls = []

    async def compute() -> int:
        calls.append(1)
        return len(calls)

    async def read_twice() -> list[int]:
        return [await cache.value(snapshot, "n", compute) for _ in range(2)]

    assert asyncio.run(read_twice()) == [1, 1]


def cached(last_modified: datetime = NOW) -> CachedResponse:
    return CachedResponse((), b"body", '"abc"', last_modified)


def test_not_modified_accepts_star() -> None:
    assert not_modified(Headers({"if-none-match": "*"}), cached())


def test_not_modified_rejects_date_without_zone() -> None:
    headers = Headers({"if-modified-since": "2026-12-04 03:00:00"})
    assert not not_modified(headers, cached())


def test_not_modified_accepts_later_date() -> None:
    later = format_datetime(NOW + timedelta(hours=1), usegmt=True)
    assert not_modified(Headers({"if-modified-since": later}), cached())


def test_not_modified_without_conditions_is_false() -> None:
    assert not not_modified(Headers({}), cached(datetime(2000, 1, 1, tzinfo=UTC)))
