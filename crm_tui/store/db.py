"""Engine and session setup, and migrations on open.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the TUI and
a CLI bulk job can share one file. PostgreSQL is reached with psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session, create_engine

from crm_tui.errors import DatabaseBusy, DatabaseUnavailable

# The newest migration. A test checks it matches the Alembic script directory,
# so opening an up-to-date database never has to load Alembic.
T = TypeVar("T")

HEAD_REVISION = "0012_notifications"

MIGRATIONS_DIR = Path(__file__).parent / "migrations"



def _timeout_ms(name: str, default_s: float) -> int:
    """A wait in milliseconds from the environment variable ``name`` (seconds, e.g. ``2.5``)."""
    try:
        seconds = float(os.environ.get(name, default_s))
    except ValueError:
        seconds = default_s
    return max(0, min(int(seconds * 1000), 3_600_000))


# How long a writer waits for the lock another program holds before "the database is busy: ... try
# again": SQLite's busy timeout, PostgreSQL's lock_timeout (a statement waiting for a row or table
# lock). 10 s unless CRM_LOCK_TIMEOUT (seconds) says otherwise; README documents both. Read when a
# database is opened, never at import: the warm server (crm_tui.warm) imports this module once for
# commands run with different environments. Set either to a number to override (tests do).
SQLITE_BUSY_TIMEOUT_MS: int | None = None
LOCK_TIMEOUT_MS: int | None = None


def sqlite_busy_timeout_ms() -> int:
    return SQLITE_BUSY_TIMEOUT_MS if SQLITE_BUSY_TIMEOUT_MS is not None else _timeout_ms("CRM_LOCK_TIMEOUT", 10)


def lock_timeout_ms() -> int:
    return LOCK_TIMEOUT_MS if LOCK_TIMEOUT_MS is not None else _timeout_ms("CRM_LOCK_TIMEOUT", 10)

# A unit of work that loses a deadlock or a serialization check is re-run whole, from a fresh
# session, at most this many times in all (with a short random pause), before "the database is busy".
UNIT_ATTEMPTS = 4


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # SQLite's own lower() folds ASCII only; searches must match "Zürich" with "zürich".
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={sqlite_busy_timeout_ms()}")
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
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": sqlite_busy_timeout_ms() / 1000}
    elif backend == "postgresql":
        theirs = parsed.query.get("options")
        theirs = " ".join(theirs) if isinstance(theirs, tuple) else (theirs or "")
        kwargs["connect_args"] = {"connect_timeout": int(os.environ.get("CRM_CONNECT_TIMEOUT", "5")),
                                  "options": f"-c lock_timeout={int(lock_timeout_ms())} {theirs}".strip()}
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


def alembic_config(engine: Engine | None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` on this engine, all in one transaction.

    A failure leaves the database at its old revision with its old data and raises
    DatabaseUnavailable with one line naming the migration that failed and why. On SQLite, a run
    that fails on what a failed upgrade of an older crm-tui left behind is tried once more with
    those leftovers removed, when that is safe (crm_tui/store/sqlite_migration.py)."""
    from crm_tui.errors import CRMError, describe_db_error
    from crm_tui.store.sqlite_migration import ForeignKeyViolation

    try:
        before = current_revision(engine)
    except DBAPIError as exc:
        raise DatabaseUnavailable(_describe(str(engine.url), engine.url, exc)) from None
    cfg = alembic_config(engine)
    try:
        _run_upgrade(cfg, revision)
        return
    except ForeignKeyViolation as exc:
        raise DatabaseUnavailable(_failure_line(cfg, before, exc)) from exc
    except CRMError:
        raise
    except Exception as exc:  # noqa: BLE001 - becomes one line below
        failure: BaseException = exc
    busy = describe_db_error(failure)
    if isinstance(busy, DatabaseBusy):  # another program held the write lock all along: try again later
        raise busy from failure
    if engine.dialect.name == "sqlite":
        try:
            plan = _leftover_plan(engine, before)
        except Exception:  # noqa: BLE001 - the first failure is what the user needs to read
            plan = None
        if plan is not None:
            cfg = alembic_config(engine)
            cfg.attributes["repair"] = (before, *plan)
            try:
                _run_upgrade(cfg, revision)
                return
            except ForeignKeyViolation as exc:
                failure = exc
            except CRMError:
                raise
            except Exception as exc:  # noqa: BLE001
                failure = exc
    raise DatabaseUnavailable(_failure_line(cfg, before, failure)) from failure


