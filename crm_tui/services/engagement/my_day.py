"""My day: the calls, meetings and tasks of one user scheduled for today, in time order, each with
whom it is with ("09:30 Call — Ana Ruiz (Acme)")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.services.engagement.activities import ENTITY, add_targets
from crm_tui.store.models import Contact, Lead
from crm_tui.store.scope import scope

DAY_TYPES = ("call", "meeting", "task")


@dataclass(frozen=True)
class Appointment:
    id: int
    type: str
    subject: str
    due_at: dt.datetime
    duration_minutes: int | None
    who: str | None  # the contact's or the lead's name
    company: str | None  # the account (a lead's company) of the record it opens
    target: tuple[str, int] | None  # the record enter opens: (entity, id)

    def line(self) -> str:
        """'09:30 Call — Ana Ruiz (Acme)' (local time); the subject when it is with nobody named."""
        text = f"{self.due_at.astimezone():%H:%M} {self.type.capitalize()} — {self.who or self.subject}"
        if self.company:
            text += f" ({self.company})"
        return text


def my_day(*, session: Session, actor: Actor, day: dt.date | None = None, limit: int = 200) -> list[Appointment]:
    """``actor``'s open calls, meetings and tasks due on ``day`` (default today, local time), earliest first."""
    from crm_tui.services.records import list_records
    from crm_tui.services.sales.leads import local_day_bounds

    start, end = local_day_bounds(day)
    rows = list_records(ENTITY, session=session, filters={"owner": actor.username, "open": "yes",
                                                          "due_from": start, "due_before": end},
                        sort="due_at", limit=limit, actor=actor)
    rows = [r for r in rows if r["type"] in DAY_TYPES]
    add_targets(session=session, rows=rows, actor=actor)
    names = _names(session, rows, actor)
    return [Appointment(r["id"], r["type"], r["subject"], r["due_at"], r.get("duration_minutes"),
                        names.get(("contact", r["contact_id"])) if r.get("contact_id")
                        else names.get(("lead", r["lead_id"])) if r.get("lead_id") else None,
                        r.get("target_account"), r.get("target")) for r in rows]


def _names(session: Session, rows: list[dict], actor: Actor) -> dict[tuple[str, int], str]:
    """The names of the contacts and leads ``rows`` are with (those ``actor`` may see)."""
    out: dict[tuple[str, int], str] = {}
    for entity, model, column in (("contact", Contact, "contact_id"), ("lead", Lead, "lead_id")):
        ids = {r[column] for r in rows if r.get(column)}
        if not ids:
            continue
        table = model.__table__  # type: ignore[attr-defined]
        stmt = scope(select(table.c.id, table.c.first_name, table.c.last_name).where(table.c.id.in_(ids)),
                     entity=entity, table=table, actor=actor)
        for rid, first, last in session.execute(stmt):
            name = " ".join(p for p in (first, last) if p)
            if name:
                out[(entity, rid)] = name
    return out
