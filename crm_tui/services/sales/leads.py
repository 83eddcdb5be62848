"""Leads: capture, qualify, follow up, find duplicates, convert.

``convert_lead`` turns a lead into an account (or reuses a matching one), a
contact and an opportunity, links the lead to them, marks it converted and logs
a system activity, writing Change rows for all of it. It runs in the caller's
transaction and checks everything it can before the first write, so an error
(or a failure of the database part way) leaves nothing half-converted once the
caller's unit of work rolls back (``session_scope`` does that).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from crm_tui import money
from crm_tui.actor import Actor
from crm_tui.errors import Conflict, ValidationError, named
from crm_tui.services import registry
from crm_tui.services.records import (
    Entity,
    _change_text,
    _raw,
    create_record,
    get_record,
    new_batch_id,
    record_changes,
    ref_exists,
)
from crm_tui.services.validate import parse_date
from crm_tui.store.models import Account, Activity, Contact, Lead, OpportunityContact, User, utcnow
from crm_tui.store.scope import scope

T = Lead.__table__
_owner = User.__table__.alias("lead_owner")

OPEN_STATUSES = ("new", "contacted", "nurture", "qualified")
CLOSED_STATUSES = ("unqualified", "converted", "junk")
CONVERT_STAGE = "Qualified"
DEFAULT_CLOSE_DAYS = 30
CONVERT_BUYING_ROLE = "champion"  # the converted person's role in the new deal's buying group (unless they have one)


# ---------------------------------------------------------------- time windows


def local_day_bounds(day: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of a local calendar day, in UTC."""
    day = day or dt.date.today()
    start = dt.datetime.combine(day, dt.time(0, 0)).astimezone()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0)).astimezone()
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def _since(session, value):
    day = parse_date(value, field_name="since")
    start, _ = local_day_bounds(day)
    return T.c.created_at >= start


def _follow_up(session, value):
    kind = str(value).strip().lower()
    start, end = local_day_bounds()
    open_lead = T.c.status.in_(OPEN_STATUSES)
    if kind == "today":
        return and_(open_lead, T.c.next_follow_up >= start, T.c.next_follow_up < end)
    if kind == "overdue":
        return and_(open_lead, T.c.next_follow_up < start)
    if kind == "due":
        return and_(open_lead, T.c.next_follow_up < end)
    raise ValidationError("follow_up", value, "is not today, overdue or due")


def _columns():
    return {
        "id": T.c.id, "name": func.trim(T.c.first_name + " " + T.c.last_name),
        "first_name": T.c.first_name, "last_name": T.c.last_name, "company": T.c.company,
        "email": T.c.email, "phone": T.c.phone, "title": T.c.title, "website": T.c.website,
        "industry": T.c.industry, "city": T.c.city, "state": T.c.state, "country": T.c.country,
        "source": T.c.source, "status": T.c.status, "score": T.c.score, "owner": _owner.c.username,
        "next_follow_up": T.c.next_follow_up, "notes": T.c.notes, "converted_at": T.c.converted_at,
        "converted_account_id": T.c.converted_account_id, "converted_contact_id": T.c.converted_contact_id,
        "converted_opportunity_id": T.c.converted_opportunity_id,
        "created_at": T.c.created_at, "updated_at": T.c.updated_at, "version": T.c.version,
    }


def lead_label(row: dict) -> str:
    name = (row.get("name") or f"{row.get('first_name') or ''} {row.get('last_name') or ''}").strip()
    company = row.get("company")
    if name and company:
        return f"{name} ({company})"
    return name or company or f"lead {row.get('id')}"


def _prepare(session, values, existing, actor):
    if existing is None:
        values["first_name"] = values.get("first_name") or ""
        values["last_name"] = values.get("last_name") or ""
        values["status"] = values.get("status") or "new"
        values["score"] = values.get("score") or 0
        if not (values["first_name"] or values["last_name"] or values.get("company") or values.get("email")):
            raise ValidationError("last_name", None, "is required: give a name, a company or an email")
    else:
        for key in ("first_name", "last_name"):
            if key in values and values[key] is None:
                values[key] = ""
        if "score" in values and values["score"] is None:
            values["score"] = 0
        if "status" in values:
            if values["status"] is None:
                values.pop("status")
            elif existing["status"] == "converted" and values["status"] != "converted":
                raise Conflict(f"lead {existing['id']} was converted on {existing['converted_at']:%Y-%m-%d}; "
                               "its status cannot change")
    return values


