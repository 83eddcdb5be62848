"""The forecast: pipeline, weighted pipeline, won, quota and the ratios managers read.

- ``forecast`` is one grouped SQL query over ``opportunities`` (plus a small one
  for quotas). A deal counts in the period of its close date: ``actual_close``
  once closed, ``expected_close`` while open. The query is a UNION ALL of the two
  halves (closed by actual close date, open by expected close date), each a range
  scan of ``ix_opportunities_forecast``, which holds every column summed, so the
  table itself is never read. Stage facts (won, lost, forecast category) come in
  as literals from the small stages table, so there is no join either.
- Money stays integer minor units; weighted sums are kept raw (Σ amount ×
  probability) and rounded once, half-even. Ratios are ``Decimal``.
- ``weekly_changes`` reads the Change rows (stage and close-date changes) and
  the deals' creation dates, by ISO week.
- ``take_snapshot`` / ``compare_snapshot``: the open pipeline, deal by deal, then and now.
- ``set_quota`` / ``list_quotas``: quotas per user per month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, String, case, cast, func, insert, literal, select, union_all
from sqlalchemy import Date as SADate
from sqlmodel import Session

from crm_tui import money
from crm_tui.actor import Actor
from crm_tui.errors import NotFound, ValidationError
from crm_tui.services import records
from crm_tui.services.fields import FORECAST_CATEGORIES
from crm_tui.services.sales.stages import list_stages
from crm_tui.services.validate import parse_date
from crm_tui.store.models import (
    Change,
    ForecastSnapshot,
    ForecastSnapshotRow,
    Opportunity,
    Quota,
    User,
    utcnow,
)
from crm_tui.store.scope import scope

T = Opportunity.__table__
Q = Quota.__table__
U = User.__table__
C = Change.__table__
SS = ForecastSnapshot.__table__
SR = ForecastSnapshotRow.__table__

GROUPS = ("month", "quarter", "stage", "owner", "category")
# Groupings a quota can be read against: quotas are per user per month.
QUOTA_GROUPS = {"month", "quarter", "owner"}


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _ratio(num: int, den: int, places: int = 1, scale: int = 100) -> Decimal | None:
    """num/den × scale, rounded half-even to ``places``; None when den is 0."""
    if not den:
        return None
    q = Decimal(1).scaleb(-places)
    return (Decimal(num) * scale / Decimal(den)).quantize(q, rounding=ROUND_HALF_EVEN)


# ---------------------------------------------------------------- figures


@dataclass
class Metrics:
    """Raw integer sums for one group; every ratio is derived from them, so totals are exact."""

    open_count: int = 0
    open_minor: int = 0
    weighted_raw: int = 0  # Σ amount_minor × probability over open deals
    won_count: int = 0
    won_minor: int = 0
    lost_count: int = 0
    cycle_days: int = 0  # Σ days from creation to close over won deals with a close date
    cycle_count: int = 0
    quota_minor: int | None = None

    def add(self, other: "Metrics") -> None:
        for name in ("open_count", "open_minor", "weighted_raw", "won_count", "won_minor", "lost_count",
                     "cycle_days", "cycle_count"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.quota_minor is not None:
            self.quota_minor = (self.quota_minor or 0) + other.quota_minor

    @property
    def weighted_minor(self) -> int:
        return _round(Decimal(self.weighted_raw) / 100)

    @property
    def closed_count(self) -> int:
        return self.won_count + self.lost_count

    @property
    def win_rate(self) -> Decimal | None:
        """Won / (won + lost), in percent, one decimal."""
        return _ratio(self.won_count, self.closed_count)

    @property
    def avg_deal_minor(self) -> int | None:
        """Average won deal, minor units, rounded half-even."""
        return _round(Decimal(self.won_minor) / self.won_count) if self.won_count else None

    @property
    def avg_cycle_days(self) -> Decimal | None:
        """Average days from creation to close of won deals, one decimal."""
        return _ratio(self.cycle_days, self.cycle_count, scale=1)

    @property
    def attainment(self) -> Decimal | None:
        """Won / quota, in percent."""
        return _ratio(self.won_minor, self.quota_minor) if self.quota_minor else None

    @property
    def remaining_quota_minor(self) -> int | None:
        if self.quota_minor is None:
            return None
        return max(0, self.quota_minor - self.won_minor)

    @property
    def coverage(self) -> Decimal | None:
        """Open pipeline / remaining quota, as a multiple (3.0 = three times covered)."""
        remaining = self.remaining_quota_minor
        return _ratio(self.open_minor, remaining, places=2, scale=1) if remaining else None

    @property
    def velocity_minor(self) -> int | None:
        """Pipeline velocity, money per day: open deals × average deal × win rate / average cycle."""
        if not self.won_count or not self.closed_count or not self.cycle_days or not self.cycle_count:
            return None
        # open × (won$/won) × (won/closed) / (cycle_days/cycle_count), exact until the one rounding.
        num = Decimal(self.open_count) * self.won_minor * self.cycle_count
        den = Decimal(self.closed_count) * self.cycle_days
        return _round(num / den)


@dataclass
class ForecastRow:
    key: dict[str, str]  # group name -> label, e.g. {"month": "2026-11", "stage": "Proposal"}
    currency: str
    metrics: Metrics
    sort: tuple = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain values for output: money as decimal text, ratios as Decimal."""
        m, cur = self.metrics, self.currency

        def fm(value):
            return None if value is None else money.format_plain(value, cur)

        return {**self.key, "currency": cur, "open_count": m.open_count, "pipeline": fm(m.open_minor),
                "weighted": fm(m.weighted_minor), "won_count": m.won_count, "won": fm(m.won_minor),
                "lost_count": m.lost_count, "quota": fm(m.quota_minor), "attainment_pct": m.attainment,
                "coverage": m.coverage, "win_rate_pct": m.win_rate, "avg_deal": fm(m.avg_deal_minor),
                "avg_cycle_days": m.avg_cycle_days, "velocity_per_day": fm(m.velocity_minor)}


