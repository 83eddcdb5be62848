"""Accounts shared with a user for learning: the account, its contacts, deals, proposals,
activities and history become readable by them in full, whatever their role's levels.

Sharing an account needs the right to assign it (an admin; a manager for their team's accounts).
Both backends honour a share: the app's visibility rule (crm_tui/store/visibility.py) and, on
PostgreSQL, the row-level security policies (crm_tui/store/row_security.py).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import ValidationError
from crm_tui.services.registry import entity_for
from crm_tui.services.users import get_user
from crm_tui.store.models import AccountShare, User


def _checked(session: Session, actor: Actor, account_id: int) -> None:
    from crm_tui.services.records import check_right, get_record

    account = entity_for("account")
    get_record(account, session=session, record_id=account_id, actor=actor)  # NotFound when unreadable
    check_right(account, session, account_id, actor, "assign")


def share_account(*, session: Session, actor: Actor, account_id: int, username: str) -> bool:
    """Share account ``account_id`` with ``username``; False when it already was."""
    _checked(session, actor, account_id)
    user = get_user(session=session, username=username)
    if not user.active:
        raise ValidationError("user", username, "is deactivated")
    exists = session.execute(select(AccountShare.account_id).where(
        AccountShare.account_id == account_id, AccountShare.user_id == user.id)).first()
    if exists is not None:
        return False
    session.add(AccountShare(account_id=account_id, user_id=user.id, shared_by=actor.username))
    session.flush()
    return True


def unshare_account(*, session: Session, actor: Actor, account_id: int, username: str) -> bool:
    """Stop sharing account ``account_id`` with ``username``; False when it was not shared with them."""
    _checked(session, actor, account_id)
    user = get_user(session=session, username=username)
    result = session.execute(delete(AccountShare).where(AccountShare.account_id == account_id,
                                                        AccountShare.user_id == user.id))
    return bool(getattr(result, "rowcount", 0))


def account_shares(*, session: Session, actor: Actor, account_id: int) -> list[dict]:
    """Who account ``account_id`` is shared with."""
    from crm_tui.services.records import get_record

    get_record(entity_for("account"), session=session, record_id=account_id, actor=actor)
    rows = session.execute(select(User.username, User.name, AccountShare.shared_by, AccountShare.created_at)
                           .join(User, User.id == AccountShare.user_id)
                           .where(AccountShare.account_id == account_id).order_by(User.username))
    return [{"username": u, "name": n, "shared_by": by, "shared_at": at} for u, n, by, at in rows]
