"""Notifications: what each user is told (and only them), `crm notification list|read|prefs`, and the
e-mail of the chosen kinds through the outbox, sent by `crm jobs run` to a real SMTP server (aiosmtpd).

Every test runs on SQLite and (when configured) PostgreSQL, as CRM_USER=tester (conftest).
"""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from crm_tui.errors import NotFound
from crm_tui.services import notifications, outbox
from crm_tui.services.quotes import proposals
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import session_scope
from crm_tui.store.models import Notification, OutboxMessage, User

ME = "tester"


@pytest.fixture
def people(cli):
    """tester is the admin; West has jess and bob (sales) and maria (manager); carol is in no team."""
    assert cli("user", "add", ME, "--name", "Tess Ter", "--role", "admin", "--email", "tess@example.com").exit_code == 0
    assert cli("team", "add", "West").exit_code == 0
    for args in (("jess", "--name", "Jessica Lee", "--team", "West", "--email", "jess@example.com"),
                 ("bob", "--name", "Bob Stone", "--team", "West", "--email", "bob@example.com"),
                 ("maria", "--name", "Maria Ruiz", "--role", "manager", "--team", "West"), ("carol",)):
        res = cli("user", "add", *args)
        assert res.exit_code == 0, res.stderr
    return cli


def listed(cli, user: str, *args: str) -> list[dict]:
    res = cli("notification", "list", "--format", "json", *args, env={"CRM_USER": user})
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def titles(cli, user: str, *args: str) -> list[str]:
    return [n["title"] for n in listed(cli, user, *args)]


def test_each_user_sees_only_their_own_and_marks_them_read(people, engine):
    cli = people
    a = cli("lead", "add", "--last-name", "Ames", "--owner", "jess").stdout.strip()
    b = cli("lead", "add", "--last-name", "Bell", "--owner", "jess").stdout.strip()
    cli("lead", "add", "--last-name", "Cole", "--owner", "bob")
    mine = listed(cli, "jess")
    assert [n["title"] for n in mine] == ["Lead Bell assigned to you by Tess Ter", "Lead Ames assigned to you by Tess Ter"]
    assert [(n["entity"], n["record_id"], n["read"]) for n in mine] == [("lead", int(b), False), ("lead", int(a), False)]
    assert titles(cli, "bob") == ["Lead Cole assigned to you by Tess Ter"]
    assert titles(cli, ME) == [] and titles(cli, "carol") == []

    # Another's notification is "not found", and stays unread.
    bobs = listed(cli, "bob")[0]["id"]
    assert f"notification {bobs} not found" in cli.error(cli("notification", "read", str(bobs), env={"CRM_USER": "jess"}))
    assert listed(cli, "bob", "--unread")[0]["read"] is False

    res = cli("notification", "read", str(mine[1]["id"]), env={"CRM_USER": "jess"})
    assert res.exit_code == 0 and res.stdout.strip() == str(mine[1]["id"])
    assert titles(cli, "jess", "--unread") == ["Lead Bell assigned to you by Tess Ter"]
    res = cli("notification", "read", "--all", env={"CRM_USER": "jess"})
    assert res.exit_code == 0 and "marked 1 notification read" in res.stderr
    assert titles(cli, "jess", "--unread") == []
    assert listed(cli, "bob", "--unread") != []  # bob's are untouched
    with session_scope(engine) as s:
        jess = resolve_actor(session=s, username="jess")
        assert notifications.unread_count(session=s, actor=jess) == 0
        assert notifications.latest_id(session=s, actor=jess) == mine[0]["id"]
        with pytest.raises(NotFound):
            notifications.mark_read(session=s, actor=jess, notification_id=bobs)


def test_bad_input_is_one_line(people):
    cli = people
    assert "give a notification ID or --all" in cli.error(cli("notification", "read"))
    assert "give a notification ID or --all" in cli.error(cli("notification", "read", "1", "--all"))
    assert "notification 99 not found" in cli.error(cli("notification", "read", "99"))
    assert "is not a notification kind" in cli.error(cli("notification", "prefs", "--email", "spam"))
    assert "both with --email and --no-email" in cli.error(
        cli("notification", "prefs", "--email", "assigned", "--no-email", "assigned"))


