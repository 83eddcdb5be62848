"""Proposals: line items, numbering, statuses, revisions, follow-ups.

Lines and totals are priced by the one pricing rule, ``services/pricing.py``
(``price_lines``, re-exported here); the TUI editor calls it as you type, the
CLI, the PDF and exports read the totals it stored.

Quantities are exact thousandths (``quantity_milli``), discounts and tax rates
basis points (1250 = 12.5 %).

A proposal's lines belong to a revision. Editing a draft changes its current
revision in place; editing a sent (rejected or expired) proposal first keeps
that revision (header in ``proposal_revisions``, lines stay under their old
revision number) and starts the next one as a draft. Every write is guarded by
the proposal's ``version`` so a later save never silently overwrites another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlmodel import Session, col

from crm_tui import addresses, formatting, money
from crm_tui.actor import Actor
from crm_tui.errors import Conflict, NotFound, ValidationError
from crm_tui.services import records
from crm_tui.services.pricing import (  # also reachable here: proposals.price_lines is the same rule
    LineInput,
    PricedLine,
    Pricing,
    clean_percent,
    clean_price,
    clean_quantity,
    price_lines,
)
from crm_tui.services.validate import is_id, parse_date, parse_id
from crm_tui.store.models import (
    PROPOSAL_STATUSES,
    Account,
    Activity,
    Contact,
    Opportunity,
    Product,
    Proposal,
    ProposalCounter,
    ProposalLine,
    ProposalRevision,
    ProposalTemplate,
    ProposalTemplateLine,
    Stage,
    User,
    utcnow,
)
from crm_tui.store.scope import scope

P = Proposal.__table__
L = ProposalLine.__table__
R = ProposalRevision.__table__
TPL = ProposalTemplate.__table__
TPL_LINES = ProposalTemplateLine.__table__
C = ProposalCounter.__table__

FOLLOWUP_DAYS = 3
DEFAULT_VALID_DAYS = 30

STATUSES = PROPOSAL_STATUSES
OPEN_STATUSES = ("draft", "sent")  # these turn "expired" when valid_until passes


LINE_KEYS = ("product", "description", "quantity", "unit_price", "discount")


def clean_line(data: dict, *, currency: str, session: Session | None = None) -> LineInput:
    """One line from text (a form row, CLI options): product (id or SKU), description, quantity,
    unit_price, discount %. With a product, description and price default to the product's.

    Without a session a product cannot be looked up (the editor passes the already resolved
    ``product_id`` and ``sku``). Raises ValidationError naming the field and value.
    """
    unknown = [k for k in data if k not in LINE_KEYS + ("product_id", "sku")]
    if unknown:
        raise ValidationError(unknown[0], None, f"is not a line field; fields are: {', '.join(LINE_KEYS)}")
    product_id = data.get("product_id")
    sku = data.get("sku")
    description = (data.get("description") or "").strip() if isinstance(data.get("description"), str) else data.get("description")
    price_text = data.get("unit_price")
    blank_price = price_text is None or (isinstance(price_text, str) and not price_text.strip())
    product_value = data.get("product")
    if product_value not in (None, "") and session is not None:
        from crm_tui.services.quotes.products import find_product

        product = find_product(session=session, value=product_value)
        if not product.active:
            raise ValidationError("product", product_value, "is retired (not active)")
        if blank_price and product.currency != currency:
            raise ValidationError("product", product_value,
                                  f"is priced in {product.currency}, the proposal is in {currency}; "
                                  "give a unit price in the proposal's currency")
        product_id, sku = product.id, product.sku
        if not description:
            description = product.name
        unit_price = product.unit_price_minor if blank_price else clean_price(price_text, currency)
    else:
        if blank_price:
            raise ValidationError("unit_price", price_text, "is required (or give a product)")
        unit_price = clean_price(price_text, currency)
    if not description:
        raise ValidationError("description", description, "is required (or give a product)")
    if len(description) > 500:
        raise ValidationError("description", description[:40] + "…", "is longer than 500 characters")
    quantity = data.get("quantity")
    quantity_milli = clean_quantity("1" if quantity is None else quantity)
    discount_bp = clean_percent(data.get("discount"), "discount")
    return LineInput(description=description, quantity_milli=quantity_milli, unit_price_minor=unit_price,
                     discount_bp=discount_bp, product_id=product_id, sku=sku)


def line_as_text(line: LineInput | PricedLine, currency: str) -> dict[str, Any]:
    """A line back to editable text (the inverse of ``clean_line``)."""
    return {"product_id": line.product_id, "sku": line.sku, "description": line.description,
            "quantity": money.format_quantity(line.quantity_milli),
            "unit_price": money.format_plain(line.unit_price_minor, currency),
            "discount": money.format_percent(line.discount_bp)}


# ---------------------------------------------------------------- reading


def effective_status(status: str, valid_until: dt.date | None, today: dt.date | None = None) -> str:
    """A draft or sent proposal past its valid-until date shows as expired."""
    today = today or dt.date.today()
    if status in OPEN_STATUSES and valid_until is not None and valid_until < today:
        return "expired"
    return status


def _status_expr(today: dt.date):
    from sqlalchemy import case

    return case(
        (and_(P.c.status.in_(OPEN_STATUSES), P.c.valid_until.is_not(None), P.c.valid_until < today), "expired"),
        else_=P.c.status,
    )


@dataclass
class ProposalView:
    """Everything one screen, command or PDF shows about one revision of a proposal."""

    id: int
    number: str
    title: str
    revision: int  # the revision shown
    current_revision: int
    status: str  # effective: draft, sent, accepted, rejected, expired
    stored_status: str
    opportunity_id: int
    opportunity: str
    account_id: int | None
    account: str | None
    contact_id: int | None
    contact: str | None
    contact_email: str | None
    owner: str | None
    currency: str
    valid_until: dt.date | None
    terms: str | None
    notes: str | None
    sent_at: dt.datetime | None
    responded_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    pricing: Pricing
    revisions: list[int] = field(default_factory=list)
    account_address: list[str] = field(default_factory=list)  # as its country writes it (crm_tui.addresses)
    contact_title: str | None = None  # the job title of ``contact``

    @property
    def editable(self) -> bool:
        return self.stored_status != "accepted" and self.revision == self.current_revision

    def summary(self) -> dict[str, Any]:
        """Flat fields for `show`, exports and the list: money as plain decimals with the currency."""
        p = self.pricing
        cur = self.currency
        return {
            "id": self.id, "number": self.number, "revision": self.revision, "status": self.status,
            "title": self.title, "opportunity_id": self.opportunity_id, "opportunity": self.opportunity,
            "account": self.account, "contact": self.contact, "owner": self.owner, "currency": cur,
            "subtotal": money.format_plain(p.subtotal_minor, cur), "discount": money.format_plain(p.discount_minor, cur),
            "net": money.format_plain(p.net_minor, cur), "tax_rate": money.format_percent(p.tax_rate_bp),
            "tax": money.format_plain(p.tax_minor, cur), "total": money.format_plain(p.total_minor, cur),
            "lines": len(p.lines), "valid_until": self.valid_until, "sent_at": self.sent_at,
            "responded_at": self.responded_at, "terms": self.terms, "notes": self.notes,
            "revisions": ",".join(str(r) for r in self.revisions), "version": self.version,
        }

    def line_rows(self) -> list[dict[str, Any]]:
        cur = self.currency
        return [{"position": ln.position, "sku": ln.sku or "", "description": ln.description,
                 "quantity": ln.quantity, "unit_price": money.format_plain(ln.unit_price_minor, cur),
                 "discount": ln.discount, "gross": money.format_plain(ln.gross_minor, cur),
                 "total": money.format_plain(ln.total_minor, cur), "currency": cur}
                for ln in self.pricing.lines]


def _raw(session: Session, proposal_id: Any, actor: Actor | None = None) -> dict:
    try:
        pid = int(proposal_id)
    except (TypeError, ValueError):
        raise ValidationError("id", proposal_id, "is not a proposal id") from None
    row = session.execute(scope(select(P).where(P.c.id == pid), entity="proposal", table=P, actor=actor)).first()
    if row is None:
        raise NotFound("proposal", proposal_id)
    return dict(row._mapping)


def resolve_id(*, session: Session, value: Any, actor: Actor | None = None) -> int:
    """A proposal by id or number (PRO-2026-0001), of those ``actor`` may see."""
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return _raw(session, parse_id(text, field_name="proposal", label="proposal"), actor)["id"]
    pid = session.execute(scope(select(P.c.id).where(func.upper(P.c.number) == text.upper()),
                                entity="proposal", table=P, actor=actor)).scalar()
    if pid is None:
        raise NotFound("proposal", value)
    return pid


def _line_inputs(session: Session, proposal_id: int, revision: int) -> list[LineInput]:
    prod = Product.__table__
    stmt = (select(L, prod.c.sku).select_from(L.outerjoin(prod, prod.c.id == L.c.product_id))
            .where(L.c.proposal_id == proposal_id, L.c.revision == revision).order_by(L.c.position, L.c.id))
    return [LineInput(description=r.description, quantity_milli=r.quantity_milli, unit_price_minor=r.unit_price_minor,
                      discount_bp=r.discount_bp, product_id=r.product_id, sku=r.sku)
            for r in session.execute(stmt)]


def get_proposal(*, session: Session, proposal_id: Any, revision: int | None = None,
                 today: dt.date | None = None, actor: Actor | None = None) -> ProposalView:
    """One proposal (NotFound when ``actor`` may not see it), at its current or an older revision."""
    raw = _raw(session, proposal_id, actor)
    pid = raw["id"]
    revisions = sorted(set(session.execute(select(R.c.revision).where(R.c.proposal_id == pid)).scalars()) | {raw["revision"]})
    shown = raw["revision"] if revision is None else int(revision)
    if shown not in revisions:
        raise ValidationError("revision", revision, f"is not a revision of proposal {raw['number']}; "
                                                    f"revisions are: {', '.join(map(str, revisions))}")
    header = raw
    if shown != raw["revision"]:
        old = session.execute(select(R).where(R.c.proposal_id == pid, R.c.revision == shown)).first()
        header = {**raw, **dict(old._mapping), "responded_at": None}
    lines = _line_inputs(session, pid, shown)
    pricing = price_lines(lines, tax_rate_bp=header["tax_rate_bp"], currency=raw["currency"])
    opp = session.execute(select(Opportunity.__table__.c.name).where(Opportunity.__table__.c.id == raw["opportunity_id"])).scalar()
    account = None
    address: list[str] = []
    if raw["account_id"]:
        a = session.execute(select(Account.__table__).where(Account.__table__.c.id == raw["account_id"])).first()
        if a is not None:
            account = a.name
            address = addresses.address_lines(street=a.street, city=a.city, state=a.state,
                                              postal_code=a.postal_code, country=a.country)
    contact = contact_email = contact_title = None
    c = _addressee(session, raw)
    if c is not None:
        contact = f"{c.first_name} {c.last_name}".strip()
        contact_email, contact_title = c.email, c.title
    owner = None
    if raw["owner_id"]:
        owner = session.execute(select(User.__table__.c.username).where(User.__table__.c.id == raw["owner_id"])).scalar()
    status = effective_status(header["status"], header["valid_until"], today)
    return ProposalView(
        id=pid, number=raw["number"], title=raw["title"], revision=shown, current_revision=raw["revision"],
        status=status, stored_status=header["status"], opportunity_id=raw["opportunity_id"], opportunity=opp or "",
        account_id=raw["account_id"], account=account, contact_id=raw["contact_id"], contact=contact,
        contact_email=contact_email, owner=owner, currency=raw["currency"], valid_until=header["valid_until"],
        terms=header["terms"], notes=header["notes"], sent_at=header["sent_at"], responded_at=header["responded_at"],
        created_at=raw["created_at"], updated_at=raw["updated_at"], version=raw["version"], pricing=pricing,
        revisions=revisions, account_address=address, contact_title=contact_title,
    )


def _addressee(session: Session, raw: Any):
    """Whom the proposal is addressed to: its own contact, else the deal's primary contact, else the
    account's primary contact, or None."""
    C, OPP = Contact.__table__, Opportunity.__table__
    if raw["contact_id"]:
        c = session.execute(select(C).where(C.c.id == raw["contact_id"])).first()
        if c is not None:
            return c
    primary = session.execute(select(OPP.c.primary_contact_id).where(OPP.c.id == raw["opportunity_id"])).scalar()
    if primary:
        c = session.execute(select(C).where(C.c.id == primary)).first()
        if c is not None:
            return c
    if raw["account_id"]:
        return session.execute(select(C).where(C.c.account_id == raw["account_id"], C.c.is_primary.is_(True))
                               .order_by(C.c.id).limit(1)).first()
    return None


