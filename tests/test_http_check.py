"""Tests for the HTTP probe against real servers on 127.0.0.1."""

from __future__ import annotations

import logging
import ssl
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
import trustme

from statuspage.checks.http import HttpProbe, create_client
from statuspage.conditions import Condition
from statuspage.config import HttpCheck
from statuspage.result import Failure, Outcome, Result
from tests.fixtures_http import (
    HOST,
    ApiTarget,
    gzip_bomb_body,
    self_signed_ssl_context,
    server_ssl_context,
)

pytestmark = pytest.mark.anyio

USER_AGENT = "statuspage-test/1.0"
STATUS_IS_SUCCESS = Condition(
    kind="json", path=("status",), path_text="status", operator="==", value="success"
)


def http_check(url: str, **overrides: Any) -> HttpCheck:
    settings: dict[str, Any] = {"headers": (("User-Agent", USER_AGENT),), "timeout": 2.0}
    settings.update(overrides)
    return HttpCheck(url=url, **settings)


async def run_check(url: str, client: httpx.AsyncClient | None = None, **overrides: Any) -> Result:
    """Run one check with a new client from `create_client` unless the test passes its own."""
    settings = http_check(url, **overrides)
    if client is not None:
        return await HttpProbe("api", settings, client).run()
    async with create_client() as own_client:
        return await HttpProbe("api", settings, own_client).run()


def trusting_client(ca: trustme.CA) -> httpx.AsyncClient:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return create_client(verify=context)


# Success


async def test_success_is_ok(api_target: ApiTarget) -> None:
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.OK


async def test_success_has_no_failure(api_target: ApiTarget) -> None:
    result = await run_check(api_target.url)
    assert result.failure is None
    assert result.reason == ""


async def test_success_records_status_code(api_target: ApiTarget) -> None:
    result = await run_check(api_target.url)
    assert result.details["status_code"] == 200


async def test_success_records_body_bytes(api_target: ApiTarget) -> None:
    result = await run_check(api_target.url)
    assert result.details["body_bytes"] == len(b'{"status": "success"}')


async def test_success_measures_latency(api_target: ApiTarget) -> None:
    result = await run_check(api_target.url)
    assert result.latency is not None
    assert 0 < result.latency < 2.0


async def test_result_keeps_component_id(api_target: ApiTarget) -> None:
    async with create_client() as client:
        result = await HttpProbe("billing-api", http_check(api_target.url), client).run()
    assert result.component_id == "billing-api"


async def test_result_time_is_start_in_utc(api_target: ApiTarget) -> None:
    start = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        result = await run_check(api_target.url)
    assert result.time == start
    assert result.time.utcoffset() == timedelta(0)


async def test_close_leaves_shared_client_open(api_target: ApiTarget) -> None:
    async with create_client() as client:
        probe = HttpProbe("api", http_check(api_target.url), client)
        await probe.close()
        assert not client.is_closed
        result = await probe.run()
    assert result.outcome is Outcome.OK


async def test_configured_method_is_used(api_target: ApiTarget) -> None:
    await run_check(api_target.url, method="HEAD")
    assert [request.method for request in api_target.requests] == ["HEAD"]


# Status


async def test_status_500_is_status_failure(api_target: ApiTarget) -> None:
    api_target.mode = "error"
    result = await run_check(api_target.url)
    assert result.failure is Failure.STATUS


async def test_status_500_outcome_is_failed(api_target: ApiTarget) -> None:
    api_target.mode = "error"
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.FAILED


async def test_status_500_reason_is_number_only(api_target: ApiTarget) -> None:
    api_target.mode = "error"
    result = await run_check(api_target.url)
    assert result.reason == "HTTP 500"


async def test_status_500_details_status_code(api_target: ApiTarget) -> None:
    api_target.mode = "error"
    result = await run_check(api_target.url)
    assert result.details["status_code"] == 500


async def test_expected_status_accepts_500(api_target: ApiTarget) -> None:
    api_target.mode = "error"
    result = await run_check(api_target.url, expected_status=(500,))
    assert result.outcome is Outcome.OK


async def test_unexpected_200_is_status_failure(api_target: ApiTarget) -> None:
    result = await run_check(api_target.url, expected_status=(204,))
    assert result.reason == "HTTP 200"


# Timeouts and latency


async def test_hanging_server_is_timeout(api_target: ApiTarget) -> None:
    api_target.mode = "hang"
    result = await run_check(api_target.url, timeout=0.5)
    assert result.failure is Failure.TIMEOUT


