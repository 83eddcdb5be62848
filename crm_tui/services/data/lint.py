"""Data-quality checks (`crm lint`, the daily summary): what is about to slip through the cracks.

Each check is one SQL query over open opportunities (or accounts and contacts for duplicates) and
returns findings as plain rows: kind, entity, id, name, owner, detail. Duplicate accounts are grouped
in SQL on names normalised as lead conversion does (case, punctuation, legal suffixes; accents are the
one thing SQL leaves as they are) and on website domains; ``limit`` caps every check in SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session

from crm_tui import formatting
from crm_tui.actor import Actor
from crm_tui.services import records
from crm_tui.store.models import Account, Activity, Contact, Opportunity, Stage, User
from crm_tui.store.scope import scope

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
         limit: int | None = None, actor: Actor | None = None) -> list[Finding]:
    """Every finding on the records ``actor`` may see, check by check, each check ordered by id;
    ``limit`` caps each check."""
    today = today or dt.date.today()
    if owner and records.is_me(owner):
        if actor is None:
            from crm_tui.errors import ValidationError

            raise ValidationError("owner", owner, "needs the acting user; give a username")
        owner = actor.username
    oid = records.user_id(session, owner) if owner else None
    own = U.alias("lint_owner")
    base = (select(T.c.id, T.c.name, own.c.username, T.c.expected_close, T.c.next_step, T.c.probability,
                   T.c.probability_manual, S.c.name.label("stage"), S.c.probability.label("stage_probability"),
                   S.c.is_won, S.c.is_lost)
            .select_from(T.join(S, S.c.id == T.c.stage_id).outerjoin(own, own.c.id == T.c.owner_id)))
    is_open = and_(S.c.is_won.is_(False), S.c.is_lost.is_(False))
    if oid is not None:
        base = base.where(T.c.owner_id == oid)
    base = scope(base, entity="opportunity", table=T, actor=actor)
    out: list[Finding] = []

    def run(kind, stmt, detail):
        stmt = stmt.order_by(T.c.id)
        if limit:
            stmt = stmt.limit(limit)
        for r in session.execute(stmt):
            out.append(Finding(kind, "opportunity", r.id, r.name, r.username, detail(r)))

    run("no close date", base.where(is_open, T.c.expected_close.is_(None)), lambda r: f"open in {r.stage}")
    run("close date passed", base.where(is_open, T.c.expected_close < today),
        lambda r: f"expected {formatting.day(r.expected_close, today=today)}, {(today - r.expected_close).days} days ago")
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
    out.extend(_duplicate_accounts(session, oid, limit, actor))
    out.extend(_duplicate_contacts(session, oid, limit, actor))
    return out


# Punctuation that normalize_company turns into word breaks (``&`` becomes "and"; ``'`` and ``.`` vanish).
# Only the common ones: each is one more function call per account.
_SQL_DROPPED = ("'", "’", ".")
_SQL_SPACED = (",", "-", "/", "(", ")")


def _name_key(column):
    """``normalize_company``'s first steps in SQL: lower case, punctuation dropped or spaced, spaces collapsed."""
    key = func.lower(column)
    for ch in _SQL_DROPPED:
        key = func.replace(key, ch, "")
    key = func.replace(key, "&", " and ")
    for ch in _SQL_SPACED:
        key = func.replace(key, ch, " ")
    for _ in range(2):
        key = func.replace(key, "  ", " ")
    return func.trim(key)


def _materialized(stmt, name: str):
    # Each step its own materialized CTE: SQLite would otherwise inline the steps into one
    # expression, repeating the earlier steps' work (and nesting deeper than its parser allows).
    return stmt.cte(name).prefix_with("MATERIALIZED")


def _tail(dialect: str, expr, n: int):
    return func.substr(expr, -n) if dialect == "sqlite" else func.right(expr, n)


