"""Contacts: the people at an account."""

from __future__ import annotations

from sqlalchemy import func

from crm_tui.services import registry
from crm_tui.services.records import Entity
from crm_tui.store.models import Account, Activity, Contact, Lead, Opportunity, User

T = Contact.__table__
_owner = User.__table__.alias("contact_owner")
_account = Account.__table__.alias("contact_account")


def _columns():
    return {
        "id": T.c.id, "first_name": T.c.first_name, "last_name": T.c.last_name,
        "name": func.trim(T.c.first_name + " " + T.c.last_name),
        "account_id": T.c.account_id, "account": _account.c.name, "email": T.c.email,
        "phone": T.c.phone, "title": T.c.title, "buying_role": T.c.buying_role,
        "is_primary": T.c.is_primary, "reports_to_id": T.c.reports_to_id, "owner": _owner.c.username,
        "notes": T.c.notes, "created_at": T.c.created_at, "updated_at": T.c.updated_at,
        "version": T.c.version,
    }


def _prepare(session, values, existing, actor):
    if existing is None:
        values["first_name"] = values.get("first_name") or ""
        values["is_primary"] = bool(values.get("is_primary"))
    else:
        if "first_name" in values and values["first_name"] is None:
            values["first_name"] = ""
        if values.get("reports_to_id") is not None:
            check_reports_to(session=session, contact_id=existing["id"], reports_to_id=values["reports_to_id"],
                             actor=actor)
    return values


MAX_CHAIN = 1000


def _names(session, ids: list[int], actor) -> dict[int, str]:
    """Contacts by name, as ``actor`` may see them (one another user cannot see is "a contact you cannot see")."""
    from sqlalchemy import select

    from crm_tui.store.scope import scope

    rows = session.execute(scope(select(T.c.id, T.c.first_name, T.c.last_name).where(T.c.id.in_(set(ids))),
                                 entity="contact", table=T, actor=actor))
    named = {r.id: f"{r.first_name or ''} {r.last_name or ''}".strip() for r in rows}
    return {i: named.get(i) or "a contact you cannot see" for i in ids}


def check_reports_to(*, session, contact_id: int, reports_to_id: int, actor=None) -> None:
    """Refuse a manager that is the contact itself or one of the people reporting to them; the message
    names the people (``Maria Thomas → Kim Lee → Maria Thomas``), never their ids."""
    from sqlalchemy import select

    from crm_tui.errors import ValidationError

    if reports_to_id == contact_id:
        name = _names(session, [contact_id], actor)[contact_id]
        raise ValidationError("reports_to", name, "is the contact itself; nobody reports to themselves")
    chain = [contact_id, reports_to_id]
    current = reports_to_id
    for _ in range(MAX_CHAIN):
        current = session.execute(select(T.c.reports_to_id).where(T.c.id == current)).scalar()
        if current is None:
            return
        if current == contact_id:
            names = _names(session, chain, actor)
            path = " → ".join(names[c] for c in chain + [contact_id])
            raise ValidationError("reports_to", names[reports_to_id], f"would make a reporting loop: {path}")
        chain.append(current)
    raise ValidationError("reports_to", _names(session, [reports_to_id], actor)[reports_to_id],
                          f"has a reporting chain longer than {MAX_CHAIN}")


def reports_tree(*, session, account_id: int, actor=None) -> list[tuple[int, dict]]:
    """The account's contacts ``actor`` may see as (depth, row) in tree order: managers first, their reports below."""
    from crm_tui.services.records import list_records

    rows = list_records(ENTITY, session=session, filters={"account": account_id}, sort="last_name", limit=500,
                        actor=actor)
    by_id = {r["id"]: r for r in rows}
    children: dict[int | None, list[dict]] = {}
    for r in rows:
        parent = r["reports_to_id"] if r["reports_to_id"] in by_id else None
        children.setdefault(parent, []).append(r)
    out: list[tuple[int, dict]] = []
    seen: set[int] = set()

    def walk(parent, depth):
        for r in children.get(parent, []):
            if r["id"] in seen:
                continue
            seen.add(r["id"])
            out.append((depth, r))
            walk(r["id"], depth + 1)

    walk(None, 0)
    for r in rows:  # any left (a loop written around the rules) still shows
        if r["id"] not in seen:
            out.append((0, r))
    return out


ENTITY = Entity(
    entry=registry.BY_NAME["contact"],
    table=T,
    columns=_columns,
    joins=lambda t: t.outerjoin(_owner, _owner.c.id == t.c.owner_id).outerjoin(
        _account, _account.c.id == t.c.account_id),
    filters={
        "account": lambda session, value: T.c.account_id == int(value),
        "owner": lambda session, value: func.lower(_owner.c.username) == str(value).lower(),
    },
    label=lambda row: row["name"],
    prepare=_prepare,
    dependents=[
        (Contact.__table__, "reports_to_id", "contacts reporting to them"),
        (Opportunity.__table__, "primary_contact_id", "opportunities"),
        (Activity.__table__, "contact_id", "activities"),
        (Lead.__table__, "converted_contact_id", "converted leads"),
    ],
)
