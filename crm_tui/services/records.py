"""Generic list / get / create / update / delete over one entity's table.

Each entity module (accounts, contacts, opportunities, activities) describes its
fields, output columns, filters and rules as an ``Entity``; the functions here
do the rest the same way for all of them:

- lists and counts are single SQL statements (joined for owner, account and
  stage names), paged with limit/offset or streamed with ``yield_per``;
- writes are cleaned field by field first, so a bad value writes nothing;
- updates are guarded by the record's ``version`` (optimistic locking) and
  write one Change row per changed field, all in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from crm_tui import money
from crm_tui.actor import Actor
from crm_tui.errors import Conflict, DuplicateValue, NotFound, ValidationError, ValidationErrors, named
from crm_tui.services.registry import EntityEntry
from crm_tui.services.validate import FieldSpec, check_text, clean, parse_id
from crm_tui.store.models import Change, User, utcnow
from crm_tui.store.scope import scope

Row = dict[str, Any]


@dataclass
class Entity:
    """The SQL side of one entity of the registry (``crm_tui.services.registry``): its table,
    output columns and joins, list filters and write rules. What else there is to know about it
    (name, plural, fields, search fields, default sort, table columns) is on its registry
    ``entry``; the properties below read it from there, so it is said once."""

    entry: EntityEntry
    table: Table
    # output column name -> SQL expression; order is the stable column order
    columns: Callable[[], dict[str, ColumnElement]]
    joins: Callable[[Any], Any]  # from-clause builder: f(table) -> selectable
    filters: dict[str, Callable[[Session, Any], ColumnElement]] = field(default_factory=dict)
    label: Callable[[Row], str] = lambda row: f"#{row['id']}"
    prepare: Callable[..., dict] | None = None  # (session, values, existing, actor) -> values
    dependents: list[tuple[Table, str, str]] = field(default_factory=list)
    post: Callable[[Row], Row] | None = None
    # After a create, update or delete, in the same transaction: f(session, before, after, actor), with
    # ``before`` None on create and ``after`` None on delete (keeps derived fields of other records true).
    after_write: Callable[[Session, Row | None, Row | None, str], None] | None = None
    # Change rows made readable (names for ids): f(session, rows) -> rows
    describe_changes: Callable[[Session, list[Row]], list[Row]] | None = None
    # The owner of a new record created without one, when a rule gives one: f(session, values) -> user id
    # or None (then the creator owns it). crm_tui/services/assignment.py's rules.
    default_owner: Callable[[Session, dict], int | None] | None = None

    @property
    def name(self) -> str:  # "account"
        return self.entry.name

    @property
    def plural(self) -> str:  # "accounts"
        return self.entry.plural

    @property
    def specs(self) -> dict[str, FieldSpec]:
        return self.entry.specs

    @property
    def default_sort(self) -> str:
        return self.entry.default_sort

    @property
    def summary_columns(self) -> tuple[str, ...]:  # for the table view
        return self.entry.summary_columns

    def search(self) -> list[ColumnElement]:
        """The expressions ``--search`` matches words in: the entry's search fields."""
        cols = self.columns()
        return [cols[name] for name in self.entry.search_fields]


def new_batch_id() -> str:
    """32 hex digits: the time in milliseconds, then 80 random bits (as UUIDv7 orders them).

    Later batches sort after earlier ones, so a batch's Change rows are appended at the
    end of the batch index instead of splitting pages somewhere in its middle."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def _change_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def snapshot_text(row: dict) -> str:
    """A whole record as the change log keeps it (``field`` "*"): JSON of each column's text."""
    return json.dumps({k: _change_text(v) for k, v in row.items()}, ensure_ascii=False)


