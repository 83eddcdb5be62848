"""How people read money and dates: one formatter for the app, CLI tables, the summary and PDFs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_tui import formatting, money

TODAY = dt.date(2026, 12, 4)


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (4_000_000, "USD", "40,000.00 USD"),
    (4_000_050, "EUR", "40,000.50 EUR"),
    (1_500, "JPY", "1,500 JPY"),
    (1_250, "BHD", "1.250 BHD"),
    (123_456_789_012, "BHD", "123,456,789.012 BHD"),
    (-250, "USD", "-2.50 USD"),
    (0, "USD", "0.00 USD"),
])
def test_money_is_grouped_exact_with_its_currency(minor, currency, text):
    assert formatting.money(minor, currency) == text


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (4_000_000, "USD", "40,000 USD"),
    (4_000_050, "USD", "40,000.50 USD"),
    (1_500, "JPY", "1,500 JPY"),
    (1_000, "BHD", "1 BHD"),
    (1_001, "BHD", "1.001 BHD"),
])
def test_compact_money_drops_only_an_all_zero_fraction(minor, currency, text):
    assert formatting.money(minor, currency, compact=True) == text


def test_money_without_code_and_without_amount():
    assert formatting.money(4_000_000, "USD", code=False) == "40,000.00"
    assert formatting.money(None, "USD") == ""
    assert formatting.money(100, None) == ""


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-money.MAX_MINOR, max_value=money.MAX_MINOR), st.sampled_from(["USD", "JPY", "BHD"]))
def test_money_text_reads_back_to_the_same_minor_units(minor, currency):
    assert money.parse_amount(formatting.money(minor, currency), currency) == minor
    assert money.parse_amount(formatting.money(minor, currency, compact=True), currency) == minor


def test_a_date_shows_its_year_only_when_it_is_not_this_year():
    assert formatting.day(dt.date(2026, 12, 4), today=TODAY) == "4 Dec"
    assert formatting.day(dt.date(2025, 12, 4), today=TODAY) == "4 Dec 2025"
    assert formatting.day(dt.date(2027, 1, 15), today=TODAY) == "15 Jan 2027"
    assert formatting.day(dt.date(2026, 12, 4), today=TODAY, weekday=True) == "Fri 4 Dec"
    assert formatting.day(None) == "" and formatting.day("") == ""
    assert formatting.day("2025-08-20", today=TODAY) == "20 Aug 2025"


def test_a_datetime_shows_local_day_and_time():
    local = dt.datetime(2026, 12, 4, 14, 2).astimezone()
    assert formatting.moment(local.astimezone(dt.timezone.utc), today=TODAY) == "4 Dec 14:02"
    earlier = dt.datetime(2025, 3, 1, 9, 5).astimezone()
    assert formatting.moment(earlier, today=TODAY) == "1 Mar 2025 09:05"
    assert formatting.moment(None) == ""


@pytest.mark.parametrize(("day", "text"), [
    (TODAY, "today"), (TODAY + dt.timedelta(days=1), "tomorrow"), (TODAY - dt.timedelta(days=1), "yesterday"),
    (TODAY + dt.timedelta(days=3), "in 3 days"), (TODAY - dt.timedelta(days=12), "12 days ago"),
])
def test_relative_days(day, text):
    assert formatting.relative(day, today=TODAY) == text


def test_the_formatter_needs_no_ui_framework():
    import subprocess
    import sys

    code = ("import sys, crm_tui.formatting; "
            "bad = [m for m in ('textual', 'typer', 'rich') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
