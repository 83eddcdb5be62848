"""Forecast commands: `crm forecast` (+ snapshot, snapshots, compare, changes), `crm quota`, `crm lint`,
`crm summary`."""

from __future__ import annotations

from typing import Optional

import typer

from crm_tui.commands._common import Format, RecordId, State, actor, fail, info, me, plural, session, settings
from crm_tui.commands._output import emit, emit_one, output_options

forecast_app = typer.Typer(no_args_is_help=False)
quota_app = typer.Typer(no_args_is_help=False)

FROM_HELP = "First day: YYYY-MM-DD, today, today-30d (default: the start of this quarter)"
TO_HELP = "Last day, inclusive (default: the end of this quarter)"


def _dates(start: str | None, end: str | None):
    import datetime as dt

    from crm_tui.services.sales import forecast
    from crm_tui.services.validate import parse_date

    q0, q1 = forecast.quarter_bounds(dt.date.today())
    a = parse_date(start, field_name="from") if start else q0
    b = parse_date(end, field_name="to") if end else q1
    return a, b


def _owners(owner: list[str] | None) -> list[str] | None:
    if not owner:
        return None
    out = []
    for value in owner:
        out.extend(v.strip() for v in value.split(",") if v.strip())  # "me": the service resolves it
    return out


NO_IDS = (Format.table, Format.csv, Format.json, Format.ndjson)  # rows that are not records have no id


@forecast_app.callback(invoke_without_command=True)
@output_options(formats=NO_IDS)
def forecast_default(
    ctx: typer.Context,
    start: Optional[str] = typer.Option(None, "--from", help=FROM_HELP),
    end: Optional[str] = typer.Option(None, "--to", help=TO_HELP),
    by: str = typer.Option("month", "--by", help="Group by any of: month, quarter, stage, owner, category "
                                                   "(comma-separated), e.g. month,stage"),
    owner: Optional[list[str]] = typer.Option(None, "--owner", help="Only these owners' deals and quotas "
                                                                      "(repeat or comma-separate; 'me' is you)"),
    fmt: Format = Format.table,
) -> None:
    """The forecast: pipeline, weighted, won, quota, attainment, coverage, win rate, deal size, cycle, velocity.

    A deal counts in the period of its close date: actual once closed, expected while open.
    """
    if ctx.invoked_subcommand is not None:
        return
    from crm_tui.services.sales import forecast

    with session() as s:
        a, b = _dates(start, end)
        result = forecast.forecast(session=s, start=a, end=b, by=by, owners=_owners(owner),
                                   actor=State.actor())
    rows = [r.as_dict() for r in result.rows]
    # One total row per currency after the groups: its first group column says "total", the others are empty.
    for cur, tot in result.totals.items():
        total = forecast.ForecastRow(key={g: "" if fmt == Format.table else None for g in result.by},
                                     currency=cur, metrics=tot).as_dict()
        total[result.by[0]] = "total"
        rows.append(total)
    if fmt == Format.table:
        rows = [_human(r, result.by) for r in rows]
        from crm_tui import formatting

        title = f"Forecast {formatting.full_day(a)} – {formatting.full_day(b)} by {', '.join(result.by)}"
        if not rows:
            info("no deals or quotas in that range")
        emit(rows, fmt, title=title)
        return
    header = forecast.ForecastRow(key=dict.fromkeys(result.by), currency="USD", metrics=forecast.Metrics()).as_dict()
    emit(rows, fmt, header=list(header))


def _period(group: str, value):
    """A month or quarter key as people read it: "2026-10" -> "Oct 2026", "2026-Q4" -> "Q4 2026"."""
    import datetime as dt

    if not isinstance(value, str):
        return value
    try:
        if group == "month":
            return f"{dt.date.fromisoformat(value + '-01'):%b %Y}"
        if group == "quarter" and "-Q" in value:
            year, quarter = value.split("-Q")
            return f"Q{int(quarter)} {int(year)}"
    except ValueError:
        pass
    return value


def _human(row: dict, by: tuple[str, ...]) -> dict:
    """Table cells: money grouped with its currency once per row, ratios with their units."""
    from decimal import Decimal

    from crm_tui import money

    cur = row["currency"]

    def m(key):
        value = row[key]
        return "" if value is None else money.format_money(money.parse_amount(value, cur), cur, code=False)

    def pct(key):
        value = row[key]
        return "" if value is None else f"{value}%"

    out = {g: _period(g, row[g]) for g in by}
    out.update({"cur": cur, "open": row["open_count"], "pipeline": m("pipeline"), "weighted": m("weighted"),
                "won": m("won"), "won #": row["won_count"], "lost #": row["lost_count"], "quota": m("quota"),
                "attain": pct("attainment_pct"),
                "cover": "" if row["coverage"] is None else f"{row['coverage']}x",
                "win rate": pct("win_rate_pct"), "avg deal": m("avg_deal"),
                "cycle d": "" if row["avg_cycle_days"] is None else str(Decimal(row["avg_cycle_days"])),
                "velocity/d": m("velocity_per_day")})
    return out


