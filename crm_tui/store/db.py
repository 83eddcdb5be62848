"""Engine and session setup, and migrations on open.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the TUI and
a CLI bulk job can share one file. PostgreSQL is reached with psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session, create_engine

from crm_tui.errors import DatabaseUnavailable

# The newest migration. A test checks it matches the Alembic script directory,
# so opening an up-to-date database never has to load Alembic.
HEAD_REVISION = "0008_teams_roles"

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How long a PostgreSQL statement waits for a row or table lock another session holds, like SQLite's
# busy timeout; then it fails with lock_not_available, which a user sees as "the database is busy".
LOCK_TIMEOUT_MS = 10_000


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # SQLite's own lower() folds ASCII only; searches must match "Zürich" with "zürich".
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Build an engine for ``url`` and check it can be reached.

    Raises DatabaseUnavailable with one line a user can act on.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(f"database URL {url!r} is not a valid SQLAlchemy URL") from None
    backend = parsed.get_backend_name()
    kwargs: dict = {}
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            if not folder.is_dir():
                raise DatabaseUnavailable(
                    f"cannot open database {database}: folder {folder} does not exist"
                )
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    elif backend == "postgresql":
        theirs = parsed.query.get("options")
        theirs = " ".join(theirs) if isinstance(theirs, tuple) else (theirs or "")
        kwargs["connect_args"] = {"connect_timeout": int(os.environ.get("CRM_CONNECT_TIMEOUT", "5")),
                                  "options": f"-c lock_timeout={int(LOCK_TIMEOUT_MS)} {theirs}".strip()}
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(f"no driver for database URL {url!r}: {exc}") from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    try:
        with engine.connect() as conn:
            if backend == "sqlite":
                # Reading the schema fails fast when the file is not a database.
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(_describe(url, parsed, exc)) from None
    return engine


def _describe(url: str, parsed, exc: DBAPIError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if parsed.get_backend_name() == "sqlite":
        if "not a database" in reason:
            return f"cannot open database {parsed.database}: the file is not a SQLite database"
        return f"cannot open database {parsed.database}: {reason}"
    safe = parsed.render_as_string(hide_password=True)
    return f"cannot connect to {safe}: {reason}"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` on this engine."""
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(engine), revision)
    except CommandError as exc:  # e.g. a revision this version does not know: a newer crm-tui wrote it
        raise DatabaseUnavailable(f"cannot migrate the database: {exc} (was it written by a newer crm-tui?)") from None


def ensure_schema(engine: Engine) -> bool:
    """Migrate an older (or empty) database to the newest schema. True if it migrated."""
    try:
        revision = current_revision(engine)
    except DBAPIError as exc:
        raise DatabaseUnavailable(_describe(str(engine.url), engine.url, exc)) from None
    if revision == HEAD_REVISION:
        return False
    upgrade(engine)
    return True


def display_url(url: str) -> str:
    """The database URL as it is safe to show: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    engine = make_engine(url)
    if migrate:
        ensure_schema(engine)
    return engine


@contextlib.contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