async def test_timeout_reason_names_seconds(api_target: ApiTarget) -> None:
    api_target.mode = "hang"
    result = await run_check(api_target.url, timeout=0.5)
    assert result.reason == "timed out after 0.5 s"


async def test_hanging_server_returns_near_deadline(api_target: ApiTarget) -> None:
    api_target.mode = "hang"
    began = time.monotonic()
    await run_check(api_target.url, timeout=0.5)
    assert time.monotonic() - began < 1.5


async def test_dripping_body_is_stopped_by_deadline(api_target: ApiTarget) -> None:
    # Each byte arrives well within httpx's read timeout, so only the whole-run deadline
    # can end the run.
    api_target.mode = "drip"
    api_target.drip_interval = 0.05
    began = time.monotonic()
    result = await run_check(api_target.url, timeout=0.5, conditions=(STATUS_IS_SUCCESS,))
    assert result.failure is Failure.TIMEOUT
    assert result.details["error"] == "TimeoutError"  # asyncio's deadline, not httpx's
    assert time.monotonic() - began < 1.5


async def test_slow_response_is_degraded(api_target: ApiTarget) -> None:
    api_target.mode = "slow"
    api_target.delay = 0.3
    result = await run_check(api_target.url, degraded_response_time=0.1)
    assert result.outcome is Outcome.DEGRADED


async def test_degraded_reason_names_threshold(api_target: ApiTarget) -> None:
    api_target.mode = "slow"
    api_target.delay = 0.3
    result = await run_check(api_target.url, degraded_response_time=0.1)
    assert result.reason.startswith("slow response (")
    assert result.reason.endswith(" s, threshold 0.1 s)")


async def test_degraded_is_succeeded(api_target: ApiTarget) -> None:
    api_target.mode = "slow"
    api_target.delay = 0.3
    result = await run_check(api_target.url, degraded_response_time=0.1)
    assert result.succeeded
    assert result.failure is None


async def test_slow_response_without_threshold_is_ok(api_target: ApiTarget) -> None:
    api_target.mode = "slow"
    api_target.delay = 0.3
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.OK


async def test_slow_latency_covers_delay(api_target: ApiTarget) -> None:
    api_target.mode = "slow"
    api_target.delay = 0.3
    result = await run_check(api_target.url)
    assert result.latency is not None
    assert result.latency >= 0.3


async def test_failed_condition_is_not_degraded(api_target: ApiTarget) -> None:
    api_target.mode = "missing_field"
    result = await run_check(
        api_target.url, degraded_response_time=0.0001, conditions=(STATUS_IS_SUCCESS,)
    )
    assert result.failure is Failure.CONDITION


# Conditions


async def test_conditions_that_hold_are_ok(api_target: ApiTarget) -> None:
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.outcome is Outcome.OK


async def test_invalid_json_is_condition_failure(api_target: ApiTarget) -> None:
    api_target.mode = "invalid_json"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.failure is Failure.CONDITION
    assert result.reason == "response body is not valid JSON"


async def test_missing_field_is_condition_failure(api_target: ApiTarget) -> None:
    api_target.mode = "missing_field"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.failure is Failure.CONDITION
    assert result.reason == "JSON path status not found"


async def test_wrong_value_is_condition_failure(api_target: ApiTarget) -> None:
    condition = Condition(
        kind="json", path=("status",), path_text="status", operator="==", value="degraded"
    )
    result = await run_check(api_target.url, conditions=(condition,))
    assert result.reason == 'condition failed: status == "degraded"'


async def test_body_contains_condition_holds(api_target: ApiTarget) -> None:
    condition = Condition(kind="body_contains", text='"success"')
    result = await run_check(api_target.url, conditions=(condition,))
    assert result.outcome is Outcome.OK


async def test_gzip_body_is_decoded_for_conditions(api_target: ApiTarget) -> None:
    api_target.mode = "gzip"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.outcome is Outcome.OK


async def test_deflate_body_is_decoded_for_conditions(api_target: ApiTarget) -> None:
    api_target.mode = "deflate"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.outcome is Outcome.OK


async def test_raw_deflate_body_is_decoded_for_conditions(api_target: ApiTarget) -> None:
    api_target.mode = "raw_deflate"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.outcome is Outcome.OK


async def test_invalid_gzip_is_condition_failure(api_target: ApiTarget) -> None:
    api_target.mode = "bad_gzip"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.failure is Failure.CONDITION
    assert result.reason == "response body has invalid compressed data"


