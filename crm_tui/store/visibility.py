"""Row visibility: the rule the scoping hook applies by default (crm_tui/store/scope.py).

An actor's read level per entity (``Actor.reads``, from the roles' rules in
crm_tui/services/access.py) becomes a WHERE condition on the table's own columns,
with IN-subqueries where a level depends on other rows (a team's members, the
record an activity is logged on); never a join, so every read keeps its plan:

- all: no condition;            none: no row;
- own: ``owner_id`` is the actor (leads: also unassigned ones, waiting for an owner);
- team: owned by the actor or by a member of the actor's team;
- linked (activities): the activity's most specific record (its deal, else its lead,
  else its contact, else its account) is one the actor may read; and their own.

Whatever the level, an account shared with the actor (``account_shares``) is readable in
full: the account, its contacts, deals and proposals, and the activities whose most specific
record is one of those.

PostgreSQL's row-level security (crm_tui/store/row_security.py) implements the same rules
in the database; tests/test_row_security.py proves both agree on a mixed data set.

``actor`` None (internal bookkeeping, a write's read-back) and actors without
levels (admins, a user the users table does not know) see every row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_, select

from crm_tui.store.models import Account, AccountShare, Contact, Lead, Opportunity, User

# The table an entity's visibility is decided on, for the activity links.
_TABLES = {"opportunity": Opportunity.__table__, "lead": Lead.__table__, "contact": Contact.__table__,
           "account": Account.__table__}
_LINKS = (("opportunity_id", "opportunity"), ("lead_id", "lead"), ("contact_id", "contact"),
          ("account_id", "account"))


def visible(stmt: Any, *, entity: str, table: Any, actor: Any) -> Any:
    """``stmt`` restricted to the rows of ``table`` (``entity`` records) ``actor`` may read."""
    if actor is None or not actor.reads:
        return stmt
    condition = _condition(entity, table, actor)
    return stmt if condition is None else stmt.where(condition)


def allowed(stmt: Any, *, entity: str, table: Any, actor: Any, action: str) -> Any:
    """``stmt`` restricted to the rows ``actor`` may ``action`` (edit, delete, assign) and read."""
    stmt = visible(stmt, entity=entity, table=table, actor=actor)
    if actor is None or action == "read":
        return stmt
    condition = _condition(entity, table, actor, action=action)
    return stmt if condition is None else stmt.where(condition)


def _condition(entity: str, table: Any, actor: Any, depth: int = 0, action: str = "read") -> Any:
    level = actor.level(entity, action)
    if level == "all":
        return None
    condition = _by_level(entity, table, actor, level, depth)
    shared = _shared(entity, table, actor) if action == "read" else None
    return condition if shared is None else or_(condition, shared)


# Records that belong to an account, by the column naming it.
_ACCOUNT_COLUMN = {"account": "id", "contact": "account_id", "opportunity": "account_id", "proposal": "account_id"}


def _shared(entity: str, table: Any, actor: Any) -> Any:
    """The rows of ``table`` readable because their account is shared with ``actor`` (None: none can be)."""
    if actor.user_id is None:
        return None
    if entity == "activity":
        return _linked(table, actor, decide=lambda e, t: _or_none(_shared(e, t, actor)))
    column = table.c.get(_ACCOUNT_COLUMN.get(entity, ""))
    if column is None:
        return None
    S = AccountShare.__table__
    return column.in_(select(S.c.account_id).where(S.c.user_id == actor.user_id))


def _or_none(condition: Any) -> Any:
    return false() if condition is None else condition


def _by_level(entity: str, table: Any, actor: Any, level: str, depth: int) -> Any:
    if level == "none":
        return false()
    owner = table.c.get("owner_id")
    if owner is None:  # nothing to decide on: nobody's rows
        return false()
    mine = owner == actor.user_id if actor.user_id is not None else false()
    if level == "own":
        return or_(mine, owner.is_(None)) if entity == "lead" else mine
    if level == "team":
        if actor.team_id is None:
            return mine
        U = User.__table__
        return or_(mine, owner.in_(select(U.c.id).where(U.c.team_id == actor.team_id)))
    if level == "linked" and depth == 0:
        return or_(mine, _linked(table, actor))
    return false()


def _linked(table: Any, actor: Any, decide: Any = None) -> Any:
    """An activity whose most specific link is a record ``actor`` may read (or, with ``decide``,
    one ``decide(entity, table)`` accepts: a condition, None for every row)."""
    branches = []
    earlier = []  # the more specific links, which must be empty for this one to decide
    for column, entity in _LINKS:
        link = table.c.get(column)
        if link is None:
            continue
        target = _TABLES[entity]
        condition = (_condition(entity, target, actor, depth=1) if decide is None
                     else decide(entity, target))
        readable = link.is_not(None) if condition is None else link.in_(select(target.c.id).where(condition))
        branches.append(and_(*earlier, readable))
        earlier.append(link.is_(None))
    return or_(*branches) if branches else false()