@forecast_app.command("snapshot")
@output_options(default=Format.ids)
def forecast_snapshot(
    name: Optional[str] = typer.Option(None, "--name", help="A name for it, e.g. 'Q1 commit call'"),
    fmt: Format = Format.ids,
) -> None:
    """Store the open pipeline, deal by deal, to compare a later forecast with. Prints the snapshot id."""
    from crm_tui.services.sales import forecast

    with session() as s:
        snap = forecast.take_snapshot(session=s, actor=actor(), name=name)
    info(f"snapshot {snap['id']}: {plural(snap['opportunities'], 'open opportunity', 'open opportunities')}")
    emit_one(snap, fmt)


@forecast_app.command("snapshots")
@output_options()
def forecast_snapshots(fmt: Format = Format.table) -> None:
    """List the forecast snapshots."""
    from crm_tui.services.sales import forecast

    with session() as s:
        rows = forecast.list_snapshots(session=s)
    emit(rows, fmt)


@forecast_app.command("compare")
@output_options(formats=NO_IDS)
def forecast_compare(
    snapshot: int = typer.Argument(..., help="The snapshot id (see `crm forecast snapshots`)",
                                   parser=RecordId("snapshot", "snapshot")),
    owner: Optional[list[str]] = typer.Option(None, "--owner", help="Only these owners' deals ('me' is you)"),
    fmt: Format = Format.table,
) -> None:
    """What changed since a snapshot: deals won, lost, slipped, pulled in, advanced, moved back, new."""
    from crm_tui import money
    from crm_tui.services.sales import forecast

    with session() as s:
        cmp = forecast.compare_snapshot(session=s, snapshot_id=snapshot, owners=_owners(owner),
                                         actor=State.actor())
    parts = [f"{k} {cmp.counts[k]}" for k in forecast.COMPARE_KINDS if cmp.counts[k]]
    info(f"since snapshot {snapshot} ({cmp.snapshot['taken_at']:%Y-%m-%d %H:%M}): {', '.join(parts) or 'no deals'}; "
         f"weighted pipeline then {money.format_money(cmp.weighted_then_minor, 'USD')}, "
         f"now {money.format_money(cmp.weighted_now_minor, 'USD')}")
    emit(cmp.items, fmt)


@forecast_app.command("changes")
@output_options(formats=NO_IDS)
def forecast_changes(
    start: Optional[str] = typer.Option(None, "--from", help="First day (default: 8 weeks ago)"),
    end: Optional[str] = typer.Option(None, "--to", help="Last day (default: today)"),
    owner: Optional[list[str]] = typer.Option(None, "--owner", help="Only these owners' deals ('me' is you)"),
    fmt: Format = Format.table,
) -> None:
    """Weekly pipeline changes: deals created, advanced, moved back, slipped, pulled in, won and lost."""
    import datetime as dt

    from crm_tui import money
    from crm_tui.services.sales import forecast
    from crm_tui.services.validate import parse_date

    today = dt.date.today()
    with session() as s:
        a = parse_date(start, field_name="from") if start else today - dt.timedelta(weeks=8)
        b = parse_date(end, field_name="to") if end else today
        weeks = forecast.weekly_changes(session=s, start=a, end=b, owners=_owners(owner),
                                         actor=State.actor())
    rows = []
    for w in weeks:
        row = {"week": w.week}
        for k in forecast.CHANGE_KINDS:
            row[k] = w.counts[k]
            row[f"{k} amount"] = money.format_plain(w.amounts[k], "USD")
        rows.append(row)
    emit(rows, fmt)


# ---------------------------------------------------------------- quotas


@quota_app.callback(invoke_without_command=True)
def quota_default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        quota_list(None, None, None, Format.table)


@quota_app.command("set")
def quota_set(
    user: str = typer.Argument(..., help="Username ('me' is you)"),
    month: str = typer.Argument(..., help="Month: YYYY-MM"),
    amount: str = typer.Argument(..., help="Quota amount, e.g. 50000 or 50,000.00"),
    currency: str = typer.Option("USD", "--currency", help="ISO 4217 currency"),
) -> None:
    """Set a user's quota for a month (replaces any quota already set)."""
    from crm_tui.services.sales import forecast

    with session() as s:
        row = forecast.set_quota(session=s, username=me(user), month=month, amount=amount, currency=currency,
                                 actor=State.actor())
    info(f"quota for {row['user']} in {row['month']}: {row['amount']} {row['currency']}")


