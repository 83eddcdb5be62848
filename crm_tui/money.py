"""Exact money: integer minor units plus an ISO 4217 currency code.

Never a float. Parsing and formatting go through ``decimal.Decimal`` only at the
edges (text in, text out); arithmetic on stored values is integer arithmetic.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Active ISO 4217 codes. Minor units are 2 unless listed in _EXPONENTS.
_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD
EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD
IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN
SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split()

_EXPONENTS = {
    **{c: 0 for c in "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()},
    **{c: 3 for c in "BHD IQD JOD KWD LYD OMR TND".split()},
    **{c: 4 for c in "CLF UYW".split()},
}

CURRENCIES: dict[str, int] = {code: _EXPONENTS.get(code, 2) for code in _CODES}

DEFAULT_CURRENCY = "USD"


_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?([A-Za-z]{3})?$")


class MoneyError(ValueError):
    """A money value or currency that cannot be used; the message names it."""


# Every stored amount, quantity and rate is a signed 64-bit integer (BIGINT on PostgreSQL, INTEGER on
# SQLite): the same limit on both, checked before anything is written.
MAX_MINOR = 2**63 - 1


class OutOfRange(MoneyError):
    """A number too large for its column. ``lowest`` and ``highest`` are the allowed range as text."""

    def __init__(self, what: str, text: object, lowest: str, highest: str):
        self.lowest, self.highest = lowest, highest
        from crm_tui.errors import shorten

        super().__init__(f"{what} {shorten(text)!r} must be between {lowest} and {highest}")


def normalize_currency(code: str | None) -> str:
    if code is None or not str(code).strip():
        raise MoneyError("currency is required")
    value = str(code).strip().upper()
    if value not in CURRENCIES:
        raise MoneyError(f"unknown currency {code!r}: use an ISO 4217 code such as USD, EUR or JPY")
    return value


def decimals(currency: str) -> int:
    return CURRENCIES[normalize_currency(currency)]


def parse_amount(text: str | int | Decimal, currency: str) -> int:
    """Turn user text such as "12,500.50" into minor units for ``currency``.

    Refuses more decimals than the currency has (JPY has none) rather than
    rounding a user's number silently. Returns an int.
    """
    exp = decimals(currency)
    if isinstance(text, bool):
        raise MoneyError(f"amount {text!r} is not a number")
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, Decimal):
        value = text
    elif isinstance(text, float):  # never accept floats: they are not exact
        raise MoneyError(f"amount {text!r} must be given as text or an integer, not a float")
    else:
        raw = str(text).strip().replace("_", "").replace(" ", "")
        if "," in raw:
            # Commas group thousands ("12,500.50"); "1,5" is a decimal comma we refuse to guess at.
            if not _GROUPED.match(raw.lstrip("-+$€£¥")):
                raise MoneyError(f"amount {text!r}: use '.' for decimals and ',' only between thousands")
            raw = raw.replace(",", "")
        for symbol in ("$", "€", "£", "¥"):
            raw = raw.replace(symbol, "")
        if raw.upper().endswith(currency.upper()):
            raw = raw[: -len(currency)]
        if not raw:
            raise MoneyError("amount is empty")
        value = raw
    return _scale(value, exp, not_a_number=f"amount {text!r} is not a number",
                  too_precise=f"amount {text!r} has more decimals than {currency} allows ({exp})",
                  out_of_range=("amount", text))


def limit_text(places: int) -> str:
    """The largest storable value with ``places`` decimals, as text: 92233720368547758.07 for 2."""
    return f"{Decimal(MAX_MINOR).scaleb(-places):f}"


def _scale(value: Decimal | str, places: int, *, not_a_number: str, too_precise: str,
           out_of_range: tuple[str, object]) -> int:
    """``value`` (a Decimal, or the text of one) times 10**places as an exact int that fits a 64-bit
    column, or MoneyError (OutOfRange when it does not fit)."""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise MoneyError(not_a_number) from None
    if not value.is_finite():
        raise MoneyError(not_a_number)
    if value.adjusted() + places > 19 or abs(value.scaleb(places)) > MAX_MINOR:  # before any huge int is made
        what, text = out_of_range
        raise OutOfRange(what, text, "-" + limit_text(places), limit_text(places))
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise MoneyError(too_precise)
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-decimals(currency))


def format_plain(minor: int | None, currency: str) -> str:
    """Machine form: "12500.50" (no grouping), for CSV and JSON."""
    if minor is None:
        return ""
    exp = decimals(currency)
    return f"{to_decimal(minor, currency):.{exp}f}"


def format_money(minor: int | None, currency: str, *, code: bool = True) -> str:
    """People form: "12,500.50 USD"."""
    if minor is None:
        return ""
    exp = decimals(currency)
    text = f"{to_decimal(minor, currency):,.{exp}f}"
    return f"{text} {currency}" if code else text


def weighted(minor: int, probability: int) -> int:
    """amount × probability%, rounded once, half-even, in integer arithmetic."""
    value = Decimal(int(minor)) * Decimal(int(probability)) / Decimal(100)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded once, half to even, in integer arithmetic."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    q, r = divmod(int(numerator), int(denominator))  # floor division: 0 <= r < denominator
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2 == 1):
        q += 1
    return q


def _parse_scaled(text: str | int | Decimal, places: int, what: str) -> int:
    """Exact decimal text scaled to an integer with ``places`` decimals, or MoneyError."""
    if isinstance(text, bool) or isinstance(text, float):
        raise MoneyError(f"{what} {text!r} must be given as text or an integer")
    if isinstance(text, (int, Decimal)):
        value = Decimal(text)
    else:
        raw = str(text).strip().replace("_", "").replace(" ", "").rstrip("%")
        if "," in raw:
            if not _GROUPED.match(raw.lstrip("-+")):
                raise MoneyError(f"{what} {text!r}: use '.' for decimals and ',' only between thousands")
            raw = raw.replace(",", "")
        if not raw:
            raise MoneyError(f"{what} is empty")
        value = raw
    return _scale(value, places, not_a_number=f"{what} {text!r} is not a number",
                  too_precise=f"{what} {text!r} has more than {places} decimals", out_of_range=(what, text))


def parse_quantity(text: str | int | Decimal) -> int:
    """A quantity such as "2.5" as an exact integer of thousandths (2500)."""
    return _parse_scaled(text, 3, "quantity")


def parse_percent(text: str | int | Decimal) -> int:
    """A percentage such as "12.5" or "12.5%" as basis points (1250)."""
    return _parse_scaled(text, 2, "percentage")


def format_quantity(milli: int) -> str:
    """Thousandths back to the shortest exact text: 2500 -> "2.5", 3000 -> "3"."""
    value = Decimal(int(milli)).scaleb(-3)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_percent(bp: int) -> str:
    """Basis points as a percentage without trailing zeros: 1250 -> "12.5"."""
    value = Decimal(int(bp)).scaleb(-2)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
