import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import Morsel, SimpleCookie
from pathlib import Path

import httpx
import pytest
import time_machine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from statuspage import accounts, passwords
from statuspage.config import Config, load_config
from statuspage.store import Store
from statuspage.web import auth
from statuspage.web.app import create_app

CONFIG = """
[site]
name = "PullLog"
timezone = "Asia/Tokyo"

[[components]]
id = "website"
name = "Website"
[components.check]
type = "http"
url = "http://127.0.0.1:9/"
"""

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
NAME = "alice"
PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "checks.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path, {})


@pytest.fixture(scope="module")
def password_hash() -> str:
    """Return one argon2 hash for all tests of this module, because each takes about 0.14 s."""
    return passwords.hash_password(PASSWORD)


@pytest.fixture
def data_dir(tmp_path: Path, password_hash: str) -> Path:
    data_dir = tmp_path / "data"
    store = Store.open(data_dir)
    try:
        accounts.create_operator(store.db, NAME, password_hash, NOW)
    finally:
        store.close()
    return data_dir


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def app(config: Config, data_dir: Path) -> Starlette:
    app = create_app(config, data_dir, run_checks=False)
    # A write API endpoint of its own, so these tests do not depend on other route modules.
    app.router.routes.append(Route("/api/test/operator", whoami, methods=["POST"]))
    return app


@pytest.fixture
def client(app: Starlette, clock: time_machine.Traveller) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@auth.api_key_required
async def whoami(request: Request) -> Response:
    return JSONResponse({"operator": request.state.operator})


def login_token(client: TestClient, path: str = "/admin/login") -> str:
    """Open the login page and return the CSRF token of its form."""
    response = client.get(path)
    assert response.status_code == 200
    found = CSRF_FIELD.search(response.text)
    assert found is not None
    return found[1]


def log_in(
    client: TestClient, name: str = NAME, password: str = PASSWORD, next_path: str = ""
) -> httpx.Response:
    token = login_token(client)
    return client.post(
        "/admin/login",
        data={"name": name, "password": password, "csrf_token": token, "next": next_path},
    )


def page_token(client: TestClient) -> str:
    """Return the CSRF token of the logout form on the admin home page."""
    response = client.get("/admin/")
    assert response.status_code == 200
    found = CSRF_FIELD.search(response.text)
    assert found is not None
    return found[1]


def set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    cookies: dict[str, Morsel[str]] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        cookies.update(parsed)
    return cookies


def session_cookie(response: httpx.Response) -> Morsel[str]:
    return set_cookies(response)[auth.SESSION_COOKIE]


def use_session(client: TestClient, token: str) -> None:
    client.cookies.clear()
    client.cookies.set(auth.SESSION_COOKIE, token, domain="testserver.local", path="/admin")


def is_logged_in(client: TestClient) -> bool:
    response = client.get("/admin/")
    return response.status_code == 200


def error_notice(response: httpx.Response) -> str:
    found = re.search(r'<p class="notice error" role="alert">([^<]*)</p>', response.text)
    assert found is not None, response.text
    return found[1]


def fail_logins(client: TestClient, count: int, name: str = NAME) -> None:
    for _ in range(count):
        response = log_in(client, name=name, password="wrong password!")
        assert response.status_code == 200


def new_api_key(
    data_dir: Path, name: str = "deploy-bot", expires_at: datetime | None = None
) -> tuple[int, str]:
    key = accounts.new_api_key()
    store = Store.open(data_dir)
    try:
        api_key = accounts.create_api_key(store.db, name, key, NOW, expires_at)
    finally:
        store.close()
    return api_key.id, key


def stored_api_key(data_dir: Path, key_id: int) -> accounts.ApiKey:
    store = Store.open(data_dir)
    try:
        api_key = accounts.api_key_by_id(store.db, key_id)
    finally:
        store.close()
    assert api_key is not None
    return api_key


