"""What every command shares: the database, the current user, error handling."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from crm_tui.actor import Actor
    from crm_tui.settings import Settings

T = TypeVar("T")


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    ndjson = "ndjson"
    ids = "ids"


class RecordId:
    """A record id on the command line (``ID``, ``--opp``), parsed by ``validate.parse_id``: text that is no
    number, or an id out of every backend's range, is one error line naming the parameter and the value
    (``error: id: 'abc' is not a lead id``, exit 1, through the root's error boundary), never Typer's usage
    box nor a driver's overflow. Use it as ``typer.Argument(..., parser=RecordId("account"))``."""

    __name__ = "id"  # Typer names the parameter type after the parser

    def __init__(self, label: str = "record", field: str = "id"):
        self.label = label
        self.field = field

    def __call__(self, value: Any) -> int:
        from crm_tui.services.validate import check_text, parse_id

        text = check_text(self.field, str(value)).strip()
        if not (text.lstrip("+-").isdigit() and text.isascii()):
            from crm_tui.errors import ValidationError

            raise ValidationError(self.field, value, f"is not {'an' if self.label[:1] in 'aeiou' else 'a'} "
                                                     f"{self.label} id")
        return parse_id(text, field_name=self.field, label=self.label)


FORMAT_HELP = "Output format: table for people; csv, json, ndjson or ids for pipes"
WHERE_HELP = ("Filter, e.g. 'stage=proposal and amount>50000 and owner=me'; "
              "= != > >= < <= ~ (contains), in (...), and/or/not, today+7d, this_month, tag=NAME")


class State:
    """Per-invocation state set by the root callback (``--db``): the database, the settings (read once)
    and the acting user."""

    db: str | None = None
    settings: Settings | None = None
    _engine = None
    _actor = None

    @classmethod
    def engine(cls):
        if cls._engine is None:
            from crm_tui.locations import database_url
            from crm_tui.store.db import open_engine

            cls._engine = open_engine(database_url(cls.db, settings()))
        return cls._engine

    @classmethod
    def actor(cls, s: Any = None) -> "Actor":
        """Who runs this command: resolved once per command, from ``current_username()`` (CRM_USER,
        the config's "user", the login name) and the users table, in the open session ``s`` if given.
        Every service that reads records gets it as ``actor=``; ``me`` means it."""
        if cls._actor is None:
            from crm_tui.locations import current_username
            from crm_tui.services.users import resolve_actor

            if s is None:
                with session():  # resolves it, with the session's first use
                    pass
            else:
                cls._actor = resolve_actor(session=s, username=current_username(settings()),
                                           explicit=bool(settings().user))
        return cls._actor  # type: ignore[return-value]

    @classmethod
    def reset(cls) -> None:
        if cls._engine is not None:
            cls._engine.dispose()
        cls._engine = None
        cls._actor = None
        cls.db = None
        cls.settings = None


def settings() -> Settings:
    """This command's settings: read by the root callback (or here, once, on first use)."""
    if State.settings is None:
        from crm_tui.errors import ConfigError
        from crm_tui.settings import load_settings

        try:
            State.settings = load_settings()
        except ConfigError as exc:
            raise fail(str(exc)) from None
    return State.settings


def actor() -> str:
    """The acting user's username, as services that write record it (the change log's "who")."""
    return State.actor().username


def me(value: str | None) -> str | None:
    """'me' in an owner option means the acting user."""
    if value is not None and value.strip().lower() == "me":
        return actor()
    return value


def fail(message: str, code: int = 1) -> typer.Exit:
    from crm_tui.text import visible

    typer.echo(f"error: {visible(message)}", err=True)
    return typer.Exit(code)


def info(message: str) -> None:
    """A message for the person at the terminal (stderr); control characters in it are spelled out."""
    from crm_tui.text import visible

    typer.echo(visible(message), err=True)


@contextlib.contextmanager
def session() -> Iterator:
    """One unit of work on the chosen database: committed on success, rolled back on any error.
    Errors go on to the root's error boundary (crm_tui.cli.error_boundary), which prints one line."""
    from crm_tui.store.db import session_scope

    with session_scope(State.engine()) as s:
        State.actor(s)  # resolved with the command's first unit of work, once
        yield s


def unit_of_work(work: Callable[[Any], T]) -> T:
    """Run ``work(session)`` as one unit of work, like ``with session() as s``, but re-run whole from a
    fresh session when it loses a deadlock or a serialization check (a bounded number of times; see
    ``crm_tui.store.db.run_unit``). For writes that can meet another writer: bulk commands, imports."""
    from crm_tui.store.db import run_unit

    def body(s: Any) -> T:
        State.actor(s)
        return work(s)

    return run_unit(State.engine(), body)


def counted(n: int, entity: str, adjective: str = "") -> str:
    """'1 account', '12,500 accounts', '1 new opportunity' for an entity name of the registry."""
    from crm_tui.services.registry import BY_NAME

    return BY_NAME[entity].counted(n, adjective)


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 page', '3 pages', '1 open opportunity' (``many`` defaults to ``one`` + 's')."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