def _drop_suffix(dialect: str, key, suffixes):
    """``key`` without its last word when that word is a legal suffix (another word always stays:
    the key is trimmed, so a space before the suffix means a word before it). One IN test per
    suffix length rather than one test per suffix."""
    from sqlalchemy import case

    by_length: dict[int, list[str]] = {}
    for word in suffixes:
        by_length.setdefault(len(word) + 1, []).append(f" {word}")
    whens = [(_tail(dialect, key, n).in_(sorted(words)), func.substr(key, 1, func.length(key) - n))
             for n, words in sorted(by_length.items())]
    return case(*whens, else_=key)


def _name_keys(dialect: str):
    """(id, k) for every account: normalize_company in SQL, up to two trailing legal suffixes and
    a leading "the" off."""
    from sqlalchemy import case

    from crm_tui.services.sales.leads import LEGAL_SUFFIXES

    suffixes = sorted(LEGAL_SUFFIXES)
    step = _materialized(select(ACC.c.id, _name_key(ACC.c.name).label("k")).where(ACC.c.name.is_not(None)),
                         "dup_name_0")
    for level in (1, 2):
        step = _materialized(select(step.c.id, _drop_suffix(dialect, step.c.k, suffixes).label("k")),
                             f"dup_name_{level}")
    the = case((and_(func.substr(step.c.k, 1, 4) == "the ", func.length(step.c.k) > 4), func.substr(step.c.k, 5)),
               else_=step.c.k)
    return _materialized(select(step.c.id, the.label("k")), "dup_name")


def _domain_keys(dialect: str):
    """(id, k) for every account with a website: ``website_domain`` in SQL (lower case, scheme and
    "www." off, cut at the first / ? or #; a user@ or :port is kept)."""
    from sqlalchemy import case

    key = func.lower(func.trim(ACC.c.website))
    for old, new in (("https://", ""), ("http://", ""), ("?", "/"), ("#", "/")):
        key = func.replace(key, old, new)
    step1 = _materialized(select(ACC.c.id, key.label("k"))
                          .where(ACC.c.website.is_not(None), func.trim(ACC.c.website) != ""), "dup_site_1")
    bare = case((func.substr(step1.c.k, 1, 4) == "www.", func.substr(step1.c.k, 5)), else_=step1.c.k)
    step2 = _materialized(select(step1.c.id, bare.label("k")), "dup_site_2")
    find = func.instr if dialect == "sqlite" else func.strpos
    return _materialized(select(step2.c.id, func.substr(step2.c.k, 1, find(step2.c.k + "/", "/") - 1).label("k")),
                         "dup_site")


def _duplicate_accounts(session: Session, oid: int | None, limit: int | None,
                        actor: Actor | None = None) -> list[Finding]:
    """Accounts whose normalised name or website domain equals an older account's, found with
    GROUP BY in SQL (no row-by-row Python), each kind capped at ``limit`` in SQL.

    The name key is ``normalize_company`` done in SQL: case, common punctuation, "&", up to two
    trailing legal suffixes and a leading "the". Where it differs from the Python function: accents
    are compared as they are (Müller and Muller differ), on SQLite only ASCII letters are case-folded,
    and rarer punctuation (; : ! ?) is kept."""
    dialect = session.get_bind().dialect.name
    by_name = _name_keys(dialect)
    by_site = _domain_keys(dialect)
    out: list[Finding] = []
    seen: set[int] = set()
    for how, keyed in (("name", by_name), ("website", by_site)):
        groups = _materialized(select(keyed.c.k, func.min(keyed.c.id).label("first_id"))
                               .where(keyed.c.k != "").group_by(keyed.c.k).having(func.count() > 1),
                               f"dup_groups_{how}")
        first = ACC.alias(f"dup_first_{how}")
        own = U.alias(f"dup_owner_{how}")
        stmt = (select(ACC.c.id, ACC.c.name, own.c.username, first.c.id.label("first_id"),
                       first.c.name.label("first_name"), groups.c.k)
                .select_from(keyed.join(groups, groups.c.k == keyed.c.k)
                             .join(ACC, ACC.c.id == keyed.c.id)
                             .join(first, first.c.id == groups.c.first_id)
                             .outerjoin(own, own.c.id == ACC.c.owner_id))
                .where(ACC.c.id != groups.c.first_id).order_by(ACC.c.id))
        if oid is not None:
            stmt = stmt.where(or_(ACC.c.owner_id == oid, first.c.owner_id == oid))
        stmt = scope(stmt, entity="account", table=ACC, actor=actor)
        if limit:
            stmt = stmt.limit(limit + len(seen))
        for r in session.execute(stmt):
            if r.id in seen:
                continue
            seen.add(r.id)
            what = f"same name as account {r.first_id} ({r.first_name})" if how == "name" else \
                f"same website {r.k} as account {r.first_id} ({r.first_name})"
            out.append(Finding("duplicate account", "account", r.id, r.name, r.username, what))
    out.sort(key=lambda f: f.id)
    return out[:limit] if limit else out


