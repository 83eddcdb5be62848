"""The TUI's handle on its database, opened after the first paint.

Importing SQLAlchemy and SQLModel, opening the engine and checking the schema
take longer than painting the app, so the app paints first and opens the
database in a thread worker (``DatabaseHandle.open``). Every other worker reads
``app.engine`` inside its thread, which waits until the database is open (or
raises ``DatabaseUnavailable`` with the one-line reason).

Nothing here imports SQLAlchemy at import time: ``session_scope`` is the store's,
imported on first use, in the worker thread that uses it.
"""

from __future__ import annotations

import re
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from crm_tui.errors import DatabaseUnavailable


def session_scope(engine: Any) -> AbstractContextManager[Any]:
    """``crm_tui.store.db.session_scope``, imported when first called (in a worker thread)."""
    from crm_tui.store.db import session_scope as scope

    return scope(engine)


def _sqlite_path(url: str) -> str | None:
    """The file path of a plain ``sqlite:///path`` URL; None for anything else."""
    match = re.match(r"^sqlite(?:\+\w+)?:///([^?]*)", url)
    if not match:
        return None
    path = match.group(1)
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def quick_check(url: str) -> str | None:
    """Cheap checks that need no database driver: a one-line problem, or None."""
    path = _sqlite_path(url)
    if path is not None:
        folder = Path(path).expanduser().parent
        if not folder.is_dir():
            return f"cannot open database {path}: folder {folder} does not exist"
    return None


def url_label(url: str) -> str:
    """What the app shows as "the database": a SQLite file's name, or the URL without its password."""
    path = _sqlite_path(url)
    if path is not None:
        return Path(path).name
    if url.startswith("sqlite"):
        return ":memory:"
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class DatabaseHandle:
    """An engine that is either given (tests) or opened once by ``open`` in a worker thread."""

    def __init__(self, url: str | None = None, *, engine: Any = None) -> None:
        if url is None and engine is None:
            raise ValueError("give a database URL or an engine")
        self._engine = engine
        self.url = url if url is not None else engine.url.render_as_string(hide_password=False)
        self.error: str | None = None
        self.migrated = False
        self.abandoned = False
        self._done = threading.Event()
        if engine is not None:
            self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self._engine is not None

    @property
    def failed(self) -> bool:
        return self._done.is_set() and self._engine is None

    @property
    def label(self) -> str:
        if self._engine is not None:
            url = self._engine.url
            if url.get_backend_name() == "sqlite":
                return Path(url.database or ":memory:").name
            return url.render_as_string(hide_password=True)
        return url_label(self.url)

    def open(self) -> None:
        """Open and migrate (in a worker thread). Records the engine or the one-line error."""
        if self._done.is_set():
            return
        engine = None
        try:
            problem = quick_check(self.url)
            if problem:
                raise DatabaseUnavailable(problem)
            from crm_tui.store.db import ensure_schema, make_engine

            engine = make_engine(self.url)
            try:
                self.migrated = ensure_schema(engine)
            except BaseException:
                engine.dispose()
                raise
            if self._done.is_set():  # abandoned meanwhile (the app quit): nobody will use it
                engine.dispose()
                return
            self._engine = engine
        except DatabaseUnavailable as exc:
            self.error = str(exc)
        except Exception as exc:  # a driver's own error: still one line for the user
            self.error = f"cannot open database {url_label(self.url)}: {type(exc).__name__}: {exc}"
        finally:
            self._done.set()

    def abandon(self, reason: str = "the app is closing") -> None:
        """Release every thread waiting for the database (the app is exiting before it opened)."""
        if not self._done.is_set():
            self.abandoned = True
            self.error = reason
            self._done.set()

    def wait(self, timeout: float | None = None) -> Any:
        """The engine, once open; raises DatabaseUnavailable if it could not be opened."""
        if not self._done.wait(timeout):
            raise DatabaseUnavailable(f"database {self.label} is still opening")
        if self._engine is None:
            raise DatabaseUnavailable(self.error or "the database could not be opened")
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
