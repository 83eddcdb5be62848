"""Data-quality checks (`crm lint`, the daily summary): what is about to slip through the cracks.

Each check is one SQL query over open opportunities (or accounts and contacts for duplicates) and
returns findings as plain rows: kind, entity, id, name, owner, detail. Duplicate accounts compare
names normalised the same way lead conversion does (case, accents, punctuation, legal suffixes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session

from crm_tui.services import records
from crm_tui.store.models import Account, Activity, Contact, Opportunity, Stage, User

T = Opportunity.__table__
S = Stage.__table__
A = Activity.__table__
ACC = Account.__table__
CON = Contact.__table__
U = User.__table__

CHECKS = ("no close date", "close date passed", "no next step", "no recent activity", "probability vs stage",
          "duplicate account", "duplicate contact")
# A hand-set probability this far from its stage's is treated as a mistake, not a judgement.
PROBABILITY_TOLERANCE = 40


@dataclass(frozen=True)
class Finding:
    kind: str
    entity: str
    id: int
    name: str
    owner: str | None
    detail: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "entity": self.entity, "id": self.id, "name": self.name, "owner": self.owner,
                "detail": self.detail}


def lint(*, session: Session, owner: str | None = None, inactive_days: int = 14, today: dt.date | None = None,
         limit: int | None = None) -> list[Finding]:
    """Every finding, check by check, each check ordered by id; ``limit`` caps each check."""
    today = today or dt.date.today()
    oid = records.user_id(session, owner) if owner else None
    own = U.alias("lint_owner")
    base = (select(T.c.id, T.c.name, own.c.username, T.c.expected_close, T.c.next_step, T.c.probability,
                   T.c.probability_manual, S.c.name.label("stage"), S.c.probability.label("stage_probability"),
                   S.c.is_won, S.c.is_lost)
            .select_from(T.join(S, S.c.id == T.c.stage_id).outerjoin(own, own.c.id == T.c.owner_id)))
    is_open = and_(S.c.is_won.is_(False), S.c.is_lost.is_(False))
    if oid is not None:
        base = base.where(T.c.owner_id == oid)
    out: list[Finding] = []

    def run(kind, stmt, detail):
        stmt = stmt.order_by(T.c.id)
        if limit:
            stmt = stmt.limit(limit)
        for r in session.execute(stmt):
            out.append(Finding(kind, "opportunity", r.id, r.name, r.username, detail(r)))

    run("no close date", base.where(is_open, T.c.expected_close.is_(None)), lambda r: f"open in {r.stage}")
    run("close date passed", base.where(is_open, T.c.expected_close < today),
        lambda r: f"expected {r.expected_close.isoformat()}, {(today - r.expected_close).days} days ago")
    run("no next step", base.where(is_open, func.coalesce(func.trim(T.c.next_step), "") == ""),
        lambda r: f"open in {r.stage}")
    cutoff = dt.datetime.combine(today - dt.timedelta(days=inactive_days), dt.time(), tzinfo=dt.timezone.utc)
    recent = exists().where(A.c.opportunity_id == T.c.id, A.c.type != "system", A.c.occurred_at >= cutoff)
    run("no recent activity", base.where(is_open, T.c.created_at < cutoff, ~recent),
        lambda r: f"no call, meeting, email or note in {inactive_days} days")
    inconsistent = or_(
        and_(S.c.is_won.is_(True), T.c.probability != 100),
        and_(S.c.is_lost.is_(True), T.c.probability != 0),
        and_(is_open, T.c.probability_manual.is_(False), T.c.probability != S.c.probability),
        and_(is_open, T.c.probability_manual.is_(True),
             func.abs(T.c.probability - S.c.probability) > PROBABILITY_TOLERANCE),
    )
    run("probability vs stage", base.where(inconsistent),
        lambda r: f"{r.probability}% in {r.stage} ({r.stage_probability}%)")
    out.extend(_duplicate_accounts(session, oid, limit))
    out.extend(_duplicate_contacts(session, oid, limit))
    return out


def _duplicate_accounts(session: Session, oid: int | None, limit: int | None) -> list[Finding]:
    from crm_tui.services.leads import normalize_company, website_domain

    own = U.alias("dup_owner")
    stmt = (select(ACC.c.id, ACC.c.name, ACC.c.website, ACC.c.owner_id, own.c.username)
            .select_from(ACC.outerjoin(own, own.c.id == ACC.c.owner_id)).order_by(ACC.c.id))
    groups: dict[tuple[str, str], list] = {}
    for r in session.execute(stmt.execution_options(yield_per=5000)):
        key = normalize_company(r.name)
        if key:
            groups.setdefault(("name", key), []).append(r)
        domain = website_domain(r.website)
        if domain:
            groups.setdefault(("website", domain), []).append(r)
    out: list[Finding] = []
    seen: set[int] = set()
    for (how, key), rows in groups.items():
        if len(rows) < 2:
            continue
        first = rows[0]
        for r in rows[1:]:
            if r.id in seen or (oid is not None and oid not in (r.owner_id, first.owner_id)):
                continue
            seen.add(r.id)
            what = f"same name as account {first.id} ({first.name})" if how == "name" else \
                f"same website {key} as account {first.id} ({first.name})"
            out.append(Finding("duplicate account", "account", r.id, r.name, r.username, what))
    out.sort(key=lambda f: f.id)
    return out[:limit] if limit else out


def _duplicate_contacts(session: Session, oid: int | None, limit: int | None) -> list[Finding]:
    email = func.lower(func.trim(CON.c.email))
    dup_emails = (select(email.label("email"), func.min(CON.c.id).label("first_id"))
                  .where(CON.c.email.is_not(None), func.trim(CON.c.email) != "")
                  .group_by(email).having(func.count() > 1).subquery())
    own = U.alias("dup_owner")
    stmt = (select(CON.c.id, CON.c.first_name, CON.c.last_name, own.c.username, dup_emails.c.email,
                   dup_emails.c.first_id)
            .select_from(CON.join(dup_emails, dup_emails.c.email == email).outerjoin(own, own.c.id == CON.c.owner_id))
            .where(CON.c.id != dup_emails.c.first_id).order_by(CON.c.id))
    if oid is not None:
        stmt = stmt.where(CON.c.owner_id == oid)
    out = [Finding("duplicate contact", "contact", r.id, f"{r.first_name} {r.last_name}".strip(), r.username,
                   f"same email {r.email} as contact {r.first_id}") for r in session.execute(stmt)]
    # Same person twice at one account: same first and last name, no email to tell them apart.
    first_name, last_name = func.lower(CON.c.first_name), func.lower(CON.c.last_name)
    same_name = (select(CON.c.account_id, first_name.label("f"), last_name.label("l"),
                        func.min(CON.c.id).label("first_id"))
                 .where(CON.c.account_id.is_not(None))
                 .group_by(CON.c.account_id, first_name, last_name).having(func.count() > 1).subquery())
    stmt = (select(CON.c.id, CON.c.first_name, CON.c.last_name, own.c.username, same_name.c.first_id)
            .select_from(CON.join(same_name, and_(same_name.c.account_id == CON.c.account_id,
                                                  same_name.c.f == first_name, same_name.c.l == last_name))
                         .outerjoin(own, own.c.id == CON.c.owner_id))
            .where(CON.c.id != same_name.c.first_id).order_by(CON.c.id))
    if oid is not None:
        stmt = stmt.where(CON.c.owner_id == oid)
    ids = {f.id for f in out}
    for r in session.execute(stmt):
        if r.id not in ids:
            out.append(Finding("duplicate contact", "contact", r.id, f"{r.first_name} {r.last_name}".strip(),
                               r.username, f"same name at the same account as contact {r.first_id}"))
    out.sort(key=lambda f: f.id)
    return out[:limit] if limit else out
