"""Databases at an old revision with rows in every table that revision has (the upgrade tests).

The rows are made from the schema as it is at that revision (reflected), so every table of every
old revision gets rows without a hand-written fixture per revision: two rows per table, each
foreign key pointing at a row of the table it references (users referenced by accounts, deals,
activities, quotas; tags by taggings; ...), unique columns distinct.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from crm_tui.store import db as store_db

ROWS_PER_TABLE = 2
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
SKIPPED_PREFIXES = ("alembic_version", "search_", "sqlite_", "_alembic_tmp_")


def old_revisions() -> list[str]:
    """Every revision but the newest, oldest first."""
    chain = store_db.revision_chain()
    assert chain[-1] == store_db.HEAD_REVISION
    return chain[:-1]


def reflect(conn) -> sa.MetaData:
    meta = sa.MetaData()
    meta.reflect(conn)
    for name in [t for t in meta.tables if t.startswith(SKIPPED_PREFIXES)]:
        meta.remove(meta.tables[name])
    return meta


def _value(table: sa.Table, column: sa.Column, n: int, refs: dict):
    if column.name in refs:
        return refs[column.name]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return n % 2 == 0
    if isinstance(kind, sa.DateTime):
        return WHEN + dt.timedelta(days=n)
    if isinstance(kind, sa.Date):
        return (WHEN + dt.timedelta(days=n)).date()
    if isinstance(kind, (sa.Integer, sa.Numeric, sa.Float)):
        return 1000 + n
    if isinstance(kind, sa.JSON):
        return {"n": n}
    text = f"{table.name[:4]}{column.name[:4]}{n}"
    length = getattr(kind, "length", None)
    if column.name == "currency":
        return "EUR"
    return text[-length:] if length else f"{table.name}.{column.name} row {n} Zürich"


def seed(conn) -> dict[str, int]:
    """Two rows in every table (after those already there); the count added per table."""
    meta = reflect(conn)
    added: dict[str, int] = {}
    for table in meta.sorted_tables:
        for k in range(ROWS_PER_TABLE):
            n = 100 + k
            refs = {}
            for fk in table.foreign_keys:
                target = fk.column
                if target.table is table:
                    refs[fk.parent.name] = None if fk.parent.nullable else n
                    continue
                refs[fk.parent.name] = conn.execute(
                    sa.select(target).order_by(target).offset(k % 2).limit(1)
                ).scalar()
            row = {c.name: _value(table, c, n, refs) for c in table.columns}
            conn.execute(table.insert().values(**row))
        added[table.name] = ROWS_PER_TABLE
    return added


def snapshot(conn, meta: sa.MetaData) -> dict[str, list[tuple]]:
    """Every row of every table in ``meta``, only the columns ``meta`` knows, in key order."""
    rows = {}
    for table in meta.sorted_tables:
        live = sa.Table(table.name, sa.MetaData(), *[sa.Column(c.name, c.type) for c in table.columns])
        key = [live.c[c.name] for c in table.primary_key.columns] or list(live.c)
        rows[table.name] = [tuple(r) for r in conn.execute(sa.select(live).order_by(*key)).all()]
    return rows


def build(url: str, revision: str):
    """Migrate the blank database at ``url`` to ``revision`` and fill it; returns (meta, rows) as they were."""
    engine = store_db.make_engine(url)
    try:
        store_db.upgrade(engine, revision)
        with engine.begin() as conn:
            seed(conn)
        with engine.connect() as conn:
            meta = reflect(conn)
            return meta, snapshot(conn, meta)
    finally:
        engine.dispose()


def sqlite_objects(conn) -> set[tuple[str, str]]:
    return {tuple(r) for r in conn.exec_driver_sql(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'").all()}
