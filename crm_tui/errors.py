"""Typed errors raised by the store and the services.

The TUI shows them as notifications; the CLI prints their message as one line
on stderr and exits 1.
"""

from __future__ import annotations


class CRMError(Exception):
    """Base class: ``str(error)`` is a one-line message for a user.

    ``in_words`` (set by ``named``): the same message naming the record by its name instead of its id,
    for the app, whose user never sees ids; the CLI keeps ``str(error)``, ids and all."""

    in_words: str | None = None


def named(error: CRMError, in_words: str) -> CRMError:
    """``error`` with the message the app shows (the record by name): ``raise named(Conflict(...), ...)``."""
    error.in_words = in_words
    return error


def for_people(error: BaseException) -> str:
    """What the app says about ``error``: its ``in_words`` when the service gave one, else its message."""
    return getattr(error, "in_words", None) or str(error)


class ConfigError(CRMError):
    """The config file (or a CRM_* environment variable) is invalid. The message names the
    file, the line and the key; ``path``, ``line`` and ``key`` hold them (None when unknown)."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None, key: str | None = None):
        self.path = path
        self.line = line
        self.key = key
        super().__init__(message)


class NotFound(CRMError):
    def __init__(self, entity: str, record_id: object):
        self.entity = entity
        self.record_id = record_id
        super().__init__(f"{entity} {record_id} not found")


SHOWN_CHARS = 60


def shorten(value: object, limit: int = SHOWN_CHARS) -> object:
    """A very long value cut to ``limit`` characters with an ellipsis, so a message stays one short line."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 4 * limit:  # never turn a gigantic int into text
            return f"a number of {value.bit_length()} bits"
        text = str(value)
        if len(text) <= limit:
            return value
    else:
        return value
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ValidationError(CRMError):
    """A value a user gave cannot be used. ``field`` and ``value`` name it."""

    def __init__(self, field: str, value: object, reason: str):
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {shorten(value)!r} {reason}" if value not in (None, "") else f"{field}: {reason}")

    @property
    def errors(self) -> list["ValidationError"]:
        return [self]


class ValidationErrors(ValidationError):
    """Several invalid fields at once (a form); the message lists them all."""

    def __init__(self, errors: list[ValidationError]):
        self._errors = errors
        first = errors[0]
        CRMError.__init__(self, "; ".join(str(e) for e in errors))
        self.field, self.value, self.reason = first.field, first.value, first.reason

    @property
    def errors(self) -> list[ValidationError]:
        return list(self._errors)


class Conflict(CRMError):
    """The record changed since it was read, or the write would break a rule."""


class NotAllowed(CRMError):
    """The acting user's role does not allow this change (crm role show)."""


class DuplicateValue(ValidationError, Conflict):
    """A value a unique field already holds (a product's SKU): a conflict with the record that has it,
    reported as the field and the value, like any invalid value (forms mark the field)."""


class DatabaseUnavailable(CRMError):
    """The database cannot be opened or reached."""


class DatabaseBusy(CRMError):
    """Another program holds a lock for longer than the busy timeout; trying again later can work."""

    def __init__(self, message: str = "the database is busy (another program is writing to it); try again"):
        super().__init__(message)


class Unexpected(CRMError):
    """Anything no other error describes: a bug. The message names its type; the traceback is for CRM_DEBUG=1."""

    def __init__(self, exc: BaseException):
        self.original = exc
        super().__init__(f"unexpected {type(exc).__name__}: {_first_line(exc)} (set CRM_DEBUG=1 to see the traceback)")


# ---------------------------------------------------------------- driver errors, described for a user
#
# Recognised without importing SQLAlchemy or a driver (this module is imported by every front end):
# SQLAlchemy wraps a driver error and keeps it as ``.orig``; sqlite3 errors carry ``sqlite_errorname``
# (SQLITE_BUSY, ...), psycopg errors carry the SQLSTATE as ``sqlstate``.

BIGINT_MAX = 2**63 - 1

_BUSY_STATES = {"55P03", "40P01", "40001"}  # lock_not_available, deadlock_detected, serialization_failure
_GONE_STATES = {"57P01", "57P02", "57P03", "53300"}  # admin/crash shutdown, cannot connect now, too many clients


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _class_names(exc: BaseException) -> set[str]:
    return {f"{c.__module__}.{c.__name__}" for c in type(exc).__mro__}


