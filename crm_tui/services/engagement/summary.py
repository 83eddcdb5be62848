"""The daily summary per user: open deals and their value, deals closing this week, today's tasks,
stalled deals and the lint findings, as text or as HTML (with a small chart and links to records).

Overdue invoices join once an invoices table exists. Links use the settings' ``record_url``
template (default ``crm://{entity}/{id}``), so a team with a web front can point them there.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from crm_tui import formatting, money
from crm_tui.actor import Actor
from crm_tui.services.data import lint
from crm_tui.services.sales import dashboard
from crm_tui.settings import DEFAULT_RECORD_URL
from crm_tui.store.models import Opportunity, Stage, User
from crm_tui.store.scope import scope
from crm_tui.text import visible

# At most this many rows of a long list (stalled deals, data to fix) in one e-mail; the rest is counted.
SHOWN = 10

T = Opportunity.__table__
S = Stage.__table__
DEFAULT_LINK = DEFAULT_RECORD_URL


@dataclass
class UserSummary:
    username: str
    name: str
    email: str | None
    day: dt.date
    open_count: int = 0
    open_by_currency: dict[str, int] = field(default_factory=dict)
    by_stage: list[tuple[str, int, int]] = field(default_factory=list)  # stage, count, amount (main currency)
    currency: str = money.DEFAULT_CURRENCY
    closing: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    stalled: list[dict] = field(default_factory=list)
    proposals: list[dict] = field(default_factory=list)  # sent, awaiting a response
    stall_days: int = 14
    findings: list[lint.Finding] = field(default_factory=list)

    @property
    def open_text(self) -> str:
        return ", ".join(money.format_money(v, c) for c, v in sorted(self.open_by_currency.items())) or \
            money.format_money(0, self.currency)


def users_for(*, session: Session, actor: Actor, username: str | None = None, everyone: bool = False) -> list[User]:
    """Whose summaries to build: every active user, the user called ``username``, or (no username,
    or "me") ``actor``."""
    if everyone:
        return list(session.execute(select(User).where(col(User.active).is_(True)).order_by(User.username)).scalars())
    from crm_tui.services.records import is_me, user_id

    if username is None or is_me(username):
        username = actor.username
    uid = user_id(session, username or "", field_name="user")
    return [session.get(User, uid)]


def build(*, session: Session, user: User, today: dt.date | None = None, stall_days: int | None = None) -> UserSummary:
    """``user``'s summary, of the records that user may see (it is sent to them). ``stall_days``: the
    settings' stalled_days (default 14), for the stalled deals and the lint."""
    from crm_tui.services.users import actor_for

    subject = actor_for(user, session)
    today = today or dt.date.today()
    out = UserSummary(username=user.username, name=user.name or user.username, email=user.email, day=today)
    is_open = and_(S.c.is_won.is_(False), S.c.is_lost.is_(False))
    stmt = (select(S.c.name, S.c.position, T.c.currency, func.count(), func.coalesce(func.sum(T.c.amount_minor), 0))
            .select_from(T.join(S, S.c.id == T.c.stage_id)).where(T.c.owner_id == user.id, is_open)
            .group_by(S.c.name, S.c.position, T.c.currency).order_by(S.c.position))
    stmt = scope(stmt, entity="opportunity", table=T, actor=subject)
    per_stage = []
    for stage, _pos, currency, count, amount in session.execute(stmt):
        out.open_count += int(count)
        out.open_by_currency[currency] = out.open_by_currency.get(currency, 0) + int(amount)
        per_stage.append((stage, currency, int(count), int(amount)))
    if out.open_by_currency:
        out.currency = max(out.open_by_currency, key=lambda c: out.open_by_currency[c])
    out.by_stage = [(st, n, a) for st, cur, n, a in per_stage if cur == out.currency]
    lists = dashboard.lists(session=session, actor=subject, today=today, stall_days=stall_days)
    out.closing, out.tasks, out.stalled, out.stall_days = lists.closing, lists.tasks, lists.stalled, lists.stall_days
    out.proposals = lists.proposals
    out.findings = lint.lint(session=session, owner=user.username, inactive_days=lists.stall_days, today=today,
                             limit=20, actor=subject)
    return out


