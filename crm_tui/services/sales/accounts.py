"""Accounts (companies): list, find, create, edit, delete."""

from __future__ import annotations

from sqlalchemy import func

from crm_tui import money
from crm_tui.services import registry
from crm_tui.services.records import Entity
from crm_tui.store.models import Account, Activity, Contact, Lead, Opportunity, User

T = Account.__table__
_owner = User.__table__.alias("account_owner")


def _columns():
    return {
        "id": T.c.id, "name": T.c.name, "industry": T.c.industry, "website": T.c.website,
        "phone": T.c.phone, "email": T.c.email, "street": T.c.street, "city": T.c.city,
        "state": T.c.state, "postal_code": T.c.postal_code, "country": T.c.country,
        "status": T.c.status, "owner": _owner.c.username, "source": T.c.source,
        "employees": T.c.employees, "lifetime_value_minor": T.c.lifetime_value_minor,
        "currency": T.c.currency, "description": T.c.description, "created_at": T.c.created_at,
        "updated_at": T.c.updated_at, "version": T.c.version,
    }


def _post(row: dict) -> dict:
    row["lifetime_value"] = money.format_plain(row.get("lifetime_value_minor"), row["currency"])
    return row


def _eq_ci(column):
    return lambda session, value: func.lower(column) == str(value).strip().lower()


def _prepare(session, values, existing, actor):
    if existing is None:
        values.setdefault("status", "prospect")
        values.setdefault("currency", money.DEFAULT_CURRENCY)
        if values.get("status") is None:
            values["status"] = "prospect"
        if values.get("currency") is None:
            values["currency"] = money.DEFAULT_CURRENCY
    else:
        if "status" in values and values["status"] is None:
            values["status"] = "prospect"
        if "currency" in values and values["currency"] is None:
            values.pop("currency")
    return values


ENTITY = Entity(
    entry=registry.BY_NAME["account"],
    table=T,
    columns=_columns,
    joins=lambda t: t.outerjoin(_owner, _owner.c.id == t.c.owner_id),
    filters={
        "industry": _eq_ci(T.c.industry),
        "state": _eq_ci(T.c.state),
        "status": _eq_ci(T.c.status),
        "owner": _eq_ci(_owner.c.username),
    },
    label=lambda row: row["name"],
    prepare=_prepare,
    dependents=[
        (Contact.__table__, "account_id", "contacts"),
        (Opportunity.__table__, "account_id", "opportunities"),
        (Activity.__table__, "account_id", "activities"),
        (Lead.__table__, "converted_account_id", "converted leads"),
    ],
    post=_post,
)


def deals_seen(*, session, account_id: int, actor) -> str:
    """How many of an account's deals ``actor`` may read: ``all`` (their role reads every deal, or the account
    is shared with them), else their role's read level for deals (``team``, ``own``, ``none``). For saying
    why a list is empty without telling whether others have any."""
    from sqlalchemy import select

    from crm_tui.store.models import AccountShare

    level = "all" if actor is None else actor.read_level("opportunity")
    if level == "all" or actor.user_id is None:
        return "all" if level == "all" else level
    S = AccountShare.__table__
    shared = session.execute(select(S.c.account_id).where(S.c.account_id == account_id,
                                                          S.c.user_id == actor.user_id)).first()
    return "all" if shared is not None else level
