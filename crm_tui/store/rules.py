"""The roles' default rules: role x entity x action -> level.

Data only: crm_tui/services/access.py explains and edits the rules (an admin's changes live in
``role_rules``); crm_tui/store/visibility.py applies them in the app and
crm_tui/store/row_security.py in PostgreSQL's row-level security, both from this one table.
"""

from __future__ import annotations

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
