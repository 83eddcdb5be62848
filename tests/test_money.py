"""Money is exact: integer minor units per ISO 4217 currency, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_tui import money
from crm_tui.money import MoneyError, format_money, format_plain, parse_amount, weighted


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12,500.50", "USD", 1_250_050),
        ("12500.5", "USD", 1_250_050),
        ("0.01", "USD", 1),
        ("$1,000", "USD", 100_000),
        ("1 000.00 EUR", "EUR", 100_000),
        ("  42  ", "eur", 4200),
        ("1_000", "USD", 100_000),
        ("5", "JPY", 5),
        ("1,500", "JPY", 1500),
        ("1.234", "BHD", 1234),
        ("0.001", "BHD", 1),
        ("1.2345", "CLF", 12345),
        ("-3.50", "USD", -350),
        ("92233720368547758.07", "USD", 9_223_372_036_854_775_807),
        (12, "USD", 1200),
        (Decimal("1.10"), "USD", 110),
    ],
)
def test_parse_amount_is_exact(text, currency, minor):
    result = parse_amount(text, currency)
    assert result == minor
    assert type(result) is int


def test_no_binary_float_error_when_adding_cents():
    assert parse_amount("0.10", "USD") + parse_amount("0.20", "USD") == parse_amount("0.30", "USD") == 30


@pytest.mark.parametrize(
    ("text", "currency"),
    [("5.5", "JPY"), ("1.01", "JPY"), ("12.345", "USD"), ("1.2345", "BHD"), ("0.001", "EUR")],
)
def test_more_decimals_than_the_currency_has_is_refused(text, currency):
    with pytest.raises(MoneyError) as info:
        parse_amount(text, currency)
    message = str(info.value)
    assert repr(text) in message
    assert currency in message


def test_currency_decimals():
    assert money.decimals("JPY") == 0
    assert money.decimals("USD") == 2
    assert money.decimals("EUR") == 2
    assert money.decimals("BHD") == 3
    assert money.decimals("KWD") == 3
    assert money.decimals("jpy") == 0


@pytest.mark.parametrize("code", ["XYZ", "US", "DOLLARS", "usd1", "€"])
def test_unknown_currency_is_refused_by_name(code):
    with pytest.raises(MoneyError) as info:
        money.normalize_currency(code)
    assert repr(code) in str(info.value)
    with pytest.raises(MoneyError):
        parse_amount("1", code)


@pytest.mark.parametrize("code", [None, "", "   "])
def test_missing_currency_is_refused(code):
    with pytest.raises(MoneyError, match="required"):
        money.normalize_currency(code)


def test_currency_is_normalised():
    assert money.normalize_currency(" eur ") == "EUR"


@pytest.mark.parametrize("value", [1.5, 0.1, 100.0, float("nan")])
def test_floats_are_refused(value):
    with pytest.raises(MoneyError, match="float"):
        parse_amount(value, "USD")


@pytest.mark.parametrize("text", ["abc", "", "  ", "1.2.3", "NaN", "Infinity", "-inf", "$"])
def test_non_numbers_are_refused(text):
    with pytest.raises(MoneyError):
        parse_amount(text, "USD")


def test_booleans_are_refused():
    with pytest.raises(MoneyError):
        parse_amount(True, "USD")


@pytest.mark.parametrize(
    ("minor", "currency", "plain", "people"),
    [
        (1_250_050, "USD", "12500.50", "12,500.50 USD"),
        (0, "USD", "0.00", "0.00 USD"),
        (1, "USD", "0.01", "0.01 USD"),
        (-350, "USD", "-3.50", "-3.50 USD"),
        (1500, "JPY", "1500", "1,500 JPY"),
        (1234, "BHD", "1.234", "1.234 BHD"),
        (1_000_000_001, "BHD", "1000000.001", "1,000,000.001 BHD"),
        (9_223_372_036_854_775_807, "USD", "92233720368547758.07", "92,233,720,368,547,758.07 USD"),
    ],
)
def test_format_is_exact(minor, currency, plain, people):
    assert format_plain(minor, currency) == plain
    assert format_money(minor, currency) == people
    assert format_money(minor, currency, code=False) == people.rsplit(" ", 1)[0]


def test_format_of_nothing_is_empty():
    assert format_plain(None, "USD") == ""
    assert format_money(None, "USD") == ""


@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD", "CLF"])
@pytest.mark.parametrize("minor", [0, 1, 7, 99, 100, 12345, 10**15 + 3])
def test_plain_format_round_trips(minor, currency):
    assert parse_amount(format_plain(minor, currency), currency) == minor
    assert parse_amount(format_money(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("minor", "probability", "expected"),
    [
        (5, 50, 2),  # 2.5 -> 2 (half to even)
        (15, 50, 8),  # 7.5 -> 8
        (1, 50, 0),  # 0.5 -> 0
        (3, 50, 2),  # 1.5 -> 2
        (25, 10, 2),  # 2.5 -> 2
        (35, 10, 4),  # 3.5 -> 4
        (10_000, 25, 2500),
        (1, 100, 1),
        (999, 0, 0),
        (1_234_567, 33, 407_407),  # 407407.11
        (1_234_567, 75, 925_925),  # 925925.25
        (10**17 + 1, 50, 5 * 10**16),  # exact beyond float precision: ...0.5 -> even
    ],
)
def test_weighted_rounds_half_even_exactly(minor, probability, expected):
    result = weighted(minor, probability)
    assert result == expected
    assert type(result) is int
