"""Time in the store: every datetime column reads back as an aware UTC datetime, on SQLite and PostgreSQL.

``UTCDateTime`` writes an aware value as UTC and takes a naive one to be UTC already; it reads back
aware UTC whatever the backend keeps (SQLite: no zone; PostgreSQL: the session's zone).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, Interval, String, Text, func, insert, select, text, update
from sqlalchemy.exc import StatementError
from sqlalchemy.types import TypeDecorator

from crm_tui.services.data import demo
from crm_tui.store.db import session_scope
from crm_tui.store.models import Account, metadata, utcnow
from crm_tui.store.types import UTC, NaiveDatetime, UTCDateTime, as_utc

KOLKATA = dt.timezone(dt.timedelta(hours=5, minutes=30))
AN_INSTANT = dt.datetime(2024, 3, 10, 9, 30, 15, tzinfo=KOLKATA)  # 04:00:15 UTC


def datetime_columns():
    return [(table, column) for table in metadata.sorted_tables for column in table.columns
            if isinstance(column.type, DateTime)
            or (isinstance(column.type, TypeDecorator) and isinstance(column.type.impl_instance, DateTime))]


def is_aware_utc(value) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is UTC


def a_value_for(column, conn):
    """Something a required column accepts: an existing row's id for a foreign key, else a plain value."""
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column
        return conn.execute(select(target).limit(1)).scalar_one()
    kind = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return utcnow()
    if isinstance(kind, Date):
        return dt.date(2024, 3, 10)
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, (String, Text)):
        return "time-test"
    raise AssertionError(f"no test value for {column}")


def fill_every_table_with_a_datetime(engine) -> None:
    """The demo data, plus one row in each table with a datetime column that the demo leaves empty."""
    demo.generate(engine, opportunities=20)
    with engine.begin() as conn:
        for table in {t for t, _ in datetime_columns()}:
            if conn.execute(select(func.count()).select_from(table)).scalar():
                continue
            row = {c.name: a_value_for(c, conn) for c in table.columns
                   if not c.nullable and c.default is None and c.server_default is None
                   and c is not table.autoincrement_column}
            conn.execute(insert(table).values(**row))


def test_every_datetime_column_of_the_models_is_utc_datetime():
    columns = datetime_columns()
    assert len(columns) >= 20
    assert [f"{t.name}.{c.name}" for t, c in columns if not isinstance(c.type, UTCDateTime)] == []
    # The DDL the migrations create: a timestamp with a time zone.
    assert all(c.type.impl_instance.timezone for _, c in columns)


def test_every_datetime_column_reads_back_aware_utc(engine):
    fill_every_table_with_a_datetime(engine)
    with engine.connect() as conn:
        for table, column in datetime_columns():
            pk = list(table.primary_key.columns)
            # What is there already (the demo writes through the raw driver), read back aware UTC ...
            stored = conn.execute(select(column).where(column.is_not(None)).limit(20)).scalars().all()
            assert all(is_aware_utc(v) for v in stored), (table.name, column.name, stored[:3])
            # ... and a value written in another zone comes back as the same instant, in UTC.
            first = conn.execute(select(*pk).order_by(*pk).limit(1)).one()
            where = [c == v for c, v in zip(pk, first)]
            conn.execute(update(table).where(*where).values({column.name: AN_INSTANT}))
            back = conn.execute(select(column).where(*where)).scalar_one()
            assert is_aware_utc(back), (table.name, column.name, back)
            assert back == AN_INSTANT and back.hour == 4, (table.name, column.name, back)
        conn.rollback()


def test_a_naive_datetime_is_refused_and_nothing_is_written(engine):
    """Naive could mean UTC or the user's local time; the code that made it must say which."""
    with pytest.raises(StatementError) as caught, session_scope(engine) as s:
        s.add(Account(name="Naive Co", created_at=dt.datetime(2024, 3, 10, 9, 30), updated_at=utcnow()))
    assert isinstance(caught.value.orig, NaiveDatetime)
    assert "2024-03-10T09:30:00 has no time zone" in str(caught.value.orig)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Account.__table__)).scalar() == 0


def test_an_aware_datetime_in_another_zone_is_stored_as_its_utc_instant(session):
    account = Account(name="Zoned Co", created_at=AN_INSTANT, updated_at=utcnow())
    session.add(account)
    session.commit()
    session.expire_all()
    back = session.get(Account, account.id)
    assert back.created_at == dt.datetime(2024, 3, 10, 4, 0, 15, tzinfo=UTC)
    assert is_aware_utc(back.created_at) and is_aware_utc(back.updated_at)


def test_a_timedelta_beside_a_datetime_column_is_an_interval():
    """Not a datetime for the type to convert (or refuse as naive)."""
    T = Account.__table__
    assert isinstance((T.c.created_at - dt.timedelta(days=1)).right.type, Interval)
    assert isinstance((T.c.created_at < AN_INSTANT).right.type, UTCDateTime)


def test_comparisons_bind_through_the_type(session):
    """A filter with an aware value in another zone compares the instant, not the wall time."""
    session.add(Account(name="Early", created_at=dt.datetime(2024, 3, 10, 3, 0, tzinfo=UTC), updated_at=utcnow()))
    session.add(Account(name="Late", created_at=dt.datetime(2024, 3, 10, 5, 0, tzinfo=UTC), updated_at=utcnow()))
    session.commit()
    T = Account.__table__
    names = session.execute(select(T.c.name).where(T.c.created_at < AN_INSTANT)).scalars().all()
    assert names == ["Early"]


def test_postgres_session_in_another_zone_still_reads_utc(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps no zone")
    with engine.begin() as conn:
        conn.execute(insert(Account.__table__).values(name="Zoned", created_at=AN_INSTANT, updated_at=AN_INSTANT))
    with engine.connect() as conn:
        conn.execute(text("SET TIME ZONE 'America/New_York'"))
        back = conn.execute(select(Account.__table__.c.created_at).where(Account.__table__.c.name == "Zoned")).scalar()
        conn.rollback()
    assert is_aware_utc(back) and back == AN_INSTANT


def test_as_utc():
    assert as_utc(dt.datetime(2024, 3, 10, 9, 30)) == dt.datetime(2024, 3, 10, 9, 30, tzinfo=UTC)
    assert as_utc(AN_INSTANT).tzinfo is UTC and as_utc(AN_INSTANT).hour == 4
