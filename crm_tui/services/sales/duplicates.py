"""Records that already hold a value a new record repeats: an account's name, a contact's e-mail.

Both are allowed twice (two branches of one company, a shared inbox), so nothing is refused; the
CLI warns on stderr and the app's form offers the existing record. Only records ``actor`` may see
are named (the scoping hook).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.store.models import Account, Contact
from crm_tui.store.scope import scope

# entity -> (table, the field compared case-insensitively, the CLI noun)
CHECKED = {
    "account": (Account.__table__, "name", "account"),
    "contact": (Contact.__table__, "email", "contact"),
}


@dataclass(frozen=True)
class Existing:
    """A record that already has ``field`` = ``value`` (compared ignoring case and outer spaces)."""

    entity: str
    id: int
    label: str
    field: str
    value: str
    others: int = 0  # how many more records share it
    account: str | None = None  # a contact's account, by name (when the actor may see it)
    email: str | None = None  # a contact's e-mail as stored

    @property
    def described(self) -> str:
        """The record as a person reads it: ``Ada Lovelace (Acme, ada@example.com)``; an account's name."""
        details = ", ".join(d for d in (self.account, self.email) if d)
        return f"{self.label} ({details})" if details else self.label

    @property
    def command(self) -> str:
        return f"crm {CHECKED[self.entity][2]} show {self.id}"

    def warning(self) -> str:
        """One line: ``account name 'Acme' is already used by account 12 (Acme); open it: crm account show 12``."""
        more = f" and {self.others} more" if self.others else ""
        return (f"{self.entity} {self.field} {self.value!r} is already used by {self.entity} {self.id} "
                f"({self.label}){more}; open it: {self.command}")


def _label(entity: str, row) -> str:
    if entity == "contact":
        return f"{row.first_name or ''} {row.last_name or ''}".strip() or f"#{row.id}"
    return row.name


def existing_same(*, session: Session, entity: str, values: dict, exclude_id: int | None = None,
                  actor: Actor | None = None) -> Existing | None:
    """The oldest other record of ``entity`` whose checked field (account name, contact e-mail) equals
    the one in ``values``; None when there is none, the value is empty or ``entity`` is not checked."""
    if entity not in CHECKED:
        return None
    table, field, _ = CHECKED[entity]
    value = values.get(field)
    if not isinstance(value, str) or not value.strip():
        return None
    wanted = value.strip().lower()
    cols = [table.c.id, table.c.name] if entity == "account" else [
        table.c.id, table.c.first_name, table.c.last_name, table.c.email, table.c.account_id]
    cond = func.lower(table.c[field]) == wanted
    if exclude_id is not None:
        cond = cond & (table.c.id != exclude_id)
    rows = list(session.execute(scope(select(*cols).where(cond).order_by(table.c.id).limit(2),
                                      entity=entity, table=table, actor=actor)))
    if not rows:
        return None
    others = 0
    if len(rows) > 1:
        count = select(func.count()).select_from(table).where(cond)
        others = session.execute(scope(count, entity=entity, table=table, actor=actor)).scalar_one() - 1
    first = rows[0]
    account = email = None
    if entity == "contact":
        email = first.email
        if first.account_id is not None:
            accounts = Account.__table__
            account = session.execute(scope(select(accounts.c.name).where(accounts.c.id == first.account_id),
                                            entity="account", table=accounts, actor=actor)).scalar()
    return Existing(entity, first.id, _label(entity, first), field, value.strip(), others, account, email)
