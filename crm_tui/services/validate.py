"""Field-by-field cleaning of user input.

Every entity declares its editable fields as ``FieldSpec``s. ``clean`` turns raw
values (text from the CLI or a form, or Python values) into stored values, and
collects every problem into one ``ValidationErrors`` naming field and value, so
nothing is written when anything is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from crm_tui import money
from crm_tui.errors import ValidationError, ValidationErrors

# An "int" field is stored in an INTEGER column: 32 bits on PostgreSQL, so the same limit on SQLite.
# A field stored in a BIGINT column says so with extra={"bigint": True}.
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
# Record ids are INTEGER columns (32 bits on PostgreSQL): the same range on every backend.
ID_RANGE = (1, 2**31 - 1)
# Text no backend stores the same way: NUL (PostgreSQL refuses it) and lone surrogates (an argument that
# was not valid UTF-8, decoded by Python with surrogateescape; no driver can encode it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str = "text"  # text|choice|email|url|date|datetime|int|bool|currency|money|ref|user|stage
    column: str | None = None
    required: bool = False
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    ref: str | None = None  # entity name for kind="ref"
    label: str | None = None
    help: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def col(self) -> str:
        return self.column or self.name


_EMAIL_SIMPLE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The plain ASCII addresses almost everyone has, which email_validator would accept unchanged except for
# lower-casing the domain: checked here without it (it costs ~250 µs an address, too much for a 100k import).
_EMAIL_PLAIN = re.compile(
    r"^(?=.{1,64}@)[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")


def normalize_email(text: str) -> str:
    """email_validator's normalized form (no deliverability check); raises ValueError if not an address."""
    if len(text) <= 254 and _EMAIL_PLAIN.match(text):
        local, domain = text.rsplit("@", 1)
        domain = domain.lower()
        if domain.rsplit(".", 1)[-1] not in _SPECIAL_USE and "xn--" not in domain:
            return f"{local}@{domain}"
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def check_text(field_name: str, value: str) -> str:
    """``value`` unchanged, or ValidationError when it holds a character no database stores:
    NUL, or a lone surrogate (bytes that were not valid UTF-8)."""
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else "bytes that are not valid UTF-8"
        raise ValidationError(field_name, value, f"contains {what} at position {bad.start() + 1}")
    return value


def parse_id(value: Any, *, field_name: str = "id", label: str = "record") -> int:
    """A record id typed by a user (or read from a file): a whole number within the id range of every
    backend, or ValidationError naming ``field_name`` and the value."""
    article = "an" if label[:1] in "aeiou" else "a"
    if isinstance(value, bool):
        raise ValidationError(field_name, value, f"is not {article} {label} id")
    if isinstance(value, int):
        number = value
    else:
        text = check_text(field_name, str(value)).strip()
        if not _WHOLE.match(text) or not text.isascii():
            raise ValidationError(field_name, value, f"is not {article} {label} id (a whole number)")
        digits = text.lstrip("+-").lstrip("0")
        number = int(text) if len(digits) <= 12 else (ID_RANGE[1] + 1 if text[0] != "-" else ID_RANGE[0] - 1)
    low, high = ID_RANGE
    if not low <= number <= high:
        raise ValidationError(field_name, value, f"is not {article} {label} id: ids run from {low} to {high}")
    return number


def is_id(text: str) -> bool:
    """Whether ``text`` (a name or an id) can be an id: ASCII digits within the id range."""
    return text.isascii() and text.isdigit() and len(text) <= 10 and ID_RANGE[0] <= int(text) <= ID_RANGE[1]


# Relative dates: the offset has at most 6 digits (a million days is beyond any date anyway).
_RELATIVE = re.compile(r"^(today|tomorrow|yesterday)\s*(?:([+-])\s*(\d+)\s*([dwm]))?$", re.I)
_MAX_OFFSET_DIGITS = 6
DATE_RANGE_REASON = f"is out of range: dates run from {dt.date.min} to {dt.date.max}"