def test_deal_won_or_lost_tells_the_owner_and_the_team_members_who_can_read_it(people):
    cli = people
    deal = cli("opp", "add", "Big deal", "--owner", "jess", "--amount", "5000").stdout.strip()
    assert cli("opp", "move", deal, "Won").exit_code == 0
    assert titles(cli, "jess")[0] == "Deal Big deal won (Jessica Lee)"
    assert titles(cli, "maria") == ["Deal Big deal won (Jessica Lee)"]  # the manager reads the team's deals
    assert titles(cli, "bob") == []  # a sales rep does not read a teammate's deals: not told either
    assert titles(cli, "carol") == []
    other = cli("opp", "add", "Small deal", "--owner", "jess").stdout.strip()
    assert cli("opp", "move", other, "Lost", "--reason", "price", env={"CRM_USER": "jess"}).exit_code == 0
    lost = listed(cli, "maria")[0]
    assert (lost["kind"], lost["title"], lost["body"]) == (
        "deal_lost", "Deal Small deal lost (Jessica Lee)", "Moved to Lost by Jessica Lee; reason: price")
    assert "Deal Small deal lost (Jessica Lee)" not in titles(cli, "jess")  # she did it herself


def test_proposal_accepted_tells_the_deal_owner(people, engine):
    cli = people
    deal = int(cli("opp", "add", "Seats", "--owner", "jess").stdout)
    with session_scope(engine) as s:
        prop = proposals.new_proposal(session=s, opportunity_id=deal, actor="jess", title="Seats offer")
        proposals.add_line(session=s, proposal_id=prop.id, actor="jess",
                           data={"description": "Seats", "quantity": "2", "unit_price": "10.00"})
        proposals.send_proposal(session=s, proposal_id=prop.id, actor="jess")
        proposals.accept_proposal(session=s, proposal_id=prop.id, actor=ME)
    got = listed(cli, "jess")[0]
    assert (got["kind"], got["title"], got["entity"], got["record_id"]) == (
        "proposal_accepted", f"Proposal {prop.number} for Seats accepted", "proposal", prop.id)


def test_text_from_outside_is_stored_as_is_and_shown_inert(people, engine):
    cli = people
    name = "Evil\x1b]0;pwned\x07[red]x[/]"
    lead = cli("lead", "add", "--last-name", name, "--owner", "jess")
    assert lead.exit_code == 0, lead.stderr
    with session_scope(engine) as s:
        stored = s.execute(select(Notification.title)).scalar()
    assert stored == f"Lead {name} assigned to you by Tess Ter"
    table = cli("notification", "list", env={"CRM_USER": "jess"}).stdout
    assert "\x1b" not in table and "\\x1b]0;pwned\\x07[red]x[/]" in table


# ---------------------------------------------------------------- e-mail


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self):
        self.envelopes = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 try again later"
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(isolated_env):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    config = {"smtp": {"host": "127.0.0.1", "port": port, "tls": "none", "from": "crm@example.com"}}
    (isolated_env / "config" / "config.json").write_text(json.dumps(config))
    yield inbox
    controller.stop()


def outbox_rows(engine) -> list[dict]:
    with session_scope(engine) as s:
        return [dict(r._mapping) for r in s.execute(select(OutboxMessage.__table__).order_by(OutboxMessage.id))]


def run_mail_job(cli):
    res = cli("jobs", "run", "--job", "notifications_email")
    return res