@dataclass
class Forecast:
    start: dt.date | None
    end: dt.date | None
    by: tuple[str, ...]
    rows: list[ForecastRow]
    totals: dict[str, Metrics] = field(default_factory=dict)  # currency -> all rows summed


def parse_by(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """"month,stage" -> ("month", "stage"); refuses unknown names."""
    if value is None:
        return ("month",)
    parts = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for part in parts:
        name = part.strip().lower()
        if name in ("forecast_category", "forecast category"):
            name = "category"
        if not name:
            continue
        if name not in GROUPS:
            raise ValidationError("by", part, f"is not a grouping; use any of: {', '.join(GROUPS)}")
        if name not in out:
            out.append(name)
    return tuple(out)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    return start, month_end(dt.date(day.year, first_month + 2, 1))


def quarter_label(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _period(session: Session, column, kind: str):
    if _dialect(session) == "postgresql":
        return func.to_char(column, "YYYY-MM" if kind == "month" else 'YYYY-"Q"Q')
    if kind == "month":
        return func.strftime("%Y-%m", column, type_=String)
    quarter = cast((cast(func.strftime("%m", column), Integer) + 2) // 3, String)
    return func.strftime("%Y", column, type_=String).concat("-Q").concat(quarter)


@dataclass(frozen=True)
class StageFacts:
    won: tuple[int, ...]
    lost: tuple[int, ...]
    names: dict[int, str]
    positions: dict[int, int]
    categories: dict[int, str]

    @property
    def closed(self) -> tuple[int, ...]:
        return self.won + self.lost


def stage_facts(session: Session) -> StageFacts:
    stages = list_stages(session=session)
    return StageFacts(won=tuple(s.id for s in stages if s.is_won), lost=tuple(s.id for s in stages if s.is_lost),
                      names={s.id: s.name for s in stages}, positions={s.id: s.position for s in stages},
                      categories={s.id: s.forecast_category for s in stages})


def _category_expr(facts: StageFacts, table=T):
    stage_cat = case({sid: cat for sid, cat in facts.categories.items()}, value=table.c.stage_id,
                     else_=literal("pipeline")) if facts.categories else literal("pipeline")
    return func.coalesce(table.c.forecast_category, stage_cat)


def owner_ids(session: Session, owners: list[str] | None, actor: Actor | None = None) -> list[int] | None:
    """The users' ids of ``owners`` (usernames; "me" is ``actor``)."""
    if not owners:
        return None
    out = []
    for o in owners:
        if records.is_me(o):
            if actor is None:
                raise ValidationError("owner", o, "needs the acting user; give a username")
            o = actor.username
        out.append(records.user_id(session, o, field_name="owner"))
    return out


def forecast(*, session: Session, start: dt.date | None = None, end: dt.date | None = None,
             by: str | tuple[str, ...] | None = ("month",), owners: list[str] | None = None,
             stage_facts_: StageFacts | None = None, actor: Actor | None = None) -> Forecast:
    """Figures per group for deals closing (or closed) between ``start`` and ``end``, inclusive,
    of the deals ``actor`` may see.

    ``owners`` (usernames) narrows to those owners' deals and quotas.
    """
    groups = parse_by(by) if not isinstance(by, tuple) else parse_by(list(by))
    if start and end and start > end:
        raise ValidationError("to", end.isoformat(), f"is before from {start.isoformat()}")
    facts = stage_facts_ or stage_facts(session)
    oids = owner_ids(session, owners, actor)

    # Inner query: each half streams its index in key order, grouped by (date, stage, currency[, owner,
    # category]) with plain sums, so nothing is sorted; outer query: periods and won/lost/open split
    # over those few thousand groups.
    extra = []
    if "owner" in groups or "category" in groups:
        extra.append(T.c.owner_id)
    if "category" in groups:
        extra.append(T.c.forecast_category)
    owner_clause = [T.c.owner_id.in_(oids)] if oids is not None else []
    pg = _dialect(session) == "postgresql"
    won_here = T.c.stage_id.in_(facts.won) if facts.won else literal(False)
    if pg:
        days = T.c.actual_close - cast(func.timezone("UTC", T.c.created_at), SADate)
    else:
        days = cast(func.julianday(T.c.actual_close) - func.julianday(func.date(T.c.created_at)), Integer)
    zero = literal(0, type_=BigInteger)

    def half(date_col, where, weighted, with_days):
        cols = [date_col.label("d"), T.c.stage_id.label("stage_id"), T.c.currency.label("currency"),
                *(c.label(c.name) for c in extra),
                func.count().label("n"), func.sum(T.c.amount_minor).label("amount"),
                (func.sum(T.c.amount_minor * T.c.probability) if weighted else zero).label("w"),
                (func.coalesce(func.sum(case((won_here, days))), 0) if with_days else zero).label("days")]
        return scope(select(*cols).where(*where, *owner_clause).group_by(date_col, T.c.stage_id, T.c.currency, *extra),
                     entity="opportunity", table=T, actor=actor)

    closed_where = [T.c.actual_close.is_not(None)]
    open_where = [T.c.actual_close.is_(None)]
    if start:
        closed_where.append(T.c.actual_close >= start)
        open_where.append(T.c.expected_close >= start)
    if end:
        closed_where.append(T.c.actual_close <= end)
        open_where.append(T.c.expected_close <= end)
    src = union_all(half(T.c.actual_close, closed_where, False, True),
                    half(T.c.expected_close, open_where, True, False)).subquery("deals")
    d = src.c

    keys = []
    for g in groups:
        if g in ("month", "quarter"):
            keys.append(_period(session, d.d, g).label(g))
        elif g == "stage":
            keys.append(d.stage_id.label(g))
        elif g == "owner":
            keys.append(d.owner_id.label(g))
        else:
            keys.append(_category_expr(facts, src).label(g))
    won = d.stage_id.in_(facts.won) if facts.won else literal(False)
    lost = d.stage_id.in_(facts.lost) if facts.lost else literal(False)
    is_open = d.stage_id.not_in(facts.closed) if facts.closed else literal(True)

    def total(cond, value):
        return func.coalesce(func.sum(case((cond, value), else_=0)), 0)

    stmt = (select(*keys, d.currency,
                   total(is_open, d.n), total(is_open, d.amount), total(is_open, d.w),
                   total(won, d.n), total(won, d.amount), total(lost, d.n),
                   total(won, d.days), total(won, d.n))
            .group_by(*keys, d.currency))
    rows: dict[tuple, ForecastRow] = {}
    users = _usernames(session)
    n = len(groups)
    for r in session.execute(stmt):
        raw_keys, currency = tuple(r[:n]), r[n]
        m = Metrics(*(int(v or 0) for v in r[n + 1:]))
        rows[(raw_keys, currency)] = ForecastRow(key={}, currency=currency, metrics=m)
        rows[(raw_keys, currency)].sort = raw_keys

    quota_oids = _quota_owner_ids(session, oids, actor)
    if set(groups) <= QUOTA_GROUPS:
        for (raw_keys, currency), amount in _quota_sums(session, groups, start, end, quota_oids).items():
            row = rows.get((raw_keys, currency))
            if row is None:
                row = rows[(raw_keys, currency)] = ForecastRow(key={}, currency=currency, metrics=Metrics())
                row.sort = raw_keys
            row.metrics.quota_minor = amount

    out = []
    for row in rows.values():
        labels, sort = {}, []
        for g, raw in zip(groups, row.sort):
            if g == "stage":
                labels[g] = facts.names.get(raw, str(raw))
                sort.append((facts.positions.get(raw, 999), labels[g]))
            elif g == "owner":
                labels[g] = users.get(raw, "(none)") if raw is not None else "(none)"
                sort.append((0, labels[g]))
            elif g == "category":
                labels[g] = raw or "pipeline"
                sort.append((FORECAST_CATEGORIES.index(labels[g]) if labels[g] in FORECAST_CATEGORIES else 99, ""))
            else:
                labels[g] = raw or "(no date)"
                sort.append((0, labels[g]))
        row.key = labels
        row.sort = (tuple(sort), row.currency)
        out.append(row)
    out.sort(key=lambda r: r.sort)

    totals: dict[str, Metrics] = {}
    for row in out:
        tot = totals.setdefault(row.currency, Metrics())
        tot.add(Metrics(**{**row.metrics.__dict__, "quota_minor": None}))
    # Quotas for the whole range, whatever the grouping.
    for (_k, currency), amount in _quota_sums(session, (), start, end, quota_oids).items():
        totals.setdefault(currency, Metrics()).quota_minor = amount
    return Forecast(start=start, end=end, by=groups, rows=out, totals=totals)


def _quota_owner_ids(session: Session, oids: list[int] | None, actor: Actor | None) -> list[int] | None:
    """Whose quotas stand beside the deals: the owners asked for; else those whose deals ``actor``'s role
    reads (a rep: their own; a manager: their team's; None: everyone's)."""
    if oids is not None or actor is None:
        return oids
    level = actor.read_level("opportunity")
    if level == "all":
        return None
    mine = [actor.user_id] if actor.user_id is not None else []
    if level == "team" and actor.team_id is not None:
        team = session.execute(select(U.c.id).where(U.c.team_id == actor.team_id)).scalars()
        return sorted(set(mine) | set(team))
    return mine if level in ("own", "team") else []


def _usernames(session: Session) -> dict[int, str]:
    return {r.id: r.username for r in session.execute(select(U.c.id, U.c.username))}


def _quota_sums(session: Session, groups: tuple[str, ...], start: dt.date | None, end: dt.date | None,
                oids: list[int] | None) -> dict[tuple, int]:
    stmt = select(Q.c.user_id, Q.c.month, Q.c.currency, Q.c.amount_minor)
    if start:
        stmt = stmt.where(Q.c.month >= month_start(start))
    if end:
        stmt = stmt.where(Q.c.month <= end)
    if oids is not None:
        stmt = stmt.where(Q.c.user_id.in_(oids))
    out: dict[tuple, int] = {}
    for user, month, currency, amount in session.execute(stmt):
        key = []
        for g in groups:
            key.append(f"{month:%Y-%m}" if g == "month" else quarter_label(month) if g == "quarter" else user)
        k = (tuple(key), currency)
        out[k] = out.get(k, 0) + int(amount)
    return out


# ---------------------------------------------------------------- quotas


def parse_month(value: Any) -> dt.date:
    """"2026-11", "2026-11-01" or a date -> the first day of that month."""
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value or "").strip()
    try:
        if len(text) == 7:
            return dt.date.fromisoformat(text + "-01")
        return parse_date(text, field_name="month").replace(day=1)
    except (ValueError, ValidationError):
        raise ValidationError("month", value, "is not a month: use YYYY-MM") from None


QUOTA_ROLES = ("admin", "manager")  # who may set quotas (while no admin exists: anyone, as for users)


def may_set_quotas(actor: Actor) -> bool:
    """Whether ``actor``'s role sets quotas (a manager or an admin)."""
    return actor.role in QUOTA_ROLES


def set_quota(*, session: Session, username: str, month: Any, amount: Any, currency: str | None = None,
              actor: Actor | None = None) -> dict:
    """Set (or replace) ``username``'s quota for ``month``. Returns the quota as a row.

    ``actor``: who sets it, a manager or an admin (None: internal callers and the CLI as today)."""
    if actor is not None and not may_set_quotas(actor):
        from crm_tui.services.users import has_admin

        if has_admin(session):
            raise ValidationError("user", actor.username,
                                  f"is a {actor.role} user: only a manager or an admin may set quotas")
    uid = records.user_id(session, username, field_name="user")
    first = parse_month(month)
    try:
        cur = money.normalize_currency(currency or money.DEFAULT_CURRENCY)
        minor = money.parse_amount(amount, cur)
    except money.OutOfRange as exc:
        raise ValidationError("amount", amount, f"must be between 0 and {exc.highest}") from None
    except money.MoneyError as exc:
        raise ValidationError("amount", amount, str(exc)) from None
    if minor < 0:
        raise ValidationError("amount", amount, "must not be negative")
    existing = session.execute(select(Quota).where(Quota.user_id == uid, Quota.month == first)).scalar()
    if existing is None:
        existing = Quota(user_id=uid, month=first, amount_minor=minor, currency=cur)
        session.add(existing)
    else:
        existing.amount_minor, existing.currency = minor, cur
    session.flush()
    return {"user": username, "month": f"{first:%Y-%m}", "amount": money.format_plain(minor, cur), "currency": cur}


QUOTA_KEYS = ("user", "month", "amount", "currency")  # the keys of list_quotas' rows


def list_quotas(*, session: Session, username: str | None = None, start: dt.date | None = None,
                end: dt.date | None = None) -> list[dict]:
    stmt = (select(U.c.username, Q.c.month, Q.c.amount_minor, Q.c.currency)
            .join(U, U.c.id == Q.c.user_id).order_by(Q.c.month, U.c.username))
    if username:
        stmt = stmt.where(Q.c.user_id == records.user_id(session, username, field_name="user"))
    if start:
        stmt = stmt.where(Q.c.month >= month_start(start))
    if end:
        stmt = stmt.where(Q.c.month <= end)
    return [{"user": r.username, "month": f"{r.month:%Y-%m}", "amount": money.format_plain(r.amount_minor, r.currency),
             "currency": r.currency} for r in session.execute(stmt)]


# ---------------------------------------------------------------- weekly changes


CHANGE_KINDS = ("created", "advanced", "moved back", "slipped", "pulled in", "won", "lost")


@dataclass
class WeekChanges:
    week: dt.date  # the Monday
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in CHANGE_KINDS})
    amounts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in CHANGE_KINDS})  # minor units

    def add(self, kind: str, amount: int) -> None:
        self.counts[kind] += 1
        self.amounts[kind] += amount


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _utc_day(session: Session, column):
    if _dialect(session) == "postgresql":
        return cast(func.timezone("UTC", column), SADate)
    return func.date(column)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def weekly_changes(*, session: Session, start: dt.date, end: dt.date,
                   owners: list[str] | None = None, actor: Actor | None = None) -> list[WeekChanges]:
    """Per ISO week (Monday first) from ``start`` to ``end``: deals created, advanced, moved back,
    slipped (expected close pushed later), pulled in, won and lost, with their current amounts.

    Amounts are in each deal's own currency summed as minor units (the demo and most teams use one).
    """
    facts = stage_facts(session)
    oids = owner_ids(session, owners, actor)
    weeks: dict[dt.date, WeekChanges] = {}
    day = week_start(start)
    while day <= end:
        weeks[day] = WeekChanges(week=day)
        day += dt.timedelta(days=7)
    lo = dt.datetime.combine(week_start(start), dt.time(), tzinfo=dt.timezone.utc)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)

    created_day = _utc_day(session, T.c.created_at).label("day")
    stmt = select(created_day, func.count(), func.coalesce(func.sum(T.c.amount_minor), 0)).where(
        T.c.created_at >= lo, T.c.created_at < hi)
    if oids is not None:
        stmt = stmt.where(T.c.owner_id.in_(oids))
    stmt = scope(stmt, entity="opportunity", table=T, actor=actor)
    for d, count, amount in session.execute(stmt.group_by(created_day)):
        wk = weeks.get(week_start(_as_date(d)))
        if wk is not None:
            wk.counts["created"] += int(count)
            wk.amounts["created"] += int(amount)

    stmt = (select(C.c.field, C.c.old_value, C.c.new_value, C.c.changed_at, T.c.amount_minor)
            .join(T, T.c.id == C.c.record_id)
            .where(C.c.entity == "opportunity", C.c.field.in_(("stage_id", "expected_close")),
                   C.c.changed_at >= lo, C.c.changed_at < hi))
    if oids is not None:
        stmt = stmt.where(T.c.owner_id.in_(oids))
    stmt = scope(stmt, entity="opportunity", table=T, actor=actor)
    for fld, old, new, when, amount in session.execute(stmt):
        wk = weeks.get(week_start(_as_date(when)))
        if wk is None:
            continue
        kind = _classify(fld, old, new, facts)
        if kind:
            wk.add(kind, int(amount))
    return [weeks[k] for k in sorted(weeks)]


