"""Notifications: in-app notices to one user, and the e-mail of the kinds they chose.

``notify`` writes a notification for a user in the caller's transaction; when that user chose
e-mail for its kind (``set_prefs``) and has an address, it also queues one ``outbox`` row whose
dedupe key is the notification's id, in the same transaction: both are written or neither.
The job ``notifications_email`` (``send_pending``, run by ``crm jobs run``) sends the outbox.

Every read and write here is the acting user's own: ``list_for``, ``unread_count``,
``mark_read`` never show or touch another user's notifications (an id that is not theirs is
"not found"). Titles and bodies are stored exactly as given (a lead's name typed by a web
visitor included) and shown through ``crm_tui.text.visible`` by the front ends.

The kinds: ``assigned`` (a lead or deal given to you), ``team_lead`` (a new lead for your
team), ``deal_won`` / ``deal_lost`` (a deal of your team closed), ``proposal_accepted``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from crm_tui.actor import Actor
from crm_tui.errors import NotFound, ValidationError
from crm_tui.store.models import NOTIFICATION_KINDS, Notification, NotificationPref, OutboxMessage, User, utcnow

log = logging.getLogger(__name__)

N = Notification.__table__
O = OutboxMessage.__table__  # noqa: E741 - the outbox table
KINDS = NOTIFICATION_KINDS
KIND_HELP = {
    "assigned": "a lead or deal assigned to you",
    "team_lead": "a new lead for your team",
    "deal_won": "a deal of your team won",
    "deal_lost": "a deal of your team lost",
    "proposal_accepted": "a proposal of yours accepted",
}
LIST_COLUMNS = ("id", "created_at", "kind", "title", "entity", "record_id", "read")
ROW_KEYS = ("id", "created_at", "kind", "title", "body", "entity", "record_id", "read_at", "read")
CHANNEL = "crm_notifications"  # PostgreSQL NOTIFY channel; the payload is the user's id
MAX_TITLE = 500


def _kind(kind: str) -> str:
    text = (kind or "").strip().lower()
    if text not in KINDS:
        raise ValidationError("kind", kind, f"is not a notification kind; kinds are: {', '.join(KINDS)}")
    return text


def _me(session: Session, actor: Actor) -> int | None:
    from crm_tui.services.users import actor_user_id

    return actor_user_id(session, actor)


# ---------------------------------------------------------------- writing


def notify(*, session: Session, user_id: int, kind: str, title: str, body: str | None = None,
           entity: str | None = None, record_id: int | None = None, now: dt.datetime | None = None) -> int | None:
    """Notify user ``user_id`` (in the caller's transaction); its id, or None when the user is inactive
    or unknown. Queues the e-mail too when the user chose e-mail for ``kind`` and has an address."""
    kind = _kind(kind)
    user = session.execute(select(User.__table__.c.active, User.__table__.c.email)
                           .where(User.__table__.c.id == user_id)).first()
    if user is None or not user.active:
        return None
    when = now or utcnow()
    title = (title or kind)[:MAX_TITLE]
    values = dict(user_id=user_id, kind=kind, title=title, body=body, entity=entity, record_id=record_id,
                  created_at=when)
    if session.get_bind().dialect.name == "postgresql":
        # No RETURNING: row security checks a returned row against the read policy, and the writer (a
        # rep assigning a deal to a teammate) may not read another user's notification. The id comes
        # from the table's sequence first.
        nid = int(session.execute(select(func.nextval(func.pg_get_serial_sequence(N.name, "id")))).scalar_one())
        session.execute(insert(N).values(id=nid, **values))
    else:
        nid = session.execute(insert(N).values(**values).returning(N.c.id)).scalar_one()
    if user.email and _wants_email(session, user_id, kind):
        session.execute(insert(O).values(
            dedupe_key=f"notification:{nid}", to_addr=user.email, subject=title[:MAX_TITLE],
            body=_email_body(title, body, entity, record_id), created_at=when, attempts=0))
    if session.get_bind().dialect.name == "postgresql":
        # Delivered at commit only, to every open app listening: a new notification for this user.
        session.execute(select(func.pg_notify(CHANNEL, str(user_id))))
    return nid


def _wants_email(session: Session, user_id: int, kind: str) -> bool:
    P = NotificationPref.__table__
    return bool(session.execute(select(P.c.email).where(P.c.user_id == user_id, P.c.kind == kind)).scalar())


def _email_body(title: str, body: str | None, entity: str | None, record_id: int | None) -> str:
    lines = [title]
    if body:
        lines += ["", body]
    if entity and record_id is not None:
        lines += ["", f"Open it: crm {entity} show {record_id}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- reading (the actor's own)


def _row(r: Any) -> dict:
    data = dict(r._mapping)
    data["read"] = data["read_at"] is not None
    return {k: data[k] for k in ROW_KEYS}


def list_for(*, session: Session, actor: Actor, unread: bool = False, limit: int | None = 200) -> list[dict]:
    """The acting user's notifications, newest first (``unread``: only those not read yet)."""
    me = _me(session, actor)
    if me is None:
        return []
    stmt = select(N).where(N.c.user_id == me)
    if unread:
        stmt = stmt.where(N.c.read_at.is_(None))
    stmt = stmt.order_by(N.c.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return [_row(r) for r in session.execute(stmt)]


def unread_count(*, session: Session, actor: Actor) -> int:
    me = _me(session, actor)
    if me is None:
        return 0
    return int(session.execute(select(func.count()).select_from(N)
                               .where(N.c.user_id == me, N.c.read_at.is_(None))).scalar() or 0)


def latest_id(*, session: Session, actor: Actor) -> int:
    """The id of the acting user's newest notification (0: none): the app's cheap poll."""
    me = _me(session, actor)
    if me is None:
        return 0
    return int(session.execute(select(func.max(N.c.id)).where(N.c.user_id == me)).scalar() or 0)


def since(*, session: Session, actor: Actor, after_id: int, limit: int = 20) -> list[dict]:
    """The acting user's notifications newer than ``after_id``, newest first."""
    me = _me(session, actor)
    if me is None:
        return []
    stmt = select(N).where(N.c.user_id == me, N.c.id > after_id).order_by(N.c.id.desc()).limit(limit)
    return [_row(r) for r in session.execute(stmt)]


def status(*, session: Session, actor: Actor) -> tuple[int, int]:
    """(newest id, unread count) of the acting user's notifications, for the app's header."""
    return latest_id(session=session, actor=actor), unread_count(session=session, actor=actor)


def get(*, session: Session, actor: Actor, notification_id: int) -> dict:
    me = _me(session, actor)
    row = session.execute(select(N).where(N.c.id == notification_id, N.c.user_id == me)).first()
    if row is None or me is None:
        raise NotFound("notification", notification_id)
    return _row(row)


def mark_read(*, session: Session, actor: Actor, notification_id: int) -> dict:
    """Mark one of the acting user's notifications read (already read: unchanged)."""
    found = get(session=session, actor=actor, notification_id=notification_id)
    if found["read_at"] is None:
        session.execute(update(N).where(N.c.id == notification_id, N.c.read_at.is_(None)).values(read_at=utcnow()))
    return get(session=session, actor=actor, notification_id=notification_id)


def mark_all_read(*, session: Session, actor: Actor) -> int:
    """Mark every unread notification of the acting user read; how many there were."""
    me = _me(session, actor)
    if me is None:
        return 0
    result = session.execute(update(N).where(N.c.user_id == me, N.c.read_at.is_(None)).values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # DML gives a CursorResult


def listen(*, engine: Any, user_id: int | None, wake: Any, stop: Any, ready: Any = None, wait: float = 1.0) -> bool:
    """On PostgreSQL: wait for NOTIFY on ``CHANNEL`` (sent by ``notify`` at commit) and call ``wake()``
    for each one meant for ``user_id``, until ``stop`` (a threading.Event) is set. Blocks; run it in a
    thread. ``ready`` (an Event) is set once listening. False at once on other databases (poll there)."""
    if engine.dialect.name != "postgresql" or user_id is None:
        return False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"LISTEN {CHANNEL}")
        driver = conn.connection.driver_connection
        if ready is not None:
            ready.set()
        while not stop.is_set():
            for note in driver.notifies(timeout=wait, stop_after=1):
                if note.payload == str(user_id):
                    wake()
        conn.exec_driver_sql(f"UNLISTEN {CHANNEL}")
    return True


# ---------------------------------------------------------------- preferences


def prefs(*, session: Session, actor: Actor) -> list[dict]:
    """Every kind, and whether the acting user gets it by e-mail too."""
    me = _me(session, actor)
    P = NotificationPref.__table__
    chosen = {} if me is None else {k: bool(e) for k, e in session.execute(
        select(P.c.kind, P.c.email).where(P.c.user_id == me))}
    return [{"kind": k, "email": chosen.get(k, False), "what": KIND_HELP[k]} for k in KINDS]


def set_prefs(*, session: Session, actor: Actor, email: list[str] | None = None,
              no_email: list[str] | None = None) -> list[dict]:
    """Turn e-mail on for the kinds in ``email`` and off for those in ``no_email`` ("all": every kind)."""
    me = _me(session, actor)
    if me is None:
        raise ValidationError("user", actor.username, "is not a user yet (crm user add); "
                                                      "preferences belong to a user")
    on = _kinds(email or [])
    off = _kinds(no_email or [])
    both = sorted(set(on) & set(off))
    if both:
        raise ValidationError("kind", both[0], "is given both with --email and --no-email")
    P = NotificationPref.__table__
    for kind, wanted in [*((k, True) for k in on), *((k, False) for k in off)]:
        found = session.execute(select(P.c.kind).where(P.c.user_id == me, P.c.kind == kind)).first()
        if found is None:
            session.execute(insert(P).values(user_id=me, kind=kind, email=wanted))
        else:
            session.execute(update(P).where(P.c.user_id == me, P.c.kind == kind).values(email=wanted))
    return prefs(session=session, actor=actor)


def _kinds(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        for part in str(value).split(","):
            if not part.strip():
                continue
            if part.strip().lower() == "all":
                out += [k for k in KINDS if k not in out]
            else:
                kind = _kind(part)
                if kind not in out:
                    out.append(kind)
    return out


# ---------------------------------------------------------------- recipients


def team_readers(session: Session, *, entity: str, record_id: int, team_id: int | None,
                 exclude: set[int | None] = frozenset(),  # type: ignore[assignment]
                 owned_by: int | None = None) -> list[int]:
    """The active members of ``team_id`` who may read the record (their role's rules), but ``exclude``.
    ``owned_by``: decide from the record's owner instead of reading it (a new lead the rules gave someone the
    writer may not read, on PostgreSQL): a member reads it when their role reads all such records, their
    team's (the owner is in their team) or their own (they own it)."""
    if team_id is None:
        return []
    from crm_tui.services.registry import ENTITIES
    from crm_tui.services.users import actor_for
    from crm_tui.store.visibility import visible

    table = ENTITIES[entity].table
    out = []
    members = session.execute(select(User).where(User.team_id == team_id, col(User.active).is_(True))
                              .order_by(User.id)).scalars().all()
    owner_team = user_team(session, owned_by)
    for member in members:
        if member.id in exclude:
            continue
        if owned_by is not None:
            level = actor_for(member, session).read_level(entity)
            if level == "all" or member.id == owned_by or (
                    level == "team" and member.team_id is not None and member.team_id == owner_team):
                assert member.id is not None
                out.append(member.id)
            continue
        stmt = visible(select(table.c.id).where(table.c.id == record_id), entity=entity, table=table,
                       actor=actor_for(member, session))
        if session.execute(stmt).first() is not None:
            assert member.id is not None
            out.append(member.id)
    return out


def user_team(session: Session, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return session.execute(select(User.team_id).where(User.id == user_id)).scalar()


def display_name(session: Session, user_id: int | None, fallback: str = "someone") -> str:
    if user_id is None:
        return fallback
    row = session.execute(select(User.name, User.username).where(User.id == user_id)).first()
    return (row.name or row.username) if row else fallback
