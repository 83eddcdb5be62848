"""Column types the models share.

Every moment in time is a ``UTCDateTime`` column: written as UTC, read back as an
aware UTC datetime on SQLite and PostgreSQL alike, so no code above the store
ever meets a naive datetime from the database or has to fix one up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Interval
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

UTC = dt.timezone.utc


class NaiveDatetime(ValueError):
    """A datetime without a time zone was written to a ``UTCDateTime`` column."""


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime. A naive value is taken to be UTC already (what SQLite keeps)."""
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A moment in time, stored in UTC, always read back timezone-aware in UTC.

    Writing: an aware datetime is converted to UTC. A naive one is refused with
    ``NaiveDatetime`` (a ValueError): whether it meant UTC or the user's local time is
    for the code that made it to say, with ``as_utc`` or ``.astimezone()``. Anything
    else (a date, a string in a hand-written comparison) is passed on unchanged;
    a timedelta in an expression is an interval.

    Reading: aware UTC on every backend. SQLite keeps no zone, so its naive values
    are UTC; PostgreSQL's ``timestamptz`` arrives in the session's zone and is
    converted.

    The DDL is ``DateTime(timezone=True)``, as the migrations create it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        if isinstance(value, dt.timedelta):
            return Interval()
        return self

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, dt.datetime):
            return value
        if value.utcoffset() is None:
            raise NaiveDatetime(f"{value.isoformat()} has no time zone: the store takes aware datetimes only")
        value = value.astimezone(UTC)
        # SQLite has no zone: store the UTC wall time, as every existing file does.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return as_utc(value)
