"""Users: who owns records and who made each change."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

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
