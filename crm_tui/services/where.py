"""Which fields the filter language may name, per entity (the whitelist).

Field expressions use the same table aliases as each entity's list query, so a
compiled filter drops straight into ``records.list_records`` and the bulk
operations. Relation fields read the way users expect: ``account.industry`` on
a contact or an opportunity, ``deal_value`` (any of its opportunities' amounts)
on an account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import exists, func, literal, select
from sqlalchemy.sql import ColumnElement

from crm_tui.actor import Actor
from crm_tui.store.filter import Context, FilterField, compile_where
from crm_tui.store.models import Opportunity, Stage, Tag, Tagging

F = FilterField
_tags = Tag.__table__
_taggings = Tagging.__table__


def _text(name: str, col, help: str = "") -> FilterField:
    return F(name, "text", lambda: col, help=help)


def _ref(name: str, col, fk, help: str = "") -> FilterField:
    """A text field of a to-one relation (``col`` on the related table's alias in the list query),
    compared through the foreign key ``fk`` where it can (see FilterField.key)."""
    base = col.table.element  # the related table behind the list query's alias

    return F(name, "text", lambda: col, help=help, key=lambda: (fk, base.c.id, base.c[col.name]))


def _account_relation(alias, fk) -> dict[str, FilterField]:
    out = {}
    for name in ("name", "industry", "state", "city", "country", "status", "source", "website", "email"):
        out[f"account.{name}"] = _ref(f"account.{name}", alias.c[name], fk)
    out["account.employees"] = F("account.employees", "int", lambda: alias.c.employees)
    return out


def _common(table) -> dict[str, FilterField]:
    return {
        "id": F("id", "int", lambda: table.c.id),
        "created_at": F("created_at", "datetime", lambda: table.c.created_at),
        "updated_at": F("updated_at", "datetime", lambda: table.c.updated_at),
        "version": F("version", "int", lambda: table.c.version),
        "tag": F("tag", "tag", lambda: _tags.c.name, help="a tag on the record"),
    }


def _account_fields() -> dict[str, FilterField]:
    from crm_tui.services.sales import accounts  # loaded with its fields, on first use

    T = accounts.T
    opp = Opportunity.__table__.alias("where_account_opp")
    opp_stage = Stage.__table__.alias("where_account_opp_stage")

    def any_opp(cond):
        return exists(select(literal(1)).select_from(opp).where(opp.c.account_id == T.c.id, cond))

    def any_opp_stage(cond):
        return exists(select(literal(1)).select_from(opp.join(opp_stage, opp_stage.c.id == opp.c.stage_id))
                      .where(opp.c.account_id == T.c.id, cond))

    fields = {name: _text(name, T.c[name]) for name in (
        "name", "website", "industry", "phone", "email", "street", "city", "state", "postal_code", "country",
        "status", "source", "description", "currency")}
    fields.update({
        "owner": _ref("owner", accounts._owner.c.username, T.c.owner_id, "owner's username, or me"),
        "employees": F("employees", "int", lambda: T.c.employees),
        "lifetime_value": F("lifetime_value", "money", lambda: T.c.lifetime_value_minor, lambda: T.c.currency),
        "deal_value": F("deal_value", "money", lambda: opp.c.amount_minor, lambda: opp.c.currency, wrap=any_opp,
                        help="the amount of any of the account's opportunities"),
        "opp.amount": F("opp.amount", "money", lambda: opp.c.amount_minor, lambda: opp.c.currency, wrap=any_opp),
        "opp.name": F("opp.name", "text", lambda: opp.c.name, wrap=any_opp),
        "opp.stage": F("opp.stage", "text", lambda: opp_stage.c.name, wrap=any_opp_stage),
        "opp.expected_close": F("opp.expected_close", "date", lambda: opp.c.expected_close, wrap=any_opp),
    })
    fields.update(_common(T))
    return fields


def _contact_fields() -> dict[str, FilterField]:
    from crm_tui.services.sales import contacts  # loaded with its fields, on first use

    T = contacts.T
    fields = {name: _text(name, T.c[name]) for name in (
        "first_name", "last_name", "email", "phone", "title", "buying_role", "notes")}
    fields.update({
        "name": F("name", "text", lambda: func.trim(T.c.first_name + " " + T.c.last_name)),
        "owner": _ref("owner", contacts._owner.c.username, T.c.owner_id),
        "account": _ref("account", contacts._account.c.name, T.c.account_id),
        "account_id": F("account_id", "int", lambda: T.c.account_id),
        "is_primary": F("is_primary", "bool", lambda: T.c.is_primary),
    })
    fields.update(_account_relation(contacts._account, T.c.account_id))
    fields.update(_common(T))
    return fields


def _lead_fields() -> dict[str, FilterField]:
    from crm_tui.services.sales import leads  # loaded with its fields, on first use

    T = leads.T
    fields = {name: _text(name, T.c[name]) for name in (
        "first_name", "last_name", "company", "email", "phone", "title", "website", "industry", "city", "state",
        "country", "source", "status", "notes")}
    fields.update({
        "name": F("name", "text", lambda: func.trim(T.c.first_name + " " + T.c.last_name)),
        "owner": _ref("owner", leads._owner.c.username, T.c.owner_id, "owner's username, or me"),
        "score": F("score", "int", lambda: T.c.score),
        "next_follow_up": F("next_follow_up", "datetime", lambda: T.c.next_follow_up),
        "follow_up": F("follow_up", "datetime", lambda: T.c.next_follow_up, help="the next follow-up date"),
    })
    fields.update(_common(T))
    return fields


def _opportunity_fields() -> dict[str, FilterField]:
    from crm_tui.services.sales import opportunities  # loaded with its fields, on first use

    T = opportunities.T
    stage = opportunities._stage
    fields = {name: _text(name, T.c[name]) for name in (
        "name", "currency", "source", "description", "next_step", "lost_reason", "competitors")}
    fields.update({
        "owner": _ref("owner", opportunities._owner.c.username, T.c.owner_id),
        "account": _ref("account", opportunities._account.c.name, T.c.account_id),
        "account_id": F("account_id", "int", lambda: T.c.account_id),
        "contact_id": F("contact_id", "int", lambda: T.c.primary_contact_id),
        "stage": _ref("stage", stage.c.name, T.c.stage_id),
        "probability": F("probability", "int", lambda: T.c.probability),
        "amount": F("amount", "money", lambda: T.c.amount_minor, lambda: T.c.currency),
        "expected_close": F("expected_close", "date", lambda: T.c.expected_close),
        "close": F("close", "date", lambda: T.c.expected_close, help="the expected close date"),
        "actual_close": F("actual_close", "date", lambda: T.c.actual_close),
        "forecast_category": _text("forecast_category",
                                   func.coalesce(T.c.forecast_category, stage.c.forecast_category)),
        "open": F("open", "bool", lambda: (stage.c.is_won.is_(False) & stage.c.is_lost.is_(False))),
        "won": F("won", "bool", lambda: stage.c.is_won),
        "lost": F("lost", "bool", lambda: stage.c.is_lost),
        "stage_changed_at": F("stage_changed_at", "datetime", lambda: T.c.stage_changed_at),
    })
    fields.update(_account_relation(opportunities._account, T.c.account_id))
    fields.update(_common(T))
    return fields


def _activity_fields() -> dict[str, FilterField]:
    from crm_tui.services.engagement import activities  # loaded with its fields, on first use

    T = activities.T
    fields = {name: _text(name, T.c[name]) for name in ("type", "subject", "body")}
    fields.update({
        "owner": _ref("owner", activities._owner.c.username, T.c.owner_id),
        "account": _ref("account", activities._account.c.name, T.c.account_id),
        "account_id": F("account_id", "int", lambda: T.c.account_id),
        "contact_id": F("contact_id", "int", lambda: T.c.contact_id),
        "lead_id": F("lead_id", "int", lambda: T.c.lead_id),
        "opportunity_id": F("opportunity_id", "int", lambda: T.c.opportunity_id),
        "due": F("due", "datetime", lambda: T.c.due_at),
        "due_at": F("due_at", "datetime", lambda: T.c.due_at),
        "completed_at": F("completed_at", "datetime", lambda: T.c.completed_at),
        "occurred_at": F("occurred_at", "datetime", lambda: T.c.occurred_at),
        "open": F("open", "bool", lambda: T.c.completed_at.is_(None)),
    })
    fields.update(_account_relation(activities._account, T.c.account_id))
    fields.update(_common(T))
    return fields


_BUILDERS: dict[str, Callable[[], dict[str, FilterField]]] = {
    "account": _account_fields,
    "contact": _contact_fields,
    "lead": _lead_fields,
    "opportunity": _opportunity_fields,
    "activity": _activity_fields,
}
_CACHE: dict[str, dict[str, FilterField]] = {}


def fields_for(entity_name: str) -> dict[str, FilterField]:
    if entity_name not in _CACHE:
        if entity_name not in _BUILDERS:
            from crm_tui.errors import ValidationError

            raise ValidationError("entity", entity_name, f"has no filter fields; entities: {', '.join(_BUILDERS)}")
        _CACHE[entity_name] = _BUILDERS[entity_name]()
    return _CACHE[entity_name]


def tag_exists(entity_name: str, table) -> Callable[[Callable], ColumnElement]:
    def build(cond_on_name) -> ColumnElement:
        return exists(
            select(literal(1)).select_from(_taggings.join(_tags, _tags.c.id == _taggings.c.tag_id))
            .where(_taggings.c.entity == entity_name, _taggings.c.record_id == table.c.id, cond_on_name(_tags.c.name))
        )
    return build


def compile_for(entity, text: str, *, actor: Actor | None = None, today: dt.date | None = None) -> ColumnElement:
    """Compile ``text`` for ``entity`` (an ``records.Entity``); raises FilterError.
    ``me`` is ``actor``'s username (without an actor, ``me`` is an error)."""
    ctx = Context(me=actor.username if actor is not None else None, today=today,
                  tag_exists=tag_exists(entity.name, entity.table))
    return compile_where(text, fields_for(entity.name), context=ctx, plural=entity.plural)
