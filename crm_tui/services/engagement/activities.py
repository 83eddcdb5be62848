"""Activities: calls, meetings, emails, notes, tasks, WhatsApp messages, system events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import Conflict, named
from crm_tui.services import registry
from crm_tui.services.records import Entity, _raw, get_record, new_batch_id, record_changes
from crm_tui.store.models import Account, Activity, User, utcnow

T = Activity.__table__
_owner = User.__table__.alias("activity_owner")
_account = Account.__table__.alias("activity_account")


def _columns():
    return {
        "id": T.c.id, "type": T.c.type, "subject": T.c.subject, "body": T.c.body,
        "due_at": T.c.due_at, "duration_minutes": T.c.duration_minutes, "completed_at": T.c.completed_at,
        "occurred_at": T.c.occurred_at,
        "owner": _owner.c.username, "account_id": T.c.account_id, "account": _account.c.name,
        "contact_id": T.c.contact_id, "lead_id": T.c.lead_id, "opportunity_id": T.c.opportunity_id,
        "created_at": T.c.created_at, "updated_at": T.c.updated_at, "version": T.c.version,
    }


def _prepare(session, values, existing, actor):
    if existing is None:
        values["type"] = values.get("type") or ("task" if values.get("due_at") else "note")
        values["occurred_at"] = values.get("occurred_at") or utcnow()
    else:
        if "type" in values and values["type"] is None:
            values.pop("type")
        if "occurred_at" in values and values["occurred_at"] is None:
            values.pop("occurred_at")
    return values


def _due(value):
    from crm_tui.errors import ValidationError
    from crm_tui.services.sales.leads import local_day_bounds

    kind = str(value).strip().lower()
    start, end = local_day_bounds()
    if kind == "today":
        return (T.c.completed_at.is_(None)) & (T.c.due_at < end)
    if kind == "overdue":
        return (T.c.completed_at.is_(None)) & (T.c.due_at < utcnow())
    raise ValidationError("due", value, "is not today or overdue")


def _is_yes(value) -> bool:
    return str(value).lower() in ("1", "yes", "true", "y")


def next_follow_up(*, session: Session, lead_id: int):
    """A lead's next follow-up: the due time of its soonest open activity with a due date (a
    follow-up task, a scheduled call), or None when nothing is scheduled."""
    stmt = select(func.min(T.c.due_at)).where(T.c.lead_id == lead_id, T.c.completed_at.is_(None),
                                              T.c.due_at.is_not(None))
    return session.execute(stmt).scalar()


def sync_follow_ups(*, session: Session, lead_ids, actor: str) -> None:
    """Set each lead's ``next_follow_up`` to its next open follow-up task (None when none is left):
    the one follow-up concept. Called whenever an activity of a lead is added, changed, completed
    or deleted. A derived value (as a total): the task is in the timeline, so no Change row of its
    own; the lead's version moves, so an edit opened before cannot write the old date back."""
    from crm_tui.services.sales.leads import ENTITY as LEAD

    L = LEAD.table
    for lead_id in sorted({i for i in lead_ids if i is not None}):
        lead = session.execute(select(L.c.next_follow_up, L.c.version).where(L.c.id == lead_id)).first()
        if lead is None:
            continue
        new = next_follow_up(session=session, lead_id=lead_id)
        old = lead.next_follow_up
        if _same_time(old, new):
            continue
        now = utcnow()
        session.execute(update(L).where(L.c.id == lead_id)
                        .values(next_follow_up=new, version=lead.version + 1, updated_at=now))


def _same_time(a, b) -> bool:
    if a is None or b is None:
        return a is b
    aware = [t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in (a, b)]  # SQLite hands back naive UTC
    return aware[0] == aware[1]


def _after_write(session: Session, before, after, actor: str) -> None:
    lead_ids = {row.get("lead_id") for row in (before, after) if row}
    if lead_ids - {None}:
        sync_follow_ups(session=session, lead_ids=lead_ids, actor=actor)


ENTITY = Entity(
    entry=registry.BY_NAME["activity"],
    table=T,
    columns=_columns,
    joins=lambda t: t.outerjoin(_owner, _owner.c.id == t.c.owner_id).outerjoin(
        _account, _account.c.id == t.c.account_id),
    filters={
        "type": lambda session, value: func.lower(T.c.type) == str(value).lower(),
        "owner": lambda session, value: func.lower(_owner.c.username) == str(value).lower(),
        "account": lambda session, value: T.c.account_id == int(value),
        "contact": lambda session, value: T.c.contact_id == int(value),
        "opp": lambda session, value: T.c.opportunity_id == int(value),
        "lead": lambda session, value: T.c.lead_id == int(value),
        "open": lambda session, value: T.c.completed_at.is_(None) if _is_yes(value) else T.c.completed_at.is_not(None),
        "due_before": lambda session, value: T.c.due_at < value,
        "due_from": lambda session, value: T.c.due_at >= value,
        "due": lambda session, value: _due(value),
    },
    label=lambda row: row["subject"],
    prepare=_prepare,
    after_write=_after_write,
)