@quota_app.command("list")
@output_options(formats=NO_IDS)
def quota_list(
    user: Optional[str] = typer.Option(None, "--user", help="Only this user ('me' is you)"),
    start: Optional[str] = typer.Option(None, "--from", help="From this month on (YYYY-MM)"),
    end: Optional[str] = typer.Option(None, "--to", help="Up to this month (YYYY-MM)"),
    fmt: Format = Format.table,
) -> None:
    """List quotas by month and user."""
    from crm_tui.services.sales import forecast

    with session() as s:
        a = forecast.parse_month(start) if start else None
        b = forecast.parse_month(end) if end else None
        rows = forecast.list_quotas(session=s, username=me(user) if user else None, start=a, end=b)
    emit(rows, fmt, header=forecast.QUOTA_KEYS)


# ---------------------------------------------------------------- lint


@output_options()
def lint(
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner's records ('me' is you)"),
    days: Optional[int] = typer.Option(None, "--days", min=1,
                                       help="Days without activity before an open deal is flagged "
                                            "(default: config stalled_days, else 14)"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most this many findings per check"),
    fmt: Format = Format.table,
) -> None:
    """Data-quality checks: open deals with no or a past close date, no next step, no recent activity,
    probability out of line with the stage; likely duplicate accounts and contacts.

    Exits 1 when it finds anything, so it can run in cron or CI.
    """
    from collections import Counter

    from crm_tui.services.data import lint as lint_service

    with session() as s:
        findings = lint_service.lint(session=s, owner=owner, inactive_days=days or settings().stalled_days,
                                     limit=limit, actor=State.actor())
    if fmt == Format.ids:
        rows = [{"id": f.id} for f in findings if f.entity == "opportunity"]
    else:
        rows = [f.as_dict() for f in findings]
    emit(rows, fmt)
    counts = Counter(f.kind for f in findings)
    if findings:
        info("; ".join(f"{k}: {counts[k]}" for k in lint_service.CHECKS if counts[k]))
        raise typer.Exit(1)
    info("no findings")


# ---------------------------------------------------------------- daily summary


def summary(
    user: Optional[str] = typer.Option(None, "--user", help="The user to summarise (default: you)"),
    everyone: bool = typer.Option(False, "--all", help="Every active user, one summary each"),
    fmt: str = typer.Option("text", "--format", help="text or html"),
    send: bool = typer.Option(False, "--send", help="Mail each summary to its user over SMTP (config \"smtp\") "
                                                    "instead of printing it"),
) -> None:
    """The daily summary: open deals and their value, deals closing this week, today's tasks,
    stalled deals and data to fix. --send mails it (text and HTML) to each user's email."""
    from crm_tui.services.engagement import summary as summary_service

    if fmt not in ("text", "html"):
        raise fail(f"--format {fmt!r}: use text or html")
    if user and everyone:
        raise fail("give --user or --all, not both")
    config = settings()
    link = config.record_url
    with session() as s:
        people = summary_service.users_for(session=s, actor=State.actor(), username=user, everyone=everyone)
        summaries = [summary_service.build(session=s, user=u, stall_days=config.stalled_days) for u in people]
    if not send:
        for i, item in enumerate(summaries):
            if i:
                typer.echo("\f" if fmt == "text" else "")
            text = summary_service.render_text(item) if fmt == "text" else summary_service.render_html(item, link=link)
            typer.echo(text, nl=False)
        return
    from crm_tui.errors import CRMError
    from crm_tui.integrations import mail

    try:
        smtp = mail.SmtpSettings.from_settings(config.smtp)
    except CRMError as exc:
        raise fail(str(exc)) from None
    messages, skipped = [], []
    for item in summaries:
        if not item.email:
            skipped.append(item.username)
            continue
        messages.append(mail.build_message(sender=smtp.sender, to=item.email,
                                           subject=summary_service.subject(item),
                                           text=summary_service.render_text(item),
                                           html=summary_service.render_html(item, link=link)))
    if messages:
        try:
            sent = mail.send(smtp, messages)
        except CRMError as exc:
            raise fail(str(exc)) from None
        info(f"sent {sent} summar{'y' if sent == 1 else 'ies'} via {smtp.host}:{smtp.port}: "
             + ", ".join(str(m["To"]) for m in messages))
    if skipped:
        raise fail(f"no email address for {', '.join(skipped)}: their summaries were not sent")
