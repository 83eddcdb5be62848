"""The Forecast area: a quarter (or any quarter before or after) by month and stage, with charts.

- the table: month × stage, deals, pipeline, weighted, won; a summary line for the period;
- a bar chart of weighted pipeline plus won by month against quota, a funnel of open pipeline by
  stage, and a trend line of the last weeks' pipeline changes (created, won, lost, slipped);
- filter by owner (everyone, me, or one user) and step the period with [ and ].

All figures come from ``services.sales.forecast`` in one thread worker with its own session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, Select

from crm_tui import formatting, money
from crm_tui.screens.base import CRMScreenMixin
from crm_tui.screens.mine_scope import MINE_PALETTE_NAMES, MineScope, mine_binding
from crm_tui.widgets.chart import Chart as PlotextPlot
from crm_tui.widgets.footer import FitFooter
from crm_tui.widgets.text_table import TextTable
from crm_tui.widgets.worker import run_db

EVERYONE = "__all__"


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    months = day.year * 12 + first_month - 1 + 3
    return start, dt.date(months // 12, months % 12 + 1, 1) - dt.timedelta(days=1)


def shift_quarter(start: dt.date, steps: int) -> tuple[dt.date, dt.date]:
    months = start.year * 12 + start.month - 1 + 3 * steps
    return quarter_of(dt.date(months // 12, months % 12 + 1, 1))


def units(minor: int, currency: str) -> float:
    """Money as a chart coordinate. Only for drawing: every figure shown as text stays exact."""
    return minor / 10 ** money.decimals(currency)


def short_amount(value: float) -> str:
    """A chart axis label: ``0``, ``950``, ``12.5k``, ``550k``, ``2.1M`` (never ``549773.0``)."""
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".removesuffix(".0") if abs(value) < 10 * limit else f"{value / limit:.0f}"
            return text + suffix
    return f"{value:.0f}"


def axis_ticks(values: list[float], count: int = 5) -> tuple[list[float], list[str]]:
    """Evenly spaced ticks from 0 to the largest value, labelled as short amounts."""
    top = max([v for v in values if v] or [0.0])
    if top <= 0:
        return [0.0], ["0"]
    ticks = [top * i / (count - 1) for i in range(count)]
    return ticks, [short_amount(t) for t in ticks]


NO_QUOTA = "no quota set: a manager or an admin presses q to set one"


class QuotaDialog(CRMScreenMixin, ModalScreen[bool]):
    """A user's quota for a month (managers and admins): user, month, amount, currency. True when saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the quota"),
        Binding("escape", "cancel", "Cancel", tooltip="Close, nothing changes"),
    ]

    def __init__(self, users: list[str], user: str, month: dt.date) -> None:
        super().__init__()
        self.users = users
        self.for_user = user
        self.month = month

    def compose(self) -> ComposeResult:
        with Vertical(id="quota-dialog", classes="dialog"):
            yield Label("Set a quota", classes="dialog-title")
            users = self.users or [self.for_user]
            yield Select([(u, u) for u in users], value=self.for_user if self.for_user in users else users[0],
                         allow_blank=False, id="quota-user")
            yield Input(value=f"{self.month:%Y-%m}", placeholder="month: YYYY-MM", id="quota-month")
            yield Input(placeholder="amount, e.g. 50000 or 50,000.00", id="quota-amount")
            yield Input(value=money.DEFAULT_CURRENCY, placeholder="currency (ISO 4217)", id="quota-currency")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="quota-save")
                yield Button("Cancel", id="quota-cancel")

    def on_mount(self) -> None:
        self.query_one("#quota-amount", Input).focus()

    @on(Button.Pressed, "#quota-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        user = str(self.query_one("#quota-user", Select).value)
        month, amount, currency = (self.query_one(f"#quota-{k}", Input).value.strip()
                                   for k in ("month", "amount", "currency"))

        def save(s: Any) -> dict:
            from crm_tui.services.sales import forecast

            return forecast.set_quota(session=s, username=user, month=month, amount=amount,
                                      currency=currency or None, actor=self.actor)

        def saved(row: dict) -> None:
            self.notify(f"Quota for {row['user']} in {row['month']}: {row['amount']} {row['currency']}")
            self.dismiss(True)

        run_db(self, save, group="quota-save", done=saved, title="Quota")

    @on(Button.Pressed, "#quota-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


COLUMN_WIDTHS = (("Month", 8), ("Stage", 12), ("Deals", 5), ("Pipeline", 14), ("Weighted", 14), ("Won", 13))


class ForecastScreen(MineScope, CRMScreenMixin, Screen):
    """My forecast by default; m switches to everyone's (and back), the owner menu to anyone's."""

    # Under 110 columns (80×24) the table takes the width and the charts step aside.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (110, "-wide")]

    TITLE = "Forecast"
    SCOPE_KEY = "forecast"
    PALETTE_GROUP = "Forecast"
    PALETTE_NAMES: ClassVar[dict[str, str]] = {"previous_period": "previous quarter", "next_period": "next quarter",
                                               "this_period": "this quarter", "reload": "reload the forecast",
                                               "focus_owner": "filter by owner", **MINE_PALETTE_NAMES,
                                               "set_quota": "set a quota (managers and admins)"}

    BINDINGS = [
        Binding("left_square_bracket", "previous_period", "Prev qtr", id="forecast.previous",
                tooltip="Show the quarter before"),
        Binding("right_square_bracket", "next_period", "Next qtr", id="forecast.next", tooltip="Show the quarter after"),
        Binding("t", "this_period", "This qtr", id="forecast.this", tooltip="Back to this quarter"),
        Binding("o", "focus_owner", "Owner", id="forecast.owner", tooltip="Choose whose forecast to show"),
        mine_binding("forecast"),
        Binding("r", "reload", "Reload", show=False, id="forecast.reload", tooltip="Load the figures again"),
        Binding("q", "set_quota", "Quota", id="forecast.quota",
                tooltip="Set a user's quota for a month (managers and admins)"),
    ]

    @dataclass
    class Loaded(Message):
        start: dt.date
        end: dt.date
        by_month: Any
        by_month_stage: Any
        weeks: list
        users: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.start, self.end = quarter_of(dt.date.today())
        self.owner: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="forecast-bar"):
            yield Label("", id="forecast-period")
            yield Select([("Everyone", EVERYONE)], value=EVERYONE, allow_blank=False, id="forecast-owner")
        yield Label("loading…", id="forecast-summary")
        with Horizontal(id="forecast-body"):
            yield TextTable(id="forecast-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="forecast-charts"):
                yield PlotextPlot(id="forecast-bars")
                with Horizontal(id="forecast-lower"):
                    yield PlotextPlot(id="forecast-funnel")
                    yield PlotextPlot(id="forecast-trend")
        yield FitFooter()

    def on_mount(self) -> None:
        self.owner = self.user if self.mine else None
        self.sub_title = self.scope_sub_title()
        table = self.query_one("#forecast-table", DataTable)
        # Fixed widths: sized from their contents, two loads landing close together (the scope and the
        # owner menu) sometimes left the columns at their labels' width, cutting "2026-05" to "2026-".
        for label, width in COLUMN_WIDTHS:
            table.add_column(label, width=width)
        self._users_loaded = False
        self.action_reload()

    # ------------------------------------------------------------ actions

    def action_reload(self) -> None:
        self.query_one("#forecast-period", Label).update(
            f"{formatting.day(self.start)} – {formatting.day(self.end)}  ([ ] quarter, t this quarter)")
        self._load(self.start, self.end, self.owner)

    def action_previous_period(self) -> None:
        self.start, self.end = shift_quarter(self.start, -1)
        self.action_reload()

    def action_next_period(self) -> None:
        self.start, self.end = shift_quarter(self.start, 1)
        self.action_reload()

    def action_this_period(self) -> None:
        self.start, self.end = quarter_of(dt.date.today())
        self.action_reload()

    def action_set_quota(self) -> None:
        from crm_tui.services.sales.forecast import may_set_quotas

        actor = self.crm.actor_for_checks()
        if not may_set_quotas(actor):
            self.notify(f"Only a manager or an admin may set quotas (you are a {actor.role} user).",
                        severity="warning")
            return
        today = dt.date.today()
        month = today if self.start <= today <= self.end else self.start
        self.app.push_screen(QuotaDialog(getattr(self, "users", []), self.owner or self.user, month),
                             lambda saved: self.action_reload() if saved else None)

    def action_focus_owner(self) -> None:
        self.query_one("#forecast-owner", Select).focus()

    @on(Select.Changed, "#forecast-owner")
    def _owner_changed(self, event: Select.Changed) -> None:
        if not getattr(self, "_users_loaded", False) or event.value != event.select.value:
            return  # the menu being filled (its first value, then the owner shown): not a choice
        owner = None if event.value in (EVERYONE, Select.NULL) else str(event.value)
        if owner != self.owner:
            self.owner = owner
            if owner is None or owner == self.user:  # me or everyone: remembered, as m does
                self.ui_state_scope("mine" if owner else "everyone")
            self.action_reload()

    def ui_state_scope(self, scope: str) -> None:
        state = getattr(self.app, "ui_state", None)
        if state is not None:
            state.set_scope(self.SCOPE_KEY, scope)
        self.sub_title = self.scope_sub_title()

    @property
    def scope_label(self) -> str:
        return "Mine" if self.owner == self.user else ("Everyone" if self.owner is None else self.owner)

    def action_toggle_mine(self) -> None:
        """m: my forecast, or everyone's (from another user's: mine)."""
        self.ui_state_scope("everyone" if self.owner == self.user else "mine")
        self.scope_changed()

    def scope_changed(self) -> None:
        self.owner = self.user if self.mine else None
        self.sub_title = self.scope_sub_title()
        if self._users_loaded:
            self.query_one("#forecast-owner", Select).value = self.owner or EVERYONE
        self.action_reload()

    # ------------------------------------------------------------ loading

    def _load(self, start: dt.date, end: dt.date, owner: str | None) -> None:
        owners = [owner] if owner else None

        def load(s: Any) -> ForecastScreen.Loaded:
            from crm_tui.services.sales import forecast
            from crm_tui.services.users import list_users

            actor = self.actor
            facts = forecast.stage_facts(s)
            by_month = forecast.forecast(session=s, start=start, end=end, by=("month",), owners=owners,
                                         stage_facts_=facts, actor=actor)
            by_month_stage = forecast.forecast(session=s, start=start, end=end, by=("month", "stage"),
                                               owners=owners, stage_facts_=facts, actor=actor)
            today = dt.date.today()
            weeks = forecast.weekly_changes(session=s, start=today - dt.timedelta(weeks=11), end=today,
                                            owners=owners, actor=actor)
            users = [u.username for u in list_users(session=s) if u.active]
            return self.Loaded(start, end, by_month, by_month_stage, weeks, users)

        run_db(self, load, group="forecast")

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        if (message.start, message.end) != (self.start, self.end):
            return  # an older period's answer
        self.users = message.users
        if not self._users_loaded:
            self._users_loaded = True
            users = list(message.users)
            if self.owner and self.owner not in users:
                users.insert(0, self.owner)  # me, not (yet) in the users table
            options = [("Everyone", EVERYONE)] + [(("Me: " if u == self.user else "") + u, u) for u in users]
            select = self.query_one("#forecast-owner", Select)
            select.set_options(options)
            select.value = self.owner or EVERYONE
        self._summary(message)
        self._table(message)
        self._bars(message)
        self._funnel(message)
        self._trend(message)

    def _currency(self, message: Loaded) -> str:
        totals = message.by_month.totals
        return max(totals, key=lambda c: totals[c].open_count + totals[c].won_count, default=money.DEFAULT_CURRENCY)

    def _summary(self, message: Loaded) -> None:
        cur = self._currency(message)
        tot = message.by_month.totals.get(cur)
        who = self.owner or "everyone"
        if tot is None:
            self.query_one("#forecast-summary", Label).update(
                f"{who}: no deals or quotas in this period · {NO_QUOTA}")
            return

        def fm(value):
            return "—" if value is None else money.format_money(value, cur)

        parts = [f"{who}", f"pipeline {fm(tot.open_minor)}", f"weighted {fm(tot.weighted_minor)}",
                 f"won {fm(tot.won_minor)}", f"quota {fm(tot.quota_minor)}" if tot.quota_minor is not None else NO_QUOTA]
        if tot.attainment is not None:
            parts.append(f"attainment {tot.attainment}%")
        if tot.coverage is not None:
            parts.append(f"coverage {tot.coverage}x")
        if tot.win_rate is not None:
            parts.append(f"win rate {tot.win_rate}%")
        if tot.avg_cycle_days is not None:
            parts.append(f"cycle {tot.avg_cycle_days} d")
        self.query_one("#forecast-summary", Label).update(" · ".join(parts))

    def _table(self, message: Loaded) -> None:
        table = self.query_one("#forecast-table", DataTable)
        table.clear()
        for row in message.by_month_stage.rows:
            m, cur = row.metrics, row.currency
            deals = m.open_count + m.won_count + m.lost_count
            table.add_row(formatting.month(row.key["month"]), row.key["stage"], str(deals),
                          money.format_money(m.open_minor, cur, code=False),
                          money.format_money(m.weighted_minor, cur, code=False),
                          money.format_money(m.won_minor, cur, code=False))
        for cur, tot in message.by_month_stage.totals.items():
            table.add_row("Total", cur, str(tot.open_count + tot.won_count + tot.lost_count),
                          money.format_money(tot.open_minor, cur, code=False),
                          money.format_money(tot.weighted_minor, cur, code=False),
                          money.format_money(tot.won_minor, cur, code=False), key=f"total-{cur}")

    def _bars(self, message: Loaded) -> None:
        cur = self._currency(message)
        months = [r for r in message.by_month.rows if r.currency == cur]
        plot = self.query_one("#forecast-bars", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"Weighted pipeline + won vs quota by month ({cur})")
        if months:
            labels = [formatting.month(r.key["month"]) for r in months]
            series = [[units(r.metrics.won_minor, cur) for r in months],
                      [units(r.metrics.weighted_minor, cur) for r in months],
                      [units(r.metrics.quota_minor or 0, cur) for r in months]]
            plt.multiple_bar(labels, series, labels=["won", "weighted", "quota"])  # type: ignore[call-arg]  # plotext takes labels=
            plt.yticks(*axis_ticks([v for s in series for v in s]))
        plot.refresh()

    def _funnel(self, message: Loaded) -> None:
        cur = self._currency(message)
        by_stage: dict[str, int] = {}
        for row in message.by_month_stage.rows:
            if row.currency == cur and row.metrics.open_count:
                by_stage[row.key["stage"]] = by_stage.get(row.key["stage"], 0) + row.metrics.open_minor
        plot = self.query_one("#forecast-funnel", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Open pipeline by stage")
        if by_stage:
            # Stages arrive in pipeline order; a funnel reads top-down.
            values = [units(v, cur) for v in by_stage.values()][::-1]
            plt.bar(list(by_stage)[::-1], values, orientation="horizontal")
            plt.xticks(*axis_ticks(values, count=3))
        plot.refresh()

    def _trend(self, message: Loaded) -> None:
        cur = self._currency(message)
        plot = self.query_one("#forecast-trend", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Weekly changes")
        if message.weeks:
            x = list(range(len(message.weeks)))
            plotted: list[float] = []
            for kind in ("created", "won", "lost", "slipped"):
                ys = [units(w.amounts[kind], cur) for w in message.weeks]
                plotted += ys
                plt.plot(x, ys, label=kind)
            plt.yticks(*axis_ticks(plotted))
            plt.xticks(x[::3], [formatting.day(w.week) for w in message.weeks][::3])
        plot.refresh()
