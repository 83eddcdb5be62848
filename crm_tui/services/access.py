"""Roles and what each may do: the rules table.

A rule says that a role may do an action (read, edit, delete, assign) on the records of
an entity at a level:

- ``all``: every record;
- ``team``: records owned by a member of the user's team (and their own);
- ``own``: records the user owns (for leads, unassigned leads too: they wait for an owner);
- ``linked``: activities logged on a record the user may read;
- ``none``: nothing.

``DEFAULT_RULES`` are the defaults a new install starts with; an admin changes them with
``crm role set`` (rows of ``role_rules`` that override the default, one per role, entity and
action). The read levels travel on the Actor (``Actor.reads``, resolved once per command and app
start) and the scoping hook applies them on every read (``crm_tui.store.visibility``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import ValidationError
from crm_tui.store.models import USER_ROLES, RoleRule, utcnow

# The defaults are data PostgreSQL's row security reads too (crm_tui/store/row_security.py): they
# live in the store, and are this module's.
from crm_tui.store.rules import ACTIONS, DEFAULT_RULES, LEVELS, RULE_ENTITIES  # noqa: F401


@dataclass(frozen=True)
class Rule:
    role: str
    entity: str
    action: str
    level: str
    default: str  # the level before any admin change

    @property
    def changed(self) -> bool:
        return self.level != self.default


def _choice(field: str, value: str | None, choices: tuple[str, ...]) -> str:
    text = (value or "").strip().lower()
    if text not in choices:
        raise ValidationError(field, value, f"is not one of: {', '.join(choices)}")
    return text


def rules(*, session: Session, role: str | None = None) -> list[Rule]:
    """The rules in effect (defaults with an admin's changes), for one role or all, in a stable order."""
    roles = (_choice("role", role, USER_ROLES),) if role is not None else USER_ROLES
    changed = {(r.role, r.entity, r.action): r.level for r in session.execute(select(RoleRule)).scalars()}
    out = []
    for name in roles:
        for entity in RULE_ENTITIES:
            for action in ACTIONS:
                default = DEFAULT_RULES[name][entity][action]
                out.append(Rule(name, entity, action, changed.get((name, entity, action), default), default))
    return out


def _levels(session: Session | None, role: str) -> dict[tuple[str, str], str]:
    levels = {(entity, action): DEFAULT_RULES[role][entity][action] for entity in RULE_ENTITIES for action in ACTIONS}
    if session is not None:
        R = RoleRule.__table__  # a Core read: resolving an Actor never configures the ORM mappers
        for entity, action, lvl in session.execute(select(R.c.entity, R.c.action, R.c.level)
                                                   .where(R.c.role == role)):
            levels[(entity, action)] = lvl
    return levels


def read_levels(*, session: Session | None, role: str) -> tuple[tuple[str, str], ...]:
    """(entity, level) for every entity ``role`` may read less than all of (the Actor's ``reads``)."""
    if role not in DEFAULT_RULES:
        return ()
    return tuple((e, lvl) for (e, a), lvl in _levels(session, role).items() if a == "read" and lvl != "all")


def write_levels(*, session: Session | None, role: str) -> tuple[tuple[str, str, str], ...]:
    """(entity, action, level) for every edit, delete and assign ``role`` may do on less than all records
    (the Actor's ``writes``)."""
    if role not in DEFAULT_RULES:
        return ()
    return tuple((e, a, lvl) for (e, a), lvl in _levels(session, role).items() if a != "read" and lvl != "all")


def set_rule(*, session: Session, actor: Actor, role: str, entity: str, action: str, level: str) -> Rule:
    """Change one rule (admins only); setting it back to the default removes the change."""
    from crm_tui.services.users import require_admin

    require_admin(session=session, actor=actor, what="change role rules")
    role = _choice("role", role, USER_ROLES)
    if role == "admin":
        raise ValidationError("role", role, "always has every right (an admin must be able to undo any change)")
    entity = _choice("entity", entity, RULE_ENTITIES)
    action = _choice("action", action, ACTIONS)
    wanted = _choice("level", level, LEVELS)
    if wanted == "linked" and entity != "activity":
        raise ValidationError("level", level, "applies to activities only (those logged on a visible record)")
    default = DEFAULT_RULES[role][entity][action]
    row = session.execute(select(RoleRule).where(
        RoleRule.role == role, RoleRule.entity == entity, RoleRule.action == action)).scalars().first()
    if wanted == default:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(RoleRule(role=role, entity=entity, action=action, level=wanted, changed_by=actor.username))
    else:
        row.level, row.changed_by, row.changed_at = wanted, actor.username, utcnow()
        session.add(row)
    session.flush()
    return Rule(role, entity, action, wanted, default)