def describe_db_error(exc: BaseException) -> CRMError | None:
    """One clear line for a database driver's error (locked, unavailable, damaged, read-only, permission,
    out of range), or None when ``exc`` is not one. The CLI's error boundary and the TUI both use it."""
    orig = getattr(exc, "orig", None) if type(exc).__module__.startswith("sqlalchemy") else None
    driver = orig if isinstance(orig, BaseException) else exc
    if isinstance(driver, OverflowError) and "SQLite INTEGER" in str(driver):
        return CRMError(f"a number is out of range for the database (at most {BIGINT_MAX})")
    name = getattr(driver, "sqlite_errorname", None)
    reason = _first_line(driver)
    if name is not None or type(driver).__module__ == "sqlite3":
        return _describe_sqlite(name or "", reason)
    if type(driver).__module__.startswith("psycopg"):
        return _describe_postgres(driver, reason)
    if type(exc).__module__.startswith("sqlalchemy"):
        names = _class_names(exc)
        if "sqlalchemy.exc.TimeoutError" in names:  # no free connection in the pool
            return DatabaseBusy()
        if "sqlalchemy.exc.DisconnectionError" in names:
            return DatabaseUnavailable(f"the database is unavailable: {reason}")
    return None


def _describe_sqlite(name: str, reason: str) -> CRMError | None:
    lowered = reason.lower()
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or name.startswith("SQLITE_BUSY") or "database is locked" in lowered:
        return DatabaseBusy()
    if name.startswith("SQLITE_READONLY") or "readonly database" in lowered:
        return DatabaseUnavailable(f"the database is read-only ({reason}): check the permissions of the file "
                                   "and its folder")
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB" or "malformed" in lowered or (
            "not a database" in lowered):
        return DatabaseUnavailable(f"the database file is damaged ({reason}); restore it from a backup")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open database" in lowered:
        return DatabaseUnavailable(f"cannot open the database file ({reason}): check that it exists and that "
                                   "you may read and write it and its folder")
    if name in ("SQLITE_PERM", "SQLITE_AUTH"):
        return DatabaseUnavailable(f"permission denied by the database: {reason}")
    if name == "SQLITE_FULL" or "disk is full" in lowered:
        return DatabaseUnavailable(f"the disk is full: {reason}")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in lowered:
        return DatabaseUnavailable(f"the database file cannot be read or written ({reason})")
    if name == "SQLITE_TOOBIG" or "too big" in lowered:
        return CRMError(f"a value is too large for the database ({reason})")
    return None


def _describe_postgres(driver: BaseException, reason: str) -> CRMError | None:
    state = getattr(driver, "sqlstate", None) or ""
    names = {c.__name__ for c in type(driver).__mro__}
    if state in _BUSY_STATES:
        return DatabaseBusy()
    if state in _GONE_STATES or state.startswith("08") or (not state and "OperationalError" in names):
        return DatabaseUnavailable(f"the database is unavailable: {reason}")
    if state == "42501":
        return DatabaseUnavailable(f"permission denied by the database: {reason}")
    if state == "25006":
        return DatabaseUnavailable(f"the database is read-only ({reason})")
    if state == "22003":
        return CRMError(f"a number is out of range for the database ({reason})")
    if state == "22001":
        return CRMError(f"a value is too long for the database ({reason})")
    if state.startswith("23"):
        return Conflict(f"the database refused the change: {reason}")
    if state in ("53100", "53200"):
        return DatabaseUnavailable(f"the database server is out of disk or memory: {reason}")
    if state == "XX001" or state == "XX002":
        return DatabaseUnavailable(f"the database is damaged ({reason})")
    return None


def user_error(exc: BaseException) -> CRMError:
    """What to tell a user about ``exc``: a CRMError as it is, a database error described in one line,
    anything else as ``Unexpected`` (a bug; the traceback is for CRM_DEBUG=1)."""
    if isinstance(exc, CRMError):
        return exc
    return describe_db_error(exc) or Unexpected(exc)


def one_line(message: str) -> str:
    """A message as a single line (a user error is always one line on stderr)."""
    return " ".join(str(message).split()) if "\n" in str(message) or "\r" in str(message) else str(message)