def _run_upgrade(cfg, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(cfg, revision)
    except CommandError as exc:  # e.g. a revision this version does not know: a newer crm-tui wrote it
        raise DatabaseUnavailable(f"cannot migrate the database: {exc} (was it written by a newer crm-tui?)") from None
    # The migrations' environment re-installs the row security policies after every run (migrations/env.py).


def revision_chain() -> list[str]:
    """Every migration, oldest first."""
    from alembic.script import ScriptDirectory

    from_base = reversed(list(ScriptDirectory.from_config(alembic_config(None)).walk_revisions()))
    return [script.revision for script in from_base]


def _failure_line(cfg, before: str | None, exc: BaseException) -> str:
    from crm_tui.errors import describe_db_error
    from crm_tui.store.sqlite_migration import ForeignKeyViolation

    still = f"nothing was changed, it is still at {before or 'an empty schema'}"
    applied = cfg.attributes.get("applied") or []
    last = applied[-1] if applied else before
    chain = revision_chain()
    following = chain.index(last) + 1 if last in chain else 0
    failing = chain[following] if following < len(chain) else None
    described = describe_db_error(exc)
    driver = getattr(exc, "orig", None) or exc
    reason = str(described) if described is not None else (str(driver).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, ForeignKeyViolation):
        return f"cannot upgrade the database to {last}: {exc}; {still}"
    step = f"migration {failing} failed" if failing else "the upgrade failed"
    return f"cannot upgrade the database: {step}: {reason}; {still}"


_CREATED = re.compile(
    r'^\s*CREATE\s+(?:UNIQUE\s+)?(?:VIRTUAL\s+)?(TABLE|INDEX|TRIGGER|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?',
    re.IGNORECASE)
_ADDED = re.compile(r'^\s*ALTER\s+TABLE\s+"?(\w+)"?\s+ADD\s+(?:COLUMN\s+)?"?(\w+)"?', re.IGNORECASE)


def _creations(into):
    """A listener noting into the Schema ``into`` every object a statement creates, and every column it
    adds: a migration's passing objects too (a table it copies through and renames)."""

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        created = _CREATED.match(statement)
        if created:
            into.objects.setdefault((created.group(1).lower(), created.group(2)), statement)
        added = _ADDED.match(statement)
        if added:
            columns = into.columns.setdefault(added.group(1), [])
            if added.group(2) not in columns:
                columns.append(added.group(2))

    return note


def _leftover_plan(engine: Engine, revision: str | None):
    """When this SQLite file holds leftovers of a failed upgrade: the schemas repair_leftovers compares it
    with (a scratch database at ``revision``, and everything the later migrations make); else None."""
    import tempfile

    from crm_tui.store.sqlite_migration import TMP_PREFIX, Schema

    chain = revision_chain()
    if revision is not None and revision not in chain:
        return None
    with tempfile.TemporaryDirectory(prefix="crm-schema-") as folder:
        scratch = make_engine(f"sqlite:///{folder}/scratch.db")
        try:
            if revision is not None:
                _run_upgrade(alembic_config(scratch), revision)
            with scratch.connect() as conn:
                at_revision = Schema.read(conn)
            later = Schema()
            event.listen(scratch, "before_cursor_execute", _creations(later))
            for step in chain[chain.index(revision) + 1 if revision else 0:]:
                _run_upgrade(alembic_config(scratch), step)
                with scratch.connect() as conn:
                    now = Schema.read(conn)
                later.objects.update(now.objects)
                for table, columns in now.columns.items():
                    known = later.columns.setdefault(table, [])
                    known.extend(c for c in columns if c not in known)
        finally:
            scratch.dispose()
    with engine.connect() as conn:
        have = Schema.read(conn)
    leftover = any(
        (key not in at_revision.objects and key in later.objects) or key[1].startswith(TMP_PREFIX)
        for key in have.objects
    ) or any(
        (table, column) in later.column_keys()
        for table, known in at_revision.columns.items()
        for column in have.columns.get(table, []) if column not in known
    )
    return (at_revision, later) if leftover else None


def install_row_security(engine: Engine, *, only_if_outdated: bool = False) -> bool:
    """On PostgreSQL, (re)install the row-level security policies (crm_tui/store/row_security.py), so
    every table the migrations made is covered; only the tables' owner can. True if it installed."""
    if engine.dialect.name != "postgresql":
        return False
    from crm_tui.store import row_security

    with engine.begin() as conn:
        if only_if_outdated and row_security.installed_version(conn) == row_security.fingerprint(HEAD_REVISION):
            return False  # the usual case: one query
        if not row_security.is_admin_connection(conn):
            return False
        # One installer at a time (every process that opens the database after an upgrade checks).
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('crm_row_security'))")
        if only_if_outdated and row_security.installed_version(conn) == row_security.version(conn):
            return False
        row_security.install(conn)
    return True


