import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from statuspage import accounts, passwords
from statuspage.cli import build_parser
from statuspage.cli_admin import run_admin
from statuspage.store import Store

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


class TerminalInput(io.StringIO):
    """Standard input that claims to be a terminal, so the command prompts with getpass."""

    def isatty(self) -> bool:
        return True


def admin(data_dir: Path, *args: str, stdin: str | io.StringIO = "") -> int:
    """Run `statuspage admin ARGS --data-dir DATA_DIR` in this process with `stdin` as input."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(stdin) if isinstance(stdin, str) else stdin)
        parsed = build_parser().parse_args(["admin", *args, "--data-dir", str(data_dir)])
        return run_admin(parsed)


def open_store(data_dir: Path) -> Store:
    return Store.open(data_dir)


def password_hash(data_dir: Path, name: str) -> str:
    store = open_store(data_dir)
    try:
        credentials = accounts.operator_credentials(store.db, name)
    finally:
        store.close()
    assert credentials is not None
    return credentials[1]


def create_key(data_dir: Path, capsys: pytest.CaptureFixture[str], *options: str) -> str:
    """Create a key named deploy-bot and return what the command printed on stdout."""
    assert admin(data_dir, "create-key", "deploy-bot", *options) == 0
    return capsys.readouterr().out.strip()


def stored_keys(data_dir: Path) -> list[accounts.ApiKey]:
    store = open_store(data_dir)
    try:
        return accounts.api_keys(store.db)
    finally:
        store.close()


# create-user


def test_create_user_reads_password_from_stdin(data_dir: Path) -> None:
    assert admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n") == 0
    assert passwords.verify_password(password_hash(data_dir, "alice"), PASSWORD)


def test_create_user_stores_argon2id_hash(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    assert password_hash(data_dir, "alice").startswith("$argon2id$")


def test_create_user_rejects_duplicate_name(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    assert admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n") == 2
    assert "an operator named 'alice' already exists" in capsys.readouterr().err


def test_create_user_rejects_name_differing_in_case(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    assert admin(data_dir, "create-user", "Alice", stdin=PASSWORD + "\n") == 2


def test_create_user_rejects_short_password(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin(data_dir, "create-user", "alice", stdin="short pass\n") == 2
    assert "too short: use at least 12 characters, not 10" in capsys.readouterr().err


def test_create_user_rejects_empty_password(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin(data_dir, "create-user", "alice", stdin="\n") == 2
    assert "the password is empty" in capsys.readouterr().err


def test_rejected_password_creates_no_user(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin="short\n")
    store = open_store(data_dir)
    try:
        assert accounts.operators(store.db) == []
    finally:
        store.close()


def test_create_user_rejects_invalid_name(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin(data_dir, "create-user", "alice smith", stdin=PASSWORD + "\n") == 2
    assert "invalid operator name 'alice smith'" in capsys.readouterr().err


def test_create_user_prompts_twice_on_terminal(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr("getpass.getpass", getpass)
    assert admin(data_dir, "create-user", "alice", stdin=TerminalInput()) == 0
    assert len(prompts) == 2


def test_create_user_rejects_differing_repeat(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert admin(data_dir, "create-user", "alice", stdin=TerminalInput()) == 2
    assert "the two passwords differ" in capsys.readouterr().err


def test_create_user_from_piped_stdin_in_subprocess(data_dir: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "statuspage", "admin", "create-user", "bob", "--data-dir", data_dir],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert passwords.verify_password(password_hash(data_dir, "bob"), PASSWORD)


def test_create_user_help_explains_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["admin", "create-user", "--help"])
    assert "standard input is not a terminal" in capsys.readouterr().out


def test_data_dir_defaults_to_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSPAGE_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert run_admin(build_parser().parse_args(["admin", "create-user", "alice"])) == 0
    assert (tmp_path / "from-env" / "statuspage.db").is_file()


# set-password and list-users


def test_set_password_replaces_hash(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    assert admin(data_dir, "set-password", "alice", stdin="another long password\n") == 0
    assert passwords.verify_password(password_hash(data_dir, "alice"), "another long password")


def test_set_password_ends_sessions(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    store = open_store(data_dir)
    try:
        operator_id, _ = accounts.operator_credentials(store.db, "alice") or (0, "")
        accounts.create_session(store.db, operator_id, "hash-of-token", "csrf", NOW)
    finally:
        store.close()

    admin(data_dir, "set-password", "alice", stdin="another long password\n")

    store = open_store(data_dir)
    try:
        assert accounts.active_session(store.db, "hash-of-token", NOW) is None
    finally:
        store.close()


def test_set_password_rejects_unknown_operator(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin(data_dir, "set-password", "nobody", stdin=PASSWORD + "\n") == 2
    assert "no operator named 'nobody'" in capsys.readouterr().err


def test_set_password_rejects_short_password(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    assert admin(data_dir, "set-password", "alice", stdin="short\n") == 2


def seed_login_failures(data_dir: Path, *keys: str) -> None:
    store = open_store(data_dir)
    try:
        limits = [accounts.RateLimit(key, 100, timedelta(minutes=15)) for key in keys]
        accounts.start_login_attempt(store.db, limits, NOW)
    finally:
        store.close()


def login_failure_keys(data_dir: Path) -> list[str]:
    store = open_store(data_dir)
    try:
        rows = store.db.execute("select key from login_attempts order by key").fetchall()
    finally:
        store.close()
    return [row[0] for row in rows]


ALICE_FAILURES = ("account:alice", "account:alice address:203.0.113.7")
OTHER_FAILURES = ("account:alice2 address:203.0.113.7", "address:203.0.113.7")


def test_set_password_clears_login_failures(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    seed_login_failures(data_dir, *ALICE_FAILURES, *OTHER_FAILURES)
    admin(data_dir, "set-password", "alice", stdin="another long password\n")
    assert login_failure_keys(data_dir) == list(OTHER_FAILURES)


def test_unlock_clears_login_failures(data_dir: Path) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    seed_login_failures(data_dir, *ALICE_FAILURES, *OTHER_FAILURES)
    assert admin(data_dir, "unlock", "ALICE") == 0
    assert login_failure_keys(data_dir) == list(OTHER_FAILURES)


def test_unlock_reports_count(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    seed_login_failures(data_dir, *ALICE_FAILURES)
    capsys.readouterr()
    admin(data_dir, "unlock", "alice")
    assert "Cleared 2 failed login(s) of 'alice'" in capsys.readouterr().out


def test_unlock_rejects_unknown_operator(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin(data_dir, "unlock", "nobody") == 2
    assert "no operator named 'nobody'" in capsys.readouterr().err


def test_list_users_shows_names(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    admin(data_dir, "create-user", "alice", stdin=PASSWORD + "\n")
    admin(data_dir, "create-user", "bob", stdin=PASSWORD + "\n")
    capsys.readouterr()
    assert admin(data_dir, "list-users") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["NAME", "alice", "bob"]


# API keys


def test_create_key_prints_only_the_key(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = create_key(data_dir, capsys)
    assert key.startswith("sp_")
    assert len(key) >= 3 + 32
    assert "\n" not in key


def test_create_key_stores_only_hash(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = create_key(data_dir, capsys)
    contents = b"".join(path.read_bytes() for path in data_dir.iterdir() if path.is_file())
    assert key.encode() not in contents
    assert accounts.token_hash(key).encode() in contents


def test_create_key_says_never_expires(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    admin(data_dir, "create-key", "deploy")
    assert "never expires" in capsys.readouterr().err


def test_create_key_accepts_date(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_key(data_dir, capsys, "--expires", "2027-01-31")
    assert stored_keys(data_dir)[0].expires_at == datetime(2027, 1, 31, tzinfo=UTC)


def test_create_key_accepts_duration(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_key(data_dir, capsys, "--expires", "90d")
    assert stored_keys(data_dir)[0].expires_at == NOW + timedelta(days=90)


def test_create_key_accepts_time_with_offset(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_key(data_dir, capsys, "--expires", "2027-01-31T09:00+09:00")
    assert stored_keys(data_dir)[0].expires_at == datetime(2027, 1, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2020-01-31", "is not in the future"),
        ("0d", "is not in the future"),
        ("soon", "invalid --expires 'soon'"),
        ("90 days", "invalid --expires '90 days'"),
        ("2027-01-31T09:00", "has no UTC offset"),
        ("9999-12-31T23:59-05:00", "is outside the supported range"),
    ],
)
def test_create_key_rejects_bad_expiry(
    data_dir: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    assert admin(data_dir, "create-key", "deploy", "--expires", value) == 2
    assert message in capsys.readouterr().err


def test_rejected_expiry_creates_no_key(data_dir: Path) -> None:
    admin(data_dir, "create-key", "deploy", "--expires", "soon")
    assert stored_keys(data_dir) == []


def test_create_key_rejects_empty_name(data_dir: Path) -> None:
    assert admin(data_dir, "create-key", "  ") == 2


def test_list_keys_shows_prefix_not_key(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = create_key(data_dir, capsys)
    admin(data_dir, "list-keys")
    output = capsys.readouterr().out
    assert key[:10] + "..." in output
    assert key not in output


def test_list_keys_shows_columns(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_key(data_dir, capsys)
    admin(data_dir, "list-keys")
    header, row = capsys.readouterr().out.splitlines()
    assert header.split("  ")[0:2] == ["ID", "NAME"]
    assert row.startswith("1   deploy-bot")
    assert row.endswith("active")


def test_revoke_key_marks_key_revoked(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_key(data_dir, capsys)
    assert admin(data_dir, "revoke-key", "1") == 0
    assert stored_keys(data_dir)[0].revoked_at == NOW


def test_revoke_key_keeps_first_revocation_time(
    data_dir: Path, capsys: pytest.CaptureFixture[str], clock: time_machine.Traveller
) -> None:
    create_key(data_dir, capsys)
    admin(data_dir, "revoke-key", "1")
    clock.shift(timedelta(hours=1))
    assert admin(data_dir, "revoke-key", "1") == 0
    assert stored_keys(data_dir)[0].revoked_at == NOW


def test_list_keys_shows_revoked_state(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_key(data_dir, capsys)
    admin(data_dir, "revoke-key", "1")
    capsys.readouterr()
    admin(data_dir, "list-keys")
    row = capsys.readouterr().out.splitlines()[1]
    assert row.endswith("2026-12-04 03:00 UTC  revoked")


def test_revoke_key_rejects_unknown_id(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert admin(data_dir, "revoke-key", "7") == 2
    assert "no API key with id 7" in capsys.readouterr().err


def test_revoke_key_rejects_non_numeric_id(data_dir: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        admin(data_dir, "revoke-key", "sp_abc")
    assert exited.value.code == 2


@pytest.mark.parametrize("value", [str(2**63), "99999999999999999999999"])
def test_revoke_key_rejects_id_beyond_sqlite_range(
    data_dir: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        admin(data_dir, "revoke-key", value)
    assert exited.value.code == 2
    assert f"invalid key id '{value}'" in capsys.readouterr().err


def test_revoke_key_accepts_largest_sqlite_id(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin(data_dir, "revoke-key", str(2**63 - 1)) == 2
    assert f"no API key with id {2**63 - 1}" in capsys.readouterr().err