def _link(entity: str, record_id: int, template: str) -> str:
    try:
        return template.format(entity=entity, id=record_id)
    except (KeyError, IndexError, ValueError):
        return DEFAULT_LINK.format(entity=entity, id=record_id)


def _deal_line(d: dict) -> str:
    close = d.get("expected_close")
    when = f", closes {formatting.day(close, weekday=True)}" if close else ""
    return f"#{d['id']} {d['name']} — {money.format_money(d['amount_minor'], d['currency'])} ({d['stage']}{when})"


def _task_label(t: dict) -> str:
    """A task as a person reads it: its subject and what it is about (the record it opens)."""
    about = t.get("target_account")
    return f"{t['subject']} — {about}" if about else str(t["subject"])


def _day_title(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"  # "Friday 4 December 2026"


def _more(shown: int, total: int, capped: bool) -> int | str:
    """How many rows a list leaves out: ``total - shown``, "N+" when the list itself was capped."""
    rest = total - shown
    return f"{rest}+" if capped else rest


def _proposal_line(p: dict) -> str:
    late = f", no response after {p['days_waiting']} days: follow up" if p["overdue"] else ""
    return (f"#{p['id']} {p['number']} {p['title']} — {money.format_money(p['total_minor'], p['currency'])} "
            f"(sent {formatting.day(p['sent_at'])}{late})")


def subject(s: UserSummary) -> str:
    deals = "deal" if s.open_count == 1 else "deals"
    tasks = "task" if len(s.tasks) == 1 else "tasks"
    return (f"crm daily summary for {s.name}, {s.day:%a} {s.day.day} {s.day:%b %Y}: {s.open_count} open {deals}, "
            f"{len(s.closing)} closing this week, {len(s.tasks)} {tasks}")


def render_text(s: UserSummary) -> str:
    lines = [f"Daily summary for {s.name} ({s.username}), {_day_title(s.day)}", ""]
    lines.append(f"Open deals: {s.open_count}, worth {s.open_text}")
    for stage, n, amount in s.by_stage:
        lines.append(f"  {stage:<14} {n:>5}  {money.format_money(amount, s.currency):>22}")
    lines += ["", f"Closing this week ({len(s.closing)}):"]
    lines += [f"  {_deal_line(d)}" for d in s.closing] or ["  none"]
    lines += ["", f"Tasks due today or overdue ({len(s.tasks)}):"]
    lines += [f"  {formatting.moment(t['due_at'])}{' OVERDUE' if t['overdue'] else ''}  #{t['id']} {_task_label(t)}"
              for t in s.tasks] or ["  none"]
    stalled_capped = len(s.stalled) >= dashboard.LIST_LIMIT
    lines += ["", f"Stalled deals, untouched {s.stall_days}+ days ({len(s.stalled)}{'+' if stalled_capped else ''}), "
                  "longest untouched first:" if s.stalled else
              f"Stalled deals, untouched {s.stall_days}+ days (0):"]
    lines += [f"  {_deal_line(d)}" for d in s.stalled[:SHOWN]] or ["  none"]
    if len(s.stalled) > SHOWN:
        lines.append(f"  … and {_more(SHOWN, len(s.stalled), stalled_capped)} more")
    lines += ["", f"Proposals awaiting a response ({len(s.proposals)}):"]
    lines += [f"  {_proposal_line(p)}" for p in s.proposals] or ["  none"]
    lines += ["", f"Data to fix ({len(s.findings)}{'+' if len(s.findings) >= 20 else ''}):"]
    lines += [f"  {f.kind}: {f.entity} #{f.id} {f.name} — {f.detail}" for f in s.findings[:SHOWN]] or ["  none"]
    if len(s.findings) > SHOWN:
        lines.append(f"  … and {_more(SHOWN, len(s.findings), len(s.findings) >= 20)} more: crm lint --owner me")
    lines += ["", "Open any record with `crm opp show ID` (or lead, account, activity, proposal)."]
    return visible("\n".join(lines) + "\n")  # names and subjects as typed, control characters spelled out


def render_html(s: UserSummary, *, link: str = DEFAULT_LINK) -> str:
    e = htmllib.escape

    def a(entity, record_id, label):
        return f'<a href="{e(_link(entity, record_id, link))}">{e(label)}</a>'

    def deals(rows):
        if not rows:
            return "<p>none</p>"
        items = []
        for d in rows[:SHOWN]:
            label = "#%s %s" % (d["id"], d["name"])
            when = (" · closes " + formatting.day(d["expected_close"], weekday=True)) if d.get("expected_close") else ""
            amount = e(money.format_money(d["amount_minor"], d["currency"]))
            items.append(f"<li>{a('opportunity', d['id'], label)} — {amount} ({e(d['stage'])}){e(when)}</li>")
        if len(rows) > SHOWN:
            items.append(f"<li>… and {_more(SHOWN, len(rows), len(rows) >= dashboard.LIST_LIMIT)} more</li>")
        return f"<ul>{''.join(items)}</ul>"

    biggest = max((amount for _s, _n, amount in s.by_stage), default=0) or 1
    bars = "".join(
        f'<tr><td style="padding:2px 8px">{e(stage)}</td><td style="padding:2px 8px;text-align:right">{n}</td>'
        f'<td style="padding:2px 8px;width:320px"><div class="bar" style="background:#4c78a8;height:12px;'
        f'width:{max(1, amount * 300 // biggest)}px"></div></td>'
        f'<td style="padding:2px 8px;text-align:right">{e(money.format_money(amount, s.currency))}</td></tr>'
        for stage, n, amount in s.by_stage)
    task_items = []
    for t in s.tasks:
        label = "#%s %s" % (t["id"], _task_label(t))
        target = t.get("target")  # activities.add_targets: the record the task opens
        due = e(formatting.moment(t["due_at"]))
        task_items.append(f"<li>{due}{' <b>overdue</b>' if t['overdue'] else ''} "
                          f"{a(target[0], target[1], label) if target else e(label)}</li>")
    tasks = "".join(task_items)
    proposal_items = "".join(
        f"<li>{a('proposal', p['id'], '%s %s' % (p['number'], p['title']))} — "
        f"{e(money.format_money(p['total_minor'], p['currency']))} (sent {formatting.day(p['sent_at'])}"
        f"{', <b>no response after %d days</b>' % p['days_waiting'] if p['overdue'] else ''})</li>"
        for p in s.proposals)
    findings = "".join(
        f"<li>{e(f.kind)}: {a(f.entity, f.id, '%s #%s %s' % (f.entity, f.id, f.name))} — {e(f.detail)}</li>"
        for f in s.findings[:SHOWN])
    if len(s.findings) > SHOWN:
        findings += f"<li>… and {_more(SHOWN, len(s.findings), len(s.findings) >= 20)} more</li>"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{e(subject(s))}</title></head>
<body style="font-family:sans-serif">
<h2>Daily summary for {e(s.name)} ({e(s.username)}), {e(_day_title(s.day))}</h2>
<h3>Open deals: {s.open_count}, worth {e(s.open_text)}</h3>
<table class="chart" style="border-collapse:collapse">{bars}</table>
<h3>Closing this week ({len(s.closing)})</h3>
{deals(s.closing)}
<h3>Tasks due today or overdue ({len(s.tasks)})</h3>
{f'<ul>{tasks}</ul>' if tasks else '<p>none</p>'}
<h3>Stalled deals, untouched {s.stall_days}+ days ({len(s.stalled)})</h3>
{deals(s.stalled)}
<h3>Proposals awaiting a response ({len(s.proposals)})</h3>
{f'<ul>{proposal_items}</ul>' if proposal_items else '<p>none</p>'}
<h3>Data to fix ({len(s.findings)})</h3>
{f'<ul>{findings}</ul>' if findings else '<p>none</p>'}
</body></html>
"""