def test_chosen_kinds_are_mailed_once_by_the_jobs(people, engine, smtp_server):
    cli = people
    res = cli("notification", "prefs", "--email", "assigned", "--format", "json", env={"CRM_USER": "jess"})
    assert res.exit_code == 0, res.stderr
    assert {p["kind"]: p["email"] for p in json.loads(res.stdout)}["assigned"] is True
    lead = cli("lead", "add", "--last-name", "Mail", "--owner", "jess").stdout.strip()
    cli("lead", "add", "--last-name", "NoMail", "--owner", "bob")  # bob did not ask for e-mail
    [row] = outbox_rows(engine)
    assert row["to_addr"] == "jess@example.com" and row["sent_at"] is None
    nid = listed(cli, "jess")[0]["id"]
    assert row["dedupe_key"] == f"notification:{nid}"

    res = cli("jobs", "run")  # cron's command: every due job, this one included
    assert res.exit_code == 0, res.stderr
    assert "notifications_email" in res.stderr and "sent 1 notification e-mail" in res.stderr
    assert len(smtp_server.envelopes) == 1
    env = smtp_server.envelopes[0]
    assert env.rcpt_tos == ["jess@example.com"] and env.mail_from == "crm@example.com"
    msg = email.message_from_bytes(env.original_content, policy=policy.default)
    assert msg["Subject"] == "Lead Mail assigned to you by Tess Ter"
    assert f"crm lead show {lead}" in msg.get_body(("plain",)).get_content()
    assert outbox_rows(engine)[0]["sent_at"] is not None and outbox_rows(engine)[0]["attempts"] == 1

    # A second run (due or forced) sends nothing again.
    assert run_mail_job(cli).exit_code == 0
    assert cli("jobs", "run").exit_code == 0
    assert len(smtp_server.envelopes) == 1

    # Turned off: no more outbox rows.
    assert cli("notification", "prefs", "--no-email", "all", env={"CRM_USER": "jess"}).exit_code == 0
    cli("lead", "add", "--last-name", "Quiet", "--owner", "jess")
    assert len(outbox_rows(engine)) == 1


def test_a_failing_server_leaves_the_row_pending_with_its_error_then_it_goes(people, engine, smtp_server):
    cli = people
    assert cli("notification", "prefs", "--email", "all", env={"CRM_USER": "jess"}).exit_code == 0
    cli("lead", "add", "--last-name", "Retry", "--owner", "jess")
    smtp_server.refuse = True
    res = run_mail_job(cli)
    assert res.exit_code == 1 and "try again later" in res.stderr and "Traceback" not in res.stderr
    [row] = outbox_rows(engine)
    assert row["sent_at"] is None and row["attempts"] == 1 and "try again later" in row["last_error"]
    assert row["claimed_at"] is None  # free for the next run
    smtp_server.refuse = False
    assert run_mail_job(cli).exit_code == 0
    [row] = outbox_rows(engine)
    assert row["sent_at"] is not None and row["attempts"] == 2 and row["last_error"] is None
    assert len(smtp_server.envelopes) == 1


def test_nothing_listening_is_one_error_and_nothing_lost(people, engine, isolated_env):
    cli = people
    (isolated_env / "config" / "config.json").write_text(json.dumps(
        {"smtp": {"host": "127.0.0.1", "port": free_port(), "tls": "none"}}))
    assert cli("notification", "prefs", "--email", "assigned", env={"CRM_USER": "jess"}).exit_code == 0
    cli("lead", "add", "--last-name", "Down", "--owner", "jess")
    res = run_mail_job(cli)
    assert res.exit_code == 1 and "cannot reach SMTP server 127.0.0.1" in res.stderr
    [row] = outbox_rows(engine)
    assert row["sent_at"] is None and "cannot reach" in row["last_error"]


