"""Saved views: a named filter (the one filter language), sort and columns for one entity."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import Conflict, NotFound, ValidationError
from crm_tui.store.models import SavedView, utcnow

T = SavedView.__table__


def _entity(name: str):
    from crm_tui.services.registry import entity_for

    return entity_for(name)  # the one place that maps a noun (account, opp, leads…) to its entity


def save_view(*, session: Session, name: str, entity: str, where: str | None = None, sort: str | None = None,
              columns: str | None = None, owner: str | None = None, replace: bool = False,
              actor: Actor | None = None) -> dict:
    """Check the filter, sort and columns against the entity, then store the view (``me`` in the
    filter is checked as ``actor``; ``owner`` is stored, by default ``actor``'s username)."""
    from crm_tui.services import records

    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("name", name, "must be 1 to 100 characters")
    ent = _entity(entity)
    # Validate by running a count (compiles the filter) and the sort.
    if owner is None and actor is not None:
        owner = actor.username
    elif actor is None and owner:
        actor = Actor.unknown(owner)
    records.count_records(ent, session=session, where=where, actor=actor)
    records._order(ent, sort)
    if columns:
        known = set(ent.columns()) | {"amount", "weighted_amount", "lifetime_value"}
        unknown = [c.strip() for c in columns.split(",") if c.strip() not in known]
        if unknown:
            raise ValidationError("columns", ",".join(unknown), f"not known; columns are: {', '.join(ent.columns())}")
    values = {"name": name, "entity": ent.name, "where_text": where, "sort": sort, "columns": columns,
              "owner": owner, "created_at": utcnow()}
    existing = session.execute(select(T.c.id).where(T.c.name == name)).scalar()
    if existing is not None:
        if not replace:
            raise Conflict(f"view {name!r} already exists; use --replace to overwrite it")
        session.execute(update(T).where(T.c.id == existing).values(**values))
    else:
        session.execute(insert(T).values(**values))
    return get_view(session=session, name=name)


def get_view(*, session: Session, name: str) -> dict:
    row = session.execute(select(T).where(T.c.name == name)).first()
    if row is None:
        known = session.execute(select(T.c.name).order_by(T.c.name)).scalars().all()
        hint = f"; views are: {', '.join(known)}" if known else "; there are no saved views yet"
        raise ValidationError("view", name, f"is not a saved view{hint}")
    data = dict(row._mapping)
    data["where"] = data.pop("where_text")
    return data


ROW_KEYS = ("id", "name", "entity", "sort", "columns", "owner", "created_at", "where")  # list_views' rows


def list_views(*, session: Session, entity: str | None = None) -> list[dict]:
    stmt = select(T).order_by(T.c.entity, T.c.name)
    if entity:
        stmt = stmt.where(T.c.entity == _entity(entity).name)
    out = []
    for row in session.execute(stmt):
        data = dict(row._mapping)
        data["where"] = data.pop("where_text")
        out.append(data)
    return out


def delete_view(*, session: Session, name: str) -> None:
    if session.execute(delete(T).where(T.c.name == name)).rowcount == 0:  # type: ignore[attr-defined]  # DML gives a CursorResult
        raise NotFound("view", name)


def apply_view(*, session: Session, name: str, entity: str, where: str | None = None, sort: str | None = None,
               columns: str | None = None) -> tuple[str | None, str | None, str | None]:
    """A view's (where, sort, columns) for ``entity``; a --where given too is AND-ed, --sort/--columns win."""
    view = get_view(session=session, name=name)
    if view["entity"] != _entity(entity).name:
        raise ValidationError("view", name, f"is a view of {view['entity']}, not {entity}")
    combined = view["where"]
    if where and combined:
        combined = f"({combined}) and ({where})"
    elif where:
        combined = where
    return combined, sort or view["sort"], columns or view["columns"]