def _duplicate_contacts(session: Session, oid: int | None, limit: int | None,
                        actor: Actor | None = None) -> list[Finding]:
    email = func.lower(func.trim(CON.c.email))
    grouped = (select(email.label("email"), func.min(CON.c.id).label("first_id"))
               .where(CON.c.email.is_not(None), func.trim(CON.c.email) != ""))
    if oid is not None:  # only the emails this owner's contacts have: far fewer groups to build
        mine = CON.alias("dup_mine")
        grouped = grouped.where(email.in_(select(func.lower(func.trim(mine.c.email)))
                                          .where(mine.c.owner_id == oid, mine.c.email.is_not(None))))
    dup_emails = grouped.group_by(email).having(func.count() > 1).subquery()
    own = U.alias("dup_owner")
    stmt = (select(CON.c.id, CON.c.first_name, CON.c.last_name, own.c.username, dup_emails.c.email,
                   dup_emails.c.first_id)
            .select_from(CON.join(dup_emails, dup_emails.c.email == email).outerjoin(own, own.c.id == CON.c.owner_id))
            .where(CON.c.id != dup_emails.c.first_id).order_by(CON.c.id))
    if oid is not None:
        stmt = stmt.where(CON.c.owner_id == oid)
    stmt = scope(stmt, entity="contact", table=CON, actor=actor)
    out = [Finding("duplicate contact", "contact", r.id, f"{r.first_name} {r.last_name}".strip(), r.username,
                   f"same email {r.email} as contact {r.first_id}") for r in session.execute(stmt)]
    # Same person twice at one account: same first and last name, no email to tell them apart.
    first_name, last_name = func.lower(CON.c.first_name), func.lower(CON.c.last_name)
    named = CON.c.account_id.is_not(None)
    if oid is not None:  # only the accounts where this owner has contacts
        mine = CON.alias("dup_mine_at")
        named = and_(named, CON.c.account_id.in_(select(mine.c.account_id).where(mine.c.owner_id == oid)))
    same_name = (select(CON.c.account_id, first_name.label("f"), last_name.label("l"),
                        func.min(CON.c.id).label("first_id"))
                 .where(named)
                 .group_by(CON.c.account_id, first_name, last_name).having(func.count() > 1).subquery())
    stmt = (select(CON.c.id, CON.c.first_name, CON.c.last_name, own.c.username, same_name.c.first_id)
            .select_from(CON.join(same_name, and_(same_name.c.account_id == CON.c.account_id,
                                                  same_name.c.f == first_name, same_name.c.l == last_name))
                         .outerjoin(own, own.c.id == CON.c.owner_id))
            .where(CON.c.id != same_name.c.first_id).order_by(CON.c.id))
    if oid is not None:
        stmt = stmt.where(CON.c.owner_id == oid)
    stmt = scope(stmt, entity="contact", table=CON, actor=actor)
    ids = {f.id for f in out}
    for r in session.execute(stmt):
        if r.id not in ids:
            out.append(Finding("duplicate contact", "contact", r.id, f"{r.first_name} {r.last_name}".strip(),
                               r.username, f"same name at the same account as contact {r.first_id}"))
    out.sort(key=lambda f: f.id)
    return out[:limit] if limit else out