ENTITY = Entity(
    entry=registry.BY_NAME["lead"],
    table=T,
    columns=_columns,
    joins=lambda t: t.outerjoin(_owner, _owner.c.id == t.c.owner_id),
    filters={
        "status": lambda session, value: func.lower(T.c.status) == str(value).strip().lower(),
        "source": lambda session, value: func.lower(T.c.source) == str(value).strip().lower(),
        "owner": lambda session, value: func.lower(_owner.c.username) == str(value).strip().lower(),
        "since": _since,
        "follow_up": _follow_up,
    },
    label=lead_label,
    prepare=_prepare,
    dependents=[(Activity.__table__, "lead_id", "activities")],
    after_write=lambda session, before, after, actor: _assignment().after_write("lead", session, before, after, actor),
    default_owner=lambda session, values: _assignment().rule_owner("lead", session, values),
)


def _assignment():
    from crm_tui.services import assignment

    return assignment


# ---------------------------------------------------------------- duplicates

LEGAL_SUFFIXES = frozenset("""
inc incorporated llc llp lp ltd limited gmbh mbh ag kg corp corporation co company plc sa sas sarl srl spa bv nv
oy ab as aps pty pte kk group holding holdings
""".split())


def normalize_company(name: str | None) -> str:
    """Company name for comparison: case, accents, punctuation and legal suffixes ignored.

    "ACME, Inc." , "Acme Inc" and "acme" all become "acme".
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ")
    text = re.sub(r"['’.]", "", text)
    words = re.sub(r"[^0-9a-z]+", " ", text).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def website_domain(url: str | None) -> str:
    """"https://www.Acme.com/about" -> "acme.com"."""
    if not url:
        return ""
    text = url.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    if text.startswith("www."):
        text = text[4:]
    return text


def _company_candidates(column, normalized: str):
    """A SQL pre-filter for names whose normalised form may equal ``normalized``."""
    first = normalized.split(" ", 1)[0]
    return func.lower(column).like(f"{first[:20]}%")


@dataclass
class Duplicate:
    entity: str  # "lead", "contact" or "account"
    id: int
    label: str
    reason: str  # "same email" / "same company name"

    def __str__(self) -> str:
        return f"{self.entity} {self.id} ({self.label}): {self.reason}"


def find_duplicates(*, session: Session, email: str | None = None, company: str | None = None,
                    exclude_lead_id: int | None = None, limit: int = 5, actor: Actor | None = None) -> list[Duplicate]:
    """Likely duplicates of a lead: leads or contacts with the same email, leads or
    accounts whose company name is equal after normalising; of the records ``actor`` may see."""
    found: list[Duplicate] = []
    seen: set[tuple[str, int]] = set()

    def add(entity, rid, label, reason):
        if (entity, rid) not in seen and len(found) < limit:
            seen.add((entity, rid))
            found.append(Duplicate(entity, rid, label, reason))

    not_self = (T.c.id != exclude_lead_id) if exclude_lead_id else True
    if email and email.strip():
        address = email.strip().lower()
        for row in session.execute(scope(
            select(T.c.id, T.c.first_name, T.c.last_name, T.c.company)
            .where(func.lower(T.c.email) == address, not_self).order_by(T.c.id).limit(limit),
            entity="lead", table=T, actor=actor)
        ):
            add("lead", row.id, lead_label(dict(row._mapping)), f"same email {address}")
        C = Contact.__table__
        for row in session.execute(scope(
            select(C.c.id, C.c.first_name, C.c.last_name).where(func.lower(C.c.email) == address)
            .order_by(C.c.id).limit(limit), entity="contact", table=C, actor=actor)
        ):
            add("contact", row.id, f"{row.first_name} {row.last_name}".strip(), f"same email {address}")
    key = normalize_company(company)
    if key:
        A = Account.__table__
        for row in session.execute(scope(
            select(A.c.id, A.c.name).where(_company_candidates(A.c.name, key)).order_by(A.c.id).limit(500),
            entity="account", table=A, actor=actor)
        ):
            if normalize_company(row.name) == key:
                add("account", row.id, row.name, "same company name")
        for row in session.execute(scope(
            select(T.c.id, T.c.first_name, T.c.last_name, T.c.company)
            .where(_company_candidates(T.c.company, key), not_self).order_by(T.c.id).limit(500),
            entity="lead", table=T, actor=actor)
        ):
            if normalize_company(row.company) == key:
                add("lead", row.id, lead_label(dict(row._mapping)), "same company name")
    return found


def create_lead(*, session: Session, data: dict, actor: str,
                viewer: Actor | None = None) -> tuple[dict, list[Duplicate]]:
    """Add a lead; returns it with the likely duplicates found (flagged, not refused) among the
    records ``viewer`` (the acting user) may see."""
    row = create_record(ENTITY, session=session, data=data, actor=actor)
    dups = find_duplicates(session=session, email=row["email"], company=row["company"], exclude_lead_id=row["id"],
                           actor=viewer)
    return row, dups


def set_status(*, session: Session, lead_id: int, status: str, actor: str,
               expected_version: int | None = None) -> dict:
    from crm_tui.services.records import update_record

    return update_record(ENTITY, session=session, record_id=lead_id, data={"status": status}, actor=actor,
                         expected_version=expected_version)


# ---------------------------------------------------------------- conversion


def find_matching_account(*, session: Session, company: str | None, website: str | None,
                          actor: Actor | None = None) -> tuple[int, str, str] | None:
    """(account id, name, why) for an existing account matching the company name or web domain,
    among those ``actor`` may see."""
    A = Account.__table__
    key = normalize_company(company)
    if key:
        for row in session.execute(scope(
            select(A.c.id, A.c.name).where(_company_candidates(A.c.name, key)).order_by(A.c.id).limit(1000),
            entity="account", table=A, actor=actor)
        ):
            if normalize_company(row.name) == key:
                return row.id, row.name, f"same company name as {company!r}"
    domain = website_domain(website)
    if domain and "." in domain:
        for row in session.execute(scope(
            select(A.c.id, A.c.name, A.c.website).where(func.lower(A.c.website).like(f"%{domain}%"))
            .order_by(A.c.id).limit(1000), entity="account", table=A, actor=actor)
        ):
            if website_domain(row.website) == domain:
                return row.id, row.name, f"same web domain {domain}"
    return None


@dataclass
class Conversion:
    lead_id: int
    account_id: int
    account_name: str
    account_created: bool
    account_reason: str  # why an existing account was used; "" when created
    contact_id: int
    contact_created: bool
    opportunity_id: int
    opportunity_name: str
    activity_id: int
    batch_id: str
    messages: list[str] = field(default_factory=list)
    story: list[str] = field(default_factory=list)  # the messages with names only, for people

    def as_row(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "messages"}


@dataclass
class ConversionPlan:
    """What converting a lead would do; the TUI form is pre-filled from it."""

    lead_id: int
    lead_label: str
    account_id: int | None
    account_name: str
    account_reason: str
    contact_name: str
    opportunity_name: str
    amount: str
    close_date: dt.date
    stage: str


def _check_convertible(lead: dict) -> None:
    if lead["status"] == "converted" or lead["converted_opportunity_id"] is not None:
        when = f" on {lead['converted_at']:%Y-%m-%d}" if lead.get("converted_at") else ""
        raise Conflict(f"lead {lead['id']} was already converted{when} "
                       f"(opportunity {lead['converted_opportunity_id']}); it cannot be converted twice")
    if lead["status"] == "junk":
        raise ValidationError("status", "junk", f"cannot be converted: lead {lead['id']} is junk; "
                              "change its status first if it is a real lead")


def plan_conversion(*, session: Session, lead_id: int, actor: Actor | None = None) -> ConversionPlan:
    """What converting the lead would do, for the dialog: NotFound if ``actor`` may not see the lead;
    an existing account is matched among those ``actor`` may see."""
    get_record(ENTITY, session=session, record_id=lead_id, actor=actor)
    lead = _raw(ENTITY, session, lead_id)
    _check_convertible(lead)
    match = find_matching_account(session=session, company=lead["company"], website=lead["website"], actor=actor)
    person = f"{lead['first_name']} {lead['last_name']}".strip()
    account_name = match[1] if match else (lead["company"] or person)
    return ConversionPlan(
        lead_id=lead_id, lead_label=lead_label(lead), account_id=match[0] if match else None,
        account_name=account_name, account_reason=match[2] if match else "",
        contact_name=person or lead["email"] or "", opportunity_name=f"{account_name} – new business",
        amount="", close_date=dt.date.today() + dt.timedelta(days=DEFAULT_CLOSE_DAYS), stage=CONVERT_STAGE,
    )


def _snapshot(table, record_id: int, session: Session) -> str:
    row = session.execute(select(table).where(table.c.id == record_id)).first()
    return json.dumps({k: _change_text(v) for k, v in row._mapping.items()}, ensure_ascii=False)


def convert_lead(*, session: Session, lead_id: int, actor: str, amount=None, close_date=None, stage=None,
                 account_id=None, opportunity_name: str | None = None, currency: str | None = None,
                 expected_version: int | None = None) -> Conversion:
    """Convert a lead into account + contact + opportunity in the caller's transaction."""
    from crm_tui.services.sales.stages import resolve_stage

    lead = _raw(ENTITY, session, lead_id)
    _check_convertible(lead)
    if expected_version is not None and lead["version"] != expected_version:
        raise named(Conflict(f"lead {lead_id} was changed by someone else since you opened it "
                             f"(version {expected_version}, now {lead['version']}); reload and try again"),
                    f"lead “{lead_label(lead)}” was changed by someone else since you opened it; reload and try again")

    # Check every input before the first write.
    cur = money.DEFAULT_CURRENCY
    if currency:
        try:
            cur = money.normalize_currency(currency)
        except money.MoneyError:
            raise ValidationError("currency", currency, "is not an ISO 4217 currency code") from None
    amount_text = None
    if amount not in (None, ""):
        try:
            minor = money.parse_amount(amount, cur)
        except money.OutOfRange as exc:
            raise ValidationError("amount", amount, f"must be between 0 and {exc.highest}") from None
        except money.MoneyError as exc:
            raise ValidationError("amount", amount, str(exc).split(": ", 1)[-1]) from None
        if minor < 0:
            raise ValidationError("amount", amount, "must not be negative")
        amount_text = money.format_plain(minor, cur)
    close = parse_date(close_date, field_name="close_date") if close_date not in (None, "") else (
        dt.date.today() + dt.timedelta(days=DEFAULT_CLOSE_DAYS))
    if stage not in (None, ""):
        st = resolve_stage(session=session, value=stage)
    else:
        try:
            st = resolve_stage(session=session, value=CONVERT_STAGE)
        except ValidationError:
            from crm_tui.services.sales.stages import first_stage

            st = first_stage(session=session)
    if st.is_won or st.is_lost:
        raise ValidationError("stage", stage, "is a closed stage; a converted lead starts an open opportunity")
    person = f"{lead['first_name']} {lead['last_name']}".strip()
    if not (lead["last_name"] or lead["first_name"]):
        raise ValidationError("last_name", None, f"lead {lead_id} has no name; add one before converting "
                              "so the contact can be created")
    owner = None
    if lead["owner_id"] is not None:
        owner = session.execute(select(User.username).where(User.id == lead["owner_id"])).scalar()

    try:
        return _convert(session, lead, actor=actor, owner=owner, person=person, account_id=account_id, stage=st,
                        currency=cur, amount_text=amount_text, close=close, opportunity_name=opportunity_name)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise Conflict(f"could not convert lead {lead_id}: {reason}; nothing was saved") from None


