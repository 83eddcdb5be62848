"""Users: who owns records and who made each change."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from crm_tui.actor import DEFAULT_ROLE, Actor
from crm_tui.errors import Conflict, ValidationError
from crm_tui.services.fields import USER_ROLES
from crm_tui.services.validate import FieldSpec, clean
from crm_tui.store.models import User

USER_FIELDS = {
    s.name: s
    for s in (
        FieldSpec("username", required=True, max_len=64),
        FieldSpec("name", max_len=200),
        FieldSpec("email", kind="email", max_len=254),
        FieldSpec("role", kind="choice", choices=USER_ROLES),
    )
}


def list_users(*, session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def create_user(*, session: Session, data: dict) -> User:
    values = clean(USER_FIELDS, data, partial=False)
    username = values["username"]
    if not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValidationError("username", username, "may use only letters, digits, '.', '-' and '_'")
    if session.execute(select(User.id).where(User.username == username)).scalar() is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, name=values.get("name") or username, email=values.get("email"),
                role=values.get("role") or "sales")
    session.add(user)
    session.flush()
    return user


def actor_for(user: User) -> Actor:
    """The Actor of a row of the users table (team: none yet, the roles issue adds teams)."""
    return Actor(user_id=user.id, username=user.username, role=user.role or DEFAULT_ROLE, team=None)


def resolve_actor(*, session: Session, username: str) -> Actor:
    """Who is acting: the user called ``username`` (case-insensitive), or, when the users table
    does not know that name (yet), an Actor without an id and with the default role."""
    name = (username or "").strip()
    user = session.execute(select(User).where(func.lower(User.username) == name.lower())
                           .order_by((col(User.username) == name).desc(), User.id)).scalars().first()
    return actor_for(user) if user is not None else Actor.unknown(name or username)


def actor_user_id(session: Session, actor: Actor) -> int | None:
    """The users-table id of ``actor``: its own, or (when it was resolved before the user was added,
    e.g. by the first record this run created) looked up by its username once more."""
    if actor.user_id is not None:
        return actor.user_id
    return session.execute(select(User.id).where(func.lower(User.username) == actor.username.lower())).scalar()
