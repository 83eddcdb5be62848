"""What every command shares: the database, the current user, error handling."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import Enum

import typer


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    ndjson = "ndjson"
    ids = "ids"


FORMAT_HELP = "Output format: table for people; csv, json, ndjson or ids for pipes"
WHERE_HELP = ("Filter, e.g. 'stage=proposal and amount>50000 and owner=me'; "
              "= != > >= < <= ~ (contains), in (...), and/or/not, today+7d, this_month, tag=NAME")


class State:
    """Per-invocation state set by the root callback (``--db``)."""

    db: str | None = None
    _engine = None

    @classmethod
    def engine(cls):
        if cls._engine is None:
            from crm_tui.locations import database_url
            from crm_tui.store.db import open_engine

            cls._engine = open_engine(database_url(cls.db))
        return cls._engine

    @classmethod
    def reset(cls) -> None:
        if cls._engine is not None:
            cls._engine.dispose()
        cls._engine = None
        cls.db = None


def actor() -> str:
    from crm_tui.locations import current_username

    return current_username()


def me(value: str | None) -> str | None:
    """'me' in an owner filter means the current user."""
    if value is not None and value.strip().lower() == "me":
        return actor()
    return value


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def info(message: str) -> None:
    typer.echo(message, err=True)


@contextlib.contextmanager
def session() -> Iterator:
    """One unit of work on the chosen database: committed on success, rolled back on any error.
    Errors go on to the root's error boundary (crm_tui.cli.error_boundary), which prints one line."""
    from crm_tui.store.db import session_scope

    with session_scope(State.engine()) as s:
        yield s


def counted(n: int, entity: str, adjective: str = "") -> str:
    """'1 account', '12,500 accounts', '1 new opportunity' for an entity name of the registry."""
    from crm_tui.services.registry import ENTITIES

    noun = ENTITIES[entity].name if n == 1 else ENTITIES[entity].plural
    return f"{n:,} {adjective + ' ' if adjective else ''}{noun}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 page', '3 pages', '1 open opportunity' (``many`` defaults to ``one`` + 's')."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
