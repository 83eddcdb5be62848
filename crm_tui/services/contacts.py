"""Contacts: the people at an account."""

from __future__ import annotations

from sqlalchemy import func

from crm_tui.services import fields
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
        if values.get("reports_to_id") is not None and values["reports_to_id"] == existing["id"]:
            from crm_tui.errors import ValidationError

            raise ValidationError("reports_to", values["reports_to_id"], "is the contact itself")
    return values


ENTITY = Entity(
    name="contact",
    plural="contacts",
    table=T,
    specs=fields.CONTACT_FIELDS,
    columns=_columns,
    joins=lambda t: t.outerjoin(_owner, _owner.c.id == t.c.owner_id).outerjoin(
        _account, _account.c.id == t.c.account_id),
    search=lambda: [T.c.first_name, T.c.last_name, T.c.email, T.c.title, _account.c.name],
    filters={
        "account": lambda session, value: T.c.account_id == int(value),
        "owner": lambda session, value: func.lower(_owner.c.username) == str(value).lower(),
    },
    default_sort="last_name",
    label=lambda row: row["name"],
    prepare=_prepare,
    dependents=[
        (Contact.__table__, "reports_to_id", "contacts reporting to them"),
        (Opportunity.__table__, "primary_contact_id", "opportunities"),
        (Activity.__table__, "contact_id", "activities"),
        (Lead.__table__, "converted_contact_id", "converted leads"),
    ],
    summary_columns=("id", "name", "account", "title", "email", "phone", "buying_role"),
)
