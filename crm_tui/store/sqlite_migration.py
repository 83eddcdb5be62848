"""Migrating a SQLite file safely: one real transaction, foreign keys off, checked before commit.

Python's sqlite3 driver (its legacy transaction control, Python < 3.12's only one) opens a
transaction before INSERT/UPDATE/DELETE only: DDL before the first of them runs in autocommit, so
``engine.begin()`` gives a migration no atomicity. A failing run used to leave the tables it had
made (``teams``, ``_alembic_tmp_users``) behind at the old revision, and the next run failed on them.
Alembic's batch mode rebuilds a table (copy, DROP, rename); with foreign keys on, the DROP of a
table other tables reference fails ("FOREIGN KEY constraint failed").

So a migration runs on a connection of its own that the driver leaves alone (isolation_level
None), with ``PRAGMA foreign_keys=OFF`` set before the transaction (SQLite ignores it inside one),
inside one ``BEGIN IMMEDIATE`` ... ``COMMIT`` (the write lock first, so two programs opening an old
file queue, and the second finds it migrated), with ``PRAGMA foreign_key_check`` before the commit.
Only that connection is changed, and it is put back as it was: the application's connections keep
the driver's usual transactions and their foreign keys. A failure, or a kill at any point, leaves
the file exactly at its old revision with its old data (SQLite's journal rolls back what was not
committed); the next run starts over cleanly.

``repair_leftovers`` removes what a failed run of an older crm-tui left behind, when it is clearly
only that (see its docstring); otherwise the upgrade is refused with one line saying what to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine

from crm_tui.errors import DatabaseUnavailable


class ForeignKeyViolation(DatabaseUnavailable):
    """After the migration some rows refer to rows that do not exist; nothing was committed."""


@contextlib.contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside one real SQLite transaction with foreign keys off; committed when the
    block ends without error and ``PRAGMA foreign_key_check`` finds nothing, else rolled back."""
    conn = engine.connect()
    clean = False
    try:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        saved = raw.isolation_level
        if raw.in_transaction:  # a pooled connection is returned rolled back; be sure
            raw.rollback()
        raw.isolation_level = None  # the driver opens and commits nothing on its own now
        try:
            raw.execute("PRAGMA foreign_keys=OFF")  # has no effect inside a transaction: before BEGIN
            with conn.begin():  # pysqlite's begin does nothing at the driver; our BEGIN is the real one
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise ForeignKeyViolation(_violations(problems))
            clean = True
        finally:
            if raw.in_transaction:  # e.g. the COMMIT itself failed
                raw.rollback()
            raw.execute("PRAGMA foreign_keys=ON")
            raw.isolation_level = saved
    finally:
        if not clean:
            # Never hand a connection in an unknown state back to the pool.
            with contextlib.suppress(Exception):
                conn.invalidate()
        conn.close()


def _violations(rows) -> str:
    table, rowid, parent = rows[0][0], rows[0][1], rows[0][2]
    more = f" ({len(rows)} such rows)" if len(rows) > 1 else ""
    return f"{table} row {rowid} refers to a missing row of {parent}{more}"


# ---------------------------------------------------------------- leftovers of a failed run


class Leftovers(DatabaseUnavailable):
    """The file holds objects a failed migration left, which cannot be removed safely."""


TMP_PREFIX = "_alembic_tmp_"


@dataclass
class Schema:
    """What a SQLite schema holds: (type, name) -> SQL of every table, index, trigger and view
    (SQLite's own indexes left out), each table's columns, and each index's table."""

    objects: dict[tuple[str, str], str | None] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    index_table: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, conn: Connection) -> "Schema":
        rows = conn.exec_driver_sql(
            "SELECT type, name, sql, tbl_name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger', 'view') "
            "AND name NOT LIKE 'sqlite_%'"
        ).all()
        schema = cls()
        for kind, name, sql, table in rows:
            schema.objects[(kind, name)] = sql
            if kind == "table" and not _is_virtual(sql):
                schema.columns[name] = [r[1] for r in conn.exec_driver_sql(f'PRAGMA table_info("{name}")').all()]
            elif kind == "index":
                schema.index_table[name] = table
        return schema

    def column_keys(self) -> set[tuple[str, str]]:
        return {(table, column) for table, columns in self.columns.items() for column in columns}


