"""Pricing: line totals, discounts, tax and rounding, for proposals and (next) invoices.

The one pricing rule. Proposals (``services/quotes/proposals.py``), the proposal
editor as you type, the demo data and the coming invoices all price through
``price_lines``; nothing else computes a total.

Money is integer minor units of one currency (cents; yen for JPY, fils for BHD
with three decimals): the rule never needs to know how many decimals a
currency has, only ``money`` does when it parses and formats. Quantities are
exact thousandths (``quantity_milli``), discounts and tax rates basis points
(1250 = 12.5 %). Nothing is a float: each line's gross and net are computed
exactly and rounded once, half-even; the tax is computed from the exact sum of
the rounded net lines and rounded once, half-even, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_tui import money
from crm_tui.errors import ValidationError

MAX_QUANTITY_MILLI = 10**12  # a billion units
MAX_PRICE_MINOR = 10**15


# ---------------------------------------------------------------- lines and totals


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity_milli: int
    unit_price_minor: int
    discount_bp: int = 0
    product_id: int | None = None
    sku: str | None = None


@dataclass(frozen=True)
class PricedLine:
    position: int
    description: str
    quantity_milli: int
    unit_price_minor: int
    discount_bp: int
    gross_minor: int
    discount_minor: int
    total_minor: int
    product_id: int | None = None
    sku: str | None = None

    @property
    def quantity(self) -> str:
        return money.format_quantity(self.quantity_milli)

    @property
    def discount(self) -> str:
        return money.format_percent(self.discount_bp)


@dataclass(frozen=True)
class Pricing:
    currency: str
    lines: tuple[PricedLine, ...]
    tax_rate_bp: int
    subtotal_minor: int  # sum of line gross amounts
    discount_minor: int  # sum of line discounts
    net_minor: int  # subtotal - discount
    tax_minor: int
    total_minor: int

    def fmt(self, minor: int) -> str:
        return money.format_money(minor, self.currency)


def price_line(quantity_milli: int, unit_price_minor: int, discount_bp: int) -> tuple[int, int, int]:
    """(gross, discount, net) of one line in minor units; gross and net each rounded once, half-even."""
    exact = int(quantity_milli) * int(unit_price_minor)  # in thousandths of a minor unit
    gross = money.round_half_even(exact, 1000)
    net = money.round_half_even(exact * (10_000 - int(discount_bp)), 1000 * 10_000)
    return gross, gross - net, net


def price_lines(lines: list[LineInput] | tuple[LineInput, ...], *, tax_rate_bp: int, currency: str) -> Pricing:
    """Price every line, then the totals; tax is rounded once at the end, half-even."""
    priced = []
    for i, line in enumerate(lines, start=1):
        gross, disc, net = price_line(line.quantity_milli, line.unit_price_minor, line.discount_bp)
        priced.append(PricedLine(position=i, description=line.description, quantity_milli=line.quantity_milli,
                                 unit_price_minor=line.unit_price_minor, discount_bp=line.discount_bp,
                                 gross_minor=gross, discount_minor=disc, total_minor=net,
                                 product_id=line.product_id, sku=line.sku))
    subtotal = sum(p.gross_minor for p in priced)
    discount = sum(p.discount_minor for p in priced)
    net = subtotal - discount
    tax = money.round_half_even(net * int(tax_rate_bp), 10_000)
    return Pricing(currency=currency, lines=tuple(priced), tax_rate_bp=int(tax_rate_bp), subtotal_minor=subtotal,
                   discount_minor=discount, net_minor=net, tax_minor=tax, total_minor=net + tax)


# ---------------------------------------------------------------- cleaning input (text from a form or the CLI)


def clean_quantity(value: Any, field_name: str = "quantity") -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(field_name, value, "is required")
    try:
        milli = money.parse_quantity(value)
    except money.OutOfRange:
        milli = MAX_QUANTITY_MILLI + 1
    except money.MoneyError:
        raise ValidationError(field_name, value, "is not a number with at most 3 decimals") from None
    if milli < 0:
        raise ValidationError(field_name, value, "must not be negative")
    if milli > MAX_QUANTITY_MILLI:
        raise ValidationError(field_name, value, f"must be between 0 and {money.format_quantity(MAX_QUANTITY_MILLI)}")
    return milli


def clean_percent(value: Any, field_name: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    try:
        bp = money.parse_percent(value)
    except money.OutOfRange:
        bp = 10_001
    except money.MoneyError:
        raise ValidationError(field_name, value, "is not a percentage with at most 2 decimals") from None
    if bp < 0:
        raise ValidationError(field_name, value, "must not be negative")
    if bp > 10_000:
        raise ValidationError(field_name, value, "is over 100%")
    return bp


def clean_price(value: Any, currency: str, field_name: str = "unit_price") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValidationError(field_name, value, "must be given as text, e.g. '49.90'")
    try:
        minor = money.parse_amount(value, currency)
    except money.OutOfRange:
        minor = MAX_PRICE_MINOR + 1
    except money.MoneyError as exc:
        if "more decimals" in str(exc):
            raise ValidationError(field_name, value, f"has more decimals than {currency} allows "
                                                     f"({money.decimals(currency)})") from None
        raise ValidationError(field_name, value, "is not an amount of money") from None
    if minor < 0:
        raise ValidationError(field_name, value, "must not be negative")
    if minor > MAX_PRICE_MINOR:
        raise ValidationError(field_name, value,
                              f"must be between 0 and {money.format_plain(MAX_PRICE_MINOR, currency)}")
    return minor
