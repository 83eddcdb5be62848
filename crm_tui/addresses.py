"""Postal addresses written the way their country writes them, for what a customer reads (PDFs).

``address_lines(street=..., city=..., state=..., postal_code=..., country=...)`` returns the lines
of an address: the street, the locality line in the country's order, then the country.

- US, Canada, Australia: ``Portland, OR 48491`` (Australia without the comma: ``Sydney NSW 2000``).
- UK and Ireland: the town, then the postcode on a line of its own.
- Most of continental Europe (DE, FR, ES, IT, NL, AT, CH, BE, ...): ``80469 München``.
- Japan, China, Korea: ``〒100-0001`` style postcode before the city/prefecture is not attempted; they use
  ``City State Postcode`` like the default.
- Any other country: ``City, State Postcode`` (the parts that are there).

Countries are recognised by ISO code or common English and native names, case-insensitively.
Plain functions, no UI imports.
"""

from __future__ import annotations

# style: "us" (City, ST 12345), "au" (City ST 1234), "uk" (City / POSTCODE), "eu" (12345 City [State])
_STYLES: dict[str, str] = {}
for _style, _names in {
    "us": ("us", "usa", "u.s.", "u.s.a.", "united states", "united states of america", "america",
           "ca", "can", "canada"),
    "au": ("au", "aus", "australia"),
    "uk": ("uk", "gb", "gbr", "united kingdom", "great britain", "england", "scotland", "wales",
           "northern ireland", "ie", "irl", "ireland", "éire"),
    "eu": ("de", "deu", "germany", "deutschland", "fr", "fra", "france", "es", "esp", "spain", "españa",
           "it", "ita", "italy", "italia", "nl", "nld", "netherlands", "the netherlands", "nederland",
           "at", "aut", "austria", "österreich", "ch", "che", "switzerland", "schweiz", "suisse", "svizzera",
           "be", "bel", "belgium", "belgië", "belgique", "dk", "dnk", "denmark", "danmark", "se", "swe",
           "sweden", "sverige", "no", "nor", "norway", "norge", "fi", "fin", "finland", "suomi", "pl", "pol",
           "poland", "polska", "pt", "prt", "portugal", "cz", "cze", "czechia", "czech republic", "česko",
           "gr", "grc", "greece", "ελλάδα", "lu", "lux", "luxembourg", "is", "isl", "iceland", "hu", "hun",
           "hungary", "ro", "rou", "romania", "sk", "svk", "slovakia", "si", "svn", "slovenia", "hr", "hrv",
           "croatia", "ee", "est", "estonia", "lv", "lva", "latvia", "lt", "ltu", "lithuania", "tr", "tur",
           "turkey", "türkiye", "mx", "mex", "mexico", "méxico", "br", "bra", "brazil", "brasil", "ar", "arg",
           "argentina", "il", "isr", "israel"),
}.items():
    for _name in _names:
        _STYLES[_name] = _style


def country_style(country: str | None) -> str:
    """"us", "au", "uk", "eu" or "default" for a country name or ISO code."""
    if not country:
        return "default"
    return _STYLES.get(country.strip().casefold(), "default")


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def locality_line(*, city: str | None, state: str | None, postal_code: str | None,
                  country: str | None = None) -> list[str]:
    """The town line(s) of an address in the country's order (one line, two in the UK)."""
    city_, state_, code = _clean(city), _clean(state), _clean(postal_code)
    style = country_style(country)
    if style == "uk":
        return [x for x in (city_, state_, code.upper()) if x]
    if style == "eu":
        return [" ".join(x for x in (code, city_) if x)] + ([state_] if state_ else [])
    if style == "au":
        return [" ".join(x for x in (city_, state_, code) if x)] if (city_ or state_ or code) else []
    # us and default: "Portland, OR 48491"
    tail = " ".join(x for x in (state_, code) if x)
    line = ", ".join(x for x in (city_, tail) if x)
    return [line] if line else []


def address_lines(*, street: str | None = None, city: str | None = None, state: str | None = None,
                  postal_code: str | None = None, country: str | None = None) -> list[str]:
    """An address as the lines a letter carries: street (its own lines kept), locality, country."""
    lines = [ln.strip() for ln in (street or "").splitlines() if ln.strip()]
    lines += locality_line(city=city, state=state, postal_code=postal_code, country=country)
    if _clean(country):
        lines.append(_clean(country))
    return lines