def parse_date(value: Any, *, field_name: str = "date", today: dt.date | None = None) -> dt.date:
    """ISO dates (2026-12-31) and relative ones (today, tomorrow, today+7d, today-2w)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    today = today or dt.date.today()
    match = _RELATIVE.match(text)
    if match:
        try:
            return _relative_date(match, today)
        except (OverflowError, ValueError):  # past year 9999 or before year 1
            raise ValidationError(field_name, value, DATE_RANGE_REASON) from None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(field_name, value, "is not a date: use YYYY-MM-DD, today or today+7d") from None


def _relative_date(match: re.Match, today: dt.date) -> dt.date:
    base = {"today": today, "tomorrow": today + dt.timedelta(days=1),
            "yesterday": today - dt.timedelta(days=1)}[match.group(1).lower()]
    if not match.group(2):
        return base
    if len(match.group(3).lstrip("0")) > _MAX_OFFSET_DIGITS:
        raise OverflowError("offset out of range")
    n = int(match.group(3)) * (-1 if match.group(2) == "-" else 1)
    unit = match.group(4).lower()
    if unit == "d":
        return base + dt.timedelta(days=n)
    if unit == "w":
        return base + dt.timedelta(weeks=n)
    month = base.month - 1 + n
    year = base.year + month // 12
    month = month % 12 + 1
    import calendar

    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError("year out of range")
    return base.replace(year=year, month=month, day=min(base.day, calendar.monthrange(year, month)[1]))


def parse_datetime(value: Any, *, field_name: str = "datetime") -> dt.datetime:
    """ISO date-times; a bare date means its start. Naive values are taken as local time."""
    if isinstance(value, dt.datetime):
        result = value
    else:
        text = str(value).strip()
        try:
            result = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            clock = dt.time(9, 0)
            timed = re.match(r"^(.*\S)\s+(\d{1,2}):(\d{2})$", text)
            if timed and 0 <= int(timed.group(2)) < 24 and 0 <= int(timed.group(3)) < 60:
                text, clock = timed.group(1), dt.time(int(timed.group(2)), int(timed.group(3)))
            try:
                day = parse_date(text, field_name=field_name)
            except ValidationError as exc:
                reason = exc.reason if exc.reason == DATE_RANGE_REASON else (
                    "is not a date-time: use YYYY-MM-DD HH:MM, YYYY-MM-DD or today 17:00")
                raise ValidationError(field_name, value, reason) from None
            result = dt.datetime.combine(day, clock)
    try:
        if result.tzinfo is None:
            result = result.astimezone()  # local time zone
        return result.astimezone(dt.timezone.utc).replace(microsecond=0)
    except (OverflowError, ValueError):  # the first or last hours of year 1 or 9999 in another time zone
        raise ValidationError(field_name, value, "is out of range: date-times run from 0001-01-02 to 9999-12-30")\
            from None


_WHOLE = re.compile(r"^[+-]?\d+$")


def int_range(spec: FieldSpec) -> tuple[int, int]:
    """The values an "int" field accepts: its own minimum and maximum within its column's range."""
    low, high = INT64 if spec.extra.get("bigint") else INT32
    if spec.minimum is not None:
        low = max(low, spec.minimum)
    if spec.maximum is not None:
        high = min(high, spec.maximum)
    return low, high


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_value(spec: FieldSpec, value: Any, context: dict | None = None) -> Any:
    """Turn one raw value into its stored form, or raise ValidationError."""
    name = spec.name
    if isinstance(value, str):
        check_text(name, value)
    if _blank(value):
        if spec.required:
            raise ValidationError(name, value, "is required")
        if spec.kind == "bool":
            return False
        return None
    kind = spec.kind
    if kind in ("text", "url", "email", "phone"):
        text = str(value).strip()
        if spec.max_len and len(text) > spec.max_len:
            raise ValidationError(name, value, f"is longer than {spec.max_len} characters")
        if kind == "email":
            if not _EMAIL_SIMPLE.match(text):
                raise ValidationError(name, value, "is not an email address")
            try:
                text = normalize_email(text)
            except ValueError:
                raise ValidationError(name, value, "is not an email address") from None
        if kind == "url":
            if " " in text or "." not in text:
                raise ValidationError(name, value, "is not a web address")
        if kind == "phone" and not re.fullmatch(r"[0-9+()./\- x]{3,}", text):
            raise ValidationError(name, value, "is not a phone number")
        return text
    if kind == "choice":
        text = str(value).strip().lower()
        for choice in spec.choices:
            if text == choice.lower() or text == choice.lower().replace(" ", "_"):
                return choice
        raise ValidationError(name, value, f"is not one of: {', '.join(spec.choices)}")
    if kind == "int":
        if isinstance(value, bool):
            raise ValidationError(name, value, "is not a whole number")
        low, high = int_range(spec)
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip().replace(",", "").rstrip("%")
            if not _WHOLE.match(text):
                raise ValidationError(name, value, "is not a whole number")
            # More digits than any allowed value has: out of range, without making a huge int.
            number = int(text) if len(text.lstrip("+-")) <= 20 else (high + 1 if text[0] != "-" else low - 1)
        if not low <= number <= high:
            raise ValidationError(name, value, f"must be between {low} and {high}")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "y", "on"):
            return True
        if text in ("0", "false", "no", "n", "off"):
            return False
        raise ValidationError(name, value, "is not yes or no")
    if kind == "date":
        return parse_date(value, field_name=name)
    if kind == "datetime":
        return parse_datetime(value, field_name=name)
    if kind == "currency":
        try:
            return money.normalize_currency(value)
        except money.MoneyError:
            raise ValidationError(name, value, "is not an ISO 4217 currency code (for example USD, EUR, JPY)") from None
    if kind == "money":
        currency = (context or {}).get("currency") or money.DEFAULT_CURRENCY
        try:
            minor = money.parse_amount(value, currency)
        except money.OutOfRange as exc:
            raise ValidationError(name, value, f"must be between 0 and {exc.highest}") from None
        except money.MoneyError as exc:
            reason = str(exc)
            if "more decimals" in reason:
                raise ValidationError(name, value, f"has more decimals than {currency} allows") from None
            if "between thousands" in reason:
                raise ValidationError(name, value, "is ambiguous: use '.' for decimals and ',' only between thousands") from None
            raise ValidationError(name, value, "is not an amount of money") from None
        if minor < 0:
            raise ValidationError(name, value, "must not be negative")
        return minor
    # ref / user / stage are resolved by the service, which knows the session (ids: ``parse_id``).
    return value


def clean(specs: dict[str, FieldSpec], data: dict[str, Any], *, partial: bool,
          context: dict | None = None) -> dict[str, Any]:
    """Clean ``data`` against ``specs``. Unknown fields are refused by name.

    ``partial`` (an update) checks only the fields given; otherwise every
    required field must be present. Returns {spec.name: cleaned value}.
    """
    errors: list[ValidationError] = []
    out: dict[str, Any] = {}
    for key in data:
        if key not in specs:
            errors.append(ValidationError(key, None, f"is not a field; fields are: {', '.join(specs)}"))
    for name, spec in specs.items():
        if name not in data:
            if not partial and spec.required:
                errors.append(ValidationError(name, None, "is required"))
            continue
        try:
            out[name] = clean_value(spec, data[name], context)
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else ValidationErrors(errors)
    return out
