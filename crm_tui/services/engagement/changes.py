"""The change log read as sentences: "Stage moved from Proposal to Negotiation", not "stage_id: 3 → 4".

``describe_changes`` turns Change rows (any entity's) into one sentence each, resolving the ids they
hold to names with one query per kind of record (never one per row), money in its currency
("$45,000") and timestamps as "4 Dec 14:02" (the year shown when it is not this year).
``describe_batches`` groups the rows written together (a lead conversion, an edit of three fields)
into one line each, as the timelines show them. Bookkeeping fields (version, updated_at, ...) give
no sentence. The raw rows stay what the CLI's csv/json output prints.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui import formatting, money
from crm_tui.actor import Actor
from crm_tui.store.models import Account, Contact, Lead, Opportunity, Stage, User
from crm_tui.store.scope import scope

SKIPPED = frozenset({"version", "updated_at", "stage_changed_at", "probability_manual", "search_text"})

# field -> the kind of record its value names
REFERENCES = {
    "stage_id": "stage", "owner_id": "user",
    "account_id": "account", "converted_account_id": "account",
    "primary_contact_id": "contact", "contact_id": "contact", "reports_to_id": "contact",
    "converted_contact_id": "contact",
    "opportunity_id": "opportunity", "converted_opportunity_id": "opportunity",
    "lead_id": "lead",
}
LABELS = {
    "stage_id": "Stage", "owner_id": "Owner", "account_id": "Account", "primary_contact_id": "Primary contact",
    "contact_id": "Contact", "reports_to_id": "Reports to", "opportunity_id": "Opportunity", "lead_id": "Lead",
    "amount_minor": "Amount", "expected_close": "Expected close", "actual_close": "Actual close",
    "is_primary": "Primary contact", "due_at": "Due", "completed_at": "Completed", "occurred_at": "Date",
}
CONVERSIONS = ("converted_opportunity_id", "converted_account_id", "converted_contact_id")
UNSEEN = {"stage": "a removed stage", "user": "a removed user", "account": "an account you cannot see",
          "contact": "a contact you cannot see", "opportunity": "an opportunity you cannot see",
          "lead": "a lead you cannot see"}


# ---------------------------------------------------------------- text of values


def when_text(value: dt.datetime | dt.date | None, *, today: dt.date | None = None) -> str:
    """ "4 Dec 14:02" (local time) for a timestamp, "4 Dec" for a date; the year when not this year
    (crm_tui/formatting.py, the one formatter)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return formatting.moment(value, today=today)
    return formatting.day(value, today=today)


def money_text(minor: int, currency: str) -> str:
    """ "45,000 USD", "1,250.50 EUR": the one money format, without cents when there are none."""
    return formatting.money(minor, currency, compact=True)


def _parse_time(text: str) -> dt.datetime | dt.date | None:
    if len(text) < 10 or text[4:5] != "-" or text[7:8] != "-":
        return None
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    for suffix in ("_id", "_minor"):
        name = name.removesuffix(suffix)
    return name.replace("_", " ").capitalize()


# ---------------------------------------------------------------- names, batched


@dataclass
class Names:
    """The names of the records a set of change rows points at, read with one query per kind."""

    by_kind: dict[str, dict[int, str]] = field(default_factory=dict)
    currency: dict[tuple[str, int], str] = field(default_factory=dict)  # (entity, record id) -> currency

    def name(self, kind: str, value: str) -> str:
        if not value.isdigit():
            return value
        return self.by_kind.get(kind, {}).get(int(value)) or UNSEEN.get(kind, kind)


def _person(first: Any, last: Any) -> str:
    return f"{first or ''} {last or ''}".strip()


def load_names(session: Session, rows: Sequence[dict], *, actor: Actor | None = None) -> Names:
    """One query per kind of record named in ``rows`` (and one per entity for currencies)."""
    wanted: dict[str, set[int]] = {}
    money_records: dict[str, set[int]] = {}
    for r in rows:
        kind = REFERENCES.get(r["field"])
        if kind:
            for v in (r["old_value"], r["new_value"]):
                if v is not None and str(v).isdigit():
                    wanted.setdefault(kind, set()).add(int(v))
        if r["field"].endswith("_minor"):
            money_records.setdefault(r["entity"], set()).add(r["record_id"])
    names = Names()
    for kind, ids in wanted.items():
        names.by_kind[kind] = _names_of(session, kind, sorted(ids), actor)
    from crm_tui.services.registry import ENTITIES

    for entity, ids in money_records.items():
        table = ENTITIES[entity].table if entity in ENTITIES else None
        if table is None or "currency" not in table.c:
            continue
        for rid, cur in session.execute(select(table.c.id, table.c.currency).where(table.c.id.in_(sorted(ids)))):
            names.currency[(entity, rid)] = cur
    return names