async def test_unknown_encoding_is_condition_failure(api_target: ApiTarget) -> None:
    api_target.mode = "unknown_encoding"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.failure is Failure.CONDITION
    assert result.reason == "response body uses an unsupported content encoding"


async def test_unknown_encoding_without_conditions_is_ok(api_target: ApiTarget) -> None:
    api_target.mode = "unknown_encoding"
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.OK


async def test_condition_failure_keeps_status_code(api_target: ApiTarget) -> None:
    api_target.mode = "missing_field"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.details["status_code"] == 200


# Body size


async def test_huge_body_with_conditions_fails(api_target: ApiTarget) -> None:
    api_target.mode = "huge"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.failure is Failure.CONDITION


async def test_huge_body_reason_names_limit(api_target: ApiTarget) -> None:
    api_target.mode = "huge"
    result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
    assert result.reason == "response body larger than 1 MiB"


async def test_body_limit_reason_uses_bytes(api_target: ApiTarget) -> None:
    api_target.mode = "huge"
    result = await run_check(api_target.url, max_body_bytes=1000, conditions=(STATUS_IS_SUCCESS,))
    assert result.reason == "response body larger than 1000 bytes"


async def test_huge_body_without_conditions_is_ok(api_target: ApiTarget) -> None:
    api_target.mode = "huge"
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.OK


async def test_huge_body_reads_at_most_limit(api_target: ApiTarget) -> None:
    api_target.mode = "huge"
    result = await run_check(api_target.url, max_body_bytes=200_000)
    assert result.details["body_bytes"] == 200_000


async def test_endless_body_without_conditions_is_ok(api_target: ApiTarget) -> None:
    api_target.mode = "endless"
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.OK


async def test_endless_body_memory_is_bounded(api_target: ApiTarget) -> None:
    api_target.mode = "endless"
    tracemalloc.start()
    try:
        result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.failure is Failure.CONDITION
    assert peak < 8 * 1024 * 1024