def _text_sql(col, dialect: str):
    """SQL for ``_change_text`` of a column's value, on SQLite or PostgreSQL."""
    from sqlalchemy import Boolean, Date, DateTime, Text, TypeDecorator, case, cast, literal, null

    type_ = col.type.impl_instance if isinstance(col.type, TypeDecorator) else col.type
    if isinstance(type_, Boolean):
        return case((col.is_(None), null()), (col.is_(True), literal("true", Text)), else_=literal("false", Text))
    if isinstance(type_, DateTime):  # every stored date-time is UTC (SQLModel's UTCDateTime): isoformat() of it
        if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
            stored = and_(func.length(col) == 26, func.substr(col, 20, 1) == ".")
            return case((stored, func.printf("%.10sT%s+00:00", col, func.replace(func.substr(col, 12), ".000000", ""))),
                        else_=cast(col, Text))
        utc = func.timezone("UTC", col)
        return case((col.is_(None), null()),
                    (func.date_trunc("second", utc) == utc, func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')),
                    else_=func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
    if isinstance(type_, Date) and dialect != "sqlite":  # SQLite stores dates as 'YYYY-MM-DD' already
        return func.to_char(col, "YYYY-MM-DD")
    return cast(col, Text)  # integers and strings (no table has floats or decimals)


def snapshot_sql(table: Table, dialect: str):
    """SQL for ``snapshot_text`` of a row of ``table``: the same text, built by the database, so
    set-based writes can log whole records without reading them into Python."""
    from sqlalchemy import Text, cast, literal

    names = [c.name for c in table.c]
    template = "{" + ", ".join(f'"{name}": %s' for name in names) + "}"
    if dialect == "sqlite":
        return func.printf(template, *[func.json_quote(_text_sql(c, dialect)) for c in table.c])
    return func.format(template, *[func.coalesce(cast(func.to_json(cast(_text_sql(c, dialect), Text)), Text),
                                                 literal("null", Text)) for c in table.c])


def record_changes(session: Session, *, entity: str, record_id: int,
                   changes: dict[str, tuple[Any, Any]], actor: str, batch_id: str,
                   when: dt.datetime | None = None) -> None:
    """Write one Change row per changed field."""
    if not changes:
        return
    when = when or utcnow()
    session.execute(
        insert(Change.__table__),
        [
            {"entity": entity, "record_id": record_id, "field": name,
             "old_value": _change_text(old), "new_value": _change_text(new),
             "actor": actor, "changed_at": when, "batch_id": batch_id}
            for name, (old, new) in changes.items()
        ],
    )


def ensure_user(session: Session, username: str) -> int:
    """The id of ``username``, creating the user on first use (the person running crm): the admin when
    there is no active admin yet (a new install: whoever uses it first administers it and reads
    everything), else a sales rep."""
    uid = session.execute(select(User.id).where(User.username == username)).scalar()
    if uid is None:
        from crm_tui.services.users import has_admin

        user = User(username=username, name=username, role="sales" if has_admin(session) else "admin")
        session.add(user)
        session.flush()
        uid = user.id
    return uid


def user_id(session: Session, username: str, *, field_name: str = "owner") -> int:
    uid = session.execute(select(User.id).where(func.lower(User.username) == username.strip().lower())).scalar()
    if uid is None:
        known = session.execute(select(User.username).order_by(User.username).limit(8)).scalars().all()
        hint = f" (known users: {', '.join(known)})" if known else ""
        raise ValidationError(field_name, username, f"is not a user{hint}")
    return uid


def ref_exists(session: Session, table: Table, record_id: Any, field_name: str, label: str) -> int:
    rid = parse_id(record_id, field_name=field_name, label=label)
    found = session.execute(select(table.c.id).where(table.c.id == rid)).scalar()
    if found is None:
        raise ValidationError(field_name, record_id, f"is not an existing {label}")
    return rid


# ---------------------------------------------------------------- reading


def _base_select(entity: Entity):
    cols = entity.columns()
    return select(*[expr.label(name) for name, expr in cols.items()]).select_from(entity.joins(entity.table))


def scoped(entity: Entity, stmt, actor: Actor | None):
    """``stmt`` (a query over ``entity.table``) restricted to the records ``actor`` may see."""
    return scope(stmt, entity=entity.name, table=entity.table, actor=actor)


def is_me(value: Any) -> bool:
    """Whether a filter value is "me" (the acting user)."""
    return isinstance(value, str) and value.strip().lower() == "me"


MAX_SEARCH = 1000
"""The longest ``--search`` text, as for `crm search`: far below SQLite's LIKE pattern limit (50,000 bytes)."""


def _where(entity: Entity, session: Session, search: str | None, filters: dict | None,
           where: str | None = None, actor: Actor | None = None) -> list:
    clauses = []
    if where is not None and where.strip():
        from crm_tui.services.where import compile_for

        clauses.append(compile_for(entity, where, actor=actor))
    if search:
        if len(search) > MAX_SEARCH:
            raise ValidationError("search", search, f"is longer than {MAX_SEARCH} characters")
        for word in check_text("search", search).split():
            # % and _ in what a user types are literal characters, not LIKE wildcards.
            escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            clauses.append(or_(*[func.lower(func.coalesce(col, "")).like(pattern, escape="\\")
                                 for col in entity.search()]))
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if key not in entity.filters:
            raise ValidationError(key, value, f"is not a filter for {entity.plural}; filters are: {', '.join(entity.filters)}")
        if key == "owner" and is_me(value):
            if actor is None:
                raise ValidationError(key, value, "needs the acting user; give a username")
            value = actor.username
        try:
            clauses.append(entity.filters[key](session, value))
        except (TypeError, ValueError):  # e.g. int("abc") for an id filter
            raise ValidationError(key, value, f"is not a valid {key} filter value") from None
    return clauses


def _order(entity: Entity, sort: str | None):
    cols = entity.columns()
    key = (sort or entity.default_sort).strip()
    descending = key.startswith("-")
    key = key.lstrip("-+")
    if key not in cols:
        raise ValidationError("sort", key, f"is not a column of {entity.plural}; columns are: {', '.join(cols)}")
    expr = cols[key]
    ordered = [expr.desc() if descending else expr.asc()]
    if key != "id":
        ordered.append(entity.table.c.id.desc() if descending else entity.table.c.id.asc())
    return ordered


def _finish(entity: Entity, row) -> Row:
    data = dict(row._mapping)
    return entity.post(data) if entity.post else data


def list_records(entity: Entity, *, session: Session, search: str | None = None,
                 filters: dict | None = None, sort: str | None = None,
                 limit: int | None = None, offset: int = 0, where: str | None = None,
                 actor: Actor | None = None) -> list[Row]:
    stmt = _base_select(entity).where(*_where(entity, session, search, filters, where, actor)).order_by(*_order(entity, sort))
    stmt = scoped(entity, stmt, actor)
    if limit:
        stmt = stmt.limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    return [_finish(entity, row) for row in session.execute(stmt)]


def iter_records(entity: Entity, *, session: Session, search: str | None = None,
                 filters: dict | None = None, sort: str | None = None,
                 limit: int | None = None, batch: int = 2000, where: str | None = None,
                 actor: Actor | None = None) -> Iterator[Row]:
    """Stream rows in constant memory (server-side cursor where the driver has one)."""
    stmt = _base_select(entity).where(*_where(entity, session, search, filters, where, actor)).order_by(*_order(entity, sort))
    stmt = scoped(entity, stmt, actor)
    if limit:
        stmt = stmt.limit(limit)
    result = session.execute(stmt.execution_options(yield_per=batch))
    for row in result:
        yield _finish(entity, row)


def from_clause(entity: Entity, *conds):
    """The entity's table, joined to its related tables only when a condition reads one of them.
    (Every join is an outer join or on a required key, so leaving one out never changes which
    records match; a join nothing needs can lead SQLite's planner to a slow plan.)"""
    from sqlalchemy.sql import Join
    from sqlalchemy.sql.util import find_tables

    def froms(clause) -> set:
        return froms(clause.left) | froms(clause.right) if isinstance(clause, Join) else {clause}

    T = entity.table
    joined = entity.joins(T)
    used = {t for c in conds for t in find_tables(c, check_columns=True, include_aliases=True)}
    return joined if (froms(joined) - {T}) & used else T


def count_records(entity: Entity, *, session: Session, search: str | None = None,
                  filters: dict | None = None, where: str | None = None, actor: Actor | None = None) -> int:
    conds = _where(entity, session, search, filters, where, actor)
    stmt = scoped(entity, select(func.count()).select_from(from_clause(entity, *conds)).where(*conds), actor)
    return int(session.execute(stmt).scalar() or 0)


def get_record(entity: Entity, *, session: Session, record_id: int, actor: Actor | None = None) -> Row:
    """One record; NotFound when there is none, or none ``actor`` may see."""
    stmt = scoped(entity, _base_select(entity).where(entity.table.c.id == record_id), actor)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(entity.name, record_id)
    return _finish(entity, row)


def _raw(entity: Entity, session: Session, record_id: int) -> dict:
    row = session.execute(select(entity.table).where(entity.table.c.id == record_id)).first()
    if row is None:
        raise NotFound(entity.name, record_id)
    return dict(row._mapping)


# ---------------------------------------------------------------- writing


def _resolve(entity: Entity, session: Session, cleaned: dict, actor: str | None = None) -> dict:
    """Map cleaned input names to columns, resolving users and references."""
    from crm_tui.services import registry

    values: dict[str, Any] = {}
    errors: list[ValidationError] = []
    for name, value in cleaned.items():
        spec = entity.specs[name]
        try:
            if spec.kind == "user" and value is not None:
                if actor and is_me(value):
                    value = ensure_user(session, actor)
                else:
                    value = user_id(session, str(value), field_name=name)
            elif spec.kind == "ref" and value is not None:
                target = registry.ENTITIES[spec.ref]
                value = ref_exists(session, target.table, value, name, spec.ref)
        except ValidationError as exc:
            errors.append(exc)
            continue
        values[spec.col] = value
    if errors:
        raise errors[0] if len(errors) == 1 else ValidationErrors(errors)
    return values


def _context(entity: Entity, data: dict, existing: dict | None) -> dict:
    currency = data.get("currency") if isinstance(data.get("currency"), str) else None
    if currency:
        try:
            currency = money.normalize_currency(currency)
        except money.MoneyError:
            currency = None
    if not currency and existing:
        currency = existing.get("currency")
    return {"currency": currency or money.DEFAULT_CURRENCY}


def create_record(entity: Entity, *, session: Session, data: dict, actor: str | Actor,
                  batch_id: str | None = None) -> Row:
    if isinstance(actor, Actor):  # who is recorded (and notified about) is the username
        actor = actor.username
    cleaned = clean(entity.specs, data, partial=False, context=_context(entity, data, None))
    values = _resolve(entity, session, cleaned, actor)
    if entity.name == "activity":
        _check_links_readable(entity, session, values, actor)
    by_rule = "owner_id" in entity.table.c and values.get("owner_id") is None and "owner" not in data
    if by_rule:
        values["owner_id"] = ensure_user(session, actor)
    if entity.prepare:
        values = entity.prepare(session, values, None, actor)
    if by_rule and entity.default_owner is not None:
        values["owner_id"] = entity.default_owner(session, values) or values["owner_id"]
    _check_unique(entity, session, values)
    now = utcnow()
    values.setdefault("created_at", now)
    values.setdefault("updated_at", now)
    values.setdefault("version", 1)
    # A record the rules give someone else may be one its creator cannot read: on PostgreSQL, row security
    # refuses to return such a row (RETURNING), so its id comes from the sequence first, and what the
    # creator is told is what they wrote (and who has it now), not a read back.
    given_away = (by_rule and session.get_bind().dialect.name == "postgresql"
                  and values.get("owner_id") != ensure_user(session, actor))
    try:
        if given_away:
            new_id = int(session.execute(select(func.nextval(func.pg_get_serial_sequence(
                entity.table.name, "id")))).scalar_one())
            session.execute(insert(entity.table).values(id=new_id, **values))
        else:
            new_id = session.execute(insert(entity.table).values(**values).returning(entity.table.c.id)).scalar_one()
    except IntegrityError as exc:
        raise Conflict(f"cannot add {entity.name}: {_integrity_reason(exc)}") from None
    try:
        row = get_record(entity, session=session, record_id=new_id)
    except NotFound:
        if not given_away:
            raise
        row = _as_written(entity, session, new_id, values)
    if entity.after_write:
        entity.after_write(session, None, row, actor)
    return row


def _check_links_readable(entity: Entity, session: Session, values: dict, actor: str) -> None:
    """An activity goes only on records its writer can read: NotFound for one they cannot (as on
    PostgreSQL, whose policies refuse it too)."""
    from crm_tui.services import registry
    from crm_tui.services.users import resolve_actor

    refs = [(registry.ENTITIES[spec.ref], values[spec.col]) for spec in entity.specs.values()
            if spec.kind == "ref" and values.get(spec.col) is not None]
    if not refs:
        return
    who = resolve_actor(session=session, username=actor, explicit=False)
    if not who.restricted:
        return
    for target, record_id in refs:
        get_record(target, session=session, record_id=record_id, actor=who)


def _as_written(entity: Entity, session: Session, new_id: int, values: dict) -> Row:
    """A new record as its creator wrote it (one they may not read back): its columns from ``values``."""
    U = User.__table__
    data = {name: values.get(name) for name in entity.columns()}
    data.update(id=new_id, owner=session.execute(select(U.c.username).where(U.c.id == values["owner_id"])).scalar())
    data.update({k: v for k, v in values.items() if k not in data})
    if data.get("name") is None and "last_name" in values:  # a person's name, as the column computes it
        data["name"] = f"{values.get('first_name') or ''} {values.get('last_name') or ''}".strip()
    return _finish(entity, _Mapped(data))


class _Mapped:
    """A plain dict shaped as a result row (``_mapping``), for ``_finish``."""

    def __init__(self, data: dict):
        self._mapping = data


def record_label(entity: Entity, row: dict) -> str:
    """A record as the app names it in a message: ``opportunity “Acme – CRM rollout”``, ``lead “Zoë García
    (Cobalt)”``; a record with no name is ``this <noun>``."""
    if entity.name == "lead":
        from crm_tui.services.sales.leads import lead_label

        name = lead_label(row) if (row.get("first_name") or row.get("last_name") or row.get("name")
                                   or row.get("company")) else ""
    elif entity.name == "contact":
        name = (row.get("name") or f"{row.get('first_name') or ''} {row.get('last_name') or ''}").strip()
    elif entity.name == "activity":
        name = row.get("subject") or ""
    elif entity.name == "proposal":
        name = row.get("number") or ""
    else:
        name = row.get("name") or ""
    noun = entity.name.replace("_", " ")
    name = " ".join(str(name).split())
    if len(name) > 60:
        name = name[:59] + "…"
    return f"{noun} “{name}”" if name else f"this {noun}"


def _conflict(entity: Entity, record_id: int, row: dict, rest: str) -> Conflict:
    """A Conflict: ``<entity> <id> <rest>`` for the CLI, the record by name for the app."""
    error = Conflict(f"{entity.name} {record_id} {rest}")
    error.in_words = f"{record_label(entity, row)} {rest}"
    return error


def check_assignee(entity: Entity, session: Session, actor: Actor, owner_id: int | None) -> None:
    """Refuse giving a record to ``owner_id`` beyond the actor's assign level: all: anyone; team: a member of
    their team (or themselves); own: themselves (PostgreSQL's policies check the same)."""
    from crm_tui.errors import NotAllowed

    level = actor.level(entity.name, "assign")
    if not actor.restricted or level == "all" or owner_id == actor.user_id:
        return
    if owner_id is None and level == "own" and entity.name == "lead":
        return
    if level == "team" and actor.team_id is not None and owner_id is not None:
        U = User.__table__
        if session.execute(select(U.c.team_id).where(U.c.id == owner_id)).scalar() == actor.team_id:
            return
    whom = {"team": "only to members of their team", "own": "only to themselves"}.get(level, "to no one")
    raise NotAllowed(f"{entity.name}: a {actor.role} user may assign {entity.plural} {whom}")


def check_right(entity: Entity, session: Session, record_id: int, actor: Actor, action: str) -> None:
    """Refuse unless ``actor`` may ``action`` (edit, delete, assign) the record: NotFound when it may not
    even read it (nobody learns what they cannot see), else one line naming the rule."""
    from crm_tui.errors import NotAllowed
    from crm_tui.store.visibility import allowed

    if not actor.restricted:
        return
    row = get_record(entity, session=session, record_id=record_id, actor=actor)
    T = entity.table
    stmt = allowed(select(T.c.id).where(T.c.id == record_id), entity=entity.name, table=T, actor=actor, action=action)
    if session.execute(stmt).first() is None:
        level = actor.level(entity.name, action)
        scope_text = {"none": "no", "own": "only their own", "team": "only their team's"}.get(level, level)
        rule = f"a {actor.role} user may {action} {scope_text} {entity.plural}"
        raise named(NotAllowed(f"{entity.name} {record_id}: {rule}"), f"{record_label(entity, row)}: {rule}")


def update_record(entity: Entity, *, session: Session, record_id: int, data: dict, actor: str | Actor,
                  expected_version: int | None = None, batch_id: str | None = None) -> Row:
    """Change fields of one record. ``actor``: the Actor (its rights are checked: edit, and assign for an
    owner change) or, for internal callers, the username the change log records."""
    who = actor if isinstance(actor, Actor) else None
    if who is not None:
        check_right(entity, session, record_id, who, "edit")
        actor = who.username
    existing = _raw(entity, session, record_id)
    if expected_version is not None and existing["version"] != expected_version:
        raise named(Conflict(
            f"{entity.name} {record_id} was changed by someone else since you opened it "
            f"(version {expected_version}, now {existing['version']}); reload and try again"
        ), f"{record_label(entity, existing)} was changed by someone else since you opened it; reload and try again")
    cleaned = clean(entity.specs, data, partial=True, context=_context(entity, data, existing))
    for name, spec in entity.specs.items():
        if spec.required and name in cleaned and cleaned[name] is None:
            raise ValidationError(name, data.get(name), "is required")
    values = _resolve(entity, session, cleaned, actor)
    if entity.prepare:
        values = entity.prepare(session, values, existing, actor)
    changes = {col: (existing.get(col), new) for col, new in values.items() if existing.get(col) != new}
    if not changes:
        return get_record(entity, session=session, record_id=record_id)
    if who is not None and "owner_id" in changes:  # giving the record to someone else
        check_right(entity, session, record_id, who, "assign")
        check_assignee(entity, session, who, changes["owner_id"][1])
    _check_unique(entity, session, {c: new for c, (_, new) in changes.items()}, record_id)
    table = entity.table
    stmt = (
        update(table)
        .where(and_(table.c.id == record_id, table.c.version == existing["version"]))
        .values(**{c: new for c, (_, new) in changes.items()}, version=existing["version"] + 1, updated_at=utcnow())
    )
    try:
        result = session.execute(stmt)
    except IntegrityError as exc:
        raise Conflict(f"cannot update {entity.name} {record_id}: {_integrity_reason(exc)}") from None
    if result.rowcount != 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
        if expected_version is not None:
            raise _conflict(entity, record_id, existing, "was changed by someone else at the same time; "
                            "reload and try again")
        # Saved by someone else between our read and our write, without --if-version: merge
        # (their changes to other fields stay, ours go on top); Conflict only on a shared field.
        changes = _merge_concurrent(entity, session, record_id, existing, changes)
    if changes:
        record_changes(session, entity=entity.name, record_id=record_id, changes=changes, actor=actor,
                       batch_id=batch_id or new_batch_id())
    row = get_record(entity, session=session, record_id=record_id)
    if changes and entity.after_write:
        entity.after_write(session, existing, row, actor)
    return row


def _merge_concurrent(entity: Entity, session: Session, record_id: int, read: dict, changes: dict) -> dict:
    """Apply ``changes`` (column -> (value read, new value)) to the record as it is now, after another
    writer saved it since ``read`` was read. Refused (Conflict) when a column we change was changed by
    them too, to a different value; columns they set to our value already drop out. Returns the
    changes made (old value = theirs), for the change log. Bounded: a record saved again and again
    while we merge is a Conflict."""
    table = entity.table
    for _attempt in range(3):
        now = _raw(entity, session, record_id)  # NotFound if they deleted it
        clash = sorted(c for c, (_old, new) in changes.items() if now.get(c) != read.get(c) and now.get(c) != new)
        if clash:
            raise _conflict(entity, record_id, now, "was changed by someone else at the same time "
                            f"({', '.join(clash)}); reload and try again")
        merged = {c: (now.get(c), new) for c, (_old, new) in changes.items() if now.get(c) != new}
        if not merged:
            return {}
        try:
            result = session.execute(
                update(table).where(and_(table.c.id == record_id, table.c.version == now["version"]))
                .values(**{c: new for c, (_, new) in merged.items()}, version=now["version"] + 1,
                        updated_at=utcnow()))
        except IntegrityError as exc:
            raise Conflict(f"cannot update {entity.name} {record_id}: {_integrity_reason(exc)}") from None
        if result.rowcount == 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
            return merged
    raise _conflict(entity, record_id, read, "was changed by someone else at the same time; reload and try again")


def delete_record(entity: Entity, *, session: Session, record_id: int, actor: str | Actor,
                  batch_id: str | None = None) -> Row:
    if isinstance(actor, Actor):
        check_right(entity, session, record_id, actor, "delete")
        actor = actor.username
    row = get_record(entity, session=session, record_id=record_id)
    raw = _raw(entity, session, record_id)
    blockers = []
    for table, column, label in entity.dependents:
        n = session.execute(select(func.count()).select_from(table).where(table.c[column] == record_id)).scalar()
        if n:
            blockers.append(f"{n} {label}")
    if blockers:
        raise Conflict(f"{entity.name} {record_id} ({entity.label(row)}) still has {', '.join(blockers)}; "
                       "delete or move them first")
    try:
        session.execute(entity.table.delete().where(entity.table.c.id == record_id))
    except IntegrityError as exc:
        raise Conflict(f"cannot delete {entity.name} {record_id}: {_integrity_reason(exc)}") from None
    snapshot = json.dumps({k: _change_text(v) for k, v in raw.items()}, ensure_ascii=False)
    record_changes(session, entity=entity.name, record_id=record_id, changes={"*": (snapshot, None)},
                   actor=actor, batch_id=batch_id or new_batch_id())
    if entity.after_write:
        entity.after_write(session, raw, None, actor)
    return row


def _check_unique(entity: Entity, session: Session, values: dict, record_id: int | None = None) -> None:
    """A value a unique column already holds (a product's SKU) is refused naming the record that has it:
    ``sku: 'X' is already used by product 7``, instead of the database's constraint message."""
    table = entity.table
    for column in table.c:
        if not column.unique or column.name not in values or values[column.name] is None:
            continue
        stmt = select(table.c.id).where(column == values[column.name])
        if record_id is not None:
            stmt = stmt.where(table.c.id != record_id)
        other = session.execute(stmt.limit(1)).scalar()
        if other is not None:
            raise DuplicateValue(column.name, values[column.name], f"is already used by {entity.name} {other}")


def _integrity_reason(exc: IntegrityError) -> str:
    text = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return text


def row_keys(entity: Entity) -> list[str]:
    """The keys of the rows list_records and iter_records return, without reading any (the header of an
    empty CSV result)."""
    keys = list(entity.columns())
    if entity.post:
        sample: dict = dict.fromkeys(keys)
        sample.update({k: 0 for k in keys if k.endswith("_minor") or k == "probability"})
        if "currency" in sample:
            sample["currency"] = "USD"
        keys = list(entity.post(sample))
    return keys


def history_keys() -> list[str]:
    """The keys of the rows ``history`` returns."""
    return list(Change.__table__.c.keys())


def history(*, session: Session, entity: str, record_id: int) -> list[Row]:
    """The Change rows of one record, newest first."""
    table = Change.__table__
    stmt = (select(table).where(table.c.entity == entity, table.c.record_id == record_id)
            .order_by(table.c.changed_at.desc(), table.c.id.desc()))
    return [dict(r._mapping) for r in session.execute(stmt)]
