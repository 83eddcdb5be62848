"""Database work off the event loop, and every failure shown: ``run_db``.

Every screen and widget starts its thread workers here and nowhere else (a test reads
their source to prove it). ``run_db`` runs a job in a thread worker with a fresh session
(its own transaction), hands the result back on the UI thread, and turns any exception
into a visible notification:

- a ``CRMError`` (a value refused, a record gone, a conflict): its message;
- the database busy (locked by another writer) or unavailable: one clear line;
- anything else: "Something went wrong: Type: message".

The host may also be told (``failed``), to show the error under a field or re-enable
a button; a dialog is never left silently open.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker

from crm_tui.errors import CRMError, DatabaseBusy, describe_db_error, for_people


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# What a busy database reads as (the CLI says the same, in lower case after "error:").
BUSY = _sentence(str(DatabaseBusy()))


def database_problem(exc: BaseException) -> str | None:
    """One line for a database error (busy, unavailable, damaged, read-only, permission, out of
    range), or None if ``exc`` is not one: the CLI's wording (``crm_tui.errors.describe_db_error``)
    as a sentence. It reads the drivers' class modules, so the UI need not import SQLAlchemy."""
    problem = describe_db_error(exc)
    return _sentence(str(problem)) if problem is not None else None


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def failure_text(exc: BaseException) -> str:
    """What the user is told about ``exc``: one line, naming a record by its name (errors.for_people)."""
    if isinstance(exc, CRMError):
        return for_people(exc)
    return database_problem(exc) or f"Something went wrong: {type(exc).__name__}: {_first_line(exc)}"


def run_db(node: DOMNode, job: Callable[[Any], Any], *, group: str, done: Callable[[Any], Any] | None = None,
           failed: Callable[[BaseException], Any] | None = None, notify_known: bool = True, title: str = "",
           session: bool = True, exclusive: bool = True) -> Worker:
    """Run ``job(session)`` in a thread worker of ``node``, with a fresh session (committed at the end).

    ``session=False``: the job gets a function that opens a fresh session each time it is called
    (``with new_session() as s:``), for a queue whose every item is its own transaction.

    On success, ``done(result)`` is called on the UI thread; without ``done``, a result that is a
    ``Message`` is posted to ``node``. The job may also post messages itself while it runs.

    On any exception, ``failed(error)`` (if given) is called on the UI thread, and a notification
    says what went wrong, titled ``title`` for a ``CRMError``. With ``notify_known=False`` a
    ``CRMError`` is left to ``failed`` (which shows it in the dialog, under the field);
    everything else is still notified.
    """
    if not notify_known and failed is None:
        raise ValueError("notify_known=False needs a failed callback that shows the error")
    app = node.app

    def body() -> None:
        try:
            # In the worker thread: waits until the database is open. A screen may have an engine
            # of its own (``engine`` property); otherwise the app's.
            engine = getattr(node, "engine", None) or app.engine  # type: ignore[attr-defined]
            from crm_tui.database import session_scope

            if session:
                with session_scope(engine) as s:
                    result = job(s)
            else:
                result = job(lambda: session_scope(engine))
        except Exception as exc:  # every failure is shown, none reaches the user as a traceback
            if failed is not None:
                node.call_later(_plain(failed), exc)
            if notify_known or not isinstance(exc, CRMError):
                app.call_later(_notify, app, group, exc, title)
            return
        if done is not None:
            node.call_later(_plain(done), result)
        elif isinstance(result, Message):
            node.post_message(result)

    return node.run_worker(body, name=group, group=group, description=getattr(job, "__qualname__", group),
                           thread=True, exclusive=exclusive, exit_on_error=False)


def _plain(callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``callback`` as the node's message handler runs it: its result is not awaited (``dismiss``
    returns an awaitable that must not be awaited from the screen's own handler); coroutines are."""
    if inspect.iscoroutinefunction(callback):
        return callback

    def call(value: Any) -> None:
        callback(value)

    return call


def _notify(app: Any, group: str, exc: BaseException, title: str) -> None:
    """On the UI thread: the notification for a failed job (the traceback goes to the log only)."""
    text = failure_text(exc)
    if isinstance(exc, CRMError):
        app.notify(text, title=title, severity="error")
        return
    app.log.error(f"worker {group} failed: {exc!r}")
    app.notify(text, title="Database" if text.startswith(("The database", BUSY)) else title, severity="error",
               timeout=10)
