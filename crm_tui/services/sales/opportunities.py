"""Opportunities (deals): stage, probability and money rules live here."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func

from crm_tui import money
from crm_tui.errors import ValidationError
from crm_tui.services import registry
from crm_tui.services.records import Entity
from crm_tui.services.sales.stages import first_stage, resolve_stage
from crm_tui.store.models import Account, Activity, Lead, Opportunity, Stage, User, utcnow

T = Opportunity.__table__
_owner = User.__table__.alias("opp_owner")
_account = Account.__table__.alias("opp_account")
_stage = Stage.__table__.alias("opp_stage")


def _columns():
    return {
        "id": T.c.id, "name": T.c.name, "account_id": T.c.account_id, "account": _account.c.name,
        "contact_id": T.c.primary_contact_id, "owner": _owner.c.username, "stage": _stage.c.name,
        "probability": T.c.probability, "amount_minor": T.c.amount_minor, "currency": T.c.currency,
        "expected_close": T.c.expected_close, "actual_close": T.c.actual_close,
        "forecast_category": func.coalesce(T.c.forecast_category, _stage.c.forecast_category),
        "source": T.c.source, "next_step": T.c.next_step, "competitors": T.c.competitors, "lost_reason": T.c.lost_reason,
        "description": T.c.description, "stage_changed_at": T.c.stage_changed_at,
        "created_at": T.c.created_at, "updated_at": T.c.updated_at, "version": T.c.version,
        "stage_position": _stage.c.position,
    }


def _post(row: dict) -> dict:
    currency = row["currency"]
    row["amount"] = money.format_plain(row["amount_minor"], currency)
    row["weighted_amount"] = money.format_plain(money.weighted(row["amount_minor"], row["probability"]), currency)
    return row


def _prepare(session, values, existing, actor):
    """Stage, probability, close dates and currency rules for a create or an update."""
    old = existing or {}
    if "stage_id" in values and values["stage_id"] is not None:
        stage = resolve_stage(session=session, value=values["stage_id"])
    elif existing is None or ("stage_id" in values):
        if existing is not None:
            raise ValidationError("stage", None, "is required")
        stage = first_stage(session=session)
    else:
        stage = session.get(Stage, old["stage_id"])
    values["stage_id"] = stage.id
    stage_changed = existing is None or old.get("stage_id") != stage.id
    if stage_changed:
        values["stage_changed_at"] = utcnow()
    # Probability follows the stage unless a person set it by hand.
    if values.get("probability") is not None:
        values["probability_manual"] = True
    elif "probability" in values or existing is None or (stage_changed and not old.get("probability_manual")):
        values["probability"] = stage.probability
        values["probability_manual"] = False
    if stage.is_won and stage_changed and not (values.get("actual_close") or old.get("actual_close")):
        values["actual_close"] = dt.date.today()
    if not stage.is_won and not stage.is_lost and stage_changed and existing is not None:
        values["actual_close"] = None  # reopened
    if stage.is_lost and stage_changed:
        reason = values.get("lost_reason") or old.get("lost_reason")
        if not reason:
            raise ValidationError("lost_reason", None, f"is required when moving to {stage.name}")
        if not (values.get("actual_close") or old.get("actual_close")):
            values["actual_close"] = dt.date.today()
    # Money: the amount's decimals belong to its currency.
    if existing is None:
        values["currency"] = values.get("currency") or money.DEFAULT_CURRENCY
        values["amount_minor"] = values.get("amount_minor") or 0
    else:
        if values.get("currency") is None:
            values.pop("currency", None)
        new_currency = values.get("currency")
        if (new_currency and new_currency != old["currency"] and "amount_minor" not in values
                and money.decimals(new_currency) != money.decimals(old["currency"]) and old["amount_minor"]):
            raise ValidationError(
                "currency", new_currency,
                f"has different decimals than {old['currency']}; give the amount again with the new currency")
        if "amount_minor" in values and values["amount_minor"] is None:
            values["amount_minor"] = 0
    if existing is not None:
        # Keep only real changes for the change log; stage bookkeeping fields follow.
        for key in ("stage_id", "probability_manual"):
            if key in values and values[key] == old.get(key):
                values.pop(key)
        if "stage_id" not in values:
            values.pop("stage_changed_at", None)
    return values


ENTITY = Entity(
    entry=registry.BY_NAME["opportunity"],
    table=T,
    columns=_columns,
    joins=lambda t: t.join(_stage, _stage.c.id == t.c.stage_id)
    .outerjoin(_owner, _owner.c.id == t.c.owner_id)
    .outerjoin(_account, _account.c.id == t.c.account_id),
    filters={
        "stage": lambda session, value: _stage.c.id == resolve_stage(session=session, value=value).id,
        "owner": lambda session, value: func.lower(_owner.c.username) == str(value).lower(),
        "account": lambda session, value: T.c.account_id == int(value),
        "open": lambda session, value: (
            (_stage.c.is_won.is_(False) & _stage.c.is_lost.is_(False))
            if str(value).lower() in ("1", "yes", "true", "y")
            else (_stage.c.is_won.is_(True) | _stage.c.is_lost.is_(True))
        ),
    },
    label=lambda row: row["name"],
    prepare=_prepare,
    dependents=[
        (Activity.__table__, "opportunity_id", "activities"),
        (Lead.__table__, "converted_opportunity_id", "converted leads"),
    ],
    post=_post,
    describe_changes=lambda session, rows: describe_changes(session, rows),
    after_write=lambda session, before, after, actor: _assignment().after_write("opportunity", session, before, after,
                                                                                actor),
    default_owner=lambda session, values: _assignment().rule_owner("opportunity", session, values),
)


def _assignment():
    from crm_tui.services import assignment

    return assignment


def describe_changes(session, rows: list[dict], currency: str | None = None) -> list[dict]:
    """Change rows made readable: stage, owner, account and contact names instead of ids, money as text.

    Adds a ``what`` column ("stage: Qualified → Proposal"); field names lose their ``_id``/``_minor``.
    Amounts are shown in the deal's currency at the time: a currency change in the same batch
    gives the old and new currency; otherwise the deal's current currency (or ``currency``).
    """
    from sqlalchemy import select

    from crm_tui.store.models import Contact

    lookups = {"stage_id": (Stage.__table__, "name"), "owner_id": (User.__table__, "username"),
               "account_id": (Account.__table__, "name")}
    wanted: dict[str, set[int]] = {}
    for r in rows:
        if r["field"] in lookups or r["field"] == "primary_contact_id":
            for v in (r["old_value"], r["new_value"]):
                if v not in (None, "") and str(v).isdigit():
                    wanted.setdefault(r["field"], set()).add(int(v))
    names: dict[str, dict[int, str]] = {}
    for fld, ids in wanted.items():
        if fld == "primary_contact_id":
            c = Contact.__table__
            names[fld] = {i: f"{first} {last}".strip() for i, first, last in session.execute(
                select(c.c.id, c.c.first_name, c.c.last_name).where(c.c.id.in_(ids)))}
        else:
            table, col = lookups[fld]
            names[fld] = dict(session.execute(select(table.c.id, table.c[col]).where(table.c.id.in_(ids))).all())
    # The currency in effect at each change: replay each deal's currency changes oldest first.
    # Amounts are stored in minor units of the currency of their time (JPY has none, BHD three).
    current: dict[int, str] = {}
    record_ids = {r["record_id"] for r in rows}
    if record_ids:
        current = dict(session.execute(select(T.c.id, T.c.currency).where(T.c.id.in_(record_ids))).all())
    by_record: dict[int, list[dict]] = {}
    for r in rows:
        by_record.setdefault(r["record_id"], []).append(r)
    currency_at: dict[int, tuple[str, str]] = {}  # change row id -> (currency before, currency after)
    for rid, changes in by_record.items():
        changes = sorted(changes, key=lambda r: r["id"])
        switches = [r for r in changes if r["field"] == "currency"]
        cur = (switches[0]["old_value"] if switches else None) or currency or current.get(rid) or money.DEFAULT_CURRENCY
        batches: dict[str, list[dict]] = {}
        for r in changes:
            batches.setdefault(r["batch_id"], []).append(r)
        for batch in sorted(batches.values(), key=lambda b: b[0]["id"]):
            switch = next((r for r in batch if r["field"] == "currency"), None)
            after = (switch["new_value"] if switch else None) or cur
            for r in batch:
                currency_at[r["id"]] = (cur, after)
            cur = after
    out = []
    for r in rows:
        fld = r["field"]
        if fld in ("stage_changed_at", "probability_manual"):
            continue  # bookkeeping that follows a stage or probability change
        old, new = r["old_value"], r["new_value"]
        label = {"stage_id": "stage", "owner_id": "owner", "account_id": "account",
                 "primary_contact_id": "contact", "amount_minor": "amount"}.get(fld, fld)
        if fld in names:
            old = names[fld].get(int(old), old) if old not in (None, "") and str(old).isdigit() else old
            new = names[fld].get(int(new), new) if new not in (None, "") and str(new).isdigit() else new
        elif fld == "amount_minor":
            old_cur, new_cur = currency_at.get(r["id"], (money.DEFAULT_CURRENCY, money.DEFAULT_CURRENCY))
            old = _money_text(old, old_cur)
            new = _money_text(new, new_cur)
        item = {**r, "field": label, "old_value": old, "new_value": new}
        item["what"] = f"{label}: {old if old not in (None, '') else '—'} → {new if new not in (None, '') else '—'}"
        if fld == "*":  # the whole record: created (an import, a lead conversion) or deleted
            item["what"] = "opportunity created" if old is None else "opportunity deleted"
        out.append(item)
    return out


def _money_text(value, currency):
    if value in (None, "") or not str(value).lstrip("-").isdigit():
        return value
    return money.format_plain(int(value), currency)