def names_of(*, session: Session, kind: str, ids: Iterable[int], actor: Actor | None = None) -> dict[int, str]:
    """The names of records of ``kind`` (stage, user, account, contact, lead, opportunity) by id, in one
    query; an opportunity reads "Account – Deal" (its name alone when it already names the account);
    a record ``actor`` may not see is absent."""
    wanted = sorted({int(i) for i in ids if i is not None})
    return _names_of(session, kind, wanted, actor) if wanted else {}


def link_names(*, session: Session, rows: list[dict], actor: Actor | None = None) -> list[dict]:
    """Give each row with ``lead_id``, ``opportunity_id``, ``contact_id`` the names of those records
    (``lead_name``, ``opportunity_name``, ``contact_name``): one query per kind for all the rows."""
    for kind, column in (("lead", "lead_id"), ("opportunity", "opportunity_id"), ("contact", "contact_id")):
        found = names_of(session=session, kind=kind, ids=[r[column] for r in rows if r.get(column)], actor=actor)
        for r in rows:
            r[f"{kind}_name"] = found.get(r[column]) if r.get(column) else None
    return rows


def _names_of(session: Session, kind: str, ids: list[int], actor: Actor | None) -> dict[int, str]:
    if kind == "stage":
        s = Stage.__table__
        return dict(session.execute(select(s.c.id, s.c.name).where(s.c.id.in_(ids))).all())
    if kind == "user":
        u = User.__table__
        return {i: name or username for i, username, name in
                session.execute(select(u.c.id, u.c.username, u.c.name).where(u.c.id.in_(ids)))}
    if kind == "account":
        a = Account.__table__
        stmt = scope(select(a.c.id, a.c.name).where(a.c.id.in_(ids)), entity="account", table=a, actor=actor)
        return dict(session.execute(stmt).all())
    if kind == "contact":
        c = Contact.__table__
        stmt = scope(select(c.c.id, c.c.first_name, c.c.last_name, c.c.email).where(c.c.id.in_(ids)),
                     entity="contact", table=c, actor=actor)
        return {r.id: _person(r.first_name, r.last_name) or (r.email or "") for r in session.execute(stmt)}
    if kind == "lead":
        t = Lead.__table__
        stmt = scope(select(t.c.id, t.c.first_name, t.c.last_name, t.c.company).where(t.c.id.in_(ids)),
                     entity="lead", table=t, actor=actor)
        return {r.id: _person(r.first_name, r.last_name) or (r.company or "") for r in session.execute(stmt)}
    if kind == "opportunity":
        o, a = Opportunity.__table__, Account.__table__
        stmt = scope(select(o.c.id, o.c.name, a.c.name.label("account")).select_from(
            o.outerjoin(a, a.c.id == o.c.account_id)).where(o.c.id.in_(ids)), entity="opportunity", table=o,
            actor=actor)
        return {r.id: f"{r.account} – {r.name}" if r.account and r.account not in r.name else r.name
                for r in session.execute(stmt)}
    return {}


# ---------------------------------------------------------------- sentences


def _value(row: dict, value: str | None, names: Names, currency: str, today: dt.date) -> str:
    if value is None or value == "":
        return ""
    fld = row["field"]
    kind = REFERENCES.get(fld)
    if kind:
        return names.name(kind, value)
    if fld.endswith("_minor") and value.lstrip("-").isdigit():
        return money_text(int(value), currency)
    if value in ("true", "false") and (fld.startswith(("is_", "has_")) or fld in ("active", "do_not_contact")):
        return "yes" if value == "true" else "no"
    if fld == "probability" and value.isdigit():
        return f"{value}%"
    moment = _parse_time(value)
    if moment is not None:
        return when_text(moment, today=today)
    text = value.replace("\n", " ")
    return text if len(text) <= 60 else text[:59] + "…"