def test_a_crash_mid_send_is_sent_after_the_lease_and_a_claim_is_never_sent_twice(people, engine, smtp_server):
    cli = people
    assert cli("notification", "prefs", "--email", "assigned", env={"CRM_USER": "jess"}).exit_code == 0
    cli("lead", "add", "--last-name", "Crash", "--owner", "jess")
    from crm_tui.settings import SmtpConfig

    smtp = SmtpConfig(host="127.0.0.1", port=smtp_server_port(cli), tls="none")
    now = dt.datetime.now(dt.timezone.utc)
    # A runner claimed the row and died before sending: nobody sends it while its claim is fresh.
    with session_scope(engine) as s:
        s.execute(update(OutboxMessage.__table__).values(claimed_at=now, claimed_by="dead:1", attempts=1))
    assert outbox.send_pending(engine=engine, smtp=smtp, now=now) is None
    assert smtp_server.envelopes == []
    # After the lease it is sent, once, by whoever runs next.
    later = now + outbox.LEASE + dt.timedelta(seconds=1)
    assert outbox.send_pending(engine=engine, smtp=smtp, now=later) == "sent 1 notification e-mail"
    assert outbox.send_pending(engine=engine, smtp=smtp, now=later) is None
    assert len(smtp_server.envelopes) == 1


def smtp_server_port(cli) -> int:
    res = cli("config", "show", "--format", "json")
    return json.loads(res.stdout)["smtp"]["port"]


def test_two_senders_at_once_send_each_message_once(people, engine, smtp_server):
    cli = people
    assert cli("notification", "prefs", "--email", "assigned", env={"CRM_USER": "jess"}).exit_code == 0
    for i in range(12):
        assert cli("lead", "add", "--last-name", f"Race{i}", "--owner", "jess").exit_code == 0
    from crm_tui.settings import SmtpConfig

    smtp = SmtpConfig(host="127.0.0.1", port=smtp_server_port(cli), tls="none")
    barrier = threading.Barrier(2)
    errors = []

    def sender(name: str) -> None:
        try:
            barrier.wait()
            outbox.send_pending(engine=engine, smtp=smtp, runner=name)
        except Exception as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"runner{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    subjects = sorted(email.message_from_bytes(e.original_content, policy=policy.default)["Subject"]
                      for e in smtp_server.envelopes)
    assert subjects == sorted(f"Lead Race{i} assigned to you by Tess Ter" for i in range(12))
    assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in outbox_rows(engine))


def test_notify_skips_inactive_users_and_writes_both_rows_or_neither(people, engine):
    cli = people
    assert cli("notification", "prefs", "--email", "assigned", env={"CRM_USER": "jess"}).exit_code == 0
    with session_scope(engine) as s:
        jess = s.execute(select(User.id).where(User.username == "jess")).scalar_one()
    with pytest.raises(RuntimeError):
        with session_scope(engine) as s:
            notifications.notify(session=s, user_id=jess, kind="assigned", title="never")
            raise RuntimeError("the caller's unit of work fails")
    assert outbox_rows(engine) == [] and listed(cli, "jess") == []
    assert cli("user", "deactivate", "carol").exit_code == 0
    with session_scope(engine) as s:
        carol = s.execute(select(User.id).where(User.username == "carol")).scalar_one()
        assert notifications.notify(session=s, user_id=carol, kind="assigned", title="x") is None


def test_postgres_wakes_a_listener_at_commit_and_sqlite_says_poll(people, engine, backend):
    with session_scope(engine) as s:
        jess = s.execute(select(User.id).where(User.username == "jess")).scalar_one()
        bob = s.execute(select(User.id).where(User.username == "bob")).scalar_one()
    stop, ready, woken = threading.Event(), threading.Event(), threading.Event()
    if backend == "sqlite":
        assert notifications.listen(engine=engine, user_id=jess, wake=woken.set, stop=stop) is False
        return
    calls = []

    def wake():
        calls.append(dt.datetime.now())
        woken.set()

    thread = threading.Thread(target=notifications.listen,
                              kwargs={"engine": engine, "user_id": jess, "wake": wake, "stop": stop, "ready": ready,
                                      "wait": 0.2})
    thread.start()
    try:
        assert ready.wait(5)
        with session_scope(engine) as s:  # bob's notification: not for this listener
            notifications.notify(session=s, user_id=bob, kind="assigned", title="for bob")
        with session_scope(engine) as s:
            notifications.notify(session=s, user_id=jess, kind="assigned", title="for jess")
            assert not woken.wait(0.5)  # nothing before the commit
        assert woken.wait(2)
        assert len(calls) == 1
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