def _classify(fld: str, old: str | None, new: str | None, facts: StageFacts) -> str | None:
    if fld == "stage_id":
        try:
            new_id = int(new) if new is not None else None
            old_id = int(old) if old is not None else None
        except ValueError:
            return None
        if new_id in facts.won:
            return "won"
        if new_id in facts.lost:
            return "lost"
        if old_id is None or new_id is None:
            return None
        if old_id in facts.closed:
            return "advanced"  # reopened: back into the pipeline counts as moving forward again
        return "advanced" if facts.positions.get(new_id, 0) > facts.positions.get(old_id, 0) else "moved back"
    if fld == "expected_close":
        if not old or not new:
            return None
        if new > old:  # ISO dates compare as text
            return "slipped"
        if new < old:
            return "pulled in"
    return None


# ---------------------------------------------------------------- snapshots


def take_snapshot(*, session: Session, actor: str, name: str | None = None) -> dict:
    """Store every open deal as it stands now (one INSERT ... SELECT). Returns the snapshot as a row."""
    facts = stage_facts(session)
    last_id = session.execute(select(func.max(T.c.id))).scalar() or 0
    snap = ForecastSnapshot(name=(name or "").strip() or None, actor=actor, taken_at=utcnow(),
                            last_opportunity_id=last_id)
    session.add(snap)
    session.flush()
    open_deals = T.c.stage_id.not_in(facts.closed) if facts.closed else literal(True)
    session.execute(insert(SR).from_select(
        ["snapshot_id", "opportunity_id", "name", "owner_id", "stage_id", "probability", "amount_minor", "currency",
         "expected_close", "forecast_category"],
        select(literal(snap.id), T.c.id, T.c.name, T.c.owner_id, T.c.stage_id, T.c.probability, T.c.amount_minor,
               T.c.currency, T.c.expected_close, _category_expr(facts)).where(open_deals)))
    count = session.execute(select(func.count()).select_from(SR).where(SR.c.snapshot_id == snap.id)).scalar_one()
    snap.opportunities = int(count)
    session.flush()
    return _snapshot_row(snap)


