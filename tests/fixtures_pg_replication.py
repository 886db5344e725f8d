"""A real streaming replication pair, a primary and one standby, from the tests' server binaries.

Both servers live in one temporary directory under /tmp and listen only on a Unix socket in
it. As root, PostgreSQL refuses to run, so every server command runs as the `pgserver` system
user that pgserver itself uses, which then owns the directory.
"""

from __future__ import annotations

import enum
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.fixtures_postgres import postgres_bin_dir
from tests.pg_versions import server_user

SUPERUSER = "postgres"
REPLICATION_ROLE = "replicator"
MONITOR_ROLE = "monitor"  # pg_monitor, like the monitoring role in production
PLAIN_ROLE = "plain"  # only the CONNECT privilege that PUBLIC has by default
STANDBY_NAME = "standby1"  # application_name of the standby's WAL receiver
CASCADE_NAME = "cascade1"  # application_name of the cascading standby's WAL receiver


# Bounds for waiting on the servers. A condition that takes longer fails the test.
COMMAND_TIMEOUT = 60.0  # seconds for one initdb, pg_basebackup or pg_ctl call
WAIT_TIMEOUT = 15.0  # seconds for replication to reach an expected state
POLL_INTERVAL = 0.05

PG_HBA = f"""\
local   all           all                  trust
local   replication   {REPLICATION_ROLE}   trust
"""

# fsync is off because the servers only live for one test module. Autovacuum is off so that
# no WAL appears that a test did not write.
PRIMARY_CONF = """
listen_addresses = ''
port = {port}
unix_socket_directories = '{socket_dir}'
wal_level = replica
max_wal_senders = 4
fsync = off
autovacuum = off
"""

# postgresql.auto.conf is read last, so these lines override what `pg_basebackup -R` wrote.
# The standby reports its replay position every second rather than every 10 s, and retries a
# lost primary every second, so the tests do not wait long for either.
STANDBY_AUTO_CONF = """
port = {port}
primary_conninfo = '{conninfo}'
wal_receiver_status_interval = 1
wal_retrieve_retry_interval = '1s'
"""


class Node(enum.StrEnum):
    PRIMARY = "primary"
    STANDBY = "standby"  # streams from the primary
    CASCADE = "cascade"  # streams from the standby, built only by the cascading fixture


# The servers listen only on Unix sockets in a directory of their own, so any ports will do.
PORTS = {Node.PRIMARY: 5432, Node.STANDBY: 5433, Node.CASCADE: 5434}


