"""Whole-database backup and restore: SQLite's online backup API, or pg_dump / pg_restore.

A backup is consistent while servers keep writing. It is written beside its target and renamed
into place when complete, so a failed backup never leaves a half-written file under its name.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

SQLITE_MAGIC = b"SQLite format 3\0"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(ValueError):
    """The backup or restore could not be done; the message is one readable line."""


def backup(database_url: str, target: Path) -> None:
    """Copy the database at `database_url` to the file `target`."""
    partial = target.with_name(target.name + ".partial")
    try:
        if _is_sqlite(database_url):
            _sqlite_copy(_sqlite_path(database_url), partial)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={_libpq_url(database_url)}"])
        os.replace(partial, target)
    except OSError as error:
        raise BackupError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        partial.unlink(missing_ok=True)


def restore(database_url: str, source: Path) -> None:
    """Replace the contents of the database at `database_url` with the backup `source`."""
    try:
        with source.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"cannot read {source}: {error.strerror or error}") from None
    if _is_sqlite(database_url):
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup, and this database is SQLite")
        _check_sqlite_backup(source)
        _sqlite_copy(source, _sqlite_path(database_url))
    else:
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a pg_dump backup, and this database is PostgreSQL")
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
              f"--dbname={_libpq_url(database_url)}", str(source)])


def _is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def _sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy of `source` as of one moment, page by page."""
    try:
        reader = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
        try:
            writer = sqlite3.connect(target, timeout=30)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy {source} to {target}: {error}") from None


def _check_sqlite_backup(source: Path) -> None:
    try:
        conn = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise BackupError(f"{source} is not a readable SQLite file: {error}") from None
    if "alembic_version" not in tables:
        raise BackupError(f"{source} is a SQLite file but not a livedesk database")


def _libpq_url(database_url: str) -> str:
    """The URL as pg_dump reads it: no SQLAlchemy driver name."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{command[0]} failed: {lines[0] if lines else 'exit code ' + str(done.returncode)}")
