"""The pipeline's filter and its light constants, importable without SQLAlchemy.

The Pipeline screen shows these before the database is open (its first paint);
``crm_tui.services.sales.pipeline`` re-exports them and does the querying.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from crm_tui import money
from crm_tui.settings import DEFAULT_LOST_REASONS, DEFAULT_STALLED_DAYS  # noqa: F401 - re-exported


@dataclass(frozen=True)
class BoardFilter:
    """What the board and the list show. Empty means everything."""

    owner: str | None = None  # username
    account: str | None = None  # account id, or text contained in its name
    tag: str | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    amount_min: int | None = None  # minor units
    amount_max: int | None = None
    text: str | None = None
    where: str | None = None  # a filter expression (stage=proposal and amount>50000 and owner=me)
    me: str | None = None  # who "me" is in ``where``

    @property
    def empty(self) -> bool:
        return self == BoardFilter() or (self.where is None and self == BoardFilter(me=self.me))

    def describe(self) -> str:
        parts = []
        for name in ("owner", "account", "tag", "close_from", "close_to", "text"):
            if name == "text" and self.where:
                parts.append(self.where)
            value = getattr(self, name)
            if value not in (None, ""):
                parts.append(f"{name}={value}")
        for name in ("amount_min", "amount_max"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={money.format_plain(value, money.DEFAULT_CURRENCY)}")
        return ", ".join(parts)


FILTER_FIELDS = ("owner", "account", "tag", "close_from", "close_to", "amount_min", "amount_max", "text")


FILTER_HELP = ("me  owner:bob  account:acme  tag:q1  close:today..today+30d  amount:1000..50000  "
               "and any words (name, account, next step)")