def _record_name(snapshot: str | None) -> str:
    try:
        data = json.loads(snapshot or "")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return str(data.get("name") or _person(data.get("first_name"), data.get("last_name")) or data.get("subject") or "")


def describe_change(row: dict, names: Names, *, batch: Sequence[dict] = (), currency: str | None = None,
                    today: dt.date | None = None) -> str | None:
    """One Change row as a sentence; None for bookkeeping, or for what another row of its batch says."""
    fld, old, new = row["field"], row["old_value"], row["new_value"]
    if fld in SKIPPED:
        return None
    today = today or dt.date.today()
    entity = str(row["entity"]).capitalize()
    if fld == "*":
        name = _record_name(new if old is None else old)
        what = f"{entity} “{name}”" if name else entity
        return f"{what} created" if old is None else f"{what} deleted"
    batch_fields = {r["field"]: r for r in batch}
    converting = any(batch_fields.get(c, {}).get("new_value") for c in CONVERSIONS)
    if converting and (fld == "converted_at" or (fld == "status" and new == "converted")):
        return None
    switch = batch_fields.get("currency")
    rec_currency = names.currency.get((row["entity"], row["record_id"])) or currency or money.DEFAULT_CURRENCY
    old_cur = (switch["old_value"] if switch else None) or rec_currency
    new_cur = (switch["new_value"] if switch else None) or rec_currency
    before = _value(row, old, names, old_cur, today)
    after = _value(row, new, names, new_cur, today)
    if fld in CONVERSIONS and after:
        return f"Converted to {fld.removeprefix('converted_').removesuffix('_id')} {after}"
    label = _label(fld)
    if fld == "stage_id" and before and after:
        return f"Stage moved from {before} to {after}"
    if not before and not after:
        return None
    if not before:
        return f"{label} set to {after}"
    if not after:
        return f"{label} cleared (was {before})"
    return f"{label} changed from {before} to {after}"


def describe_changes(*, session: Session, rows: Sequence[dict], actor: Actor | None = None,
                     today: dt.date | None = None) -> list[str | None]:
    """A sentence (or None) for each of ``rows``, in order; the names read once for all of them."""
    names = load_names(session, rows, actor=actor)
    batches: dict[tuple[str, int, str], list[dict]] = {}
    for r in rows:
        batches.setdefault((r["entity"], r["record_id"], r["batch_id"]), []).append(r)
    return [describe_change(r, names, batch=batches[(r["entity"], r["record_id"], r["batch_id"])], today=today)
            for r in rows]


@dataclass
class BatchSentence:
    when: dt.datetime
    who: str
    text: str
    entity: str
    record_id: int
    batch_id: str


def describe_batches(*, session: Session, rows: Iterable[dict], actor: Actor | None = None,
                     today: dt.date | None = None) -> list[BatchSentence]:
    """The rows of each batch (per record) as one line: its sentences joined, conversions first;
    in the order the batches first appear in ``rows``. A batch with nothing to say is left out."""
    rows = list(rows)
    sentences = describe_changes(session=session, rows=rows, actor=actor, today=today)
    grouped: dict[tuple[str, int, str], list[tuple[dict, str]]] = {}
    for r, text in zip(rows, sentences):
        parts = grouped.setdefault((r["entity"], r["record_id"], r["batch_id"]), [])
        if text:
            parts.append((r, text))
    out = []
    for (entity, record_id, batch_id), parts in grouped.items():
        if not parts:
            continue
        parts.sort(key=lambda p: (p[0]["field"] not in CONVERSIONS, CONVERSIONS.index(p[0]["field"])
                                  if p[0]["field"] in CONVERSIONS else 0, p[0].get("id") or 0))
        first = parts[0][0]
        out.append(BatchSentence(when=first["changed_at"], who=first["actor"], text=_join([t for _, t in parts]),
                                 entity=entity, record_id=record_id, batch_id=batch_id))
    return out


def _join(texts: list[str]) -> str:
    """ "Converted to opportunity X; Converted to account Y" reads as "Converted to opportunity X, account Y"."""
    if not texts:
        return ""
    out = [texts[0]]
    for t in texts[1:]:
        if t.startswith("Converted to ") and out[-1].startswith("Converted to "):
            out[-1] += ", " + t.removeprefix("Converted to ")
        else:
            out.append(t[0].lower() + t[1:] if t[:1].isupper() and not t.startswith(("Converted",)) else t)
    return "; ".join(out)
