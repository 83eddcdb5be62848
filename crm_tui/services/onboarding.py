"""A new user's first steps, computed from the data: the Dashboard's onboarding checklist.

Each step is done when the data says so, for the acting user:

- ``email``: their user row has an e-mail address;
- ``activity``: an activity (not a system one) is theirs;
- ``lead``: they qualified a lead (the change log: a lead's status set to qualified by them), or a
  lead of theirs is qualified or converted;
- ``deal``: an opportunity is theirs;
- ``stage``: they moved a deal to another stage (the change log).

``my_profile`` / ``update_my_profile``: the acting user's own name and e-mail, which every user
may change (an admin changes the rest: crm_tui/services/users.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import ValidationError
from crm_tui.services.validate import FieldSpec, clean
from crm_tui.store.models import Activity, Change, Lead, Opportunity, User
from crm_tui.store.scope import scope

# (key, label, where it is done) in the order a new rep meets them.
STEPS = (
    ("email", "E-mail set", "your profile"),
    ("activity", "First activity logged", "a record's detail: c, m, w or n logs a call, meeting, e-mail or note"),
    ("lead", "First lead qualified", "the Leads list: q qualifies the lead under the cursor"),
    ("deal", "First deal created", "the Pipeline: n adds a deal"),
    ("stage", "First stage move", "the Pipeline: shift+→ moves a card to the next stage"),
)


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    where: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    steps: tuple[Step, ...]

    @property
    def complete(self) -> bool:
        return all(s.done for s in self.steps)

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.done)


def _user(session: Session, actor: Actor) -> User | None:
    if actor.user_id is not None:
        user = session.get(User, actor.user_id)
        if user is not None:
            return user
    return session.execute(select(User).where(func.lower(User.username) == actor.username.lower())).scalars().first()


def _exists(session: Session, stmt) -> bool:
    return session.execute(stmt.limit(1)).first() is not None


def checklist(*, session: Session, actor: Actor) -> Checklist:
    """The acting user's onboarding steps, each done or not, from the data."""
    user = _user(session, actor)
    uid = user.id if user is not None else None
    me = actor.username
    changes = Change.__table__
    A, L, D = Activity.__table__, Lead.__table__, Opportunity.__table__
    done = {
        "email": bool(user is not None and (user.email or "").strip()),
        "activity": uid is not None and _exists(session, scope(
            select(A.c.id).where(A.c.owner_id == uid, A.c.type != "system"), entity="activity", table=A, actor=actor)),
        "lead": _exists(session, select(changes.c.id).where(
            changes.c.entity == "lead", changes.c.field == "status", changes.c.new_value == "qualified",
            changes.c.actor == me)) or (uid is not None and _exists(session, scope(
                select(L.c.id).where(L.c.owner_id == uid, L.c.status.in_(("qualified", "converted"))),
                entity="lead", table=L, actor=actor))),
        "deal": uid is not None and _exists(session, scope(
            select(D.c.id).where(D.c.owner_id == uid), entity="opportunity", table=D, actor=actor)),
        "stage": _exists(session, select(changes.c.id).where(
            changes.c.entity == "opportunity", or_(changes.c.field == "stage", changes.c.field == "stage_id"),
            changes.c.actor == me)),
    }
    return Checklist(tuple(Step(key, label, where, bool(done[key])) for key, label, where in STEPS))


PROFILE_FIELDS = {s.name: s for s in (FieldSpec("name", max_len=200), FieldSpec("email", kind="email", max_len=254))}


def my_profile(*, session: Session, actor: Actor) -> dict:
    """The acting user's own name and e-mail (empty for a user the users table does not know yet)."""
    user = _user(session, actor)
    return {"username": actor.username, "name": user.name if user else "", "email": (user.email if user else "") or ""}


def update_my_profile(*, session: Session, actor: Actor, name: str | None = None, email: str | None = None) -> dict:
    """Change the acting user's own name and e-mail (anyone may; an empty e-mail clears it)."""
    from crm_tui.services.records import ensure_user

    values = clean(PROFILE_FIELDS, {k: v for k, v in (("name", name), ("email", email)) if v is not None},
                   partial=True)
    user = _user(session, actor)
    if user is None:
        user = session.get(User, ensure_user(session, actor.username))
    if user is None or not user.active:
        raise ValidationError("user", actor.username, "is not an active user")
    if name is not None:
        user.name = values.get("name") or user.username
    if email is not None:
        user.email = values.get("email") or None
    session.add(user)
    session.flush()
    return my_profile(session=session, actor=actor)