def _is_virtual(sql: str | None) -> bool:
    return bool(sql) and sql.lstrip().upper().startswith("CREATE VIRTUAL TABLE")


def repair_leftovers(conn: Connection, revision: str | None, at_revision: Schema, later: Schema) -> list[str]:
    """Remove what a failed migration run of an older crm-tui left in this file, inside the
    migration's transaction (so it is undone too if the migration then fails). Returns what it removed.

    Such a run committed the DDL it ran before its first data change (new tables, a batch copy
    ``_alembic_tmp_<table>``, added columns, indexes) and rolled back the rest, the revision number
    included. A leftover is therefore an object the file has that the schema at its recorded
    ``revision`` (``at_revision``) lacks and that a later migration makes (``later``: every object
    and column of any later revision). They are removed when that is certain to lose nothing:
    - ``_alembic_tmp_<table>`` while ``<table>`` itself is there (the copy never replaced it);
    - a table a later revision makes, if it is empty; a full-text index (its rows are derived);
    - an index or trigger a later revision makes (no data);
    - a column a later revision adds, if it holds only NULLs;
    - then an index the recorded revision has and the file lost is re-made.
    Anything else (a leftover holding data, a copy whose original is gone, a missing table or
    column) is refused with Leftovers: one line naming it and saying what to do. Objects no crm-tui
    migration makes (another program's tables) are never touched.
    """
    have = Schema.read(conn)
    where = revision or "an empty schema"

    def refuse(what: str) -> Leftovers:
        return Leftovers(
            f"the database is at {where} but holds {what}, left by a failed upgrade; "
            "nothing was changed: restore a backup (or remove it by hand) and open it again"
        )

    removed: list[str] = []
    extra = {key: sql for key, sql in have.objects.items() if key not in at_revision.objects}
    virtual = _virtual_tables(extra)
    # Tables first: their indexes and triggers go with them.
    for kind, name in sorted(extra, key=lambda item: (item[0] != "table", item[1])):
        key = (kind, name)
        if kind == "table" and name.startswith(TMP_PREFIX):
            original = name[len(TMP_PREFIX):]
            if ("table", original) not in have.objects:
                raise refuse(f"{name} while table {original} is missing")
            conn.exec_driver_sql(f'DROP TABLE "{name}"')
        elif kind == "table" and any(name.startswith(f"{v}_") for v in virtual):
            continue  # a full-text index's shadow table: dropped with it
        elif kind == "table" and key in later.objects:
            if name not in virtual:
                rows = conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar()
                if rows:
                    raise refuse(f"table {name} with {rows} row{'s' if rows != 1 else ''}")
            conn.exec_driver_sql(f'DROP TABLE "{name}"')
        elif kind in ("index", "trigger") and key in later.objects:
            if key not in Schema.read(conn).objects:
                continue  # went with its table
            conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
        else:
            continue  # not crm-tui's: leave it alone
        removed.append(f"{kind} {name}")

    later_columns = later.column_keys()
    for table, known in at_revision.columns.items():
        for column in have.columns.get(table, []):
            if column in known or (table, column) not in later_columns:
                continue
            filled = conn.exec_driver_sql(f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NOT NULL').scalar()
            if filled:
                raise refuse(f"column {table}.{column} with {filled} value{'s' if filled != 1 else ''}")
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
            removed.append(f"column {table}.{column}")

    if removed:  # a failed run is evident: what it dropped of the recorded revision comes back
        now = Schema.read(conn)
        for (kind, name), sql in at_revision.objects.items():
            if (kind, name) in now.objects or sql is None:
                continue
            if kind == "index" and ("table", at_revision.index_table.get(name, "")) in now.objects:
                conn.exec_driver_sql(sql)
                removed.append(f"index {name} (re-made)")
            elif kind == "table" and any(name.startswith(f"{v}_") for v in _virtual_tables(at_revision.objects)):
                continue  # a full-text index's shadow table: it comes back with its index
            else:
                raise refuse(f"no {kind} {name}")
    return removed


def _virtual_tables(objects: dict[tuple[str, str], str | None]) -> set[str]:
    return {name for (kind, name), sql in objects.items() if kind == "table" and _is_virtual(sql)}