def _convert(session, lead, *, actor, owner, person, account_id, stage, currency, amount_text, close,
             opportunity_name) -> Conversion:
    from crm_tui.services.engagement import activities
    from crm_tui.services.sales import accounts, contacts, opportunities

    lead_id = lead["id"]
    st, cur = stage, currency
    batch = new_batch_id()
    now = utcnow()
    messages: list[str] = []  # for the CLI: with the records' numbers
    story: list[str] = []  # the same for the timeline: names only

    # Account: the one chosen, a matching one, or a new one.
    A = Account.__table__
    if account_id not in (None, ""):
        acct_id = ref_exists(session, A, account_id, "account", "account")
        acct_name = session.execute(select(A.c.name).where(A.c.id == acct_id)).scalar()
        created, reason = False, "chosen"
        messages.append(f"using account {acct_id} ({acct_name}) as chosen")
        story.append(f"used the chosen account {acct_name}")
    else:
        match = find_matching_account(session=session, company=lead["company"], website=lead["website"])
        if match:
            acct_id, acct_name, reason = match
            created = False
            messages.append(f"using existing account {acct_id} ({acct_name}): {reason}")
            story.append(f"used the existing account {acct_name}: {reason}")
        else:
            data = {"name": lead["company"] or person, "website": lead["website"], "industry": lead["industry"],
                    "city": lead["city"], "state": lead["state"], "country": lead["country"],
                    "source": lead["source"], "phone": None, "owner": owner}
            data = {k: v for k, v in data.items() if v not in (None, "")}
            acct = create_record(accounts.ENTITY, session=session, data=data, actor=actor)
            acct_id, acct_name, created, reason = acct["id"], acct["name"], True, ""
            record_changes(session, entity="account", record_id=acct_id,
                           changes={"*": (None, _snapshot(A, acct_id, session))}, actor=actor, batch_id=batch,
                           when=now)
            messages.append(f"created account {acct_id} ({acct_name})")
            story.append(f"created the account {acct_name}")

    # Contact: an existing one at that account with the same email, or a new one.
    C = Contact.__table__
    contact_id = None
    if not created and lead["email"]:
        contact_id = session.execute(
            select(C.c.id).where(C.c.account_id == acct_id, func.lower(C.c.email) == lead["email"].lower())
            .order_by(C.c.id).limit(1)).scalar()
    contact_created = contact_id is None
    if contact_id is None:
        data = {"first_name": lead["first_name"], "last_name": lead["last_name"] or lead["first_name"],
                "account": acct_id, "email": lead["email"], "phone": lead["phone"], "title": lead["title"],
                "owner": owner, "notes": lead["notes"]}
        data = {k: v for k, v in data.items() if v not in (None, "")}
        contact = create_record(contacts.ENTITY, session=session, data=data, actor=actor)
        contact_id = contact["id"]
        record_changes(session, entity="contact", record_id=contact_id,
                       changes={"*": (None, _snapshot(C, contact_id, session))}, actor=actor, batch_id=batch, when=now)
        messages.append(f"created contact {contact_id} ({person})")
        story.append(f"created the contact {person}")
    else:
        messages.append(f"using existing contact {contact_id} at that account: same email {lead['email']}")
        story.append(f"used the existing contact with the same email {lead['email']}")

    # Opportunity at the chosen stage (probability from the stage).
    opp_table = opportunities.ENTITY.table
    opp_name = (opportunity_name or "").strip() or f"{acct_name} – new business"
    data = {"name": opp_name, "account": acct_id, "contact": contact_id, "stage": st.name, "currency": cur,
            "expected_close": close.isoformat(), "source": lead["source"], "owner": owner,
            "description": lead["notes"]}
    if amount_text is not None:
        data["amount"] = amount_text
    data = {k: v for k, v in data.items() if v not in (None, "")}
    opp = create_record(opportunities.ENTITY, session=session, data=data, actor=actor)
    opp_id = opp["id"]
    record_changes(session, entity="opportunity", record_id=opp_id,
                   changes={"*": (None, _snapshot(opp_table, opp_id, session))}, actor=actor, batch_id=batch, when=now)
    messages.append(f"created opportunity {opp_id} ({opp_name}) at {st.name} ({opp['probability']}%)")
    story.append(f"created the opportunity {opp_name} at {st.name} ({opp['probability']}%)")

    # The person who came in as the lead joins the deal's buying group: with the buying role they have at
    # the account, else as its champion (the one who reached out). Created with the deal, as its fields are.
    role = session.execute(select(C.c.buying_role).where(C.c.id == contact_id)).scalar() or CONVERT_BUYING_ROLE
    session.execute(insert(OpportunityContact.__table__).values(opportunity_id=opp_id, contact_id=contact_id,
                                                                role=role))
    messages.append(f"added contact {contact_id} ({person}) to its buying group as {role}")
    story.append(f"added {person} to its buying group as {role}")

    # The lead: links and status, guarded by its version.
    result = session.execute(
        update(T).where(T.c.id == lead_id, T.c.version == lead["version"])
        .values(status="converted", converted_at=now, converted_account_id=acct_id,
                converted_contact_id=contact_id, converted_opportunity_id=opp_id,
                version=lead["version"] + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise named(Conflict(f"lead {lead_id} was changed by someone else at the same time; reload and try again"),
                    f"lead “{lead_label(lead)}” was changed by someone else at the same time; reload and try again")
    record_changes(session, entity="lead", record_id=lead_id, actor=actor, batch_id=batch, when=now, changes={
        "status": (lead["status"], "converted"), "converted_at": (None, now),
        "converted_account_id": (None, acct_id), "converted_contact_id": (None, contact_id),
        "converted_opportunity_id": (None, opp_id),
    })

    # A system event on every record involved.
    activity = create_record(activities.ENTITY, session=session, actor=actor, data={
        "type": "system", "subject": f"Lead converted: {lead_label(lead)}",
        "body": "; ".join(story), "lead": lead_id, "account": acct_id, "contact": contact_id, "opp": opp_id,
    })
    return Conversion(lead_id=lead_id, account_id=acct_id, account_name=acct_name, account_created=created,
                      account_reason=reason, contact_id=contact_id, contact_created=contact_created,
                      opportunity_id=opp_id, opportunity_name=opp_name, activity_id=activity["id"],
                      batch_id=batch, messages=messages, story=story)


def get_lead(*, session: Session, lead_id: int, actor: Actor | None = None) -> dict:
    return get_record(ENTITY, session=session, record_id=lead_id, actor=actor)



def due_follow_ups(*, session: Session, actor: Actor, limit: int = 500, mine: bool = True) -> list[dict]:
    """Open leads of ``actor`` whose next follow-up is today or overdue, oldest first; ``mine=False``:
    everyone's ``actor`` may read.

    A lead whose follow-up is a task of ``actor`` (of anyone, with ``mine=False``) due by today is left
    out: that task is in the due tasks already (one follow-up, listed once)."""
    from crm_tui.services.records import list_records
    from crm_tui.services.users import actor_user_id

    filters = {"owner": actor.username} if mine else {}
    rows = list_records(ENTITY, session=session, filters={**filters, "follow_up": "due"},
                        sort="next_follow_up", limit=limit, actor=actor)
    uid = actor_user_id(session, actor)
    if not rows or (uid is None and mine):
        return rows
    A = Activity.__table__
    _, end = local_day_bounds()
    tasked = set(session.execute(select(A.c.lead_id).where(
        A.c.lead_id.in_([r["id"] for r in rows]), A.c.completed_at.is_(None), A.c.due_at < end,
        *([A.c.owner_id == uid] if mine else []))).scalars())
    return [r for r in rows if r["id"] not in tasked]


def lead_sources(*, session: Session, limit: int = 100, actor: Actor | None = None) -> list[str]:
    """The distinct lead sources in use on the leads ``actor`` may see, for a filter menu."""
    stmt = scope(select(T.c.source).where(T.c.source.is_not(None)), entity="lead", table=T, actor=actor)
    stmt = stmt.group_by(T.c.source).order_by(T.c.source).limit(limit)
    return [s for s in session.execute(stmt).scalars() if s]