@dataclass
class ReplicationPair:
    """A running primary and standby, with helpers to break and repair the replication."""

    root: Path
    socket_dir: Path
    bin_dir: Path
    system_user: str | None  # None when the tests do not run as root

    @property
    def primary_dsn(self) -> str:
        return self.dsn(Node.PRIMARY)

    @property
    def standby_dsn(self) -> str:
        return self.dsn(Node.STANDBY)

    def dsn(self, node: Node, user: str = SUPERUSER) -> str:
        return make_conninfo(
            host=str(self.socket_dir), port=PORTS[node], user=user, dbname="postgres"
        )

    def data_dir(self, node: Node) -> Path:
        return self.root / node.value

    def start(self, node: Node) -> None:
        log = self.root / f"{node.value}.log"
        self.run("pg_ctl", "-D", self.data_dir(node), "-l", log, "-w", "-t", "30", "start")

    def stop(self, node: Node) -> None:
        self.run("pg_ctl", "-D", self.data_dir(node), "-m", "fast", "-w", "-t", "30", "stop")

    def running(self, node: Node) -> bool:
        # pg_ctl status exits with 0 while the server runs and with 3 when it does not.
        completed = self._command("pg_ctl", "-D", self.data_dir(node), "status")
        return completed.returncode == 0

    def start_standby(self) -> None:
        self.start(Node.STANDBY)

    def stop_standby(self) -> None:
        self.stop(Node.STANDBY)

    def start_primary(self) -> None:
        self.start(Node.PRIMARY)

    def stop_primary(self) -> None:
        self.stop(Node.PRIMARY)

    def pause_replay(self) -> None:
        self.execute(Node.STANDBY, "select pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.execute(Node.STANDBY, "select pg_wal_replay_resume()")

    @contextmanager
    def frozen_wal_receiver(self) -> Iterator[None]:
        """Suspend the standby's WAL receiver process, so that it neither receives nor replies.

        To the primary this looks like a hung standby host.
        """
        pid = self.execute(Node.STANDBY, "select pid from pg_stat_wal_receiver")
        assert pid is not None, "the standby has no WAL receiver"
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def execute(self, node: Node, query: str) -> Any:
        """Run `query` as superuser on `node` and return the first column of its first row.

        Return None when the statement returns no rows.
        """
        with psycopg.connect(self.dsn(node), autocommit=True, connect_timeout=5) as connection:
            cursor = connection.execute(query)
            row = cursor.fetchone() if cursor.description is not None else None
        return None if row is None else row[0]

    def write_on_primary(self) -> str:
        """Commit a new table with rows on the primary, and return the WAL position after it."""
        with psycopg.connect(self.primary_dsn, autocommit=True, connect_timeout=5) as connection:
            connection.execute("drop table if exists replication_probe")
            connection.execute("create table replication_probe (id int)")
            connection.execute("insert into replication_probe select generate_series(1, 100)")
            row = connection.execute("select pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        return str(row[0])

    def wait_for(self, node: Node, query: str, what: str) -> None:
        """Poll `query` on `node` until it returns true, for at most WAIT_TIMEOUT seconds.

        A server that refuses connections, such as one still starting, counts as false.
        """
        deadline = time.monotonic() + WAIT_TIMEOUT
        while True:
            try:
                if self.execute(node, query):
                    return
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {WAIT_TIMEOUT:g} s waiting until {what}")
            time.sleep(POLL_INTERVAL)

    def wait_until_streaming(self) -> None:
        self.wait_for(
            Node.PRIMARY,
            "select exists (select from pg_stat_replication"
            f" where application_name = '{STANDBY_NAME}' and state = 'streaming')",
            "the primary streams to the standby",
        )
        self.wait_for(
            Node.STANDBY,
            "select exists (select from pg_stat_wal_receiver where status = 'streaming')",
            "the standby's WAL receiver streams",
        )

    def wait_until_caught_up(self) -> None:
        """Wait until pg_stat_replication on the primary shows all of its WAL replayed."""
        self.wait_for(
            Node.PRIMARY,
            "select exists (select from pg_stat_replication"
            f" where application_name = '{STANDBY_NAME}'"
            " and replay_lsn = sent_lsn and sent_lsn = pg_current_wal_lsn())",
            "the standby has replayed all WAL of the primary",
        )

    def clone(self, upstream: Node, node: Node, application_name: str) -> None:
        """Create `node` as a standby of `upstream` with pg_basebackup, without starting it."""
        conninfo = make_conninfo(
            host=str(self.socket_dir),
            port=PORTS[upstream],
            user=REPLICATION_ROLE,
            application_name=application_name,
        )
        data_dir = self.data_dir(node)
        self.run(
            "pg_basebackup",
            "-D",
            data_dir,
            "-d",
            conninfo,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        with (data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.write(STANDBY_AUTO_CONF.format(port=PORTS[node], conninfo=conninfo))

    def restore(self) -> None:
        """Bring the pair back to both servers running, replay resumed and streaming."""
        if not self.running(Node.PRIMARY):
            self.start_primary()
        if not self.running(Node.STANDBY):
            self.start_standby()
        if self.execute(Node.STANDBY, "select pg_is_wal_replay_paused()"):
            self.resume_replay()
        self.wait_until_streaming()

    def run(self, program: str, *args: str | Path) -> None:
        completed = self._command(program, *args)
        if completed.returncode != 0:
            logs = "\n".join(
                f"--- {path.name}\n{path.read_text(errors='replace')}"
                for path in sorted(self.root.glob("*.log"))
            )
            raise RuntimeError(
                f"{program} failed with exit code {completed.returncode}:\n"
                f"{completed.stdout}\n{logs}"
            )

    def _command(self, program: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
        # pg_ctl start leaves the server attached to the stdout it was given, so a pipe would
        # never reach end of file. A file does not have that problem.
        with tempfile.TemporaryFile("w+") as output:
            completed = subprocess.run(
                [str(self.bin_dir / program), *map(str, args)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                timeout=COMMAND_TIMEOUT,
                check=False,
                text=True,
                **self._as_system_user(),
            )
            output.seek(0)
            completed.stdout = output.read()
        return completed

    def _as_system_user(self) -> dict[str, Any]:
        if self.system_user is None:
            return {}
        import pwd

        entry = pwd.getpwnam(self.system_user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


@pytest.fixture(scope="module", name="replication_pair")
def replication_pair_fixture() -> Iterator[ReplicationPair]:
    """Start a primary and a streaming standby for one test module, and stop both after it."""
    bin_dir, system_user = _prepare_binaries()
    root = Path(tempfile.mkdtemp(prefix="statuspage-replication-"))
    pair = ReplicationPair(root, root / "sockets", bin_dir, system_user)
    try:
        pair.socket_dir.mkdir()
        if system_user is not None:
            for path in (root, pair.socket_dir):
                shutil.chown(path, system_user, system_user)
        _build(pair)
        yield pair
    finally:
        _stop_all(pair)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="replication")
def replication_fixture(replication_pair: ReplicationPair) -> ReplicationPair:
    """The module's pair, streaming again after whatever the previous test broke."""
    replication_pair.restore()
    return replication_pair


@pytest.fixture(name="cascading_standby")
def cascading_standby_fixture(replication: ReplicationPair) -> Iterator[ReplicationPair]:
    """The pair with a third server streaming from the standby, stopped after the test."""
    if not replication.data_dir(Node.CASCADE).exists():
        replication.clone(Node.STANDBY, Node.CASCADE, CASCADE_NAME)
    replication.start(Node.CASCADE)
    try:
        replication.wait_for(
            Node.STANDBY,
            "select exists (select from pg_stat_replication"
            f" where application_name = '{CASCADE_NAME}' and state = 'streaming')",
            "the standby streams to the cascading standby",
        )
        yield replication
    finally:
        replication.stop(Node.CASCADE)


def _prepare_binaries() -> tuple[Path, str | None]:
    """Use the same server binaries as the other PostgreSQL tests, run by the same user."""
    bin_dir = postgres_bin_dir()
    user = server_user()
    if user is not None:
        # The server user must reach the binaries through every parent directory.
        for directory in [bin_dir.parent, *bin_dir.parent.parents]:
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH:
                directory.chmod(mode | stat.S_IXOTH)
    return bin_dir, user


def _build(pair: ReplicationPair) -> None:
    primary = pair.data_dir(Node.PRIMARY)
    pair.run(
        "initdb",
        "-D",
        primary,
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=utf8",
        "--no-sync",
        "--no-instructions",
    )
    # Appending and overwriting keep the files' owner, the system user when run as root.
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write(PRIMARY_CONF.format(port=PORTS[Node.PRIMARY], socket_dir=pair.socket_dir))
    (primary / "pg_hba.conf").write_text(PG_HBA)
    pair.start_primary()

    with psycopg.connect(pair.primary_dsn, autocommit=True) as connection:
        connection.execute(f"create role {REPLICATION_ROLE} login replication")
        connection.execute(f"create role {MONITOR_ROLE} login in role pg_monitor")
        connection.execute(f"create role {PLAIN_ROLE} login")

    pair.clone(Node.PRIMARY, Node.STANDBY, STANDBY_NAME)
    pair.start_standby()
    pair.wait_until_streaming()


def _stop_all(pair: ReplicationPair) -> None:
    for node in (Node.CASCADE, Node.STANDBY, Node.PRIMARY):
        if (pair.data_dir(node) / "postmaster.pid").exists() and pair.running(node):
            pair.stop(node)
