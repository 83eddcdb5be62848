"""Pipeline stages: data an admin can change, not code."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from crm_tui.errors import ValidationError
from crm_tui.services.validate import is_id
from crm_tui.store.models import Stage


def list_stages(*, session: Session, active_only: bool = False) -> list[Stage]:
    stmt = select(Stage).order_by(Stage.position, Stage.id)
    if active_only:
        stmt = stmt.where(col(Stage.active).is_(True))
    return list(session.execute(stmt).scalars())


def resolve_stage(*, session: Session, value, field_name: str = "stage") -> Stage:
    """A stage by name (any case) or id; the message lists the stages that exist."""
    text = str(value).strip()
    stage = None
    if is_id(text):
        stage = session.get(Stage, int(text))
    if stage is None:
        stage = session.execute(select(Stage).where(func.lower(Stage.name) == text.lower())).scalar()
    if stage is None:
        names = ", ".join(s.name for s in list_stages(session=session))
        raise ValidationError(field_name, value, f"is not a stage; stages are: {names}")
    return stage


def first_stage(*, session: Session) -> Stage:
    stage = session.execute(
        select(Stage).where(col(Stage.is_won).is_(False), col(Stage.is_lost).is_(False), col(Stage.active).is_(True))
        .order_by(Stage.position).limit(1)
    ).scalar()
    if stage is None:
        raise ValidationError("stage", None, "is required: no open stage is defined")
    return stage
