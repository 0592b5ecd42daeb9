"""deploy/backup.sh: an online, consistent backup of the database, SQLite or PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .conftest import require_service, unavailable

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "deploy" / "backup.sh"
POSTGRES_TEST_URL = os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/chat")


def backup(database_url: str, backup_dir: Path, keep_days: int = 14) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BACKUP_DIR": str(backup_dir),
        "KEEP_DAYS": str(keep_days),
    }
    return subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def require(tool: str) -> None:
    if shutil.which(tool) is None:
        unavailable(f"{tool} is not installed")


def test_sqlite_backup_holds_what_is_still_in_the_wal(tmp_path: Path) -> None:
    require("sqlite3")
    database = tmp_path / "db.sqlite3"
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the rows stay in db.sqlite3-wal
    writer.execute("CREATE TABLE chat_roomevent (seq INTEGER PRIMARY KEY, text TEXT)")
    writer.executemany("INSERT INTO chat_roomevent (text) VALUES (?)", [(f"event {n}",) for n in range(500)])
    writer.commit()
    assert (tmp_path / "db.sqlite3-wal").stat().st_size > 0
    backups = tmp_path / "backups"
    old = backups / "db-2000-01-01T000000Z.sqlite3"
    backups.mkdir()
    old.write_bytes(b"an expired backup")
    os.utime(old, (time.time() - 30 * 86400,) * 2)

    result = backup(f"sqlite:///{database}", backups)  # sqlite:////abs/path, as in chat.env
    writer.close()
    assert result.returncode == 0, result.stderr
    made = Path(result.stdout.strip())
    assert made.parent == backups
    assert made.name.startswith("db-")
    assert oct(made.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(made) as copy:
        assert copy.execute("SELECT count(*), max(text) FROM chat_roomevent").fetchone() == (500, "event 99")
    assert not old.exists()  # older than KEEP_DAYS
    assert sorted(path.name for path in backups.iterdir()) == [made.name]


def test_an_unknown_database_is_refused(tmp_path: Path) -> None:
    result = backup("mysql://somewhere/chat", tmp_path)
    assert result.returncode == 2
    assert "cannot back up" in result.stderr


def test_postgresql_backup_restores(tmp_path: Path) -> None:
    require("pg_dump")
    require_service("PostgreSQL", POSTGRES_TEST_URL)
    name = f"chat_backup_test_{uuid.uuid4().hex[:8]}"
    server = urlsplit(POSTGRES_TEST_URL)
    admin_url = urlunsplit(server._replace(path="/postgres"))
    database_url = urlunsplit(server._replace(path=f"/{name}"))

    def psql(url: str, sql: str) -> None:
        subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True, timeout=60)

    psql(admin_url, f"CREATE DATABASE {name}")
    try:
        psql(
            database_url, "CREATE TABLE chat_roomevent (seq int); INSERT INTO chat_roomevent VALUES (1), (2)"
        )
        result = backup(database_url, tmp_path)
        assert result.returncode == 0, result.stderr
        made = Path(result.stdout.strip())
        assert made.name.startswith("chat-")
        # Restored into an empty database, the rows are back.
        psql(database_url, "DROP TABLE chat_roomevent")
        subprocess.run(["pg_restore", "--dbname", database_url, str(made)], check=True, timeout=60)
        count = subprocess.run(
            ["psql", database_url, "-qAtc", "SELECT count(*) FROM chat_roomevent"],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        assert count.stdout.strip() == "2"
    finally:
        psql(admin_url, f"DROP DATABASE IF EXISTS {name}")


def test_postgresql_restore_into_another_cluster_as_documented(tmp_path: Path) -> None:
    """docs/OPERATIONS.md's restore command, into a database of a role the dump never named:
    `--no-owner --role=chat` gives the tables to the service's role."""
    require("pg_dump")
    require_service("PostgreSQL", POSTGRES_TEST_URL)
    suffix = uuid.uuid4().hex[:8]
    source, target, role = f"chat_src_{suffix}", f"chat_dst_{suffix}", f"chat_role_{suffix}"
    server = urlsplit(POSTGRES_TEST_URL)
    admin_url = urlunsplit(server._replace(path="/postgres"))
    source_url = urlunsplit(server._replace(path=f"/{source}"))
    target_url = urlunsplit(
        server._replace(path=f"/{target}", netloc=f"{role}@{server.hostname}:{server.port or 5432}")
    )

    def psql(url: str, sql: str) -> str:
        done = subprocess.run(
            ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    psql(admin_url, f"CREATE DATABASE {source}")
    psql(admin_url, f"CREATE ROLE {role} LOGIN")
    psql(admin_url, f"CREATE DATABASE {target} OWNER {role}")
    try:
        psql(source_url, "CREATE TABLE chat_room (id int); INSERT INTO chat_room VALUES (7)")
        result = backup(source_url, tmp_path)
        assert result.returncode == 0, result.stderr
        made = Path(result.stdout.strip())
        # The name the docs show: chat-2026-11-22T030000Z.dump.
        assert re.fullmatch(r"chat-\d{4}-\d{2}-\d{2}T\d{6}Z\.dump", made.name), made.name

        def restore(*options: str) -> subprocess.CompletedProcess[str]:
            command = ["pg_restore", "--clean", "--if-exists", *options, f"--dbname={target_url}", str(made)]
            return subprocess.run(command, capture_output=True, text=True, timeout=60)

        # Without --no-owner the dump gives its tables to the role that made them, which the
        # service's role may not become.
        assert restore(f"--role={role}").returncode != 0
        documented = restore("--no-owner", f"--role={role}")
        assert documented.returncode == 0, documented.stderr
        assert psql(target_url, "SELECT id FROM chat_room") == "7"
        assert psql(target_url, "SELECT tableowner FROM pg_tables WHERE tablename = 'chat_room'") == role
    finally:
        psql(admin_url, f"DROP DATABASE IF EXISTS {source}")
        psql(admin_url, f"DROP DATABASE IF EXISTS {target}")
        psql(admin_url, f"DROP ROLE IF EXISTS {role}")
