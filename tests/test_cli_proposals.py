"""`crm product ...` and `crm proposal ...` against SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Change, Opportunity, Proposal, ProposalLine, Stage


def ok(result) -> str:
    assert result.exit_code == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def make_opp(cli, currency="USD") -> str:
    acc = ok(cli("account", "add", "Ёлка & Söhne", "--currency", currency)).strip()
    return ok(cli("opp", "add", "Renewal", "--account", acc, "--currency", currency, "--stage", "Proposal")).strip()


def test_product_template_proposal_send_revise_diff_accept(cli, engine):
    ok(cli("product", "add", "SEAT", "--name", "Seat licence", "--unit-price", "49.90"))
    ok(cli("product", "add", "ONB", "--name", "Onboarding", "--unit-price", "1200"))
    rows = list(csv.DictReader(io.StringIO(ok(cli("product", "list", "--format", "csv")))))
    assert [(r["sku"], r["unit_price"]) for r in rows] == [("ONB", "1200.00"), ("SEAT", "49.90")]
    ok(cli("proposal", "template", "add", "Starter", "--product", "SEAT:10", "--product", "ONB",
           "--tax-rate", "10", "--terms", "Net 30"))
    opp = make_opp(cli)
    pid = ok(cli("proposal", "new", "--opp", opp, "--template", "Starter")).strip()
    shown = json.loads(ok(cli("proposal", "show", pid, "--format", "json")))
    assert (shown["total"], shown["tax"], shown["status"], shown["account"]) == ("1868.90", "169.90", "draft",
                                                                                 "Ёлка & Söhne")
    assert [li["description"] for li in shown["line_items"]] == ["Seat licence", "Onboarding"]
    result = cli("proposal", "update-line", pid, "1", "--price", "45")
    assert "version 2" in result.stderr
    ok(cli("proposal", "send", shown["number"]))
    result = cli("proposal", "add-line", pid, "--description", "Training", "--price", "300", "--quantity", "2")
    assert "started revision 2" in result.stderr, result.stderr
    diff = list(csv.DictReader(io.StringIO(ok(cli("proposal", "diff", pid, "--from", "1", "--to", "2",
                                                  "--format", "csv")))))
    assert ("line added", "Training") in [(d["kind"], d["item"]) for d in diff]
    assert {d["item"]: (d["from"], d["to"]) for d in diff if d["kind"] == "total"}["total"] == ("1815.00", "2475.00")
    ok(cli("proposal", "send", pid))
    result = cli("proposal", "accept", pid, "--won")
    assert result.exit_code == 0, result.stderr
    assert "moved to Won with amount 2,475.00 USD" in result.stderr
    with session_scope(engine) as s:
        o = s.get(Opportunity, int(opp))
        assert o.amount_minor == 247500 and s.get(Stage, o.stage_id).is_won
        assert s.execute(select(func.count()).select_from(ProposalLine)).scalar() == 5  # 2 (rev 1) + 3 (rev 2)
    listed = json.loads(ok(cli("proposal", "list", "--status", "accepted", "--format", "json")))
    assert [(r["id"], r["revision"], r["total"]) for r in listed] == [(int(pid), 2, "2475.00")]


def test_bad_input_is_one_line_naming_field_and_value_and_writes_nothing(cli, engine):
    opp = make_opp(cli)
    assert "currency" in cli.error(cli("proposal", "new", "--opp", opp, "--currency", "EUR"))
    pid = ok(cli("proposal", "new", "--opp", opp)).strip()
    line = cli.error(cli("proposal", "add-line", pid, "--description", "x", "--price", "5", "--quantity", "-3"))
    assert "quantity" in line and "'-3'" in line
    line = cli.error(cli("proposal", "add-line", pid, "--description", "x", "--price", "5", "--discount", "120"))
    assert "discount" in line and "'120'" in line
    line = cli.error(cli("proposal", "add-line", pid, "--product", "GHOST"))
    assert "product" in line and "'GHOST'" in line
    line = cli.error(cli("proposal", "send", pid))
    assert "no lines" in line
    with session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(ProposalLine)).scalar() == 0
        assert s.get(Proposal, int(pid)).version == 1
    ok(cli("opp", "move", opp, "Lost", "--reason", "price"))
    line = cli.error(cli("proposal", "new", "--opp", opp))
    assert "opportunity" in line and "lost" in line


def test_stale_if_version_is_refused(cli):
    opp = make_opp(cli)
    pid = ok(cli("proposal", "new", "--opp", opp)).strip()
    ok(cli("proposal", "add-line", pid, "--description", "A", "--price", "1", "--if-version", "1"))
    line = cli.error(cli("proposal", "add-line", pid, "--description", "B", "--price", "1", "--if-version", "1"))
    assert "changed by someone else" in line


def test_jpy_proposal_totals_in_whole_yen(cli):
    opp = make_opp(cli, currency="JPY")
    pid = ok(cli("proposal", "new", "--opp", opp, "--tax-rate", "10")).strip()
    ok(cli("proposal", "add-line", pid, "--description", "Lizenz", "--price", "999", "--quantity", "2.5"))
    ok(cli("proposal", "add-line", pid, "--description", "Rabatt", "--price", "5000", "--discount", "100"))
    shown = json.loads(ok(cli("proposal", "show", pid, "--format", "json")))
    assert (shown["subtotal"], shown["discount"], shown["tax"], shown["total"]) == ("7498", "5000", "250", "2748")
    assert "decimals" in cli.error(cli("proposal", "add-line", pid, "--description", "x", "--price", "1.5"))


def writes(engine) -> tuple[int, int, int]:
    """(activities, changes, proposal versions summed): what a read must leave alone."""
    with session_scope(engine) as s:
        return (s.execute(select(func.count()).select_from(Activity)).scalar(),
                s.execute(select(func.count()).select_from(Change)).scalar(),
                s.execute(select(func.coalesce(func.sum(Proposal.version), 0))).scalar())


def test_listing_an_overdue_proposal_writes_nothing(cli, engine):
    """Listing is a read: a proposal whose follow-up is due is listed, and no task, change or
    version bump is written (the follow-up is the job's, `crm jobs run`)."""
    import datetime as dt

    opp = make_opp(cli)
    pid = ok(cli("proposal", "new", "--opp", opp)).strip()
    ok(cli("proposal", "add-line", pid, "--description", "A", "--price", "1"))
    ok(cli("proposal", "send", pid))
    with session_scope(engine) as s:
        s.execute(Proposal.__table__.update().values(
            sent_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=4)))
    before = writes(engine)
    result = cli("proposal", "list", "--overdue", "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [pid]
    assert "follow-up task" not in result.stderr
    ok(cli("proposal", "list"))
    ok(cli("proposal"))
    ok(cli("proposal", "show", pid))
    assert writes(engine) == before
    with session_scope(engine) as s:
        assert s.execute(select(Activity).where(Activity.type == "task")).scalars().all() == []
