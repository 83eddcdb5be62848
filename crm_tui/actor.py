"""The acting user: who runs this command or this app, resolved once.

The CLI resolves it once per command (``commands._common.State.actor()``), the
TUI once per app start (``app.actor``), both through
``crm_tui.services.users.resolve_actor``. Every service that reads records takes
it as ``actor=``: the filter language's ``me`` is ``actor.username``, and the
scoping hook (``crm_tui.store.scope``) decides from it which rows are visible.
Nothing else looks up "who am I".
"""

from __future__ import annotations

from dataclasses import dataclass

# The role of a user the users table does not know (a first run, a CRM_USER not added yet):
# they see everything, as an admin does (on a shared PostgreSQL server the database decides).
DEFAULT_ROLE = "admin"


@dataclass(frozen=True)
class Actor:
    user_id: int | None  # None: the username is not (yet) in the users table
    username: str
    role: str
    team: str | None = None
    team_id: int | None = None
    # What this actor may read of each entity, where that is less than everything:
    # (entity, level) pairs, level one of team, own, linked, none (crm_tui/services/access.py).
    # Empty: every record (an admin, or a user the users table does not know).
    reads: tuple[tuple[str, str], ...] = ()
    # What it may edit, delete and assign, where that is less than everything: (entity, action, level).
    writes: tuple[tuple[str, str, str], ...] = ()

    def read_level(self, entity: str) -> str:
        """How much of ``entity`` this actor may read: all, team, own, linked or none."""
        return dict(self.reads).get(entity, "all")

    def level(self, entity: str, action: str) -> str:
        """How much of ``entity`` this actor may ``action`` (read, edit, delete, assign)."""
        if action == "read":
            return self.read_level(entity)
        return {(e, a): lvl for e, a, lvl in self.writes}.get((entity, action), "all")

    @property
    def restricted(self) -> bool:
        return bool(self.reads or self.writes)

    @classmethod
    def unknown(cls, username: str) -> "Actor":
        """An actor the users table does not know (yet): the default role, no team."""
        return cls(user_id=None, username=username, role=DEFAULT_ROLE, team=None)



def as_actor(value: "Actor | str") -> Actor:
    """``value`` as an Actor: services that record a username for their writes (the change log)
    also accept the bare username, as an actor the users table does not know."""
    return value if isinstance(value, Actor) else Actor.unknown(str(value))