def _snapshot_row(s) -> dict:
    return {"id": s.id, "name": s.name, "taken_at": s.taken_at, "actor": s.actor, "opportunities": s.opportunities}


def list_snapshots(*, session: Session) -> list[dict]:
    return [_snapshot_row(s) for s in session.execute(select(ForecastSnapshot).order_by(SS.c.id)).scalars()]


COMPARE_KINDS = ("won", "lost", "slipped", "pulled in", "advanced", "moved back", "amount changed", "deleted",
                 "unchanged", "new")


@dataclass
class Comparison:
    snapshot: dict
    items: list[dict]  # one per deal that was in the snapshot or is new since
    counts: dict[str, int]
    amounts: dict[str, int]
    weighted_then_raw: int
    weighted_now_raw: int

    @property
    def weighted_then_minor(self) -> int:
        return _round(Decimal(self.weighted_then_raw) / 100)

    @property
    def weighted_now_minor(self) -> int:
        return _round(Decimal(self.weighted_now_raw) / 100)


def compare_snapshot(*, session: Session, snapshot_id: int, owners: list[str] | None = None,
                     actor: Actor | None = None) -> Comparison:
    """What happened since a snapshot to each deal that was open then, and which deals are new
    (of the deals ``actor`` may see: the snapshot's rows are scoped as opportunities, by their owner then).

    A deal falls in the first kind that applies: won, lost, slipped (closes later), pulled in,
    advanced / moved back (stage), amount changed, deleted, unchanged.
    """
    snap = session.get(ForecastSnapshot, snapshot_id)
    if snap is None:
        raise NotFound("snapshot", snapshot_id)
    facts = stage_facts(session)
    oids = owner_ids(session, owners, actor)
    stmt = (select(SR.c.opportunity_id, SR.c.name, SR.c.stage_id.label("then_stage"),
                   SR.c.amount_minor.label("then_amount"), SR.c.probability.label("then_probability"),
                   SR.c.expected_close.label("then_close"), SR.c.currency,
                   T.c.id.label("now_id"), T.c.stage_id.label("now_stage"), T.c.amount_minor.label("now_amount"),
                   T.c.probability.label("now_probability"), T.c.expected_close.label("now_close"))
            .select_from(SR.outerjoin(T, T.c.id == SR.c.opportunity_id))
            .where(SR.c.snapshot_id == snapshot_id).order_by(SR.c.opportunity_id))
    if oids is not None:
        stmt = stmt.where(SR.c.owner_id.in_(oids))
    stmt = scope(stmt, entity="opportunity", table=SR, actor=actor)
    counts = {k: 0 for k in COMPARE_KINDS}
    amounts = {k: 0 for k in COMPARE_KINDS}
    items = []
    then_raw = now_raw = 0
    for r in session.execute(stmt):
        then_raw += r.then_amount * r.then_probability
        if r.now_id is None:
            kind = "deleted"
        else:
            if r.now_stage not in facts.closed:
                now_raw += r.now_amount * r.now_probability
            if r.now_stage in facts.won:
                kind = "won"
            elif r.now_stage in facts.lost:
                kind = "lost"
            elif r.then_close and r.now_close and r.now_close > r.then_close:
                kind = "slipped"
            elif r.then_close and r.now_close and r.now_close < r.then_close:
                kind = "pulled in"
            elif r.now_stage != r.then_stage:
                kind = ("advanced" if facts.positions.get(r.now_stage, 0) > facts.positions.get(r.then_stage, 0)
                        else "moved back")
            elif r.now_amount != r.then_amount:
                kind = "amount changed"
            else:
                kind = "unchanged"
        amount = r.now_amount if r.now_id is not None else r.then_amount
        counts[kind] += 1
        amounts[kind] += amount
        if kind != "unchanged":
            items.append({"id": r.opportunity_id, "name": r.name, "change": kind,
                          "stage_then": facts.names.get(r.then_stage), "stage_now": facts.names.get(r.now_stage),
                          "close_then": r.then_close, "close_now": r.now_close,
                          "amount_then": money.format_plain(r.then_amount, r.currency),
                          "amount_now": money.format_plain(r.now_amount, r.currency) if r.now_id else None,
                          "currency": r.currency})
    new_stmt = (select(T.c.id, T.c.name, T.c.stage_id, T.c.amount_minor, T.c.probability, T.c.expected_close,
                       T.c.currency)
                .where(T.c.id > snap.last_opportunity_id)
                .order_by(T.c.id))
    if oids is not None:
        new_stmt = new_stmt.where(T.c.owner_id.in_(oids))
    new_stmt = scope(new_stmt, entity="opportunity", table=T, actor=actor)
    for r in session.execute(new_stmt):
        counts["new"] += 1
        amounts["new"] += r.amount_minor
        if r.stage_id not in facts.closed:
            now_raw += r.amount_minor * r.probability
        items.append({"id": r.id, "name": r.name, "change": "new", "stage_then": None,
                      "stage_now": facts.names.get(r.stage_id), "close_then": None, "close_now": r.expected_close,
                      "amount_then": None, "amount_now": money.format_plain(r.amount_minor, r.currency),
                      "currency": r.currency})
    return Comparison(snapshot=_snapshot_row(snap), items=items, counts=counts, amounts=amounts,
                      weighted_then_raw=then_raw, weighted_now_raw=now_raw)
