"""Typed errors raised by the store and the services.

The TUI shows them as notifications; the CLI prints their message as one line
on stderr and exits 1.
"""

from __future__ import annotations


class CRMError(Exception):
    """Base class: ``str(error)`` is a one-line message for a user."""


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


class ValidationError(CRMError):
    """A value a user gave cannot be used. ``field`` and ``value`` name it."""

    def __init__(self, field: str, value: object, reason: str):
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value!r} {reason}" if value not in (None, "") else f"{field}: {reason}")

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


class DatabaseUnavailable(CRMError):
    """The database cannot be opened or reached."""