LIST_COLUMNS = ("id", "number", "revision", "status", "title", "account", "owner", "total", "currency",
                "valid_until", "sent_at")
# The keys of list_proposals' rows (the header of an empty CSV list).
ROW_KEYS = ("id", "number", "revision", "status", "title", "account", "owner", "total_minor", "currency",
            "valid_until", "sent_at", "responded_at", "opportunity_id", "opportunity", "version", "total")
# The keys of ProposalView.line_rows.
LINE_ROW_KEYS = ("position", "sku", "description", "quantity", "unit_price", "discount", "gross", "total", "currency")


def list_proposals(*, session: Session, status: str | None = None, pending: bool = False,
                   overdue_followup: bool = False, owner: str | None = None, opportunity_id: int | None = None,
                   search: str | None = None, limit: int | None = None, now: dt.datetime | None = None,
                   today: dt.date | None = None, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Proposals ``actor`` may see, newest first. ``status`` is the effective status (expired included);
    ``pending`` = sent and awaiting a response; ``overdue_followup`` = sent, no response,
    and sent more than FOLLOWUP_DAYS days ago."""
    now = now or utcnow()
    today = today or dt.date.today()
    acct = Account.__table__.alias("proposal_account")
    usr = User.__table__.alias("proposal_owner")
    opp = Opportunity.__table__.alias("proposal_opp")
    status_col = _status_expr(today)
    stmt = (select(P.c.id, P.c.number, P.c.revision, status_col.label("status"), P.c.title,
                   acct.c.name.label("account"), usr.c.username.label("owner"), P.c.total_minor, P.c.currency,
                   P.c.valid_until, P.c.sent_at, P.c.responded_at, P.c.opportunity_id,
                   opp.c.name.label("opportunity"), P.c.version)
            .select_from(P.outerjoin(acct, acct.c.id == P.c.account_id).outerjoin(usr, usr.c.id == P.c.owner_id)
                         .outerjoin(opp, opp.c.id == P.c.opportunity_id)))
    if status:
        wanted = str(status).strip().lower()
        if wanted not in STATUSES:
            raise ValidationError("status", status, f"is not one of: {', '.join(STATUSES)}")
        stmt = stmt.where(status_col == wanted)
    awaiting = and_(P.c.status == "sent", P.c.responded_at.is_(None))
    if pending:
        stmt = stmt.where(awaiting, status_col == "sent")
    if overdue_followup:
        stmt = stmt.where(awaiting, P.c.sent_at <= now - dt.timedelta(days=FOLLOWUP_DAYS))
    if owner:
        if records.is_me(owner):
            if actor is None:
                raise ValidationError("owner", owner, "needs the acting user; give a username")
            owner = actor.username
        stmt = stmt.where(func.lower(usr.c.username) == owner.strip().lower())
    if opportunity_id is not None:
        stmt = stmt.where(P.c.opportunity_id == int(opportunity_id))
    if search:
        for word in search.split():
            pattern = f"%{word.lower()}%"
            stmt = stmt.where(or_(func.lower(P.c.number).like(pattern), func.lower(P.c.title).like(pattern),
                                  func.lower(func.coalesce(acct.c.name, "")).like(pattern)))
    stmt = scope(stmt.order_by(P.c.id.desc()), entity="proposal", table=P, actor=actor)
    if limit:
        stmt = stmt.limit(limit)
    out = []
    for r in session.execute(stmt):
        row = dict(r._mapping)
        row["total"] = money.format_plain(row["total_minor"], row["currency"])
        out.append(row)
    return out


def awaiting_response(*, session: Session, actor: Actor, today: dt.date | None = None,
                      now: dt.datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """``actor``'s sent proposals with no response yet (not expired), the longest waiting first;
    each row has ``days_waiting`` and ``overdue`` (no response after FOLLOWUP_DAYS days)."""
    now = now or utcnow()
    rows = list_proposals(session=session, pending=True, owner=actor.username, today=today, now=now, actor=actor)
    rows.sort(key=lambda r: (r["sent_at"] or now, r["id"]))
    for row in rows:
        sent = row["sent_at"]
        row["days_waiting"] = (now - sent).days if sent else 0
        row["overdue"] = row["days_waiting"] >= FOLLOWUP_DAYS
    return rows[:limit] if limit else rows


# ---------------------------------------------------------------- numbering


def next_number(*, session: Session, year: int) -> str:
    """The next number for ``year`` (PRO-2026-0001), from a counter row bumped in one atomic
    upsert: concurrent writers get different numbers and a number is never handed out twice."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    stmt = upsert(C).values(year=year, last=1)
    stmt = stmt.on_conflict_do_update(index_elements=[C.c.year], set_={"last": C.c.last + 1}).returning(C.c.last)
    n = session.execute(stmt).scalar_one()
    return f"PRO-{year}-{n:04d}"


# ---------------------------------------------------------------- creating


def _opportunity(session: Session, opportunity_id: Any) -> dict:
    try:
        oid = int(opportunity_id)
    except (TypeError, ValueError):
        raise ValidationError("opportunity", opportunity_id, "is not an opportunity id") from None
    o = Opportunity.__table__
    s = Stage.__table__
    row = session.execute(select(o, s.c.name.label("stage_name"), s.c.is_lost, s.c.is_won)
                          .select_from(o.join(s, s.c.id == o.c.stage_id)).where(o.c.id == oid)).first()
    if row is None:
        raise ValidationError("opportunity", opportunity_id, "is not an existing opportunity")
    return dict(row._mapping)


def _template(session: Session, value: Any) -> dict:
    text = str(value).strip()
    clauses = [func.lower(TPL.c.name) == text.lower()]
    if is_id(text):
        clauses.append(TPL.c.id == int(text))
    row = session.execute(select(TPL).where(or_(*clauses))).first()
    if row is None:
        names = session.execute(select(TPL.c.name).order_by(TPL.c.name).limit(10)).scalars().all()
        hint = f"; templates are: {', '.join(names)}" if names else "; there are no templates yet"
        raise ValidationError("template", value, f"is not a template{hint}")
    return dict(row._mapping)


def _template_lines(session: Session, template: dict, currency: str) -> list[LineInput]:
    prod = Product.__table__
    rows = session.execute(
        select(TPL_LINES, prod.c.sku, prod.c.name.label("product_name"), prod.c.unit_price_minor.label("product_price"),
               prod.c.currency.label("product_currency"))
        .select_from(TPL_LINES.outerjoin(prod, prod.c.id == TPL_LINES.c.product_id))
        .where(TPL_LINES.c.template_id == template["id"]).order_by(TPL_LINES.c.position, TPL_LINES.c.id)).all()
    out = []
    for r in rows:
        price = r.unit_price_minor
        if price is None:
            if r.product_id is None:
                price = 0
            elif r.product_currency != currency:
                raise ValidationError("template", template["name"],
                                      f"uses product {r.sku} priced in {r.product_currency}; "
                                      f"this opportunity is in {currency}")
            else:
                price = r.product_price
        out.append(LineInput(description=r.description or r.product_name or "", quantity_milli=r.quantity_milli,
                             unit_price_minor=price, discount_bp=r.discount_bp, product_id=r.product_id, sku=r.sku))
    return out


def new_proposal(*, session: Session, opportunity_id: Any, actor: str, template: Any = None,
                 title: str | None = None, currency: str | None = None, valid_until: Any = None,
                 tax_rate: Any = None, terms: str | None = None, notes: str | None = None,
                 today: dt.date | None = None) -> ProposalView:
    """A draft proposal for an opportunity: account, contact, currency and title from it;
    lines, terms, validity and tax from ``template`` (name or id) when given."""
    today = today or dt.date.today()
    opp = _opportunity(session, opportunity_id)
    if opp["is_lost"]:
        raise ValidationError("opportunity", opportunity_id,
                              f"is lost (stage {opp['stage_name']}); reopen it before making a proposal")
    opp_currency = opp["currency"]
    if currency not in (None, ""):
        try:
            cur = money.normalize_currency(currency)
        except money.MoneyError:
            raise ValidationError("currency", currency, "is not an ISO 4217 currency code") from None
        if cur != opp_currency:
            raise ValidationError("currency", currency,
                                  f"differs from the opportunity's currency {opp_currency}")
    tpl = _template(session, template) if template not in (None, "") else None
    lines = _template_lines(session, tpl, opp_currency) if tpl else []
    tax_bp = clean_percent(tax_rate, "tax_rate") if tax_rate not in (None, "") else (tpl["tax_rate_bp"] if tpl else 0)
    if valid_until not in (None, ""):
        valid = parse_date(valid_until, field_name="valid_until", today=today)
    else:
        valid = today + dt.timedelta(days=tpl["valid_days"] if tpl else DEFAULT_VALID_DAYS)
    name = (title or "").strip() or (f"{tpl['title']} — {opp['name']}" if tpl and tpl.get("title") else opp["name"])
    if len(name) > 200:
        raise ValidationError("title", name[:40] + "…", "is longer than 200 characters")
    pricing = price_lines(lines, tax_rate_bp=tax_bp, currency=opp_currency)
    owner_id = opp["owner_id"] or records.ensure_user(session, actor)
    contact_id = opp["primary_contact_id"]
    if contact_id is None and opp["account_id"]:
        ct = Contact.__table__
        contact_id = session.execute(select(ct.c.id).where(ct.c.account_id == opp["account_id"])
                                     .order_by(ct.c.is_primary.desc(), ct.c.id).limit(1)).scalar()
    now = utcnow()
    number = next_number(session=session, year=today.year)
    pid = session.execute(insert(P).values(
        number=number, opportunity_id=opp["id"], account_id=opp["account_id"], contact_id=contact_id,
        owner_id=owner_id, template_id=tpl["id"] if tpl else None, title=name, status="draft", revision=1,
        valid_until=valid, terms=terms if terms is not None else (tpl["terms"] if tpl else None),
        notes=notes if notes is not None else (tpl["notes"] if tpl else None), tax_rate_bp=tax_bp,
        currency=opp_currency, **_totals(pricing), created_at=now, updated_at=now, version=1,
    ).returning(P.c.id)).scalar_one()
    _write_lines(session, pid, 1, pricing)
    records.record_changes(session, entity="proposal", record_id=pid,
                           changes={"status": (None, "draft"), "total_minor": (None, pricing.total_minor)},
                           actor=actor, batch_id=records.new_batch_id(), when=now)
    return get_proposal(session=session, proposal_id=pid, today=today)


def _totals(pricing: Pricing) -> dict[str, int]:
    return {"subtotal_minor": pricing.subtotal_minor, "discount_minor": pricing.discount_minor,
            "tax_minor": pricing.tax_minor, "total_minor": pricing.total_minor}


def _write_lines(session: Session, proposal_id: int, revision: int, pricing: Pricing) -> None:
    session.execute(delete(L).where(L.c.proposal_id == proposal_id, L.c.revision == revision))
    if pricing.lines:
        session.execute(insert(L), [
            {"proposal_id": proposal_id, "revision": revision, "position": ln.position, "product_id": ln.product_id,
             "description": ln.description, "quantity_milli": ln.quantity_milli,
             "unit_price_minor": ln.unit_price_minor, "discount_bp": ln.discount_bp, "gross_minor": ln.gross_minor,
             "discount_minor": ln.discount_minor, "total_minor": ln.total_minor}
            for ln in pricing.lines])


# ---------------------------------------------------------------- editing


def _check_version(raw: dict, expected_version: int | None) -> None:
    if expected_version is not None and raw["version"] != expected_version:
        raise Conflict(f"proposal {raw['number']} was changed by someone else since you opened it "
                       f"(version {expected_version}, now {raw['version']}); reload and try again")


def _write_header(session: Session, raw: dict, values: dict, actor: str, batch_id: str | None = None) -> int:
    """UPDATE the proposal guarded by its version; Change rows for what changed. Returns the new version."""
    changes = {k: (raw.get(k), v) for k, v in values.items() if raw.get(k) != v}
    now = utcnow()
    result = session.execute(update(P).where(P.c.id == raw["id"], P.c.version == raw["version"])
                             .values(**values, version=raw["version"] + 1, updated_at=now))
    if result.rowcount != 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
        raise Conflict(f"proposal {raw['number']} was changed by someone else at the same time; reload and try again")
    records.record_changes(session, entity="proposal", record_id=raw["id"], changes=changes, actor=actor,
                           batch_id=batch_id or records.new_batch_id(), when=now)
    return raw["version"] + 1


def _keep_revision(session: Session, raw: dict) -> None:
    """Snapshot the current revision's header; its lines stay under their revision number."""
    session.execute(insert(R).values(
        proposal_id=raw["id"], revision=raw["revision"], status=effective_status(raw["status"], raw["valid_until"]),
        valid_until=raw["valid_until"], terms=raw["terms"], notes=raw["notes"], tax_rate_bp=raw["tax_rate_bp"],
        subtotal_minor=raw["subtotal_minor"], discount_minor=raw["discount_minor"], tax_minor=raw["tax_minor"],
        total_minor=raw["total_minor"], sent_at=raw["sent_at"], created_at=utcnow()))


HEADER_KEYS = ("title", "valid_until", "terms", "notes", "tax_rate", "contact")


def _clean_header(session: Session, header: dict, today: dt.date) -> dict:
    values: dict[str, Any] = {}
    for key, value in header.items():
        if key not in HEADER_KEYS:
            raise ValidationError(key, None, f"is not a proposal field; fields are: {', '.join(HEADER_KEYS)}")
        if key == "title":
            text = (value or "").strip()
            if not text:
                raise ValidationError("title", value, "is required")
            if len(text) > 200:
                raise ValidationError("title", text[:40] + "…", "is longer than 200 characters")
            values["title"] = text
        elif key == "valid_until":
            values["valid_until"] = None if value in (None, "") else parse_date(value, field_name="valid_until", today=today)
        elif key in ("terms", "notes"):
            values[key] = (value or "").strip() or None
        elif key == "tax_rate":
            values["tax_rate_bp"] = clean_percent(value, "tax_rate")
        elif key == "contact":
            values["contact_id"] = None if value in (None, "") else records.ref_exists(
                session, Contact.__table__, value, "contact", "contact")
    return values


@dataclass(frozen=True)
class Saved:
    view: ProposalView
    new_revision: bool  # the edit started a new revision (the proposal had been sent)


def save_proposal(*, session: Session, proposal_id: Any, actor: str, expected_version: int | None,
                  lines: list[dict] | None = None, header: dict | None = None,
                  today: dt.date | None = None) -> Saved:
    """Replace the current lines (each a dict for ``clean_line``) and/or header fields, in one go.

    A draft changes in place. A sent, rejected or expired proposal keeps its revision and the
    edit becomes the next revision, a draft again. An accepted one cannot change.
    With ``expected_version`` a proposal changed since it was read is refused (Conflict).
    """
    today = today or dt.date.today()
    raw = _raw(session, proposal_id)
    _check_version(raw, expected_version)
    if raw["status"] == "accepted":
        raise Conflict(f"proposal {raw['number']} was accepted; it cannot change any more")
    values = _clean_header(session, header or {}, today)
    if lines is not None:
        inputs = []
        for i, data in enumerate(lines, start=1):
            try:
                inputs.append(clean_line(data, currency=raw["currency"], session=session))
            except ValidationError as exc:
                raise ValidationError(f"line {i} {exc.field}", exc.value, exc.reason) from None
    else:
        inputs = _line_inputs(session, raw["id"], raw["revision"])
    tax_bp = values.get("tax_rate_bp", raw["tax_rate_bp"])
    pricing = price_lines(inputs, tax_rate_bp=tax_bp, currency=raw["currency"])
    values.update(_totals(pricing))
    new_revision = raw["status"] != "draft"
    revision = raw["revision"]
    if new_revision:
        _keep_revision(session, raw)
        revision += 1
        values.update(revision=revision, status="draft", sent_at=None, responded_at=None, followup_activity_id=None)
    if not new_revision:
        same_header = all(raw.get(k) == v for k, v in values.items())
        same_lines = lines is None or _line_inputs(session, raw["id"], raw["revision"]) == inputs
        if same_header and same_lines:  # nothing to write: no new version, no Change rows
            return Saved(get_proposal(session=session, proposal_id=raw["id"], today=today), False)
    _write_header(session, raw, values, actor)
    _write_lines(session, raw["id"], revision, pricing)
    return Saved(get_proposal(session=session, proposal_id=raw["id"], today=today), new_revision)


def editable_lines(view: ProposalView) -> list[dict]:
    """The shown revision's lines as text dicts, ready to change and pass to ``save_proposal``."""
    return [line_as_text(ln, view.currency) for ln in view.pricing.lines]


def _position(view: ProposalView, position: Any) -> int:
    try:
        pos = int(position)
    except (TypeError, ValueError):
        raise ValidationError("line", position, "is not a line number") from None
    if not 1 <= pos <= len(view.pricing.lines):
        raise ValidationError("line", position, f"is not a line of proposal {view.number} "
                                                f"(it has {len(view.pricing.lines)} line{'' if len(view.pricing.lines) == 1 else 's'})")
    return pos


def add_line(*, session: Session, proposal_id: Any, actor: str, data: dict, position: int | None = None,
             expected_version: int | None = None) -> Saved:
    view = get_proposal(session=session, proposal_id=proposal_id)
    lines = editable_lines(view)
    new = {k: v for k, v in data.items() if v is not None}
    if position is None:
        lines.append(new)
    else:
        lines.insert(max(0, int(position) - 1), new)
    return save_proposal(session=session, proposal_id=view.id, actor=actor,
                         expected_version=expected_version if expected_version is not None else view.version,
                         lines=lines)


def update_line(*, session: Session, proposal_id: Any, actor: str, position: Any, data: dict,
                expected_version: int | None = None) -> Saved:
    view = get_proposal(session=session, proposal_id=proposal_id)
    pos = _position(view, position)
    lines = editable_lines(view)
    line = lines[pos - 1]
    changes = {k: v for k, v in data.items() if v is not None}
    if "product" in changes:
        line.pop("product_id", None)
        if "description" not in changes:
            line.pop("description", None)
        if "unit_price" not in changes:
            line.pop("unit_price", None)
    line.update(changes)
    return save_proposal(session=session, proposal_id=view.id, actor=actor,
                         expected_version=expected_version if expected_version is not None else view.version,
                         lines=lines)


def remove_line(*, session: Session, proposal_id: Any, actor: str, position: Any,
                expected_version: int | None = None) -> Saved:
    view = get_proposal(session=session, proposal_id=proposal_id)
    pos = _position(view, position)
    lines = editable_lines(view)
    del lines[pos - 1]
    return save_proposal(session=session, proposal_id=view.id, actor=actor,
                         expected_version=expected_version if expected_version is not None else view.version,
                         lines=lines)


def revise_proposal(*, session: Session, proposal_id: Any, actor: str,
                    expected_version: int | None = None) -> Saved:
    """Start the next revision of a sent, rejected or expired proposal (same lines, a draft)."""
    raw = _raw(session, proposal_id)
    if raw["status"] == "draft":
        raise Conflict(f"proposal {raw['number']} is a draft (revision {raw['revision']}); edit it directly")
    return save_proposal(session=session, proposal_id=raw["id"], actor=actor, expected_version=expected_version)


# ---------------------------------------------------------------- status


def send_proposal(*, session: Session, proposal_id: Any, actor: str, expected_version: int | None = None,
                  now: dt.datetime | None = None, today: dt.date | None = None) -> ProposalView:
    """Mark a draft as sent now (the PDF or mail goes out separately)."""
    now = now or utcnow()
    today = today or dt.date.today()
    raw = _raw(session, proposal_id)
    _check_version(raw, expected_version)
    if raw["status"] != "draft":
        raise Conflict(f"proposal {raw['number']} is {raw['status']}, not a draft; "
                       "revise it (`crm proposal revise`) to send a new revision")
    if raw["valid_until"] is not None and raw["valid_until"] < today:
        raise ValidationError("valid_until", raw["valid_until"].isoformat(),
                              "is in the past; set a new valid-until date before sending")
    n = session.execute(select(func.count()).select_from(L)
                        .where(L.c.proposal_id == raw["id"], L.c.revision == raw["revision"])).scalar()
    if not n:
        raise ValidationError("lines", None, f"proposal {raw['number']} has no lines; add one before sending")
    _write_header(session, raw, {"status": "sent", "sent_at": now, "responded_at": None,
                                 "followup_activity_id": None}, actor)
    _log(session, raw, actor, f"Proposal {raw['number']} rev {raw['revision']} sent "
                              f"({money.format_money(raw['total_minor'], raw['currency'])})", now)
    return get_proposal(session=session, proposal_id=raw["id"], today=today)


def _log(session: Session, raw: dict, actor: str, subject: str, now: dt.datetime) -> None:
    session.execute(insert(Activity.__table__).values(
        type="system", subject=subject[:255], occurred_at=now, completed_at=now,
        owner_id=records.ensure_user(session, actor), account_id=raw["account_id"],
        opportunity_id=raw["opportunity_id"], created_at=now, updated_at=now, version=1))


@dataclass(frozen=True)
class Accepted:
    view: ProposalView
    moved_to_won: bool
    stage: str | None = None


def _respond(session: Session, proposal_id: Any, actor: str, status: str, expected_version: int | None,
             now: dt.datetime, today: dt.date) -> dict:
    raw = _raw(session, proposal_id)
    _check_version(raw, expected_version)
    shown = effective_status(raw["status"], raw["valid_until"], today)
    if raw["status"] != "sent":
        raise Conflict(f"proposal {raw['number']} is {shown}; only a sent proposal can be {status}")
    if status == "accepted" and shown == "expired":
        raise Conflict(f"proposal {raw['number']} expired on {raw['valid_until']:%Y-%m-%d}; "
                       "revise it with a new valid-until date and send it again")
    _write_header(session, raw, {"status": status, "responded_at": now}, actor)
    _log(session, raw, actor, f"Proposal {raw['number']} rev {raw['revision']} {status}", now)
    return raw


def accept_proposal(*, session: Session, proposal_id: Any, actor: str, move_to_won: bool = False,
                    expected_version: int | None = None, now: dt.datetime | None = None,
                    today: dt.date | None = None) -> Accepted:
    """The customer accepted. With ``move_to_won`` the opportunity takes the proposal's total
    as its amount and moves to the Won stage (through the pipeline service)."""
    now = now or utcnow()
    today = today or dt.date.today()
    raw = _respond(session, proposal_id, actor, "accepted", expected_version, now, today)
    from crm_tui.services.assignment import proposal_accepted

    proposal_accepted(session=session, proposal=raw, actor=actor)  # tells the deal's owner
    stage_name = None
    moved = False
    if move_to_won:
        from crm_tui.services.sales import opportunities, pipeline

        won = session.execute(select(Stage).where(col(Stage.is_won).is_(True), col(Stage.active).is_(True))
                              .order_by(Stage.position).limit(1)).scalar()
        if won is None:
            raise ValidationError("stage", None, "no active Won stage is defined")
        opp = _opportunity(session, raw["opportunity_id"])
        if opp["amount_minor"] != raw["total_minor"]:
            records.update_record(opportunities.ENTITY, session=session, record_id=opp["id"],
                                  data={"amount": money.format_plain(raw["total_minor"], raw["currency"])},
                                  actor=actor)
        if opp["stage_id"] != won.id:
            pipeline.move_opportunity(session=session, opportunity_id=opp["id"], stage=won.id, actor=actor)
            moved = True
        stage_name = won.name
    return Accepted(view=get_proposal(session=session, proposal_id=raw["id"], today=today), moved_to_won=moved,
                    stage=stage_name)


def reject_proposal(*, session: Session, proposal_id: Any, actor: str, expected_version: int | None = None,
                    now: dt.datetime | None = None, today: dt.date | None = None) -> ProposalView:
    now = now or utcnow()
    today = today or dt.date.today()
    raw = _respond(session, proposal_id, actor, "rejected", expected_version, now, today)
    return get_proposal(session=session, proposal_id=raw["id"], today=today)


# ---------------------------------------------------------------- follow-ups


def create_due_followups(*, session: Session, now: dt.datetime | None = None,
                         days: int = FOLLOWUP_DAYS) -> list[dict]:
    """For every proposal sent more than ``days`` days ago without a response and without a
    follow-up yet: a task for its owner, due now, linked to the opportunity. Returns the tasks."""
    now = now or utcnow()
    due = session.execute(select(P).where(P.c.status == "sent", P.c.responded_at.is_(None),
                                          P.c.sent_at <= now - dt.timedelta(days=days),
                                          P.c.followup_activity_id.is_(None)).order_by(P.c.id)).all()
    created = []
    for r in due:
        raw = dict(r._mapping)
        subject = (f"Follow up on proposal {raw['number']} (sent {formatting.full_day(raw['sent_at'])}, "
                   "no response)")[:255]
        # On the deal's account as it is now (the deal may have moved since the proposal was made).
        account_id = session.execute(select(Opportunity.__table__.c.account_id).where(
            Opportunity.__table__.c.id == raw["opportunity_id"])).scalar() if raw["opportunity_id"] else None
        aid = session.execute(insert(Activity.__table__).values(
            type="task", subject=subject, due_at=now, occurred_at=now, owner_id=raw["owner_id"],
            account_id=account_id if account_id is not None else raw["account_id"],
            opportunity_id=raw["opportunity_id"], created_at=now, updated_at=now,
            version=1).returning(Activity.__table__.c.id)).scalar_one()
        # Not a user's edit: no version bump, so an editor open on this proposal can still save.
        # Conditional, so two callers at once (the TUI and a CLI listing) never make two tasks:
        # the one that loses the race takes its task back.
        claimed = session.execute(update(P).where(P.c.id == raw["id"], P.c.followup_activity_id.is_(None))
                                  .values(followup_activity_id=aid)).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            session.execute(Activity.__table__.delete().where(Activity.__table__.c.id == aid))
            continue
        created.append({"activity_id": aid, "proposal_id": raw["id"], "number": raw["number"], "subject": subject,
                        "owner_id": raw["owner_id"]})
    return created


# ---------------------------------------------------------------- revisions diff


@dataclass(frozen=True)
class LineChange:
    change: str  # added, removed, changed
    description: str
    before: PricedLine | None
    after: PricedLine | None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diff:
    number: str
    currency: str
    from_revision: int
    to_revision: int
    before: Pricing
    after: Pricing
    lines: tuple[LineChange, ...]
    header: tuple[tuple[str, Any, Any], ...]

    def rows(self) -> list[dict[str, Any]]:
        """One row per changed line, then one per changed total: what, before, after."""
        cur = self.currency

        def line_text(ln: PricedLine | None) -> str:
            if ln is None:
                return ""
            text = f"{ln.quantity} × {money.format_plain(ln.unit_price_minor, cur)}"
            if ln.discount_bp:
                text += f" −{ln.discount}%"
            return f"{text} = {money.format_plain(ln.total_minor, cur)}"

        out = []
        for ch in self.lines:
            out.append({"kind": f"line {ch.change}", "item": ch.description, "from": line_text(ch.before),
                        "to": line_text(ch.after), "changed": ",".join(ch.fields)})
        for name, old, new in self.header:
            out.append({"kind": "field", "item": name, "from": "" if old is None else str(old),
                        "to": "" if new is None else str(new), "changed": name})
        for name in ("subtotal", "discount", "tax", "total"):
            old = getattr(self.before, f"{name}_minor")
            new = getattr(self.after, f"{name}_minor")
            if old != new:
                out.append({"kind": "total", "item": name, "from": money.format_plain(old, cur),
                            "to": money.format_plain(new, cur), "changed": name})
        return out


def _line_key(ln: PricedLine) -> str:
    return f"p:{ln.product_id}" if ln.product_id is not None else f"d:{ln.description.strip().lower()}"


def diff_revisions(*, session: Session, proposal_id: Any, from_revision: int, to_revision: int,
                   actor: Actor | None = None) -> Diff:
    """What changed between two revisions (NotFound if ``actor`` may not see the proposal)."""
    a = get_proposal(session=session, proposal_id=proposal_id, revision=from_revision, actor=actor)
    b = get_proposal(session=session, proposal_id=proposal_id, revision=to_revision, actor=actor)
    remaining: dict[str, list[PricedLine]] = {}
    for ln in a.pricing.lines:
        remaining.setdefault(_line_key(ln), []).append(ln)
    changes: list[LineChange] = []
    for ln in b.pricing.lines:
        olds = remaining.get(_line_key(ln))
        if not olds:
            changes.append(LineChange("added", ln.description, None, ln))
            continue
        old = olds.pop(0)
        diffs = tuple(name for name in ("description", "quantity_milli", "unit_price_minor", "discount_bp")
                      if getattr(old, name) != getattr(ln, name))
        if diffs:
            pretty = tuple({"quantity_milli": "quantity", "unit_price_minor": "unit_price",
                            "discount_bp": "discount"}.get(d, d) for d in diffs)
            changes.append(LineChange("changed", ln.description, old, ln, pretty))
    for olds in remaining.values():
        for old in olds:
            changes.append(LineChange("removed", old.description, old, None))
    header = []
    for name in ("valid_until", "terms", "notes"):
        if getattr(a, name) != getattr(b, name):
            header.append((name, getattr(a, name), getattr(b, name)))
    if a.pricing.tax_rate_bp != b.pricing.tax_rate_bp:
        header.append(("tax_rate", money.format_percent(a.pricing.tax_rate_bp) + "%",
                       money.format_percent(b.pricing.tax_rate_bp) + "%"))
    return Diff(number=a.number, currency=a.currency, from_revision=a.revision, to_revision=b.revision,
                before=a.pricing, after=b.pricing, lines=tuple(changes), header=tuple(header))


# ---------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateInfo:
    id: int
    name: str
    title: str | None
    valid_days: int
    tax_rate_bp: int
    lines: int


def list_templates(*, session: Session) -> list[TemplateInfo]:
    n = (select(TPL_LINES.c.template_id, func.count().label("n")).group_by(TPL_LINES.c.template_id).subquery())
    rows = session.execute(select(TPL, func.coalesce(n.c.n, 0).label("n"))
                           .select_from(TPL.outerjoin(n, n.c.template_id == TPL.c.id)).order_by(TPL.c.name)).all()
    return [TemplateInfo(id=r.id, name=r.name, title=r.title, valid_days=r.valid_days, tax_rate_bp=r.tax_rate_bp,
                         lines=r.n) for r in rows]


def create_template(*, session: Session, name: str, actor: str, lines: list[dict] | None = None,
                    currency: str = money.DEFAULT_CURRENCY, title: str | None = None, terms: str | None = None,
                    notes: str | None = None, valid_days: Any = DEFAULT_VALID_DAYS, tax_rate: Any = None,
                    from_proposal: Any = None) -> TemplateInfo:
    """A named set of lines, terms, validity and tax. Lines are dicts for ``clean_line``
    (a line with a product and no unit_price takes the product's price when used), or a
    proposal's current lines with ``from_proposal``."""
    clean_name = (name or "").strip()
    if not clean_name:
        raise ValidationError("name", name, "is required")
    if len(clean_name) > 100:
        raise ValidationError("name", clean_name[:40] + "…", "is longer than 100 characters")
    if session.execute(select(TPL.c.id).where(func.lower(TPL.c.name) == clean_name.lower())).scalar() is not None:
        raise ValidationError("name", clean_name, "is already a template")
    try:
        days = int(str(valid_days).strip())
    except ValueError:
        raise ValidationError("valid_days", valid_days, "is not a whole number of days") from None
    if not 0 < days <= 3650:
        raise ValidationError("valid_days", valid_days, "must be between 1 and 3650")
    tax_bp = clean_percent(tax_rate, "tax_rate")
    rows: list[dict] = []
    if from_proposal not in (None, ""):
        view = get_proposal(session=session, proposal_id=from_proposal)
        for ln in view.pricing.lines:
            rows.append({"product_id": ln.product_id, "description": ln.description,
                         "quantity_milli": ln.quantity_milli, "unit_price_minor": ln.unit_price_minor,
                         "discount_bp": ln.discount_bp})
        if tax_rate in (None, ""):
            tax_bp = view.pricing.tax_rate_bp
        terms = terms if terms is not None else view.terms
    for i, data in enumerate(lines or [], start=1):
        product_given = data.get("product") not in (None, "")
        price_given = data.get("unit_price") not in (None, "")
        try:
            line = clean_line(data, currency=currency, session=session) if (price_given or not product_given) else None
            if line is None:
                from crm_tui.services.quotes.products import find_product

                product = find_product(session=session, value=data["product"])
                rows.append({"product_id": product.id, "description": (data.get("description") or "").strip() or None,
                             "quantity_milli": clean_quantity(data.get("quantity") or "1"),
                             "unit_price_minor": None, "discount_bp": clean_percent(data.get("discount"), "discount")})
                continue
        except ValidationError as exc:
            raise ValidationError(f"line {i} {exc.field}", exc.value, exc.reason) from None
        rows.append({"product_id": line.product_id, "description": line.description,
                     "quantity_milli": line.quantity_milli,
                     "unit_price_minor": line.unit_price_minor if price_given or not product_given else None,
                     "discount_bp": line.discount_bp})
    now = utcnow()
    tid = session.execute(insert(TPL).values(
        name=clean_name, title=(title or "").strip() or None, terms=terms, notes=notes, valid_days=days,
        tax_rate_bp=tax_bp, created_at=now, updated_at=now, version=1).returning(TPL.c.id)).scalar_one()
    if rows:
        session.execute(insert(TPL_LINES), [{"template_id": tid, "position": i, **r} for i, r in enumerate(rows, 1)])
    records.record_changes(session, entity="proposal_template", record_id=tid, changes={"name": (None, clean_name)},
                           actor=actor, batch_id=records.new_batch_id(), when=now)
    return TemplateInfo(id=tid, name=clean_name, title=title, valid_days=days, tax_rate_bp=tax_bp, lines=len(rows))