def ensure_schema(engine: Engine) -> bool:
    """Migrate an older (or empty) database to the newest schema. True if it migrated."""
    try:
        revision = current_revision(engine)
    except DBAPIError as exc:
        raise DatabaseUnavailable(_describe(str(engine.url), engine.url, exc)) from None
    if revision == HEAD_REVISION:
        # A newer crm-tui may bring other policies for the same schema.
        install_row_security(engine, only_if_outdated=True)
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


def begin_write(session: Session) -> None:
    """Start the session's unit of work as a writer, before its first read.

    On SQLite: ``BEGIN IMMEDIATE`` takes the write lock now, waiting up to the busy timeout. A
    deferred transaction that reads first and writes later cannot wait for the lock when another
    writer commits in between (its snapshot is stale: SQLITE_BUSY at once, no busy timeout), which
    is how bulk writes used to fail after a moment. Writers thus queue one at a time, whole.
    On PostgreSQL nothing happens here: row locks are taken in id order by the bulk writers
    (``lock_rows``) and each statement waits up to lock_timeout."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_retryable(exc: BaseException) -> bool:
    """A failure that re-running the whole unit of work can cure: a PostgreSQL deadlock or
    serialization failure, or SQLite's stale-snapshot busy (a deferred transaction that read before
    another writer committed). A lock held longer than the timeout is not: it already waited."""
    driver = getattr(exc, "orig", None) or exc
    if getattr(driver, "sqlstate", None) in ("40P01", "40001"):
        return True
    return getattr(driver, "sqlite_errorname", None) == "SQLITE_BUSY_SNAPSHOT"


def run_unit(engine: Engine, work: Callable[[Session], T], *, attempts: int | None = None) -> T:
    """Run ``work(session)`` as one unit of work (committed on success, rolled back on any error),
    re-run whole from a fresh session after a deadlock or a serialization failure, at most
    ``attempts`` times (UNIT_ATTEMPTS), then DatabaseBusy; nothing of a failed attempt stays written."""
    tries = max(1, attempts or UNIT_ATTEMPTS)
    for attempt in range(1, tries + 1):
        try:
            with session_scope(engine) as session:
                return work(session)
        except DBAPIError as exc:
            if not is_retryable(exc):
                raise
            if attempt == tries:
                raise DatabaseBusy() from exc
            time.sleep(random.uniform(0.05, 0.2) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


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


def warm_up() -> None:
    """Build what every process builds on its first query (the ORM's mappers), with no database
    opened: the warm server (crm_tui.warm_server) does it once before forking its children."""
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
