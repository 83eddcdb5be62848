"""The one pricing rule (services/pricing.py): line totals, discounts, tax, rounding.

Pure functions on integer minor units: no database. Every expected value is worked
out by hand in the comment next to it.
"""

from __future__ import annotations

import pytest

from crm_tui import money
from crm_tui.errors import ValidationError
from crm_tui.services import pricing
from crm_tui.services.pricing import LineInput, price_line, price_lines


def line(q, price, disc=0):
    return LineInput(description="x", quantity_milli=q, unit_price_minor=price, discount_bp=disc)


def totals(p):
    return (p.subtotal_minor, p.discount_minor, p.net_minor, p.tax_minor, p.total_minor)


def test_price_line_rounds_once_half_even():
    # 0.5 cent rounds to even: 2.5 -> 2, 3.5 -> 4
    assert price_line(500, 5, 0) == (2, 0, 2)  # 0.5 × 5 = 2.5
    assert price_line(500, 7, 0) == (4, 0, 4)  # 3.5
    # 3 × 33.33 with 10% off: gross 99.99, net 89.991 -> 89.99, discount 10.00
    assert price_line(3000, 3333, 1000) == (9999, 1000, 8999)
    # 100% discount: net 0, discount the whole gross
    assert price_line(2000, 12345, 10_000) == (24690, 24690, 0)


def test_many_awkward_lines_sum_exactly_and_tax_rounds_once_at_the_end():
    # 1000 lines of 0.333 × 0.01 = 0.00333 each: each line rounds to 0, the sum stays 0
    tiny = price_lines([line(333, 1)] * 1000, tax_rate_bp=0, currency="USD")
    assert tiny.total_minor == 0
    # 7 lines of 1 × 0.15 at 12.5% tax: net 1.05, tax 0.13125 -> 0.13
    p = price_lines([line(1000, 15)] * 7, tax_rate_bp=1250, currency="USD")
    assert totals(p) == (105, 0, 105, 13, 118)
    # half-even on tax: net 1.00 at 0.5% = 0.005 -> 0.00 (even), net 3.00 at 0.5% = 0.015 -> 0.02
    assert price_lines([line(1000, 100)], tax_rate_bp=50, currency="USD").tax_minor == 0
    assert price_lines([line(1000, 300)], tax_rate_bp=50, currency="USD").tax_minor == 2


def test_zero_decimal_currency_prices_in_whole_yen():
    # JPY: minor unit is the yen. 2.5 × ¥999 = 2497.5 -> 2498 (even); 19% off 1 × ¥105 = 85.05 -> 85
    p = price_lines([line(2500, 999), line(1000, 105, 1900)], tax_rate_bp=1000, currency="JPY")
    assert [ln.total_minor for ln in p.lines] == [2498, 85]
    assert p.net_minor == 2583
    assert p.tax_minor == 258  # 258.3
    assert p.total_minor == 2841
    assert money.format_money(p.total_minor, "JPY") == "2,841 JPY"


def test_discount_is_the_gross_less_the_exactly_rounded_net():
    # 7 × 14.99 with 12.5% off: gross 104.93; net 104.93 × 0.875 = 91.81375 -> 91.81; discount 13.12
    p = price_lines([line(7000, 1499, 1250)], tax_rate_bp=0, currency="EUR")
    assert (p.lines[0].gross_minor, p.lines[0].discount_minor, p.lines[0].total_minor) == (10493, 1312, 9181)
    assert totals(p) == (10493, 1312, 9181, 0, 9181)
    # 1 × 0.25 at 50% off: the net 0.125 rounds to 0.12 (even) and the discount is what is left, 0.13;
    # rounding the discount on its own (0.125 -> 0.12) would make gross, discount and net disagree
    q = price_lines([line(1000, 25, 5000)], tax_rate_bp=0, currency="EUR")
    assert (q.lines[0].gross_minor, q.lines[0].discount_minor, q.lines[0].total_minor) == (25, 13, 12)


def test_tax_is_on_the_net_after_discounts_once_for_the_whole_document():
    # 1 × 0.30 at 50% off (net 0.15) and 1 × 0.15: subtotal 0.45, discount 0.15, net 0.30;
    # 5% tax on the net: 0.015 -> 0.02 (half-even: 1.5 cents -> 2)
    p = price_lines([line(1000, 30, 5000), line(1000, 15)], tax_rate_bp=500, currency="USD")
    assert totals(p) == (45, 15, 30, 2, 32)
    # 5 × 0.05 = 0.25 at 10%: 0.025 -> 0.02 (2.5 cents -> 2, even)
    assert price_lines([line(5000, 5)], tax_rate_bp=1000, currency="USD").tax_minor == 2
    # three lines of 0.05 at 10%: taxed per line 0.005 -> 0.00 each, 0.00 in all; taxed once on the
    # net 0.15: 0.015 -> 0.02. The rule taxes once.
    assert price_lines([line(1000, 5)] * 3, tax_rate_bp=1000, currency="USD").tax_minor == 2


def test_three_decimal_currency_prices_in_fils():
    # BHD has three decimals: the minor unit is the fils (0.001). 1.5 × 0.333 BHD = 0.4995 -> 0.500 (half-even:
    # 499.5 fils -> 500, as 499 is odd); 10% off 2 × 1.005 = 2.010 -> net 1.809; tax 10% of 2.309 = 0.2309 -> 0.231
    unit = money.parse_amount("0.333", "BHD")
    assert unit == 333
    p = price_lines([line(1500, unit), line(2000, money.parse_amount("1.005", "BHD"), 1000)],
                    tax_rate_bp=1000, currency="BHD")
    assert [ln.total_minor for ln in p.lines] == [500, 1809]
    assert totals(p) == (2510, 201, 2309, 231, 2540)
    assert money.format_money(p.total_minor, "BHD") == "2.540 BHD"
    assert p.fmt(p.tax_minor) == "0.231 BHD"


@pytest.mark.parametrize(("quantity_milli", "unit_minor", "expected"), [
    (500, 1, 0),    # 0.5 -> 0 (even)
    (1500, 1, 2),   # 1.5 -> 2 (even)
    (2500, 1, 2),   # 2.5 -> 2 (even)
    (3500, 1, 4),   # 3.5 -> 4
    (2501, 1, 3),   # 2.501 -> 3 (over the half)
    (2499, 1, 2),   # 2.499 -> 2
])
def test_line_amounts_round_half_to_even(quantity_milli, unit_minor, expected):
    assert price_line(quantity_milli, unit_minor, 0)[2] == expected


def test_no_lines_price_to_zero_and_keep_the_currency_and_rate():
    p = price_lines([], tax_rate_bp=2000, currency="CHF")
    assert totals(p) == (0, 0, 0, 0, 0)
    assert (p.currency, p.tax_rate_bp, p.lines) == ("CHF", 2000, ())


def test_cleaning_input_names_the_field_and_refuses_out_of_range_values():
    assert pricing.clean_quantity("2.5") == 2500
    assert pricing.clean_percent("12.5", "discount") == 1250
    assert pricing.clean_percent("", "discount") == 0
    assert pricing.clean_price("1.005", "BHD") == 1005
    with pytest.raises(ValidationError) as exc:
        pricing.clean_price("1.5", "JPY")
    assert exc.value.field == "unit_price" and "JPY" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        pricing.clean_quantity("1000000001")
    assert exc.value.field == "quantity" and "must be between 0 and 1000000000" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        pricing.clean_percent("100.01", "tax_rate")
    assert exc.value.field == "tax_rate" and "over 100%" in str(exc.value)
