"""The outbox: every outgoing e-mail once, sent by the job ``notifications_email``.

A row is queued in the transaction of what caused it (``notify``), with a unique dedupe key,
so the same message is never queued twice. ``send_pending`` sends the rows not sent yet, one
at a time, each in three steps, each committed on its own:

1. claim: ``attempts + 1`` and ``claimed_at`` are set by a conditional UPDATE that only one
   runner wins (a row claimed less than ``LEASE`` ago by a runner still at work is skipped), so two
   runners at once (cron on two machines, the app's timer) never send the same row;
2. send it over SMTP (its Message-ID is derived from the dedupe key);
3. ``sent_at`` is set at once; a failure instead records ``last_error`` and frees the claim, so the
   next run tries again (at most ``MAX_ATTEMPTS`` times in all).

A crash before step 2 ends leaves a claimed, unsent row: after the lease it is sent (never lost).
The only window in which a message can go out twice is a crash between the server accepting it
and step 3's commit, a few milliseconds; a mail client that sees the same Message-ID twice shows it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine

from crm_tui.store.db import session_scope
from crm_tui.store.models import OutboxMessage, utcnow

O = OutboxMessage.__table__  # noqa: E741 - the outbox table
LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 10
BATCH = 200


def _sendable(now: dt.datetime):
    return and_(O.c.sent_at.is_(None), O.c.attempts < MAX_ATTEMPTS,
                or_(O.c.claimed_at.is_(None), O.c.claimed_at < now - LEASE))


def _claim(engine: Engine, row_id: int, now: dt.datetime, runner: str) -> dict | None:
    with session_scope(engine) as s:
        result = s.execute(update(O).where(O.c.id == row_id, _sendable(now))
                           .values(claimed_at=now, claimed_by=runner[:200], attempts=O.c.attempts + 1))
        if result.rowcount != 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
            return None
        return dict(s.execute(select(O).where(O.c.id == row_id)).one()._mapping)


def _message_id(row: dict, sender: str) -> str:
    digest = hashlib.sha256(row["dedupe_key"].encode()).hexdigest()[:24]
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "localhost"
    return f"<crm-outbox-{row['id']}-{digest}@{domain}>"


def send_pending(*, engine: Engine, smtp: Any, now: dt.datetime | None = None, runner: str = "crm",
                 limit: int = BATCH) -> str | None:
    """Send the outbox rows waiting (at most ``limit``); one line saying what happened, None when
    there was nothing to send or no SMTP server is configured (the rows wait for one)."""
    from crm_tui.errors import CRMError
    from crm_tui.integrations import mail

    if smtp is None or not getattr(smtp, "host", None):
        return None
    now = now or utcnow()
    with session_scope(engine) as s:
        ids = list(s.execute(select(O.c.id).where(_sendable(now)).order_by(O.c.id).limit(limit)).scalars())
    if not ids:
        return None
    settings = mail.SmtpSettings.from_settings(smtp)
    sent, failed = 0, None
    for row_id in ids:
        row = _claim(engine, row_id, now, runner)
        if row is None:
            continue  # another runner has it, or sent it
        msg = mail.build_message(sender=settings.sender, to=row["to_addr"], subject=row["subject"], text=row["body"])
        msg.replace_header("Message-ID", _message_id(row, settings.sender))
        try:
            mail.send(settings, [msg])
        except CRMError as exc:
            failed = str(exc)
            with session_scope(engine) as s:
                s.execute(update(O).where(O.c.id == row_id).values(last_error=failed[:1000], claimed_at=None))
            break  # the server is down or refuses: the rest wait for the next run
        with session_scope(engine) as s:
            s.execute(update(O).where(O.c.id == row_id).values(sent_at=utcnow(), last_error=None))
        sent += 1
    if failed:
        raise mail.MailError(f"sent {sent} e-mail{'' if sent == 1 else 's'}, then: {failed}" if sent else failed)
    return f"sent {sent} notification e-mail{'' if sent == 1 else 's'}" if sent else None
