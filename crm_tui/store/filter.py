"""The one filter language: text -> SQLAlchemy expression over whitelisted fields.

    industry=Technology and state=CA and deal_value>50000
    stage=proposal and amount>50000 and owner=me
    close<=today+7d or (tag=q1_priority and not name~test)
    status in (prospect, active)

Grammar (keywords and field names are case-insensitive)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := FIELD OP value | FIELD ["not"] "in" "(" value ("," value)* ")"
    OP         := = | != | > | >= | < | <= | ~ (contains) | !~ (does not contain)
    value      := WORD | 'quoted' | "quoted" | null

Values: numbers, money (in each record's own currency), dates (2026-03-01,
today, today+7d, today-2w, tomorrow, yesterday, this_month, last_month,
next_month, this_year), yes/no, ``me`` (the current user) and ``null``.

Nothing the user types reaches SQL as text: field names pick from a whitelist
(``FilterField``), values become bound parameters. Every problem raises
``FilterError`` (a ``ValidationError``) pointing at the offending token.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, false, func, not_, or_, select, true
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import Grouping

from crm_tui.errors import ValidationError

MAX_DEPTH = 40
MAX_COMPARISONS = 200
MAX_LENGTH = 10_000
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

KINDS = ("text", "int", "money", "date", "datetime", "bool", "tag")


@dataclass(frozen=True)
class FilterField:
    """One field the filter language may name.

    ``column`` builds the SQL expression compared. ``currency`` (money only)
    gives the row's currency column. ``wrap`` turns a condition on a related
    table into a condition on the listed one (an EXISTS), for to-many fields
    such as an account's ``deal_value``. ``key`` (text fields of a to-one
    relation, such as ``owner`` or ``stage``) gives (the listed table's foreign
    key, the related table's id, the related text column): ``=``, ``!=``,
    ``~`` and ``!~`` then compare the key with the matching ids, so the query
    needs no join and can use the key's index.
    """

    name: str
    kind: str
    column: Callable[[], ColumnElement]
    currency: Callable[[], ColumnElement] | None = None
    wrap: Callable[[ColumnElement], ColumnElement] | None = None
    help: str = ""
    key: Callable[[], tuple[ColumnElement, ColumnElement, ColumnElement]] | None = None


class FilterError(ValidationError):
    """A filter expression that cannot be used; ``position`` is 1-based."""

    def __init__(self, text: str, position: int, token: str, reason: str, hint: str = ""):
        self.text = text
        self.position = position
        self.token = token
        shown = text if len(text) <= 120 else text[:117] + "..."
        where = f" at position {position}" if position else ""
        tok = f" {token!r}" if token else ""
        message = f"{reason}{tok}{where} in {shown!r}{hint}"
        ValidationError.__init__(self, "where", None, message)

    def pointer(self) -> str:
        """Two lines: the expression and a caret under the bad token."""
        return f"{self.text}\n{' ' * max(self.position - 1, 0)}^"


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, op, lparen, rparen, comma, end
    text: str
    pos: int  # 1-based

    @property
    def lower(self) -> str:
        return self.text.lower()


_OPS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
_SPECIAL = set("()=!<>~,'\"")
KEYWORDS = {"and", "or", "not", "in"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            tokens.append(Token("lparen", ch, i + 1))
            i += 1
            continue
        if ch == ")":
            tokens.append(Token("rparen", ch, i + 1))
            i += 1
            continue
        if ch == ",":
            tokens.append(Token("comma", ch, i + 1))
            i += 1
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op:
            tokens.append(Token("op", op, i + 1))
            i += len(op)
            continue
        if ch == "!":
            raise FilterError(text, i + 1, ch, "expected != or !~, found")
        if ch in "'\"":
            quote, start, i = ch, i, i + 1
            out = []
            while True:
                if i >= n:
                    raise FilterError(text, start + 1, text[start:start + 20], "unclosed quote")
                c = text[i]
                if c == "\\" and i + 1 < n:
                    out.append(text[i + 1])
                    i += 2
                    continue
                if c == quote:
                    if i + 1 < n and text[i + 1] == quote:  # doubled quote
                        out.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                out.append(c)
                i += 1
            tokens.append(Token("string", "".join(out), start + 1))
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
            i += 1
        tokens.append(Token("word", text[start:i], start + 1))
    tokens.append(Token("end", "", n + 1))
    return tokens


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Period:
    """A half-open range of days [start, end)."""

    start: dt.date
    end: dt.date


_REL = re.compile(r"^(today|tomorrow|yesterday|now)(?:([+-])(\d{1,6})([dwmy]))?$")
_PERIOD = re.compile(r"^(this|last|next)_(week|month|quarter|year)$")


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def parse_day_value(word: str, today: dt.date) -> Period | None:
    """A date or a named period as a range of days; None if the text is neither."""
    text = word.strip().lower()
    m = _REL.match(text)
    if m:
        base = {"today": today, "now": today, "tomorrow": today + dt.timedelta(days=1),
                "yesterday": today - dt.timedelta(days=1)}[m.group(1)]
        if m.group(2):
            n = int(m.group(3)) * (-1 if m.group(2) == "-" else 1)
            unit = m.group(4)
            if unit == "d":
                base += dt.timedelta(days=n)
            elif unit == "w":
                base += dt.timedelta(weeks=n)
            elif unit == "m":
                base = _add_months(base, n)
            else:
                base = _add_months(base, 12 * n)
        return Period(base, base + dt.timedelta(days=1))
    m = _PERIOD.match(text)
    if m:
        shift = {"this": 0, "last": -1, "next": 1}[m.group(1)]
        unit = m.group(2)
        if unit == "week":
            start = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=shift)
            return Period(start, start + dt.timedelta(weeks=1))
        if unit == "month":
            start = _add_months(today.replace(day=1), shift)
            return Period(start, _add_months(start, 1))
        if unit == "quarter":
            first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
            start = _add_months(first, 3 * shift)
            return Period(start, _add_months(start, 3))
        start = today.replace(month=1, day=1)
        start = start.replace(year=start.year + shift)
        return Period(start, start.replace(year=start.year + 1))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        m = re.fullmatch(r"(\d{4})-(\d{2})", text)  # a whole month
        if not m:
            return None
        try:
            start = dt.date(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            return None
        return Period(start, _add_months(start, 1))
    return Period(day, day + dt.timedelta(days=1))


# ---------------------------------------------------------------- parser


@dataclass
class Context:
    me: str | None = None
    today: dt.date | None = None
    tag_exists: Callable[[Callable[[ColumnElement], ColumnElement]], ColumnElement] | None = None
    tz: dt.tzinfo | None = None


class Parser:
    def __init__(self, text: str, fields: dict[str, FilterField], context: Context, plural: str):
        self.text = text
        self.fields = {k.lower(): v for k, v in fields.items()}
        self.ctx = context
        self.today = context.today or dt.date.today()
        self.plural = plural
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.comparisons = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.kind != "end":
            self.i += 1
        return t

    def is_kw(self, word: str) -> bool:
        return self.tok.kind == "word" and self.tok.lower == word

    def error(self, token: Token, reason: str, hint: str = "") -> FilterError:
        return FilterError(self.text, token.pos, token.text, reason, hint)

    def me(self, field: FilterField, v: Token) -> str:
        """The value's text, with ``me`` on an owner field replaced by the acting user's name."""
        if v.kind == "word" and v.text.lower() == "me" and (field.name == "owner" or field.name.endswith(".owner")):
            if self.ctx.me is None:
                raise self.error(v, "means the acting user, and there is none here: give a username instead of")
            return self.ctx.me
        return v.text

    def fields_hint(self) -> str:
        return f"; fields of {self.plural} are: {', '.join(sorted(self.fields))}"

    # grammar
    def parse(self) -> ColumnElement:
        if self.tok.kind == "end":
            raise FilterError(self.text, 0, "", "empty filter expression")
        expr = self.or_expr()
        if self.tok.kind != "end":
            t = self.tok
            if t.kind == "rparen":
                raise self.error(t, "unbalanced parenthesis")
            raise self.error(t, "expected 'and', 'or' or the end, found")
        return expr

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(self.tok, f"expression nested more than {MAX_DEPTH} deep")

    def or_expr(self) -> ColumnElement:
        self.nested()
        parts = [self.and_expr()]
        while self.is_kw("or"):
            self.advance()
            parts.append(self.and_expr())
        self.depth -= 1
        return parts[0] if len(parts) == 1 else or_(*parts)

    def and_expr(self) -> ColumnElement:
        parts = [self.not_expr()]
        while self.is_kw("and"):
            self.advance()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else and_(*parts)

    def not_expr(self) -> ColumnElement:
        if self.is_kw("not"):
            self.advance()
            self.nested()
            inner = self.not_expr()
            self.depth -= 1
            return not_(inner)
        if self.tok.kind == "lparen":
            open_tok = self.advance()
            inner = self.or_expr()
            if self.tok.kind != "rparen":
                if self.tok.kind == "end":
                    raise self.error(open_tok, "unclosed parenthesis")
                raise self.error(self.tok, "expected ')', found")
            self.advance()
            return inner
        return self.comparison()

    def comparison(self) -> ColumnElement:
        t = self.tok
        if t.kind != "word" or t.lower in KEYWORDS:
            if t.kind == "end":
                raise self.error(t, "expected a field name at the end", self.fields_hint())
            raise self.error(t, "expected a field name, found", self.fields_hint())
        self.advance()
        field = self.fields.get(t.lower)
        if field is None:
            raise self.error(t, "unknown field", self.fields_hint())
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.error(t, f"more than {MAX_COMPARISONS} comparisons")
        negate_in = False
        if self.is_kw("not"):
            self.advance()
            if not self.is_kw("in"):
                raise self.error(self.tok, f"expected 'in' after '{t.text} not', found")
            negate_in = True
        if self.is_kw("in"):
            self.advance()
            if self.tok.kind != "lparen":
                raise self.error(self.tok, "expected '(' after 'in', found")
            self.advance()
            values = [self.value(t)]
            while self.tok.kind == "comma":
                self.advance()
                values.append(self.value(t))
            if self.tok.kind != "rparen":
                raise self.error(self.tok, "expected ',' or ')' in the list, found")
            self.advance()
            if field.kind == "tag":
                names = [self.tag_name(field, v).lower() for v in values]
                expr = self.ctx.tag_exists(lambda name_col: func.lower(name_col).in_(names))
            else:
                expr = self.in_list(field, values)
            return not_(expr) if negate_in else expr
        op = self.tok
        if op.kind != "op":
            raise self.error(op, f"expected an operator (= != > >= < <= ~ !~ in) after {t.text!r}, found")
        self.advance()
        value = self.value(t)
        return self.compile_one(field, op.text, value)

    def in_list(self, field: FilterField, values: list[Token]) -> ColumnElement:
        """``field in (a, b, ...)``: one ``IN`` over the values of a whole-number or text field (a flat list,
        so thousands of ids stay one shallow expression: SQLite refuses an expression tree deeper than
        1000, which ``x = a OR x = b OR ...`` reaches at about 1000 values); other kinds (dates, money,
        yes/no) as a balanced OR of their comparisons."""
        nulls = [v for v in values if v.kind == "word" and v.lower in ("null", "none", "empty")]
        rest = [v for v in values if v not in nulls]
        parts: list[ColumnElement] = [self.compile_one(field, "=", nulls[0])] if nulls else []
        if rest and field.kind == "int":
            col = field.column()
            parts.append(self._wrap(field, col.in_(sorted({self.integer(field, v, col) for v in rest}))))
        elif rest and field.kind == "text":
            texts = sorted({self.me(field, v).lower() for v in rest})
            if field.key is not None:
                fk, target_id, target_text = field.key()
                parts.append(self._wrap(field, fk.in_(select(target_id).where(func.lower(target_text).in_(texts)))))
            else:
                parts.append(self._wrap(field, func.lower(field.column()).in_(texts)))
        elif rest:
            parts.append(_balanced_or([self.compile_one(field, "=", v) for v in rest]))
        return _balanced_or(parts)

    def by_key(self, field: FilterField, op: str, v: Token) -> ColumnElement:
        """``owner = alice`` as ``owner_id IN (SELECT id FROM users WHERE lower(username) = 'alice')``,
        ``stage ~ prop`` as ``stage_id IN (SELECT id FROM stages WHERE lower(name) LIKE '%prop%')``;
        ``!=`` and ``!~`` also keep the records with no related record, as the joined comparison does."""
        fk, target_id, target_text = field.key()
        text = v.text
        if op in ("~", "!~"):
            ids = select(target_id).where(_contains(target_text, text))
        else:
            text = self.me(field, v)
            ids = select(target_id).where(func.lower(target_text) == text.lower())
        return fk.in_(ids) if op in ("=", "~") else or_(fk.is_(None), fk.not_in(ids))

    def value(self, field_tok: Token) -> Token:
        v = self.tok
        if v.kind in ("word", "string"):
            self.advance()
            return v
        if v.kind == "end":
            raise self.error(v, f"expected a value for {field_tok.text!r} at the end")
        raise self.error(v, f"expected a value for {field_tok.text!r}, found")

    # compiling one comparison
    def compile_one(self, field: FilterField, op: str, v: Token) -> ColumnElement:
        is_null = v.kind == "word" and v.lower in ("null", "none", "empty")
        if field.kind == "tag":
            if is_null:
                expr = self.ctx.tag_exists(lambda name_col: true())
                return not_(expr) if op == "=" else expr
            name = self.tag_name(field, v)
            if op == "=":
                return self.ctx.tag_exists(lambda c: func.lower(c) == name.lower())
            if op == "!=":
                return not_(self.ctx.tag_exists(lambda c: func.lower(c) == name.lower()))
            if op == "~":
                return self.ctx.tag_exists(lambda c: _contains(c, name))
            if op == "!~":
                return not_(self.ctx.tag_exists(lambda c: _contains(c, name)))
            raise FilterError(self.text, v.pos, op, "tags compare with = != ~ !~ or in, not")
        if field.key is not None and field.kind == "text" and op in ("=", "!=", "~", "!~") and not is_null:
            return self._wrap(field, self.by_key(field, op, v))
        col = field.column()
        if is_null:
            if op == "=":
                cond = col.is_(None)
            elif op == "!=":
                cond = col.is_not(None)
            else:
                raise self.error(v, f"null compares with = or != only, not {op}")
            return self._wrap(field, cond)
        kind = field.kind
        if op in ("~", "!~"):
            if kind not in ("text",):
                raise self.error(v, f"~ (contains) works on text fields; {field.name} is {kind}, value")
            cond = _contains(col, v.text)
            if op == "!~":
                cond = or_(col.is_(None), not_(cond))
            return self._wrap(field, cond)
        if kind == "text":
            text = self.me(field, v)
            if op in ("=", "!="):
                cond = func.lower(col) == text.lower()
                if op == "!=":
                    cond = or_(col.is_(None), func.lower(col) != text.lower())
            else:
                cond = _cmp(col, op, text)
            return self._wrap(field, cond)
        if kind == "int":
            number = self.integer(field, v, col)
            return self._wrap(field, _cmp_ne_null(col, op, number))
        if kind == "bool":
            text = v.text.strip().lower()
            if text in ("1", "true", "yes", "y", "on"):
                flag = True
            elif text in ("0", "false", "no", "n", "off"):
                flag = False
            else:
                raise self.error(v, f"{field.name} is yes or no, not")
            if op not in ("=", "!="):
                raise self.error(v, f"{field.name} compares with = or != only, not {op} before")
            cond = col.is_(flag) if op == "=" else col.is_not(flag)
            return self._wrap(field, cond)
        if kind == "money":
            return self._wrap(field, self.money(field, col, op, v))
        if kind in ("date", "datetime"):
            try:
                period = parse_day_value(v.text, self.today)
            except (ValueError, OverflowError):
                period = None
            if period is None:
                raise self.error(v, f"{field.name} needs a date (YYYY-MM-DD, today, today+7d, this_month), not")
            lo, hi = period.start, period.end
            if kind == "datetime":
                lo, hi = self.instant(lo), self.instant(hi)
            if op == "=":
                cond = and_(col >= lo, col < hi)
            elif op == "!=":
                cond = or_(col.is_(None), col < lo, col >= hi)
            elif op == ">":
                cond = col >= hi
            elif op == ">=":
                cond = col >= lo
            elif op == "<":
                cond = col < lo
            else:
                cond = col < hi
            return self._wrap(field, cond)
        raise self.error(v, f"cannot compare {field.name}")

    def instant(self, day: dt.date) -> dt.datetime:
        tz = self.ctx.tz or dt.datetime.now().astimezone().tzinfo
        return dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz).astimezone(dt.timezone.utc)

    def integer(self, field: FilterField, v: Token, col=None) -> int:
        try:
            number = int(v.text.replace("_", "").replace(",", "").strip())
        except ValueError:
            raise self.error(v, f"{field.name} is a whole number, not") from None
        from sqlalchemy import BigInteger, Integer

        low, high = INT_MIN, INT_MAX
        type_ = getattr(col, "type", None)
        if isinstance(type_, Integer) and not isinstance(type_, BigInteger):
            low, high = -(2**31), 2**31 - 1  # a 32-bit column on PostgreSQL
        if not low <= number <= high:
            raise self.error(v, f"{field.name} is out of range ({low} to {high}):")
        return number

    def money(self, field: FilterField, col, op: str, v: Token) -> ColumnElement:
        raw = v.text.strip().replace(",", "").replace("_", "").lstrip("$€£¥")
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or abs(amount) > Decimal(10) ** 14:
            raise self.error(v, f"{field.name} is an amount such as 50000 or 12500.50, not")
        from crm_tui import money

        # Compare in each record's own minor units: one threshold per decimals group.
        groups: dict[int, list[str]] = {}
        for code, exp in money.CURRENCIES.items():
            groups.setdefault(exp, []).append(code)
        currency = field.currency() if field.currency is not None else None

        def cond_for(exp: int) -> ColumnElement:
            scaled = amount.scaleb(exp)
            exact = scaled == scaled.to_integral_value()
            lo = int(scaled.to_integral_value(rounding="ROUND_FLOOR"))
            hi = int(scaled.to_integral_value(rounding="ROUND_CEILING"))
            if op == "=":
                return col == lo if exact else false()
            if op == "!=":
                return col != lo if exact else true()
            if op == ">":
                return col > lo
            if op == ">=":
                return col >= hi
            if op == "<":
                return col < hi
            return col <= lo

        if currency is None:
            return cond_for(money.decimals(money.DEFAULT_CURRENCY))
        default_exp = 2
        parts = [and_(currency.in_(codes), cond_for(exp)) for exp, codes in sorted(groups.items()) if exp != default_exp]
        parts.append(and_(currency.not_in([c for e, cs in groups.items() if e != default_exp for c in cs]),
                          cond_for(default_exp)))
        return or_(*parts)

    def tag_name(self, field: FilterField, v: Token) -> str:
        if self.ctx.tag_exists is None:
            raise self.error(v, "tags are not available here:")
        return v.text.strip()

    def _wrap(self, field: FilterField, cond: ColumnElement) -> ColumnElement:
        return field.wrap(cond) if field.wrap is not None else cond


def _balanced_or(parts: list[ColumnElement], fan: int = 32) -> ColumnElement:
    """``a OR b OR ...`` as a tree of parenthesised groups of at most ``fan``: SQLAlchemy flattens nested
    ORs into one chain, which SQLite parses as a tree as deep as it is long."""
    if len(parts) <= fan:
        return parts[0] if len(parts) == 1 else or_(*parts)
    size = -(-len(parts) // fan)
    return or_(*[Grouping(_balanced_or(parts[i:i + size], fan)) for i in range(0, len(parts), size)])


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(col, text: str) -> ColumnElement:
    return func.lower(col).like(f"%{_escape_like(text.lower())}%", escape="\\")


def _cmp(col, op: str, value: Any) -> ColumnElement:
    return {"=": col == value, "!=": col != value, ">": col > value, ">=": col >= value,
            "<": col < value, "<=": col <= value}[op]


def _cmp_ne_null(col, op: str, value: Any) -> ColumnElement:
    if op == "!=":
        return or_(col.is_(None), col != value)
    return _cmp(col, op, value)


def compile_where(text: str, fields: dict[str, FilterField], *, context: Context | None = None,
                  plural: str = "records") -> ColumnElement:
    """Compile filter ``text`` over ``fields``; raises FilterError (a ValidationError)."""
    if not isinstance(text, str):
        raise FilterError(str(text), 0, "", "filter expression is not text:")
    if len(text) > MAX_LENGTH:
        raise FilterError(text, 0, "", f"filter expression is longer than {MAX_LENGTH} characters:")
    for pos, ch in enumerate(text):
        if ch == "\x00" or "\ud800" <= ch <= "\udfff":
            raise FilterError(text, pos + 1, "", "unusable character (NUL or lone surrogate)")
    return Parser(text, fields, context or Context(), plural).parse()