def call_api(client: TestClient, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return client.post("/api/test/operator", headers=headers)


# Logging in


def test_login_redirects_to_admin_home(client: TestClient) -> None:
    response = log_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/"


def test_login_opens_admin_home(client: TestClient) -> None:
    log_in(client)
    assert is_logged_in(client)


def test_admin_home_links_sections(client: TestClient) -> None:
    log_in(client)
    text = client.get("/admin/").text
    assert 'href="/admin/incidents"' in text
    assert 'href="/admin/maintenance"' in text


def test_admin_home_shows_operator_name(client: TestClient) -> None:
    log_in(client)
    assert "Signed in as alice" in client.get("/admin/").text


def test_login_name_ignores_case(client: TestClient) -> None:
    assert log_in(client, name="ALICE").status_code == 303


def test_session_cookie_is_http_only(client: TestClient) -> None:
    assert session_cookie(log_in(client))["httponly"] is True


def test_session_cookie_is_same_site_lax(client: TestClient) -> None:
    assert session_cookie(log_in(client))["samesite"].lower() == "lax"


def test_session_cookie_path_is_admin(client: TestClient) -> None:
    assert session_cookie(log_in(client))["path"] == "/admin"


def test_session_cookie_not_secure_over_http(client: TestClient) -> None:
    assert not session_cookie(log_in(client))["secure"]


def test_session_cookie_secure_over_https(app: Starlette, clock: time_machine.Traveller) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        assert session_cookie(log_in(client))["secure"] is True


def test_session_cookie_has_no_max_age(client: TestClient) -> None:
    assert session_cookie(log_in(client))["max-age"] == ""


def test_session_token_stored_only_as_hash(client: TestClient, data_dir: Path) -> None:
    token = session_cookie(log_in(client)).value
    contents = b"".join(path.read_bytes() for path in data_dir.iterdir() if path.is_file())
    assert token.encode() not in contents
    assert accounts.token_hash(token).encode() in contents


def test_login_rotates_session(client: TestClient) -> None:
    client.cookies.set(auth.SESSION_COOKIE, "planted-by-attacker", domain="testserver.local")
    token = session_cookie(log_in(client)).value
    assert token != "planted-by-attacker"


def log_in_holding_session(client: TestClient, session_token: str) -> httpx.Response:
    """Log in from a browser that still sends the cookie of an earlier session."""
    client.cookies.clear()
    token = login_token(client)
    client.cookies.set(auth.SESSION_COOKIE, session_token, domain="testserver.local", path="/admin")
    return client.post(
        "/admin/login", data={"name": NAME, "password": PASSWORD, "csrf_token": token}
    )


def test_session_cookie_works_in_other_client(client: TestClient) -> None:
    token = session_cookie(log_in(client)).value
    use_session(client, token)
    assert is_logged_in(client)


def test_second_login_replaces_session(client: TestClient) -> None:
    first = session_cookie(log_in(client)).value
    second = session_cookie(log_in_holding_session(client, first)).value
    assert second != first


def test_second_login_ends_previous_session(client: TestClient) -> None:
    first = session_cookie(log_in(client)).value
    log_in_holding_session(client, first)
    use_session(client, first)
    assert not is_logged_in(client)


def test_login_deletes_login_form_cookie(client: TestClient) -> None:
    cookie = set_cookies(log_in(client))[auth.LOGIN_CSRF_COOKIE]
    assert cookie["max-age"] == "0"


def test_logged_in_operator_skips_login_form(client: TestClient) -> None:
    log_in(client)
    response = client.get("/admin/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/"


def test_successful_login_is_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="statuspage.web.auth"):
        log_in(client)
    assert "operator alice logged in from testclient" in caplog.text


# Failed logins


def test_wrong_password_shows_form_again(client: TestClient) -> None:
    response = log_in(client, password="wrong password!")
    assert response.status_code == 200
    assert auth.SESSION_COOKIE not in set_cookies(response)


def test_wrong_password_keeps_name(client: TestClient) -> None:
    response = log_in(client, password="wrong password!")
    assert 'value="alice"' in response.text


def test_wrong_password_and_unknown_user_same_message(client: TestClient) -> None:
    wrong_password = log_in(client, password="wrong password!")
    unknown_user = log_in(client, name="mallory")
    assert error_notice(wrong_password) == error_notice(unknown_user)


def test_wrong_password_and_unknown_user_same_status(client: TestClient) -> None:
    wrong_password = log_in(client, password="wrong password!")
    unknown_user = log_in(client, name="mallory")
    assert wrong_password.status_code == unknown_user.status_code


def test_failed_login_message_names_neither_part(client: TestClient) -> None:
    assert error_notice(log_in(client, name="mallory")) == "Invalid name or password."


@pytest.mark.parametrize("name", [NAME, "mallory", "not a valid name"])
def test_failed_login_costs_one_verification(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    hashes = []
    verify = passwords.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        hashes.append(password_hash)
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    log_in(client, name=name, password="wrong password!")
    assert len(hashes) == 1


def test_failed_login_is_logged_without_password(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="statuspage.web.auth"):
        log_in(client, password="wrong password!")
    assert "failed login for account 'alice' from testclient" in caplog.text
    assert "wrong password!" not in caplog.text


# Rate limits


def test_sixth_failure_from_one_address_is_rate_limited(client: TestClient) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    assert log_in(client, password="wrong password!").status_code == 429


def test_rate_limit_rejects_correct_password(client: TestClient) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    response = log_in(client)
    assert response.status_code == 429
    assert auth.SESSION_COOKIE not in set_cookies(response)


def test_rate_limited_login_checks_no_password(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    checked = []
    monkeypatch.setattr(passwords, "verify_password", lambda *args: checked.append(args))
    log_in(client)
    assert checked == []


def test_rate_limit_says_when_to_retry(client: TestClient) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    response = log_in(client)
    # 03:15 UTC is 12:15 in Tokyo, the site's time zone.
    assert "Try again after 2026-12-04 12:15 JST" in error_notice(response)
    assert response.headers["retry-after"] == "900"


def test_rate_limit_counts_account_in_any_case(client: TestClient) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, name="ALICE")
    assert log_in(client).status_code == 429


def test_rate_limit_per_account_spares_other_accounts(client: TestClient) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, name="mallory")
    assert log_in(client).status_code == 303


def test_rate_limit_per_address(client: TestClient) -> None:
    for number in range(auth.MAX_FAILURES_PER_ADDRESS):
        fail_logins(client, 1, name=f"user{number}")
    assert log_in(client).status_code == 429


def test_rate_limit_resets_after_window(client: TestClient, clock: time_machine.Traveller) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    clock.shift(auth.LOGIN_WINDOW)
    assert log_in(client).status_code == 303


def test_rate_limit_holds_until_window_ends(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    clock.shift(auth.LOGIN_WINDOW - timedelta(seconds=1))
    assert log_in(client).status_code == 429


def test_rate_limit_survives_restart(
    app: Starlette, config: Config, data_dir: Path, clock: time_machine.Traveller
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    restarted = create_app(config, data_dir, run_checks=False)
    with TestClient(restarted, follow_redirects=False) as client:
        assert log_in(client).status_code == 429


def test_old_failures_are_pruned(
    client: TestClient, data_dir: Path, clock: time_machine.Traveller
) -> None:
    fail_logins(client, 3)
    clock.shift(auth.LOGIN_WINDOW)
    fail_logins(client, 1)
    store = Store.open(data_dir)
    try:
        rows = store.db.execute("select key from login_attempts order by key").fetchall()
    finally:
        store.close()
    assert [row[0] for row in rows] == [
        "account:alice",
        "account:alice address:testclient",
        "address:testclient",
    ]


def client_at(app: Starlette, address: str) -> TestClient:
    """Return a client of the running app whose requests come from another address."""
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def test_failures_from_one_address_spare_other_addresses(
    app: Starlette, client: TestClient
) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    assert log_in(client_at(app, "203.0.113.7")).status_code == 303


def test_rate_limit_per_account_across_addresses(
    app: Starlette, client: TestClient, data_dir: Path
) -> None:
    account = accounts.RateLimit(accounts.account_key(NAME), 1000, auth.LOGIN_WINDOW)
    store = Store.open(data_dir)
    try:
        for _ in range(auth.MAX_FAILURES_PER_ACCOUNT):
            accounts.start_login_attempt(store.db, [account], NOW)
    finally:
        store.close()
    assert log_in(client_at(app, "203.0.113.7")).status_code == 429


def test_account_limit_is_far_above_address_limits() -> None:
    assert auth.MAX_FAILURES_PER_ACCOUNT >= 5 * auth.MAX_FAILURES_PER_ADDRESS


def test_successful_login_is_not_counted(client: TestClient) -> None:
    fail_logins(client, auth.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS - 1)
    log_in(client)
    client.cookies.clear()
    assert log_in(client).status_code == 303


# CSRF


def test_login_without_csrf_token_is_rejected(client: TestClient) -> None:
    login_token(client)
    response = client.post("/admin/login", data={"name": NAME, "password": PASSWORD})
    assert response.status_code == 403
    assert auth.SESSION_COOKIE not in set_cookies(response)


def test_login_without_form_cookie_is_rejected(client: TestClient) -> None:
    token = login_token(client)
    client.cookies.clear()
    response = client.post(
        "/admin/login", data={"name": NAME, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 403


def test_login_with_other_token_is_rejected(client: TestClient) -> None:
    login_token(client)
    response = client.post(
        "/admin/login", data={"name": NAME, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403


def test_rejected_login_form_can_be_sent_again(client: TestClient) -> None:
    response = client.post("/admin/login", data={"name": NAME, "password": PASSWORD})
    token = CSRF_FIELD.search(response.text)
    assert token is not None
    retried = client.post(
        "/admin/login", data={"name": NAME, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert retried.status_code == 303


def test_logout_without_csrf_token_is_rejected(client: TestClient) -> None:
    log_in(client)
    assert client.post("/admin/logout").status_code == 403


def test_logout_with_wrong_csrf_token_keeps_session(client: TestClient) -> None:
    log_in(client)
    client.post("/admin/logout", data={"csrf_token": "forged"})
    assert is_logged_in(client)


def test_login_form_token_is_not_valid_for_session(client: TestClient) -> None:
    form_token = login_token(client)
    log_in(client)
    response = client.post("/admin/logout", data={"csrf_token": form_token})
    assert response.status_code == 403


def test_oversized_login_form_is_rejected(client: TestClient) -> None:
    token = login_token(client)
    response = client.post(
        "/admin/login",
        data={"name": "x" * auth.MAX_LOGIN_FORM_BYTES, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 413


def test_login_form_without_length_is_rejected(client: TestClient) -> None:
    token = login_token(client)
    body = f"name={NAME}&password=x&csrf_token={token}".encode()
    response = client.post(
        "/admin/login",
        content=iter([body]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 411


def login_form_request(length: bytes) -> Request:
    headers = [(b"content-length", length)]
    return Request({"type": "http", "method": "POST", "headers": headers, "path": "/admin/login"})


def test_login_rejects_non_ascii_length() -> None:
    # Latin-1 0xB2 is "²", which str.isdigit() accepts and int() rejects.
    with pytest.raises(HTTPException) as raised:
        auth._check_login_form_size(login_form_request(b"\xb2"))
    assert raised.value.status_code == 411


def test_login_rejects_huge_length() -> None:
    with pytest.raises(HTTPException) as raised:
        auth._check_login_form_size(login_form_request(b"9" * 5000))
    assert raised.value.status_code == 413


def test_csrf_token_needs_operator_required() -> None:
    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/admin/x"})
    with pytest.raises(RuntimeError):
        auth.csrf_token(request)


# Logging out


def test_logout_redirects_to_login(client: TestClient) -> None:
    log_in(client)
    response = client.post("/admin/logout", data={"csrf_token": page_token(client)})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


def test_logout_ends_session_server_side(client: TestClient) -> None:
    token = session_cookie(log_in(client)).value
    client.post("/admin/logout", data={"csrf_token": page_token(client)})
    use_session(client, token)
    assert not is_logged_in(client)


def test_unknown_session_cookie_is_deleted(client: TestClient) -> None:
    use_session(client, "no-such-session")
    response = client.get("/admin/")
    assert session_cookie(response)["max-age"] == "0"


# Redirects after login


def test_protected_page_redirects_to_login_with_next(client: TestClient) -> None:
    response = client.get("/admin/?tab=open")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=%2Fadmin%2F%3Ftab%3Dopen"


def test_login_returns_to_requested_page(client: TestClient) -> None:
    response = log_in(client, next_path="/admin/incidents?status=open")
    assert response.headers["location"] == "/admin/incidents?status=open"


def test_login_form_carries_next(client: TestClient) -> None:
    text = client.get("/admin/login?next=/admin/maintenance").text
    assert 'name="next" value="/admin/maintenance"' in text


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/admin/../evil",
        "/administrator",
        "/",
        "/admin/login",
        "/admin/\r\nSet-Cookie: x=1",
    ],
)
def test_login_ignores_unsafe_next(client: TestClient, next_path: str) -> None:
    response = log_in(client, next_path=next_path)
    assert response.headers["location"] == "/admin/"


# Session expiry


def test_session_expires_after_idle_timeout(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    log_in(client)
    clock.shift(accounts.SESSION_IDLE_TIMEOUT)
    assert not is_logged_in(client)


def test_session_survives_just_under_idle_timeout(
    client: TestClient, clock: time_machine.Traveller
) -> None:
    log_in(client)
    clock.shift(accounts.SESSION_IDLE_TIMEOUT - timedelta(seconds=1))
    assert is_logged_in(client)


def test_activity_extends_session(client: TestClient, clock: time_machine.Traveller) -> None:
    log_in(client)
    clock.shift(timedelta(hours=11))
    client.get("/admin/")
    clock.shift(timedelta(hours=11))
    assert is_logged_in(client)


def test_session_ends_at_maximum_age(client: TestClient, clock: time_machine.Traveller) -> None:
    log_in(client)
    for _ in range(15):
        clock.shift(timedelta(hours=11))
        client.get("/admin/")
    clock.shift(accounts.SESSION_MAX_AGE - timedelta(hours=11 * 15))
    assert not is_logged_in(client)


def test_password_change_ends_session(client: TestClient, data_dir: Path) -> None:
    log_in(client)
    store = Store.open(data_dir)
    try:
        accounts.change_password(store.db, 1, passwords.hash_password("another password"), NOW)
    finally:
        store.close()
    assert not is_logged_in(client)


# Behind a proxy


@pytest.fixture
def served_url(config: Config, data_dir: Path, tmp_path: Path) -> Iterator[str]:
    """Run `statuspage serve` on a free port of 127.0.0.1 and return its base URL."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = int(listener.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key != "FORWARDED_ALLOW_IPS"}
    command = [sys.executable, "-m", "statuspage", "serve", "--config", str(config.path)]
    command += ["--data-dir", str(data_dir), "--port", str(port)]
    with (tmp_path / "serve.log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.get(url + "/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                pytest.fail("timed out after 30 s waiting for statuspage serve to start")
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)


def test_forwarded_https_from_local_proxy_sets_secure(served_url: str) -> None:
    response = httpx.get(served_url + "/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert set_cookies(response)[auth.LOGIN_CSRF_COOKIE]["secure"] is True


def test_plain_http_through_server_is_not_secure(served_url: str) -> None:
    response = httpx.get(served_url + "/admin/login")
    assert not set_cookies(response)[auth.LOGIN_CSRF_COOKIE]["secure"]


# Security headers


@pytest.mark.parametrize("path", ["/admin/login", "/admin/", "/admin/no-such-page"])
def test_admin_responses_are_not_cached(client: TestClient, path: str) -> None:
    assert client.get(path).headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/admin/login", "/admin/", "/admin/no-such-page"])
def test_admin_responses_deny_framing(client: TestClient, path: str) -> None:
    assert client.get(path).headers["x-frame-options"] == "DENY"


def test_public_page_has_no_admin_headers(client: TestClient) -> None:
    assert "x-frame-options" not in client.get("/").headers


# API keys


def test_api_key_accepted(client: TestClient, data_dir: Path) -> None:
    _, key = new_api_key(data_dir)
    response = call_api(client, key)
    assert response.status_code == 200
    assert response.json() == {"operator": "api key deploy-bot"}


def test_two_api_keys_valid_at_once(client: TestClient, data_dir: Path) -> None:
    _, old_key = new_api_key(data_dir, "deploy-old")
    _, new_key = new_api_key(data_dir, "deploy-new")
    assert call_api(client, old_key).status_code == 200
    assert call_api(client, new_key).status_code == 200


def test_missing_api_key_is_rejected(client: TestClient) -> None:
    response = call_api(client, None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="statuspage"'
    assert "missing API key" in response.json()["error"]["message"]


def test_unknown_api_key_is_rejected(client: TestClient) -> None:
    response = call_api(client, accounts.new_api_key())
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_other_auth_scheme_is_rejected(client: TestClient, data_dir: Path) -> None:
    _, key = new_api_key(data_dir)
    response = client.post("/api/test/operator", headers={"Authorization": f"Basic {key}"})
    assert response.status_code == 401


def test_revoked_api_key_is_rejected(client: TestClient, data_dir: Path) -> None:
    key_id, key = new_api_key(data_dir)
    store = Store.open(data_dir)
    try:
        accounts.revoke_api_key(store.db, key_id, NOW)
    finally:
        store.close()
    response = call_api(client, key)
    assert response.status_code == 401
    assert "was revoked at 2026-12-04T03:00:00+00:00" in response.json()["error"]["message"]


def test_expired_api_key_is_rejected(
    client: TestClient, data_dir: Path, clock: time_machine.Traveller
) -> None:
    _, key = new_api_key(data_dir, expires_at=NOW + timedelta(days=1))
    clock.shift(timedelta(days=1))
    response = call_api(client, key)
    assert response.status_code == 401
    assert "expired at 2026-12-05T03:00:00+00:00" in response.json()["error"]["message"]


def test_api_key_valid_until_expiry(
    client: TestClient, data_dir: Path, clock: time_machine.Traveller
) -> None:
    _, key = new_api_key(data_dir, expires_at=NOW + timedelta(days=1))
    clock.shift(timedelta(days=1) - timedelta(seconds=1))
    assert call_api(client, key).status_code == 200


def test_api_key_use_is_recorded(client: TestClient, data_dir: Path) -> None:
    key_id, key = new_api_key(data_dir)
    call_api(client, key)
    assert stored_api_key(data_dir, key_id).last_used_at == NOW


def test_api_key_use_recorded_once_a_minute(
    client: TestClient, data_dir: Path, clock: time_machine.Traveller
) -> None:
    key_id, key = new_api_key(data_dir)
    call_api(client, key)
    clock.shift(timedelta(seconds=59))
    call_api(client, key)
    assert stored_api_key(data_dir, key_id).last_used_at == NOW


def test_api_key_use_recorded_again_after_a_minute(
    client: TestClient, data_dir: Path, clock: time_machine.Traveller
) -> None:
    key_id, key = new_api_key(data_dir)
    call_api(client, key)
    clock.shift(timedelta(minutes=1))
    call_api(client, key)
    assert stored_api_key(data_dir, key_id).last_used_at == NOW + timedelta(minutes=1)


def test_api_key_needs_no_csrf_token(client: TestClient, data_dir: Path) -> None:
    _, key = new_api_key(data_dir)
    response = client.post(
        "/api/test/operator", headers={"Authorization": f"Bearer {key}"}, data={"x": "1"}
    )
    assert response.status_code == 200


def test_rejected_api_key_is_logged_without_key(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = accounts.new_api_key()
    with caplog.at_level(logging.WARNING, logger="statuspage.web.auth"):
        call_api(client, key)
    assert "unknown API key" in caplog.text
    assert key not in caplog.text
