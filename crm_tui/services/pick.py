"""Choices for a picker: accounts, contacts, active users, stages and deals found by name, shown by name.

A picker (the TUI's search-as-you-type field) asks ``search_choices`` for the few records whose
name matches what was typed, and ``choice_for`` for the name of the record a field already holds.
Each ``Choice`` carries the record's id, the text the services accept for it in a form (``key``:
the id for a record, the username for a user, the name for a stage), a label and a second line
that tells two records of the same name apart (an account's city, a contact's company and e-mail).
Record reads go through the scoping hook with the acting user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import ValidationError
from crm_tui.store.models import Account, Contact, Opportunity, Stage, User
from crm_tui.store.scope import scope

KINDS = ("account", "contact", "user", "stage", "opportunity")
LIMIT = 20


@dataclass(frozen=True)
class Choice:
    id: int
    key: str  # what a form sends for it: the id, a username, a stage name
    label: str
    detail: str = ""


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _place(city: Any, state: Any, country: Any) -> str:
    return ", ".join(str(p) for p in (city, state or country) if p)


def _person(first: Any, last: Any) -> str:
    return f"{first or ''} {last or ''}".strip()


def _accounts(session: Session, text: str, ids: list[int] | None, limit: int, actor: Actor | None) -> list[Choice]:
    a = Account.__table__
    stmt = select(a.c.id, a.c.name, a.c.city, a.c.state, a.c.country)
    if ids is not None:
        stmt = stmt.where(a.c.id.in_(ids))
    elif text:
        name = func.lower(a.c.name)
        pattern = _like(text.lower())
        stmt = stmt.where(name.like(pattern, escape="\\")).order_by(
            case((name.like(pattern[1:], escape="\\"), 0), else_=1))
    stmt = scope(stmt.order_by(a.c.name, a.c.id), entity="account", table=a, actor=actor).limit(limit)
    return [Choice(r.id, str(r.id), r.name, _place(r.city, r.state, r.country)) for r in session.execute(stmt)]


def _contacts(session: Session, text: str, ids: list[int] | None, account_id: int | None, limit: int,
              actor: Actor | None) -> list[Choice]:
    c, a = Contact.__table__, Account.__table__
    stmt = (select(c.c.id, c.c.first_name, c.c.last_name, c.c.email, c.c.title, a.c.name.label("company"))
            .select_from(c.outerjoin(a, a.c.id == c.c.account_id)))
    if ids is not None:
        stmt = stmt.where(c.c.id.in_(ids))
    else:
        if account_id is not None:
            stmt = stmt.where(c.c.account_id == account_id)
        for word in text.lower().split():
            pattern = _like(word)
            stmt = stmt.where(or_(func.lower(c.c.first_name).like(pattern, escape="\\"),
                                  func.lower(c.c.last_name).like(pattern, escape="\\"),
                                  func.lower(c.c.email).like(pattern, escape="\\")))
    stmt = scope(stmt.order_by(c.c.last_name, c.c.first_name, c.c.id), entity="contact", table=c,
                 actor=actor).limit(limit)
    out = []
    for r in session.execute(stmt):
        detail = " · ".join(str(p) for p in (r.company, r.title, r.email) if p)
        out.append(Choice(r.id, str(r.id), _person(r.first_name, r.last_name) or (r.email or ""), detail))
    return out


def _opportunities(session: Session, text: str, ids: list[int] | None, limit: int,
                   actor: Actor | None) -> list[Choice]:
    o, a, s = Opportunity.__table__, Account.__table__, Stage.__table__
    stmt = (select(o.c.id, o.c.name, a.c.name.label("account"), s.c.name.label("stage"))
            .select_from(o.outerjoin(a, a.c.id == o.c.account_id).outerjoin(s, s.c.id == o.c.stage_id)))
    if ids is not None:
        stmt = stmt.where(o.c.id.in_(ids))
    else:
        for word in text.lower().split():
            pattern = _like(word)
            stmt = stmt.where(or_(func.lower(o.c.name).like(pattern, escape="\\"),
                                  func.lower(a.c.name).like(pattern, escape="\\")))
    stmt = scope(stmt.order_by(o.c.name, o.c.id), entity="opportunity", table=o, actor=actor).limit(limit)
    return [Choice(r.id, str(r.id), r.name, " · ".join(str(p) for p in (r.account, r.stage) if p))
            for r in session.execute(stmt)]


def _users(session: Session, text: str, ids: list[int] | None, limit: int) -> list[Choice]:
    u = User.__table__
    stmt = select(u.c.id, u.c.username, u.c.name, u.c.email)
    if ids is not None:
        stmt = stmt.where(u.c.id.in_(ids))
    else:
        stmt = stmt.where(u.c.active.is_(True))
        if text:
            pattern = _like(text.lower())
            stmt = stmt.where(or_(func.lower(u.c.username).like(pattern, escape="\\"),
                                  func.lower(u.c.name).like(pattern, escape="\\")))
    stmt = stmt.order_by(u.c.name, u.c.username).limit(limit)
    return [Choice(r.id, r.username, r.name or r.username, r.username if r.name else (r.email or ""))
            for r in session.execute(stmt)]


def _stages(session: Session, text: str, ids: list[int] | None, limit: int) -> list[Choice]:
    s = Stage.__table__
    stmt = select(s.c.id, s.c.name, s.c.probability)
    if ids is not None:
        stmt = stmt.where(s.c.id.in_(ids))
    else:
        stmt = stmt.where(s.c.active.is_(True))
        if text:
            stmt = stmt.where(func.lower(s.c.name).like(_like(text.lower()), escape="\\"))
    stmt = stmt.order_by(s.c.position, s.c.id).limit(limit)
    return [Choice(r.id, r.name, r.name, f"{r.probability}%") for r in session.execute(stmt)]


def search_choices(*, session: Session, kind: str, text: str = "", account_id: int | None = None,
                   limit: int = LIMIT, actor: Actor | None = None) -> list[Choice]:
    """At most ``limit`` records of ``kind`` whose name contains ``text`` (every word of it, for a
    contact), those starting with it first; contacts only at ``account_id`` when given."""
    text = (text or "").strip()
    limit = max(1, min(int(limit), 200))
    if kind == "account":
        return _accounts(session, text, None, limit, actor)
    if kind == "contact":
        return _contacts(session, text, None, account_id, limit, actor)
    if kind == "user":
        return _users(session, text, None, limit)
    if kind == "stage":
        return _stages(session, text, None, limit)
    if kind == "opportunity":
        return _opportunities(session, text, None, limit, actor)
    raise ValidationError("kind", kind, f"is not one of: {', '.join(KINDS)}")


def choices_for(*, session: Session, kind: str, ids: list[int], actor: Actor | None = None) -> dict[int, Choice]:
    """The choices of the records ``ids`` (one query), by id; a record ``actor`` may not see is absent."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    if kind == "account":
        found = _accounts(session, "", wanted, len(wanted), actor)
    elif kind == "contact":
        found = _contacts(session, "", wanted, None, len(wanted), actor)
    elif kind == "user":
        found = _users(session, "", wanted, len(wanted))
    elif kind == "stage":
        found = _stages(session, "", wanted, len(wanted))
    elif kind == "opportunity":
        found = _opportunities(session, "", wanted, len(wanted), actor)
    else:
        raise ValidationError("kind", kind, f"is not one of: {', '.join(KINDS)}")
    return {c.id: c for c in found}


def choice_for(*, session: Session, kind: str, key: Any, actor: Actor | None = None) -> Choice | None:
    """The choice a form's current value names: an id, or a username (users) or a name (stages)."""
    text = "" if key is None else str(key).strip()
    if not text:
        return None
    if kind in ("user", "stage") and not text.isdigit():
        table = User.__table__ if kind == "user" else Stage.__table__
        column = table.c.username if kind == "user" else table.c.name
        row = session.execute(select(table.c.id).where(func.lower(column) == text.lower())).first()
        if row is None:
            return None
        text = str(row.id)
    if not text.isdigit():
        return None
    return choices_for(session=session, kind=kind, ids=[int(text)], actor=actor).get(int(text))
