"""Bulk tag, update and delete over a selection, and undo of any batch.

Every bulk write is a handful of set-based SQL statements in the caller's one
transaction: a --where selection is read in place (ids from --ids go into a
temporary table), Change rows are written with INSERT ... SELECT (old value read
from the row, new value computed), then one UPDATE / INSERT / DELETE applies the
change. No ORM objects, no per-row round trips, so 100,000 records cost a few
statements.

``undo`` restores exactly what a batch changed: old field values and tags go
back, records it deleted come back with their ids, and records it created (an
import: Change rows with field "*" and no old value) are deleted again, logged
whole, with their tags. It refuses (naming the records) when any of them has been
changed since, and when a record it would delete has dependents.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlmodel import Session

from crm_tui.actor import Actor, as_actor
from crm_tui.errors import Conflict, NotFound, ValidationError
from crm_tui.services import records
from crm_tui.services.records import Entity, new_batch_id
from crm_tui.services.validate import clean
from crm_tui.store.db import begin_write
from crm_tui.store.models import Change, Tag, Tagging, utcnow
from crm_tui.store.types import as_utc

CHANGES = Change.__table__
TAGS = Tag.__table__
TAGGINGS = Tagging.__table__

_META = MetaData()
IDS = Table("crm_bulk_ids", _META, Column("id", BigInteger, primary_key=True), prefixes=["TEMPORARY"])

SAMPLE = 5
Progress = Callable[[str], None]

# Fields a bulk --set may not change: money needs each record's currency, and
# moving deals to Won/Lost has per-record rules (close dates, lost reasons).
_NOT_BULK = {"amount": "set amounts one record at a time (each has its own currency)"}


@dataclass
class BulkResult:
    entity: str
    action: str
    matched: int  # records selected
    affected: int  # records that change
    batch_id: str | None
    dry_run: bool
    sample: list[dict] = field(default_factory=list)
    changes: dict[str, str] = field(default_factory=dict)  # field -> new value (text)
    skipped: int = 0  # selected records the actor may read but not change (their role's rule)
    right: str = "edit"  # the right those lacked: edit, delete or assign


def entity_for(name: str) -> Entity:
    """The entity any of its nouns names (``registry.entity_for``; kept here for callers of bulk)."""
    from crm_tui.services.registry import entity_for as resolve

    return resolve(name)


# ---------------------------------------------------------------- selection


def _ids_table(session: Session) -> Table:
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TABLE IF EXISTS temp.crm_bulk_ids")
        conn.exec_driver_sql("CREATE TEMP TABLE crm_bulk_ids (id INTEGER PRIMARY KEY)")
    else:
        conn.exec_driver_sql("DROP TABLE IF EXISTS pg_temp.crm_bulk_ids")
        conn.exec_driver_sql("CREATE TEMP TABLE crm_bulk_ids (id bigint PRIMARY KEY) ON COMMIT DROP")
    return IDS


def parse_ids(lines: Iterable[str]) -> list[int]:
    """Ids one per line (or separated by commas/spaces); blank lines and a header 'id' are skipped."""
    out: list[int] = []
    seen: set[int] = set()
    for n, line in enumerate(lines, start=1):
        for word in line.replace(",", " ").split():
            if word.lower() == "id" and n == 1:
                continue
            try:
                value = int(word)
            except ValueError:
                raise ValidationError("ids", word, f"on line {n} is not a record id") from None
            if not 0 < value < 2**63:
                raise ValidationError("ids", word, f"on line {n} is not a record id")
            if value not in seen:
                seen.add(value)
                out.append(value)
    return out


def select_records(entity: Entity, *, session: Session, where: str | None = None, ids: list[int] | None = None,
                   actor: Actor | None = None) -> int:
    """Fill the temporary id table with the selection (of the records ``actor`` may see; an id of one
    it may not is not found); returns how many records it holds."""
    if (where is None) == (ids is None):
        raise ValidationError("selection", None, "give exactly one of --where or --ids")
    table = _ids_table(session)
    T = entity.table
    if where is not None:
        from crm_tui.services.where import compile_for

        cond = compile_for(entity, where, actor=actor)
        session.execute(insert(table).from_select(
            ["id"], records.scoped(entity, select(T.c.id).select_from(records.from_clause(entity, cond)).where(cond),
                                   actor)))
    else:
        if ids and session.connection().dialect.name == "postgresql":
            # One statement with one array parameter, however many ids (an INSERT per id costs a round trip).
            session.execute(text("INSERT INTO crm_bulk_ids (id) SELECT unnest(CAST(:ids AS bigint[]))"), {"ids": ids})
        elif ids:
            session.execute(insert(table), [{"id": i} for i in ids])
        if ids:
            missing = session.execute(
                select(table.c.id).where(~exists(records.scoped(entity, select(T.c.id).where(T.c.id == table.c.id),
                                                                actor)))
                .order_by(table.c.id).limit(10)).scalars().all()
            if missing:
                raise ValidationError("ids", ", ".join(map(str, missing)), f"not found among {entity.plural}")
    return int(session.execute(select(func.count()).select_from(table)).scalar() or 0)


def lock_rows(entity: Entity, session: Session, ids) -> None:
    """On PostgreSQL, lock the records ``ids`` (a SELECT of ids) in id order before changing them: two
    bulk writers over overlapping records then queue (the second waits up to lock_timeout) instead of
    each locking rows in its own scan order and deadlocking. On SQLite ``begin_write`` holds the one
    write lock already."""
    if session.connection().dialect.name != "postgresql":
        return
    T = entity.table
    locked = select(T.c.id).where(T.c.id.in_(ids)).order_by(T.c.id).with_for_update()
    session.execute(select(func.count()).select_from(locked.subquery()))


def _sample(entity: Entity, session: Session, id_filter, dry_run: bool = True) -> list[dict]:
    """A few of the records a dry run would change (a real run does not show them, so skips the query)."""
    if not dry_run:
        return []
    stmt = (records._base_select(entity).where(entity.table.c.id.in_(id_filter))
            .order_by(entity.table.c.id).limit(SAMPLE))
    return [records._finish(entity, r) for r in session.execute(stmt)]


def _literal(value: Any, type_=Text):
    return null() if value is None else literal(value, type_)


def _change_rows_select(entity: Entity, field_name: str, old_expr, new_expr, actor: str, when, batch_id: str,
                        source, cond):
    return select(
        literal(entity.name, String), source.c.id, literal(field_name, String), old_expr, new_expr,
        literal(actor, String), literal(when, DateTime(timezone=True)), literal(batch_id, String),
    ).select_from(source).where(cond)


_CHANGE_COLS = ["entity", "record_id", "field", "old_value", "new_value", "actor", "changed_at", "batch_id"]


def log_snapshots(entity: Entity, session: Session, cond, *, created: bool, actor: str, when, batch_id: str) -> None:
    """One Change row (field "*") per record of ``entity`` where ``cond`` holds, holding the whole record
    (records.snapshot_sql): as the new value for records the batch created, as the old value for records
    it is about to delete. One INSERT ... SELECT."""
    T = entity.table
    snap = records.snapshot_sql(T, session.connection().dialect.name)
    session.execute(insert(CHANGES).from_select(_CHANGE_COLS, _change_rows_select(
        entity, "*", null() if created else snap, snap if created else null(), actor, when, batch_id, T, cond)))


# ---------------------------------------------------------------- tags


def _tag_name(tag: str) -> str:
    name = (tag or "").strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name) or "," in name:
        raise ValidationError("tag", tag, "must be 1 to 64 characters without spaces or commas")
    return name


def _tag_id(session: Session, name: str, *, create: bool) -> int | None:
    tid = session.execute(select(TAGS.c.id).where(func.lower(TAGS.c.name) == name.lower())).scalar()
    if tid is None and create:
        if session.connection().dialect.name == "postgresql":
            # Another writer may be creating the same tag now: wait for it and use its row.
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(pg_insert(TAGS).values(name=name).on_conflict_do_nothing(index_elements=["name"]))
            return session.execute(select(TAGS.c.id).where(func.lower(TAGS.c.name) == name.lower())).scalar()
        tid = session.execute(insert(TAGS).values(name=name).returning(TAGS.c.id)).scalar_one()
    return tid


def drop_not_allowed(entity: Entity, session: Session, actor: Actor, action: str) -> int:
    """Take the records ``actor`` may not ``action`` (edit, delete, assign) out of the temporary id table;
    returns how many it took out (a bulk write never touches them and says how many it skipped)."""
    if not actor.restricted:
        return 0
    from crm_tui.store.visibility import allowed

    T = entity.table
    ok = allowed(select(T.c.id), entity=entity.name, table=T, actor=actor, action=action)
    result = session.execute(delete(IDS).where(IDS.c.id.not_in(ok)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _selection(entity: Entity, session: Session, where: str | None, ids: list[int] | None, actor: Actor):
    """(a SELECT of the chosen record ids, its id column, how many it selects).

    A --where selection stays a query over the table, so later statements read the
    records once; an --ids list goes into the temporary id table (after checking every
    id exists)."""
    if where is not None and ids is None:
        from crm_tui.services.where import compile_for

        T = entity.table
        cond = compile_for(entity, where, actor=actor)
        stmt = records.scoped(entity, select(T.c.id).select_from(records.from_clause(entity, cond)).where(cond), actor)
        matched = int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar() or 0)
        skipped = 0
        if actor.restricted:
            from crm_tui.store.visibility import allowed

            stmt = allowed(stmt, entity=entity.name, table=T, actor=actor, action="edit")
            kept = int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar() or 0)
            skipped, matched = matched - kept, kept
        return stmt, T.c.id, matched, skipped
    matched = select_records(entity, session=session, where=where, ids=ids, actor=actor)
    skipped = drop_not_allowed(entity, session, actor, "edit")
    return select(IDS.c.id), IDS.c.id, matched - skipped, skipped


def tag(entity: Entity, *, session: Session, tag: str, add: bool, actor: Actor | str, where: str | None = None,
        ids: list[int] | None = None, dry_run: bool = False, progress: Progress | None = None) -> BulkResult:
    """Add or remove one tag on every selected record.

    Two set-based statements do the work: the Change rows are written for exactly the
    records that change (adding: those without the tag; removing: those with it), then
    the taggings are inserted for the records of those Change rows, read back by batch
    id, or deleted for the same records, so the log and the tags cannot disagree.

    ``actor`` selects (``me``, and which records it may see) and is logged as who made the changes."""
    acting = as_actor(actor)
    actor = acting.username
    name = _tag_name(tag)
    note = progress or (lambda _msg: None)
    begin_write(session)
    note("selecting records")
    selection, id_col, matched, skipped = _selection(entity, session, where, ids, acting)
    if not dry_run:
        lock_rows(entity, session, selection)
    tid = _tag_id(session, name, create=add and not dry_run)
    has_tag = exists(select(literal(1)).select_from(TAGGINGS).where(
        TAGGINGS.c.tag_id == tid, TAGGINGS.c.entity == entity.name, TAGGINGS.c.record_id == id_col))
    if tid is None:  # a tag nobody has yet: adding changes every record, removing none
        targets = selection if add else selection.where(literal(False))
    else:
        targets = selection.where(~has_tag if add else has_tag)
    changes = {"tag": ("+" if add else "-") + name}
    action = "tag add" if add else "tag remove"
    if dry_run:
        affected = int(session.execute(select(func.count()).select_from(targets.subquery())).scalar() or 0)
        return BulkResult(entity.name, action, matched, affected, None, True, _sample(entity, session, targets),
                          changes, skipped)
    batch_id = new_batch_id()
    when = utcnow()
    note("recording changes")
    sub = targets.subquery()
    rows = _change_rows_select(entity, "tag", null() if add else _literal(name), _literal(name) if add else null(),
                               actor, when, batch_id, sub, literal(True))
    # (preserve_rowcount: without it SQLAlchemy does not keep an INSERT's row count on PostgreSQL)
    conn = session.connection().execution_options(preserve_rowcount=True)
    affected = conn.execute(insert(CHANGES).from_select(_CHANGE_COLS, rows)).rowcount
    result = BulkResult(entity.name, action, matched, affected, None, False, [], changes, skipped)
    if affected == 0:
        return result
    note(f"{'tagging' if add else 'untagging'} {affected:,} {entity.plural}")
    logged = select(CHANGES.c.record_id).where(CHANGES.c.batch_id == batch_id)
    if add:
        session.execute(insert(TAGGINGS).from_select(
            ["tag_id", "entity", "record_id", "created_at"],
            select(literal(tid, BigInteger), literal(entity.name, String), CHANGES.c.record_id,
                   literal(when, DateTime(timezone=True))).where(CHANGES.c.batch_id == batch_id)))
    else:
        # On SQLite the INSERT above took the write lock, so the taggings cannot have changed
        # since: the same condition names the same rows, and is cheaper than reading the batch
        # back. On PostgreSQL another transaction may have tagged a record since, so the
        # DELETE takes exactly the records logged.
        sqlite = session.connection().dialect.name == "sqlite"
        session.execute(delete(TAGGINGS).where(TAGGINGS.c.entity == entity.name, TAGGINGS.c.tag_id == tid,
                                               TAGGINGS.c.record_id.in_(selection if sqlite else logged)))
    result.batch_id = batch_id
    return result


# ---------------------------------------------------------------- update


def parse_sets(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValidationError("set", pair, "must look like field=value")
        key, value = pair.split("=", 1)
        key = key.strip().replace("-", "_")
        if not key:
            raise ValidationError("set", pair, "must look like field=value")
        out[key] = "" if value.strip() == "-" else value
    return out


def _assignments(entity: Entity, session: Session, data: dict[str, str], now: dt.datetime,
                 actor: str | None = None) -> dict[str, Any]:
    """Column -> new value (a Python value, or an SQL expression over the row for derived columns);
    an owner "me" is ``actor``."""
    for key in data:
        if key in _NOT_BULK:
            raise ValidationError(key, data[key], _NOT_BULK[key])
    if entity.name == "opportunity" and "currency" in data:
        raise ValidationError("currency", data["currency"], "cannot change in bulk: amounts are kept in it")
    cleaned = clean(entity.specs, data, partial=True, context={"currency": "USD"})
    for name, spec in entity.specs.items():
        if spec.required and name in cleaned and cleaned[name] is None:
            raise ValidationError(name, data.get(name), "is required")
    values: dict[str, Any] = records._resolve(entity, session, cleaned, actor)
    T = entity.table
    if entity.name == "opportunity" and "stage_id" in values:
        from crm_tui.services.sales.stages import resolve_stage

        if values["stage_id"] is None:
            raise ValidationError("stage", None, "is required")
        stage = resolve_stage(session=session, value=values["stage_id"])
        if stage.is_won or stage.is_lost:
            raise ValidationError("stage", data.get("stage"),
                                  "is a closing stage; close deals one by one with `crm opp update` "
                                  "(each needs its close date or lost reason)")
        values["stage_id"] = stage.id
        moved = T.c.stage_id != stage.id
        values["probability"] = case((T.c.probability_manual.is_(True), T.c.probability), (moved, stage.probability),
                                     else_=T.c.probability) if "probability" not in values else values["probability"]
        if "probability" in cleaned and cleaned["probability"] is not None:
            values["probability_manual"] = True
        values["stage_changed_at"] = case((moved, literal(now, DateTime(timezone=True))), else_=T.c.stage_changed_at)
        values["actual_close"] = case((moved, null()), else_=T.c.actual_close)
    elif entity.name == "opportunity" and cleaned.get("probability") is not None:
        values["probability_manual"] = True
    for col in values:
        if col not in T.c:
            raise ValidationError(col, None, f"is not a column of {entity.plural}")
    for name, spec in entity.specs.items():  # a cleared field whose column holds no NULL
        column = T.c.get(spec.col)
        if name in cleaned and values.get(spec.col) is None and column is not None and not column.nullable:
            if not isinstance(column.type, String):
                raise ValidationError(name, data.get(name), "cannot be cleared: give a value")
            values[spec.col] = ""  # as a single update stores a cleared name
    return values


def _as_text(expr, col):
    """The SQL text form of a value for the change log (as records._change_text writes it)."""
    from sqlalchemy import Boolean

    if isinstance(col.type, Boolean):
        return case((expr.is_(None), null()), (expr.is_(True), "true"), else_="false")
    return cast(expr, Text)


def update_where(entity: Entity, *, session: Session, data: dict[str, str], actor: Actor | str,
                 where: str | None = None, ids: list[int] | None = None, dry_run: bool = False,
                 progress: Progress | None = None) -> BulkResult:
    """Set the same fields on every selected record, with Change rows and version bumps."""
    acting = as_actor(actor)
    actor = acting.username
    if not data:
        raise ValidationError("set", None, "give at least one --set field=value")
    note = progress or (lambda _msg: None)
    begin_write(session)
    now = utcnow()
    values = _assignments(entity, session, data, now, actor)
    note("selecting records")
    matched = select_records(entity, session=session, where=where, ids=ids, actor=acting)
    right = "assign" if "owner" in data else "edit"
    skipped = drop_not_allowed(entity, session, acting, "edit")
    if right == "assign":
        owner = values.get("owner_id")
        if not hasattr(owner, "compile"):  # one new owner for all: beyond the assign level, none is given
            from crm_tui.services.records import check_assignee

            check_assignee(entity, session, acting, owner)
        skipped += drop_not_allowed(entity, session, acting, "assign")
    matched -= skipped
    if not dry_run:
        lock_rows(entity, session, select(IDS.c.id))
    T = entity.table
    exprs = {col: (v if hasattr(v, "compile") else _literal_for(T.c[col], v)) for col, v in values.items()}
    differs = {col: T.c[col].is_distinct_from(expr) for col, expr in exprs.items()}
    in_sel = T.c.id.in_(select(IDS.c.id))
    any_diff = or_(*differs.values())
    target_ids = select(T.c.id).where(in_sel, any_diff)
    affected = int(session.execute(select(func.count()).select_from(target_ids.subquery())).scalar() or 0)
    shown = {k: ("" if v is None else str(v)) for k, v in data.items()}
    result = BulkResult(entity.name, "update", matched, affected, None, dry_run,
                        _sample(entity, session, target_ids, dry_run), shown, skipped, right)
    if dry_run or affected == 0:
        return result
    batch_id = new_batch_id()
    note(f"recording changes of {affected:,} {entity.plural}")
    for col, expr in exprs.items():
        session.execute(insert(CHANGES).from_select(_CHANGE_COLS, _change_rows_select(
            entity, col, _as_text(T.c[col], T.c[col]), _as_text(expr, T.c[col]), actor, now, batch_id, T,
            and_(in_sel, differs[col]))))
    given = _given_to(entity, session, values, in_sel, differs)
    note(f"updating {affected:,} {entity.plural}")
    session.execute(update(T).where(in_sel, any_diff)
                    .values(**exprs, version=T.c.version + 1, updated_at=now))
    if given is not None:
        from crm_tui.services.assignment import notify_given

        notify_given(session=session, entity=entity.name, actor=actor, owner_id=values["owner_id"], **given)
    result.batch_id = batch_id
    return result


def _given_to(entity: Entity, session: Session, values: dict, in_sel, differs: dict) -> dict | None:
    """For a bulk owner change of leads or deals, before it: how many records change hands, and the one
    (id and label) when it is one; None when none do (the new owner is told once, naming it or counting)."""
    owner = values.get("owner_id")
    if entity.name not in ("lead", "opportunity") or owner is None or hasattr(owner, "compile"):
        return None
    T = entity.table
    changing = and_(in_sel, differs["owner_id"])
    count = int(session.execute(select(func.count()).select_from(T).where(changing)).scalar() or 0)
    if not count:
        return None
    if count > 1:
        return {"count": count, "record_id": None, "label": None}
    from crm_tui.services.records import get_record

    rid = session.execute(select(T.c.id).where(changing)).scalar_one()
    return {"count": 1, "record_id": rid, "label": entity.label(get_record(entity, session=session, record_id=rid))}


def _literal_for(col, value):
    return null() if value is None else literal(value, col.type)


# ---------------------------------------------------------------- delete


def _delete_logged(entity: Entity, session: Session, ids, *, actor: str, when, batch_id: str) -> None:
    """Delete the records whose ids ``ids`` (a subquery) selects, with their tags: each record logged
    whole (a "*" Change row, old value the record) and each tag as removed, so undo can put them back."""
    T = entity.table
    log_snapshots(entity, session, T.c.id.in_(ids), created=False, actor=actor, when=when, batch_id=batch_id)
    tagged = and_(TAGGINGS.c.entity == entity.name, TAGGINGS.c.record_id.in_(ids))
    session.execute(insert(CHANGES).from_select(_CHANGE_COLS, select(
        literal(entity.name, String), TAGGINGS.c.record_id, literal("tag", String), TAGS.c.name, null(),
        literal(actor, String), literal(when, DateTime(timezone=True)), literal(batch_id, String),
    ).select_from(TAGGINGS.join(TAGS, TAGS.c.id == TAGGINGS.c.tag_id)).where(tagged)))
    session.execute(delete(TAGGINGS).where(tagged))
    session.execute(delete(T).where(T.c.id.in_(ids)))


def delete_where(entity: Entity, *, session: Session, actor: Actor | str, where: str | None = None,
                 ids: list[int] | None = None, dry_run: bool = False,
                 progress: Progress | None = None) -> BulkResult:
    """Delete every selected record (refused if any still has dependents); undo puts them back."""
    acting = as_actor(actor)
    actor = acting.username
    note = progress or (lambda _msg: None)
    begin_write(session)
    note("selecting records")
    matched = select_records(entity, session=session, where=where, ids=ids, actor=acting)
    skipped = drop_not_allowed(entity, session, acting, "delete")
    matched -= skipped
    sel = select(IDS.c.id)
    if not dry_run:
        lock_rows(entity, session, sel)
    blockers = []
    for table, column, label in entity.dependents:
        n = session.execute(select(func.count()).select_from(table).where(table.c[column].in_(sel))).scalar()
        if n:
            blockers.append(f"{n} {label}")
    result = BulkResult(entity.name, "delete", matched, matched, None, dry_run, _sample(entity, session, sel, dry_run), {},
                        skipped, "delete")
    if blockers:
        raise Conflict(f"the selected {entity.plural} still have {', '.join(blockers)}; delete or move them first")
    if dry_run or matched == 0:
        return result
    batch_id = new_batch_id()
    now = utcnow()
    note(f"deleting {matched:,} {entity.plural}")
    _delete_logged(entity, session, sel, actor=actor, when=now, batch_id=batch_id)
    result.batch_id = batch_id
    return result


# ---------------------------------------------------------------- undo


def _parse_text(col, text: str | None) -> Any:
    if text is None:
        return None
    py = None
    for type_ in (col.type, getattr(col.type, "impl", None)):
        try:
            py = type_.python_type
        except (NotImplementedError, AttributeError):
            continue
        if py is not object:
            break
    if py is None:
        return text
    if py is bool:
        return text.strip().lower() in ("1", "true", "t", "yes")
    if py is int:
        return int(text)
    if py is dt.datetime:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return as_utc(value)  # a change row keeps the stored text: without an offset, it is UTC
    if py is dt.date:
        return dt.date.fromisoformat(text.strip()[:10])
    return text


def _same(col, current: Any, text: str | None) -> bool:
    if current is None or text is None:
        return current is None and text is None
    try:
        expected = _parse_text(col, text)
    except ValueError:
        return False
    return current == expected


@dataclass
class UndoResult:
    batch_id: str
    undo_batch_id: str | None
    entity: str
    records: int  # records put back as they were, the removed ones included
    dry_run: bool
    removed: int = 0  # records the batch had created (an import): deleted again


def _shown(ids) -> str:
    ids = sorted(ids)
    return ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")


def _check_created(entity: Entity, session: Session, batch_id: str, created) -> None:
    """Refuse (naming the records) to delete again what a batch created when a record is gone,
    differs from the snapshot the batch logged (changed without a Change row), or has dependents."""
    T = entity.table
    logged = and_(CHANGES.c.batch_id == batch_id, CHANGES.c.field == "*", CHANGES.c.old_value.is_(None),
                  CHANGES.c.new_value.is_not(None), CHANGES.c.entity == entity.name)
    gone = session.execute(select(CHANGES.c.record_id).where(
        logged, ~exists(select(T.c.id).where(T.c.id == CHANGES.c.record_id))).limit(11)).scalars().all()
    if gone:
        raise Conflict(f"cannot undo batch {batch_id}: {entity.name} {_shown(gone)} no longer exist")
    snap = records.snapshot_sql(T, session.connection().dialect.name)
    differ = session.execute(select(T.c.id).select_from(T.join(CHANGES, CHANGES.c.record_id == T.c.id))
                             .where(logged, CHANGES.c.new_value != snap).limit(11)).scalars().all()
    if differ:
        raise Conflict(f"cannot undo batch {batch_id}: {entity.name} {_shown(differ)} changed since")
    blockers, parents = [], set()
    for table, column, label in entity.dependents:
        cond = [table.c[column].in_(created)]
        if table is T:  # records the batch created that refer to each other go together
            cond.append(table.c.id.not_in(created))
        n = session.execute(select(func.count()).select_from(table).where(*cond)).scalar()
        if n:
            blockers.append(f"{n} {label}")
            parents |= set(session.execute(select(table.c[column]).where(*cond).distinct()
                                           .order_by(table.c[column]).limit(11)).scalars())
    if blockers:
        raise Conflict(f"cannot undo batch {batch_id}: {entity.plural} it created still have {', '.join(blockers)} "
                       f"({entity.name} {_shown(parents)}); delete or move them first")


def undo(*, session: Session, batch_id: str, actor: Actor | str, dry_run: bool = False,
         cancelled: Iterable[str] = ()) -> UndoResult:
    """Put back what ``batch_id`` changed, in the caller's one transaction; refuses, naming them, if any
    of the fields it changed on any of its records changed since, if a record it created changed at all
    since, if one still has dependents, or if ``actor`` may not see one of its records.

    ``cancelled``: later batches known to cancel out, each undone by another of them (the app's own
    undo stack: undoing the last move, then the one before); their changes do not count as "changed
    since". The fields must still hold exactly what ``batch_id`` wrote, or it is refused as ever."""
    from crm_tui.services.registry import ENTITIES

    acting = as_actor(actor)
    actor = acting.username
    begin_write(session)
    batch_id = (batch_id or "").strip()
    in_batch = CHANGES.c.batch_id == batch_id
    n_rows, last_id = session.execute(select(func.count(), func.max(CHANGES.c.id)).where(in_batch)).one()
    if not n_rows:
        raise NotFound("batch", batch_id)
    entities = set(session.execute(select(CHANGES.c.entity).where(in_batch).distinct()).scalars())
    if len(entities) != 1 or next(iter(entities)) not in ENTITIES:
        raise Conflict(f"batch {batch_id} touches {', '.join(sorted(entities))}; undo it record by record")
    entity = ENTITIES[entities.pop()]
    T = entity.table
    # Records the batch created (field "*", no old value: an import, or an undone delete) are
    # deleted again; they stay in the database, not in memory (an import may have made 100,000).
    is_created = and_(CHANGES.c.field == "*", CHANGES.c.old_value.is_(None), CHANGES.c.new_value.is_not(None))
    created = select(CHANGES.c.record_id).where(in_batch, is_created)
    n_created = int(session.execute(select(func.count()).select_from(created.subquery())).scalar() or 0)
    rows = [dict(r._mapping) for r in session.execute(
        select(CHANGES).where(in_batch, ~is_created).order_by(CHANGES.c.id))]
    # A later change to a field this batch changed (or a later delete / re-create) blocks the undo;
    # changes to other fields of the same records do not, since undo leaves those alone. Any later
    # change to a record the batch created blocks it: undo would delete that change with the record.
    touched = select(CHANGES.c.record_id).where(in_batch)
    existing = select(T.c.id).where(T.c.id.in_(touched))
    visible = records.scoped(entity, existing, acting)
    if visible is not existing:  # a visibility rule is installed: every record still there must be visible
        hidden = session.execute(existing.where(T.c.id.not_in(visible)).order_by(T.c.id).limit(11)).scalars().all()
        if hidden:
            raise Conflict(f"cannot undo batch {batch_id}: {entity.name} {_shown(hidden)} "
                           "cannot be seen by you")
    batch_fields = sorted({r["field"] for r in rows} | {"*"})
    which = CHANGES.c.field.in_(batch_fields)
    if n_created:
        which = or_(which, CHANGES.c.record_id.in_(created))
    settled = sorted(set(cancelled) - {batch_id})
    if settled:
        which = and_(which, CHANGES.c.batch_id.not_in(settled))
    later = session.execute(
        select(CHANGES.c.record_id, CHANGES.c.batch_id).where(
            CHANGES.c.entity == entity.name, CHANGES.c.id > last_id, CHANGES.c.record_id.in_(touched), which)
        .distinct().order_by(CHANGES.c.record_id).limit(50)).all()
    if later:
        raise Conflict(f"cannot undo batch {batch_id}: {entity.name} {_shown({r[0] for r in later})} changed since "
                       f"(in batch {later[0][1]}); undo that first or fix them by hand")
    if n_created:
        _check_created(entity, session, batch_id, created)
    record_ids = sorted({r["record_id"] for r in rows})
    if dry_run:
        return UndoResult(batch_id, None, entity.name, len(record_ids) + n_created, True, n_created)
    undo_id = new_batch_id()
    now = utcnow()
    log: list[dict] = []

    def logged(record_id, field, old, new):
        log.append({"entity": entity.name, "record_id": record_id, "field": field, "old_value": old,
                    "new_value": new, "actor": actor, "changed_at": now, "batch_id": undo_id})

    # 1. records the batch deleted come back with their ids
    snapshots = [r for r in rows if r["field"] == "*" and r["new_value"] is None and r["old_value"]]
    if snapshots:
        back = [r["record_id"] for r in snapshots]
        present = session.execute(select(T.c.id).where(T.c.id.in_(back)).limit(10)).scalars().all()
        if present:
            raise Conflict(f"cannot undo batch {batch_id}: {entity.name} {', '.join(map(str, present))} exist again")
        new_rows = []
        for r in snapshots:
            data = json.loads(r["old_value"])
            new_rows.append({k: _parse_text(T.c[k], v) for k, v in data.items() if k in T.c})
            logged(r["record_id"], "*", None, r["old_value"])
        for start in range(0, len(new_rows), 2000):
            session.execute(insert(T), new_rows[start:start + 2000])
        if session.connection().dialect.name == "postgresql":
            session.connection().exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{T.name}', 'id'), "
                f"GREATEST((SELECT max(id) FROM {T.name}), 1))")
    # 2. field changes go back to their old values, checking nobody changed them outside the log
    fields: dict[int, dict[str, tuple[str | None, str | None]]] = {}
    for r in rows:
        if r["field"] not in ("*", "tag"):
            fields.setdefault(r["record_id"], {})[r["field"]] = (r["old_value"], r["new_value"])
    if fields:
        cols = sorted({c for f in fields.values() for c in f})
        current = {}
        for start in range(0, len(record_ids), 5000):
            part = [i for i in record_ids[start:start + 5000] if i in fields]
            for row in session.execute(select(T.c.id, *[T.c[c] for c in cols]).where(T.c.id.in_(part))):
                current[row[0]] = dict(row._mapping)
        gone = [i for i in fields if i not in current]
        if gone:
            raise Conflict(f"cannot undo batch {batch_id}: {entity.name} {', '.join(map(str, gone[:10]))} "
                           "no longer exist")
        differ = [i for i, f in fields.items() if any(not _same(T.c[c], current[i][c], new) for c, (_o, new) in f.items())]
        if differ:
            raise Conflict(f"cannot undo batch {batch_id}: {entity.name} "
                           f"{', '.join(map(str, sorted(differ)[:10]))} changed since")
        groups: dict[tuple[str, ...], list[dict]] = {}
        for rid, f in fields.items():
            key = tuple(sorted(f))
            params = {"_id": rid, **{f"v_{c}": _parse_text(T.c[c], old) for c, (old, _n) in f.items()}}
            groups.setdefault(key, []).append(params)
            for c, (old, new) in f.items():
                logged(rid, c, new, old)
        from sqlalchemy import bindparam

        for key, params in groups.items():
            stmt = (update(T).where(T.c.id == bindparam("_id"))
                    .values(**{c: bindparam(f"v_{c}") for c in key}, version=T.c.version + 1, updated_at=now))
            session.connection().execute(stmt, params)
    # 3. tags
    tag_rows = [r for r in rows if r["field"] == "tag"]
    for r in tag_rows:
        name = r["new_value"] or r["old_value"]
        tid = _tag_id(session, name, create=True)
        if r["old_value"] is None:  # it was added: remove it
            session.execute(delete(TAGGINGS).where(TAGGINGS.c.tag_id == tid, TAGGINGS.c.entity == entity.name,
                                                   TAGGINGS.c.record_id == r["record_id"]))
        else:  # it was removed: put it back
            present = session.execute(select(TAGGINGS.c.tag_id).where(
                TAGGINGS.c.tag_id == tid, TAGGINGS.c.entity == entity.name,
                TAGGINGS.c.record_id == r["record_id"])).first()
            if present is None:
                session.execute(insert(TAGGINGS).values(tag_id=tid, entity=entity.name, record_id=r["record_id"],
                                                        created_at=now))
        logged(r["record_id"], "tag", r["new_value"], r["old_value"])
    for start in range(0, len(log), 5000):
        session.execute(insert(CHANGES), log[start:start + 5000])
    # 4. records the batch created are deleted, logged whole (as a delete is) with their tags
    if n_created:
        _delete_logged(entity, session, created, actor=actor, when=now, batch_id=undo_id)
    return UndoResult(batch_id, undo_id, entity.name, len(record_ids) + n_created, False, n_created)


@dataclass(frozen=True)
class TagCount:
    tag: str
    entity: str
    count: int


def tag_counts(*, session: Session, actor: Actor | None, entity: Entity | None = None) -> list[TagCount]:
    """Every tag in use, per entity, with how many records carry it: only records ``actor`` may read
    count (a tag on nothing they can see is not listed). Most used first, then by name."""
    from crm_tui.services.registry import ENTITIES
    from crm_tui.store.scope import scope

    targets = [entity] if entity is not None else list(ENTITIES.values())
    out: list[TagCount] = []
    for ent in targets:
        T = ent.table
        stmt = (select(TAGS.c.name, func.count())
                .select_from(TAGGINGS.join(TAGS, TAGS.c.id == TAGGINGS.c.tag_id).join(T, T.c.id == TAGGINGS.c.record_id))
                .where(TAGGINGS.c.entity == ent.name)
                .group_by(TAGS.c.name))
        stmt = scope(stmt, entity=ent.name, table=T, actor=actor)
        out.extend(TagCount(tag=name, entity=ent.name, count=int(n)) for name, n in session.execute(stmt))
    out.sort(key=lambda c: (-c.count, c.tag.lower(), c.entity))
    return out