async def test_gzip_bomb_memory_is_bounded(api_target: ApiTarget) -> None:
    api_target.mode = "gzip_bomb"
    gzip_bomb_body()  # built before measuring, because the server's copy is not the probe's
    tracemalloc.start()
    try:
        result = await run_check(api_target.url, conditions=(STATUS_IS_SUCCESS,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.reason == "response body larger than 1 MiB"
    assert peak < 8 * 1024 * 1024


# Redirects


async def test_redirect_chain_is_followed(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.OK


async def test_redirect_chain_counts_redirects(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    result = await run_check(api_target.url)
    assert result.details["redirects"] == 3


async def test_redirect_chain_requests_every_hop(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    await run_check(api_target.url)
    paths = [request.path for request in api_target.requests]
    assert paths == ["/", "/chain/1", "/chain/2", "/chain/3"]


async def test_redirect_chain_at_limit_is_ok(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    result = await run_check(api_target.url, max_redirects=3)
    assert result.outcome is Outcome.OK


async def test_too_many_redirects_is_redirect_failure(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    result = await run_check(api_target.url, max_redirects=2)
    assert result.failure is Failure.REDIRECT
    assert result.reason == "too many redirects (more than 2)"


async def test_redirect_loop_is_redirect_failure(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_loop"
    result = await run_check(api_target.url, max_redirects=10)
    assert result.failure is Failure.REDIRECT
    assert result.reason == "redirect loop"


async def test_redirect_not_followed_is_status_failure(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    result = await run_check(api_target.url, follow_redirects=False)
    assert result.failure is Failure.STATUS
    assert result.reason == "HTTP 302"


async def test_redirect_not_followed_can_be_expected(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    result = await run_check(api_target.url, follow_redirects=False, expected_status=(302,))
    assert result.outcome is Outcome.OK


async def test_see_other_switches_post_to_get(api_target: ApiTarget) -> None:
    api_target.mode = "see_other"
    await run_check(api_target.url, method="POST")
    methods = [request.method for request in api_target.requests]
    assert methods == ["POST", "GET"]


async def test_redirect_to_other_scheme_is_redirect_failure(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_to"
    api_target.redirect_location = f"ftp://{HOST}/file"
    result = await run_check(api_target.url)
    assert result.failure is Failure.REDIRECT
    assert result.reason == "redirect to an unsupported URL"


async def test_cross_origin_redirect_drops_authorization(
    api_target: ApiTarget, api_target_factory: Callable[..., ApiTarget]
) -> None:
    other = api_target_factory()
    api_target.mode = "redirect_to"
    api_target.redirect_location = other.url_for("/landing")
    headers = (("User-Agent", USER_AGENT), ("Authorization", "Bearer secret-token"))
    result = await run_check(api_target.url, headers=headers)
    assert result.outcome is Outcome.OK
    assert other.requests[0].header("Authorization") is None


async def test_same_origin_redirect_keeps_authorization(api_target: ApiTarget) -> None:
    api_target.mode = "redirect_chain"
    headers = (("User-Agent", USER_AGENT), ("Authorization", "Bearer secret-token"))
    await run_check(api_target.url, headers=headers)
    assert api_target.requests[-1].header("Authorization") == "Bearer secret-token"


# Headers and cookies


async def test_set_cookie_is_never_sent_back(api_target: ApiTarget) -> None:
    api_target.mode = "set_cookie"
    async with create_client() as client:
        await run_check(api_target.url, client=client)
        await run_check(api_target.url, client=client)
    assert [request.header("Cookie") for request in api_target.requests] == [None, None]


async def test_set_cookie_leaves_jar_empty(api_target: ApiTarget) -> None:
    api_target.mode = "set_cookie"
    async with create_client() as client:
        await run_check(api_target.url, client=client)
        assert len(client.cookies.jar) == 0


async def test_cookie_not_sent_across_redirects(api_target: ApiTarget) -> None:
    api_target.mode = "set_cookie"
    async with create_client() as client:
        await run_check(api_target.url, client=client)
        api_target.mode = "redirect_chain"
        await run_check(api_target.url, client=client)
    assert [request.header("Cookie") for request in api_target.requests] == [None] * 5


async def test_user_agent_from_settings_is_sent(api_target: ApiTarget) -> None:
    api_target.mode = "echo_headers"
    await run_check(api_target.url)
    assert api_target.requests[0].header("User-Agent") == USER_AGENT


async def test_no_authorization_header_is_sent(api_target: ApiTarget) -> None:
    api_target.mode = "echo_headers"
    await run_check(api_target.url)
    assert api_target.requests[0].header("Authorization") is None


async def test_configured_headers_are_sent(api_target: ApiTarget) -> None:
    headers = (("User-Agent", USER_AGENT), ("Accept", "application/json"))
    await run_check(api_target.url, headers=headers)
    assert api_target.requests[0].header("Accept") == "application/json"


async def test_environment_proxy_is_ignored(
    api_target: ApiTarget, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://{HOST}:{closed_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    result = await run_check(api_target.url)
    assert result.outcome is Outcome.OK


async def test_netrc_credentials_are_ignored(
    api_target: ApiTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpx 0.29 reads .netrc only through an explicit NetRCAuth, so this test guards against
    # the shared client ever being given one.
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {HOST}\nlogin monitor\npassword secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    await run_check(api_target.url)
    assert api_target.requests[0].header("Authorization") is None


# Connection errors


async def test_closed_port_is_refused(closed_port: int) -> None:
    result = await run_check(f"http://{HOST}:{closed_port}/")
    assert result.failure is Failure.REFUSED
    assert result.reason == "connection refused"


async def test_dns_failure_is_dns() -> None:
    result = await run_check("http://statuspage-test.invalid/")
    assert result.failure is Failure.DNS
    assert result.reason == "DNS lookup failed"


async def test_connection_reset_is_connection_failure(api_target: ApiTarget) -> None:
    api_target.mode = "reset"
    result = await run_check(api_target.url)
    assert result.failure is Failure.CONNECTION
    assert result.reason == "connection reset"


async def test_connection_error_details_name_class(closed_port: int) -> None:
    result = await run_check(f"http://{HOST}:{closed_port}/")
    assert result.details["error"] == "ConnectError"
    assert result.details["cause"] == "ConnectionRefusedError"


async def test_target_restart_keeps_port(api_target: ApiTarget) -> None:
    api_target.stop()
    down = await run_check(api_target.url)
    api_target.start()
    up = await run_check(api_target.url)
    assert down.failure is Failure.REFUSED
    assert up.outcome is Outcome.OK


# TLS


async def test_untrusted_certificate_is_tls_failure(tls_target: ApiTarget) -> None:
    result = await run_check(tls_target.url)
    assert result.failure is Failure.TLS
    assert result.reason == "TLS certificate issued by an unknown authority"


async def test_trusted_certificate_is_ok(tls_target: ApiTarget, tls_ca: trustme.CA) -> None:
    async with trusting_client(tls_ca) as client:
        result = await run_check(tls_target.url, client=client)
    assert result.outcome is Outcome.OK


async def test_expired_certificate_reason(
    tls_ca: trustme.CA, api_target_factory: Callable[..., ApiTarget]
) -> None:
    now = datetime.now(UTC)
    cert = tls_ca.issue_cert(
        HOST, not_before=now - timedelta(days=2), not_after=now - timedelta(days=1)
    )
    target = api_target_factory(ssl_context=server_ssl_context(cert))
    async with trusting_client(tls_ca) as client:
        result = await run_check(target.url, client=client)
    assert result.failure is Failure.TLS
    assert result.reason == "TLS certificate expired"


async def test_self_signed_certificate_reason(
    tls_ca: trustme.CA, api_target_factory: Callable[..., ApiTarget]
) -> None:
    target = api_target_factory(ssl_context=self_signed_ssl_context(tls_ca))
    result = await run_check(target.url)
    assert result.failure is Failure.TLS
    assert result.reason == "TLS certificate is self-signed"


async def test_certificate_for_other_host_reason(
    tls_ca: trustme.CA, api_target_factory: Callable[..., ApiTarget]
) -> None:
    cert = tls_ca.issue_cert("127.0.0.2")
    target = api_target_factory(ssl_context=server_ssl_context(cert))
    async with trusting_client(tls_ca) as client:
        result = await run_check(target.url, client=client)
    assert result.failure is Failure.TLS
    assert result.reason == "TLS certificate does not match the host"


async def test_plain_http_to_tls_port_fails_connection(tls_target: ApiTarget) -> None:
    # The TLS server closes a connection that does not start a handshake, so the client sees
    # a connection closed without a response.
    result = await run_check(f"http://{HOST}:{tls_target.port}/", timeout=1.0)
    assert result.failure is Failure.CONNECTION


async def test_tls_to_plain_port_is_handshake_failure(api_target: ApiTarget) -> None:
    result = await run_check(f"https://{HOST}:{api_target.port}/", timeout=1.0)
    assert result.failure is Failure.TLS
    assert result.reason == "TLS handshake failed"


# Unexpected errors


async def test_unexpected_error_is_internal(api_target: ApiTarget) -> None:
    client = create_client()
    await client.aclose()  # sending on a closed client raises RuntimeError
    result = await run_check(api_target.url, client=client)
    assert result.failure is Failure.INTERNAL
    assert result.reason == "internal error in the check"


async def test_unexpected_error_is_logged_with_component(
    api_target: ApiTarget, caplog: pytest.LogCaptureFixture
) -> None:
    client = create_client()
    await client.aclose()
    with caplog.at_level(logging.ERROR, logger="statuspage.checks.http"):
        await run_check(api_target.url, client=client)
    assert "api" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is not None


async def test_invalid_header_is_internal_failure(api_target: ApiTarget) -> None:
    headers = (("User-Agent", USER_AGENT), ("X-Broken", "line\r\nbreak"))
    result = await run_check(api_target.url, headers=headers)
    assert result.failure is Failure.INTERNAL


# Public reasons


@pytest.mark.parametrize(
    ("mode", "overrides"),
    [
        ("error", {}),
        ("hang", {"timeout": 0.5}),
        ("slow", {"degraded_response_time": 0.05}),
        ("invalid_json", {"conditions": (STATUS_IS_SUCCESS,)}),
        ("huge", {"conditions": (STATUS_IS_SUCCESS,)}),
        ("redirect_loop", {}),
        ("redirect_chain", {"max_redirects": 1}),
        ("reset", {}),
    ],
)
async def test_reason_never_names_host_or_port(
    api_target: ApiTarget, mode: str, overrides: dict[str, Any]
) -> None:
    api_target.mode = mode
    api_target.delay = 0.2
    result = await run_check(api_target.url_for("/health?token=secret"), **overrides)
    assert result.reason
    assert HOST not in result.reason
    assert str(api_target.port) not in result.reason
    assert "secret" not in result.reason
    assert "health" not in result.reason


async def test_refused_reason_never_names_port(closed_port: int) -> None:
    result = await run_check(f"http://user:secret@{HOST}:{closed_port}/health")
    assert str(closed_port) not in result.reason
    assert "secret" not in result.reason
