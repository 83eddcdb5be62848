"""One timeline per record: its activities and its field changes, newest first.

A record made by converting a lead (its account, contact or opportunity) also
shows that lead's history, marked "from lead N", so nothing learnt while
qualifying is lost after conversion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import ValidationError
from crm_tui.store.models import Activity, Change, Lead, User
from crm_tui.store.scope import scope

A = Activity.__table__
CH = Change.__table__
L = Lead.__table__

# entity name -> the activity column linking to it
ACTIVITY_LINK = {"lead": "lead_id", "contact": "contact_id", "account": "account_id", "opportunity": "opportunity_id"}
# entity name -> the lead column recording a conversion into it
CONVERTED_LINK = {"contact": "converted_contact_id", "account": "converted_account_id",
                  "opportunity": "converted_opportunity_id"}


@dataclass
class TimelineItem:
    when: dt.datetime  # UTC
    kind: str  # "activity" or "change"
    type: str  # activity type (call, meeting, ..., system), or "change"
    who: str
    title: str
    body: str = ""
    via: str = ""  # "lead Ana Diaz" when it came from the lead this record was converted from
    activity_id: int | None = None
    due_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None

    @property
    def open_task(self) -> bool:
        return self.type == "task" and self.completed_at is None


def _activities(session: Session, column: str, record_id: int, via: str, limit: int,
                actor: Actor | None) -> list[TimelineItem]:
    owner = User.__table__
    stmt = scope(select(A, owner.c.username).select_from(A.outerjoin(owner, owner.c.id == A.c.owner_id))
                 .where(A.c[column] == record_id).order_by(A.c.occurred_at.desc(), A.c.id.desc()),
                 entity="activity", table=A, actor=actor).limit(limit)
    items = []
    for row in session.execute(stmt):
        m = row._mapping
        items.append(TimelineItem(
            when=m["occurred_at"], kind="activity", type=m["type"], who=m["username"] or "",
            title=m["subject"], body=m["body"] or "", via=via, activity_id=m["id"],
            due_at=m["due_at"], completed_at=m["completed_at"],
        ))
    return items


def _changes(session: Session, entity: str, record_id: int, via: str, limit: int,
             actor: Actor | None = None) -> list[TimelineItem]:
    from crm_tui.services.engagement.changes import describe_batches

    stmt = (select(CH).where(CH.c.entity == entity, CH.c.record_id == record_id)
            .order_by(CH.c.changed_at.desc(), CH.c.id.desc()).limit(limit))
    rows = [dict(r._mapping) for r in session.execute(stmt)]
    return [TimelineItem(when=b.when, kind="change", type="change", who=b.who, title=b.text, via=via)
            for b in describe_batches(session=session, rows=rows, actor=actor)]


def timeline(*, session: Session, entity: str, record_id: int, limit: int = 200,
             actor: Actor | None = None) -> list[TimelineItem]:
    """Activities and grouped field changes of one record (and its source lead), newest first.
    NotFound when ``actor`` may not see the record; its activities are those ``actor`` may see."""
    if entity not in ACTIVITY_LINK:
        raise ValidationError("entity", entity, f"has no timeline; use one of: {', '.join(ACTIVITY_LINK)}")
    _visible(session, entity, record_id, actor)
    items = _activities(session, ACTIVITY_LINK[entity], record_id, "", limit, actor)
    items += _changes(session, entity, record_id, "", limit, actor)
    seen_activities = {i.activity_id for i in items if i.activity_id}
    if entity in CONVERTED_LINK:
        leads = session.execute(
            scope(select(L.c.id, L.c.first_name, L.c.last_name, L.c.company)
                  .where(L.c[CONVERTED_LINK[entity]] == record_id).order_by(L.c.id),
                  entity="lead", table=L, actor=actor).limit(20)
        ).all()
        for lead_id, first, last, company in leads:
            via = "lead " + (f"{first or ''} {last or ''}".strip() or company or "without a name")
            items += [i for i in _activities(session, "lead_id", lead_id, via, limit, actor)
                      if i.activity_id not in seen_activities]
            items += _changes(session, "lead", lead_id, via, limit, actor)
    items.sort(key=lambda i: (i.when or dt.datetime.min.replace(tzinfo=dt.timezone.utc), i.activity_id or 0), reverse=True)
    return items[:limit]


def _visible(session: Session, entity: str, record_id: int, actor: Actor | None) -> None:
    """NotFound unless ``actor`` may see the record (when a visibility rule is installed)."""
    from crm_tui.services.registry import ENTITIES

    table = ENTITIES[entity].table
    stmt = select(table.c.id).where(table.c.id == record_id)
    scoped = scope(stmt, entity=entity, table=table, actor=actor)
    if scoped is not stmt and session.execute(scoped).first() is None:
        from crm_tui.errors import NotFound

        raise NotFound(entity, record_id)


ROW_KEYS = ("id", "when", "kind", "type", "who", "title", "body", "via", "activity_id", "due_at", "completed_at")


def timeline_rows(*, session: Session, entity: str, record_id: int, limit: int = 200,
                  actor: Actor | None = None) -> list[dict]:
    """The timeline as plain rows, for the CLI's output formats."""
    return [{"id": i.activity_id, "when": i.when, "kind": i.kind, "type": i.type, "who": i.who, "title": i.title, "body": i.body,
             "via": i.via, "activity_id": i.activity_id, "due_at": i.due_at, "completed_at": i.completed_at}
            for i in timeline(session=session, entity=entity, record_id=record_id, limit=limit, actor=actor)]
