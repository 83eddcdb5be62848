"""The scoping hook: every read of records goes through ``scope`` on its base query.

``scope(stmt, entity=..., table=..., actor=...)`` returns ``stmt`` restricted to the
rows of ``table`` (the entity's table, as it appears in ``stmt``) that ``actor`` may
see. It only adds WHERE conditions on ``table``'s own columns (an ``owner_id``, a
``team``, an ``EXISTS`` on a grant table): never a join, so the statement each read
path runs stays the one it was tuned for.

The rule in force is the roles' read levels (``roles``: each actor carries them, see
crm_tui/store/visibility.py). For an actor that may read everything (an admin, a user
the users table does not know) and for ``actor`` None (reads made on behalf of nobody:
internal bookkeeping, a write's own read-back) ``scope`` returns ``stmt`` itself (the
same object, so a caller can skip work that only matters when a rule restricts).
``restricting`` installs another rule for a test.

The read paths that call it are listed, and proved to call it, in tests/test_scoping.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol


class Rule(Protocol):
    def __call__(self, stmt: Any, *, entity: str, table: Any, actor: Any) -> Any: ...


def everything(stmt: Any, *, entity: str, table: Any, actor: Any) -> Any:
    """The rule today: every actor sees every record."""
    return stmt


def roles(stmt: Any, *, entity: str, table: Any, actor: Any) -> Any:
    """The rule in force: what the actor's role may read (crm_tui/services/access.py's levels)."""
    if actor is None or not getattr(actor, "reads", ()):
        return stmt
    from crm_tui.store.visibility import visible

    return visible(stmt, entity=entity, table=table, actor=actor)


_rule: Rule = roles


def scope(stmt: Any, *, entity: str, table: Any, actor: Any) -> Any:
    """``stmt`` restricted to the rows of ``table`` (holding ``entity`` records) that ``actor`` may see."""
    return _rule(stmt, entity=entity, table=table, actor=actor)


def restricts() -> bool:
    """Whether a rule other than the roles' is installed (a test's)."""
    return _rule is not roles


@contextlib.contextmanager
def restricting(rule: Rule | Callable[..., Any]) -> Iterator[None]:
    """Install ``rule`` for the duration of the block (tests; the roles issue sets it for good)."""
    global _rule
    previous, _rule = _rule, rule  # type: ignore[assignment]
    try:
        yield
    finally:
        _rule = previous
