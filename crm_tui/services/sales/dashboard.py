"""The dashboard: one user's morning, as plain data.

``targets`` (this month and quarter: pipeline, weighted forecast, won, quota) runs the forecast
query narrowed to the user; ``lists`` reads the short lists: deals closing this week, leads assigned
since yesterday, tasks and lead follow-ups due, stalled deals. The UI loads each in its own worker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, or_, select
from sqlmodel import Session

from crm_tui import money
from crm_tui.actor import Actor
from crm_tui.services.sales import forecast
from crm_tui.settings import DEFAULT_STALLED_DAYS
from crm_tui.store.models import Account, Activity, Change, Lead, Opportunity, Stage
from crm_tui.store.scope import scope

T = Opportunity.__table__
S = Stage.__table__
A = Activity.__table__
L = Lead.__table__
C = Change.__table__
ACC = Account.__table__
LIST_LIMIT = 50


@dataclass(frozen=True)
class Target:
    label: str  # "November 2026" / "Q4 2026"
    start: dt.date
    end: dt.date
    currency: str
    pipeline_minor: int
    weighted_minor: int
    won_minor: int
    quota_minor: int | None

    @property
    def attainment(self):
        return forecast._ratio(self.won_minor, self.quota_minor) if self.quota_minor else None

    @property
    def forecast_minor(self) -> int:
        """Won so far plus the weighted open pipeline: where the period is heading."""
        return self.won_minor + self.weighted_minor

    def money(self, minor: int | None) -> str:
        return "—" if minor is None else money.format_money(minor, self.currency)


def targets(*, session: Session, actor: Actor, today: dt.date | None = None) -> tuple[Target, Target]:
    """This month's and this quarter's figures for ``actor`` (all zero if not a user yet)."""
    from crm_tui.services.users import actor_user_id

    today = today or dt.date.today()
    m0, m1 = forecast.month_start(today), forecast.month_end(today)
    q0, q1 = forecast.quarter_bounds(today)
    known = actor_user_id(session, actor) is not None
    out = []
    quarter = f"Q{(today.month - 1) // 3 + 1} {today.year}"  # as people say it (the forecast's key is 2026-Q4)
    for label, a, b in ((f"{today:%B %Y}", m0, m1), (quarter, q0, q1)):
        if known:
            result = forecast.forecast(session=session, start=a, end=b, by=(), owners=[actor.username], actor=actor)
            cur = max(result.totals, key=lambda c: result.totals[c].open_count + result.totals[c].won_count,
                      default=money.DEFAULT_CURRENCY)
            tot = result.totals.get(cur, forecast.Metrics())
        else:
            cur, tot = money.DEFAULT_CURRENCY, forecast.Metrics()
        out.append(Target(label=label, start=a, end=b, currency=cur, pipeline_minor=tot.open_minor,
                          weighted_minor=tot.weighted_minor, won_minor=tot.won_minor, quota_minor=tot.quota_minor))
    return out[0], out[1]


@dataclass
class Lists:
    closing: list[dict] = field(default_factory=list)  # my open deals expected to close this week
    new_leads: list[dict] = field(default_factory=list)  # leads assigned to me since yesterday
    tasks: list[dict] = field(default_factory=list)  # my tasks due today or overdue
    follow_ups: list[dict] = field(default_factory=list)  # my leads whose follow-up is due
    stalled: list[dict] = field(default_factory=list)  # my open deals untouched for stalled_days
    proposals: list[dict] = field(default_factory=list)  # my sent proposals awaiting a response, oldest first
    stall_days: int = DEFAULT_STALLED_DAYS
    first_name: str | None = None  # how the Dashboard greets me: my name's first word ("Jessica")


def lists(*, session: Session, actor: Actor, today: dt.date | None = None, stall_days: int | None = None,
          limit: int = LIST_LIMIT) -> Lists:
    """``actor``'s lists (the records it owns, of those it may see)."""
    from crm_tui.services.engagement.activities import due_tasks
    from crm_tui.services.quotes.proposals import awaiting_response
    from crm_tui.services.sales.leads import due_follow_ups, local_day_bounds
    from crm_tui.services.users import actor_user_id

    today = today or dt.date.today()
    stall = stall_days or DEFAULT_STALLED_DAYS
    uid = actor_user_id(session, actor)
    if uid is None:
        return Lists(stall_days=stall)
    is_open = and_(S.c.is_won.is_(False), S.c.is_lost.is_(False))
    deal_cols = (T.c.id, T.c.name, ACC.c.name.label("account"), S.c.name.label("stage"), T.c.amount_minor,
                 T.c.currency, T.c.probability, T.c.expected_close, T.c.stage_changed_at)
    deals = (select(*deal_cols).select_from(T.join(S, S.c.id == T.c.stage_id)
                                            .outerjoin(ACC, ACC.c.id == T.c.account_id))
             .where(T.c.owner_id == uid, is_open))
    deals = scope(deals, entity="opportunity", table=T, actor=actor)
    week0 = forecast.week_start(today)
    closing = [dict(r._mapping) for r in session.execute(
        deals.where(T.c.expected_close >= week0, T.c.expected_close <= week0 + dt.timedelta(days=6))
        .order_by(T.c.expected_close, T.c.id).limit(limit))]
    cutoff = dt.datetime.combine(today - dt.timedelta(days=stall), dt.time(), tzinfo=dt.timezone.utc)
    touched = exists().where(A.c.opportunity_id == T.c.id, A.c.type != "system", A.c.occurred_at >= cutoff)
    stalled = [dict(r._mapping) for r in session.execute(
        deals.where(T.c.stage_changed_at < cutoff, ~touched).order_by(T.c.stage_changed_at, T.c.id).limit(limit))]
    since, _ = local_day_bounds(today - dt.timedelta(days=1))
    # A lead new to me since yesterday was created since, or given to me since (which also set its
    # updated_at): only leads updated since are looked up in the change log, by its record index.
    reassigned = exists().where(C.c.record_id == L.c.id, C.c.entity == "lead", C.c.field == "owner_id",
                                C.c.new_value == str(uid), C.c.changed_at >= since)
    new_leads = [dict(r._mapping) for r in session.execute(scope(
        select(L.c.id, L.c.first_name, L.c.last_name, L.c.company, L.c.status, L.c.source, L.c.created_at)
        .where(L.c.owner_id == uid, L.c.updated_at >= since, or_(L.c.created_at >= since, reassigned),
               L.c.status.not_in(("converted", "junk")))
        .order_by(L.c.created_at.desc(), L.c.id.desc()).limit(limit), entity="lead", table=L, actor=actor))]
    for row in new_leads:
        row["name"] = f"{row['first_name']} {row['last_name']}".strip() or row["company"] or f"lead {row['id']}"
    from crm_tui.store.models import User

    name = session.execute(select(User.__table__.c.name).where(User.__table__.c.id == uid)).scalar()
    return Lists(closing=closing, new_leads=new_leads, tasks=due_tasks(session=session, actor=actor, limit=limit),
                 follow_ups=due_follow_ups(session=session, actor=actor, limit=limit), stalled=stalled,
                 proposals=awaiting_response(session=session, actor=actor, today=today, limit=limit),
                 stall_days=stall, first_name=(name or "").split()[0] if (name or "").strip() else None)
