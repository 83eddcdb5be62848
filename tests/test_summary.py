"""`crm summary`: text and HTML, and --send over SMTP to a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from crm_tui.services import records, users
from crm_tui.services.engagement.activities import ENTITY as ACTIVITY
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.store.db import session_scope


def seed(engine):
    today = dt.date.today()
    week_end = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=6)
    with session_scope(engine) as s:
        users.create_user(session=s, data={"username": "tester", "name": "Tess Ter", "email": "tess@example.com"})
        users.create_user(session=s, data={"username": "bob", "email": "bob@example.com"})
        users.create_user(session=s, data={"username": "noemail"})
        deal = records.create_record(OPP, session=s, actor="tester", data={
            "name": "Big <Deal> & Co", "amount": "12345.67", "stage": "Negotiation",
            "expected_close": week_end.isoformat()})["id"]
        records.create_record(OPP, session=s, actor="tester", data={
            "name": "Later deal", "amount": "100.00", "stage": "Lead", "next_step": "call",
            "expected_close": (today + dt.timedelta(days=60)).isoformat()})
        records.create_record(OPP, session=s, actor="bob", data={"name": "Bob's only deal", "amount": "5.00",
                                                                  "owner": "bob"})
        task = records.create_record(ACTIVITY, session=s, actor="tester", data={
            "subject": "Send the contract", "type": "task", "opp": deal,
            "due": dt.datetime.now().strftime("%Y-%m-%d 00:01")})["id"]
    return deal, task


def test_summary_text_for_me(cli, engine):
    deal, task = seed(engine)
    res = cli("summary")
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert "Daily summary for Tess Ter (tester)" in out
    assert "Open deals: 2, worth 12,445.67 USD" in out
    assert f"#{deal} Big <Deal> & Co — 12,345.67 USD (Negotiation, closes " in out
    assert f"#{task} Send the contract\n" in out  # a task on a deal with no account: its subject alone
    assert f"no next step: opportunity #{deal} Big <Deal> & Co" in out
    assert "Bob's only deal" not in out


def test_summary_html_escapes_and_links(cli, engine, isolated_env):
    deal, _task = seed(engine)
    (isolated_env / "config" / "config.json").write_text(json.dumps({"record_url": "https://crm.example.com/{entity}/{id}"}))
    res = cli("summary", "--format", "html")
    assert res.exit_code == 0, res.stderr
    assert f'<a href="https://crm.example.com/opportunity/{deal}">#{deal} Big &lt;Deal&gt; &amp; Co</a>' in res.stdout
    assert 'class="chart"' in res.stdout and 'class="bar"' in res.stdout
    assert "<Deal>" not in res.stdout


def test_summary_all_and_bad_options(cli, engine):
    seed(engine)
    res = cli("summary", "--all")
    assert res.exit_code == 0
    assert "(bob)" in res.stdout and "(tester)" in res.stdout and "(noemail)" in res.stdout
    assert "html" in cli.error(cli("summary", "--format", "pdf"))
    assert "is not a user" in cli.error(cli("summary", "--user", "ghost"))
    assert "no SMTP server configured" in cli.error(cli("summary", "--send"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"crm" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)

    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    yield inbox, port
    controller.stop()


def write_smtp(isolated_env, port, **extra):
    config = {"smtp": {"host": "127.0.0.1", "port": port, "tls": "none", "from": "crm@example.com", **extra}}
    (isolated_env / "config" / "config.json").write_text(json.dumps(config))


def test_summary_send_delivers_text_and_html(cli, engine, smtp_server, isolated_env):
    inbox, port = smtp_server
    deal, _task = seed(engine)
    write_smtp(isolated_env, port, user="crm", password="s3cret")
    res = cli("summary", "--user", "tester", "--send")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    assert "sent 1 summary" in res.stderr and "tess@example.com" in res.stderr
    assert len(inbox.envelopes) == 1
    env = inbox.envelopes[0]
    assert env.mail_from == "crm@example.com" and env.rcpt_tos == ["tess@example.com"]
    msg = email.message_from_bytes(env.original_content, policy=policy.default)
    assert msg["To"] == "tess@example.com"
    assert msg["Subject"].startswith("crm daily summary for Tess Ter")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert f"#{deal} Big <Deal> & Co — 12,345.67 USD" in text
    assert f'<a href="crm://opportunity/{deal}">' in html and 'class="bar"' in html


def test_summary_send_all_skips_users_without_email(cli, engine, smtp_server, isolated_env):
    inbox, port = smtp_server
    seed(engine)
    write_smtp(isolated_env, port, user="crm", password="s3cret")
    res = cli("summary", "--all", "--send")
    assert res.exit_code == 1
    assert "no email address for noemail" in res.stderr
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["bob@example.com", "tess@example.com"]
    bob = next(e for e in inbox.envelopes if e.rcpt_tos == ["bob@example.com"])
    assert "Bob's only deal" in email.message_from_bytes(bob.original_content, policy=policy.default) \
        .get_body(("plain",)).get_content()


def test_summary_send_wrong_password_is_one_line(cli, engine, smtp_server, isolated_env):
    inbox, port = smtp_server
    seed(engine)
    write_smtp(isolated_env, port, user="crm", password="wrong")
    line = cli.error(cli("summary", "--send"))
    assert "SMTP login" in line and "refused" in line
    assert inbox.envelopes == []


def test_summary_send_to_nothing_listening_is_one_line(cli, engine, isolated_env):
    seed(engine)
    write_smtp(isolated_env, free_port())
    line = cli.error(cli("summary", "--send"))
    assert "cannot reach SMTP server 127.0.0.1" in line


def test_summary_lists_proposals_awaiting_a_response(cli, engine):
    from sqlalchemy import update

    from crm_tui.services.quotes import proposals
    from crm_tui.store.models import Proposal

    deal, _task = seed(engine)
    with session_scope(engine) as s:
        sent = proposals.new_proposal(session=s, opportunity_id=deal, actor="tester", title="Seats offer")
        proposals.add_line(session=s, proposal_id=sent.id, actor="tester",
                           data={"description": "Seats", "quantity": "2", "unit_price": "250.00"})
        proposals.send_proposal(session=s, proposal_id=sent.id, actor="tester")
        draft = proposals.new_proposal(session=s, opportunity_id=deal, actor="tester", title="Draft offer")
    with engine.begin() as conn:
        conn.execute(update(Proposal.__table__).where(Proposal.__table__.c.id == sent.id)
                     .values(sent_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=4, hours=1)))
    out = cli("summary").stdout
    assert "Proposals awaiting a response (1):" in out
    assert f"#{sent.id} {sent.number} Seats offer — 500.00 USD" in out
    assert "no response after 4 days: follow up" in out
    assert draft.number not in out
    html = cli("summary", "--format", "html").stdout
    assert f'<a href="crm://proposal/{sent.id}">{sent.number} Seats offer</a>' in html
    assert "Proposals awaiting a response (1)" in html
