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

ACTIONS = ("read", "edit", "delete", "assign")
LEVELS = ("all", "team", "own", "linked", "none")
# The entities rules speak of: the registry's records and proposals.
RULE_ENTITIES = ("account", "contact", "lead", "opportunity", "activity", "proposal", "product")


def _same(level: str) -> dict[str, str]:
    return {action: level for action in ACTIONS}


def _rules(read: str, edit: str, delete: str, assign: str) -> dict[str, str]:
    return {"read": read, "edit": edit, "delete": delete, "assign": assign}


DEFAULT_RULES: dict[str, dict[str, dict[str, str]]] = {
    # Everything, and users, teams, stages and these rules.
    "admin": {entity: _same("all") for entity in RULE_ENTITIES},
    # Their team's records; the shared catalog as everyone reads it.
    "manager": {
        "account": _rules("all", "team", "team", "team"),
        "contact": _rules("all", "team", "team", "team"),
        "lead": _same("team"),
        "opportunity": _same("team"),
        "activity": _rules("linked", "team", "team", "team"),
        "proposal": _same("team"),
        "product": _rules("all", "none", "none", "none"),
    },
    # Reads every active account and contact, edits their own; their own leads (and unassigned ones)
    # and deals; the activities of what they can see.
    "sales": {
        "account": _rules("all", "own", "none", "none"),
        "contact": _rules("all", "own", "none", "none"),
        "lead": _rules("own", "own", "own", "none"),
        "opportunity": _rules("own", "own", "own", "none"),
        "activity": _rules("linked", "own", "own", "none"),
        "proposal": _rules("own", "own", "own", "none"),
        "product": _rules("all", "none", "none", "none"),
    },
    # Invoices and payments (the billing work); reads deals, accounts, contacts and proposals.
    "finance": {
        "account": _rules("all", "none", "none", "none"),
        "contact": _rules("all", "none", "none", "none"),
        "lead": _same("none"),
        "opportunity": _rules("all", "none", "none", "none"),
        "activity": _rules("linked", "none", "none", "none"),
        "proposal": _rules("all", "none", "none", "none"),
        "product": _rules("all", "none", "none", "none"),
    },
}


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