def complete_activity(*, session: Session, activity_id: int, actor: str) -> dict:
    """Mark a task done (once)."""
    row = get_record(ENTITY, session=session, record_id=activity_id)
    if row["completed_at"] is not None:
        raise Conflict(f"activity {activity_id} was already done at {row['completed_at']:%Y-%m-%d %H:%M}")
    raw = _raw(ENTITY, session, activity_id)
    now = utcnow()
    result = session.execute(
        update(T).where(T.c.id == activity_id, T.c.version == raw["version"])
        .values(completed_at=now, version=raw["version"] + 1, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
        raise named(Conflict(f"activity {activity_id} was changed by someone else at the same time; try again"),
                    f"task “{row.get('subject') or ''}” was changed by someone else at the same time; try again")
    record_changes(session, entity="activity", record_id=activity_id,
                   changes={"completed_at": (None, now)}, actor=actor, batch_id=new_batch_id())
    if row.get("lead_id") is not None:  # done: the lead's next follow-up advances, or clears
        sync_follow_ups(session=session, lead_ids=[row["lead_id"]], actor=actor)
    return get_record(ENTITY, session=session, record_id=activity_id)



def due_tasks(*, session: Session, actor: Actor, day=None, now=None, limit: int = 500,
              mine: bool = True) -> list[dict]:
    """Open tasks of ``actor`` due by the end of ``day`` (default today, local time), oldest due first;
    ``mine=False``: everyone's ``actor`` may read.

    Each row has ``overdue``: due before ``now`` (default: the current time).
    """
    from crm_tui.services.records import list_records
    from crm_tui.services.sales.leads import local_day_bounds

    _, end = local_day_bounds(day)
    filters = {"owner": actor.username} if mine else {}
    rows = list_records(ENTITY, session=session, filters={**filters, "open": "yes", "due_before": end},
                        sort="due_at", limit=limit, actor=actor)
    now = now if now is not None else utcnow()
    for row in rows:
        row["overdue"] = row["due_at"] is not None and row["due_at"] < now
    add_targets(session=session, rows=rows, actor=actor)
    return rows


# The record an activity opens, most specific first: the lead, the deal, the contact, the account.
TARGET_ORDER = (("lead", "lead_id"), ("opportunity", "opportunity_id"), ("contact", "contact_id"),
                ("account", "account_id"))


def add_targets(*, session: Session, rows: list[dict], actor: Actor | None = None) -> list[dict]:
    """Give each activity row the record it opens, ``target`` (entity, id) or None, and that record's
    company, ``target_account`` (a lead's company, a deal's or contact's account, the account): a
    label drawn from these names the record that opens, never another one. A record ``actor`` may
    not see gives no name."""
    from crm_tui.store.models import Contact, Lead, Opportunity
    from crm_tui.store.scope import scope

    wanted: dict[str, set[int]] = {entity: set() for entity, _ in TARGET_ORDER}
    for row in rows:
        row["target"] = next(((entity, row[col]) for entity, col in TARGET_ORDER if row.get(col)), None)
        if row["target"]:
            wanted[row["target"][0]].add(row["target"][1])
    A = Account.__table__
    company: dict[tuple[str, int], str | None] = {}
    lookups = {
        "lead": select(Lead.__table__.c.id, Lead.__table__.c.company).where(Lead.__table__.c.id.in_(wanted["lead"])),
        "opportunity": select(Opportunity.__table__.c.id, A.c.name).select_from(Opportunity.__table__.outerjoin(
            A, A.c.id == Opportunity.__table__.c.account_id)).where(Opportunity.__table__.c.id.in_(wanted["opportunity"])),
        "contact": select(Contact.__table__.c.id, A.c.name).select_from(Contact.__table__.outerjoin(
            A, A.c.id == Contact.__table__.c.account_id)).where(Contact.__table__.c.id.in_(wanted["contact"])),
        "account": select(A.c.id, A.c.name).where(A.c.id.in_(wanted["account"])),
    }
    tables = {"lead": Lead.__table__, "opportunity": Opportunity.__table__, "contact": Contact.__table__,
              "account": A}
    for entity, stmt in lookups.items():
        if wanted[entity]:
            stmt = scope(stmt, entity=entity, table=tables[entity], actor=actor)
            company.update({(entity, rid): name for rid, name in session.execute(stmt).all()})
    for row in rows:
        row["target_account"] = company.get(row["target"]) if row["target"] else None
    return rows


def log_activity(*, session: Session, actor: str, type: str, subject: str, body: str | None = None,
                 due=None, links: dict | None = None, duration=None) -> dict:
    """Log a call, meeting, email or note, or schedule a task (with ``due``), on one or more records.

    ``links`` maps "account", "contact", "lead", "opp" to ids. ``duration``: minutes (a scheduled call
    or meeting with ``due`` is on the owner's day at that time, for that long).
    """
    from crm_tui.services.records import create_record

    data = {"type": type, "subject": subject, **{k: v for k, v in (links or {}).items() if v is not None}}
    if body:
        data["body"] = body
    if duration not in (None, ""):
        data["duration"] = duration
    if due not in (None, ""):
        data["due"] = due
    elif type == "task":
        from crm_tui.errors import ValidationError

        raise ValidationError("due", due, "is required for a task: when is it due?")
    return create_record(ENTITY, session=session, data=data, actor=actor)
