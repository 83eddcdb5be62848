"""The product catalog: what a proposal line can start from (SKU, name, unit price, currency)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlmodel import Session

from crm_tui import money
from crm_tui.errors import ValidationError
from crm_tui.services import registry
from crm_tui.services.records import Entity
from crm_tui.services.validate import is_id
from crm_tui.store.models import Product, ProposalLine, ProposalTemplateLine

T = Product.__table__


def _columns():
    return {
        "id": T.c.id, "sku": T.c.sku, "name": T.c.name, "unit_price_minor": T.c.unit_price_minor,
        "currency": T.c.currency, "active": T.c.active, "description": T.c.description,
        "created_at": T.c.created_at, "updated_at": T.c.updated_at, "version": T.c.version,
    }


def _post(row: dict) -> dict:
    row["unit_price"] = money.format_plain(row["unit_price_minor"], row["currency"])
    return row


def _prepare(session, values, existing, actor):
    if existing is None:
        if values.get("currency") is None:
            values["currency"] = money.DEFAULT_CURRENCY
        if values.get("unit_price_minor") is None:
            values["unit_price_minor"] = 0
        if "active" not in values:
            values["active"] = True
    else:
        if "currency" in values and values["currency"] is None:
            values.pop("currency")
        new_currency = values.get("currency")
        if (new_currency and new_currency != existing["currency"] and "unit_price_minor" not in values
                and money.decimals(new_currency) != money.decimals(existing["currency"])):
            raise ValidationError("currency", new_currency,
                                  f"has different decimals than {existing['currency']}; give the unit price again")
        if "unit_price_minor" in values and values["unit_price_minor"] is None:
            values["unit_price_minor"] = 0
    if "sku" in values and values["sku"]:
        values["sku"] = values["sku"].strip()
    return values


def _yes(value) -> bool:
    return str(value).strip().lower() in ("1", "yes", "true", "y")


ENTITY = Entity(
    entry=registry.BY_NAME["product"],
    table=T,
    columns=_columns,
    joins=lambda t: t,
    filters={
        "active": lambda session, value: T.c.active.is_(_yes(value)),
        "currency": lambda session, value: func.upper(T.c.currency) == str(value).strip().upper(),
    },
    label=lambda row: f"{row['sku']} {row['name']}",
    prepare=_prepare,
    dependents=[(ProposalLine.__table__, "product_id", "proposal lines"),
                (ProposalTemplateLine.__table__, "product_id", "template lines")],
    post=_post,
)


def find_product(*, session: Session, value, field_name: str = "product") -> Product:
    """A product by id or SKU (case-insensitive); ValidationError naming the value if there is none."""
    text = str(value).strip()
    if not text:
        raise ValidationError(field_name, value, "is empty: give a product id or SKU")
    clauses = [func.lower(T.c.sku) == text.lower()]
    if is_id(text):
        clauses.append(T.c.id == int(text))
    product = session.execute(select(Product).where(or_(*clauses)).order_by(T.c.id)).scalars().first()
    if product is None:
        raise ValidationError(field_name, value, "is not a known product (give its id or SKU; see `crm product list`)")
    return product
