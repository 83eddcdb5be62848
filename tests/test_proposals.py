"""Proposals: numbering, bad input, revisions, statuses, follow-ups. On SQLite and PostgreSQL.

The pricing rule itself is tested in test_pricing.py."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from crm_tui.errors import Conflict, ValidationError
from crm_tui.services import records
from crm_tui.services.quotes import proposals as P
from crm_tui.services.quotes.products import ENTITY as PRODUCT
from crm_tui.services.sales.accounts import ENTITY as ACCOUNT
from crm_tui.services.sales.contacts import ENTITY as CONTACT
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Change, Opportunity, Proposal, ProposalLine, ProposalRevision, Stage


def setup_opp(engine, *, currency="USD", stage="Proposal", amount="0", account_name="Ελληνική Εταιρεία Ωμέγα"):
    with session_scope(engine) as s:
        acc = records.create_record(ACCOUNT, session=s, data={"name": account_name, "city": "Αθήνα",
                                                              "currency": currency}, actor="alice")
        con = records.create_record(CONTACT, session=s, data={"first_name": "Zoë", "last_name": "Łukasiewicz",
                                                              "account": acc["id"]}, actor="alice")
        opp = records.create_record(OPP, session=s, data={"name": "Rollout 2027", "account": acc["id"],
                                                          "contact": con["id"], "currency": currency,
                                                          "amount": amount, "stage": stage}, actor="alice")
    return opp["id"]


def add_product(engine, sku, price, currency="USD", name=None):
    with session_scope(engine) as s:
        return records.create_record(PRODUCT, session=s, data={"sku": sku, "name": name or f"Product {sku}",
                                                               "unit_price": price, "currency": currency},
                                     actor="alice")["id"]


def new(engine, opp_id, **kw):
    with session_scope(engine) as s:
        return P.new_proposal(session=s, opportunity_id=opp_id, actor="alice", **kw)


def save(engine, pid, lines, version=None, **kw):
    with session_scope(engine) as s:
        if version is None:
            version = P.get_proposal(session=s, proposal_id=pid).version
        return P.save_proposal(session=s, proposal_id=pid, actor="alice", expected_version=version, lines=lines, **kw)


def db_counts(engine):
    with session_scope(engine) as s:
        return (s.execute(select(func.count()).select_from(Proposal)).scalar(),
                s.execute(select(func.count()).select_from(ProposalLine)).scalar())


# ---------------------------------------------------------------- cleaning a line (pricing itself: test_pricing.py)


def test_clean_line_refuses_bad_values_naming_field_and_value():
    with pytest.raises(ValidationError) as exc:
        P.clean_line({"description": "a", "quantity": "-1", "unit_price": "10"}, currency="USD")
    assert exc.value.field == "quantity" and "'-1'" in str(exc.value) and "negative" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        P.clean_line({"description": "a", "quantity": "1", "unit_price": "10", "discount": "100.5"}, currency="USD")
    assert exc.value.field == "discount" and "100.5" in str(exc.value) and "over 100%" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        P.clean_line({"description": "a", "quantity": "1", "unit_price": "10.5"}, currency="JPY")
    assert exc.value.field == "unit_price" and "JPY" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        P.clean_line({"description": "a", "quantity": "1.2345", "unit_price": "1"}, currency="USD")
    assert exc.value.field == "quantity"


# ---------------------------------------------------------------- creating


def test_new_proposal_prefills_from_opportunity_and_numbers_never_repeat(engine):
    oid = setup_opp(engine)
    a = new(engine, oid)
    b = new(engine, oid)
    year = dt.date.today().year
    assert a.number == f"PRO-{year}-0001" and b.number == f"PRO-{year}-0002"
    assert a.account == "Ελληνική Εταιρεία Ωμέγα" and a.contact == "Zoë Łukasiewicz"
    assert a.currency == "USD" and a.title == "Rollout 2027" and a.status == "draft" and a.revision == 1
    assert a.valid_until == dt.date.today() + dt.timedelta(days=30)
    # deleting the newest does not free its number
    with session_scope(engine) as s:
        s.execute(Proposal.__table__.delete().where(Proposal.__table__.c.id == b.id))
    c = new(engine, oid)
    assert c.number == f"PRO-{year}-0003"


def test_concurrent_numbering_gives_distinct_numbers(engine):
    oid = setup_opp(engine)
    numbers, errors = [], []

    def worker():
        try:
            for _ in range(3):
                numbers.append(new(engine, oid).number)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(numbers) == 12 and len(set(numbers)) == 12


def test_template_fills_lines_terms_validity_and_tax(engine):
    oid = setup_opp(engine)
    seat = add_product(engine, "SEAT", "49.90", name="Seat licence")
    with session_scope(engine) as s:
        P.create_template(session=s, name="Starter", actor="alice", terms="Net 30", valid_days=14, tax_rate="8.25",
                          lines=[{"product": "SEAT", "quantity": "10"},
                                 {"description": "Onboarding workshop", "unit_price": "1200", "discount": "50"}])
    view = new(engine, oid, template="starter")
    assert [(ln.description, ln.quantity, ln.unit_price_minor, ln.discount_bp, ln.product_id)
            for ln in view.pricing.lines] == [("Seat licence", "10", 4990, 0, seat),
                                               ("Onboarding workshop", "1", 120000, 5000, None)]
    assert view.terms == "Net 30" and view.valid_until == dt.date.today() + dt.timedelta(days=14)
    # 499.00 + 600.00 = 1099.00; tax 8.25% = 90.6675 -> 90.67
    assert (view.pricing.net_minor, view.pricing.tax_minor, view.pricing.total_minor) == (109900, 9067, 118967)
    with session_scope(engine) as s:
        stored = s.get(Proposal, view.id)
        assert (stored.subtotal_minor, stored.discount_minor, stored.tax_minor, stored.total_minor) == (
            169900, 60000, 9067, 118967)
        lines = s.execute(select(ProposalLine).where(ProposalLine.proposal_id == view.id)
                          .order_by(ProposalLine.position)).scalars().all()
        assert [(ln.quantity_milli, ln.gross_minor, ln.discount_minor, ln.total_minor) for ln in lines] == [
            (10000, 49900, 0, 49900), (1000, 120000, 60000, 60000)]


@pytest.mark.parametrize("kwargs, field, needle", [
    ({"currency": "EUR"}, "currency", "USD"),
    ({"template": "nope"}, "template", "no templates"),
    ({"tax_rate": "101"}, "tax_rate", "over 100%"),
])
def test_new_proposal_refuses_bad_input_and_writes_nothing(engine, kwargs, field, needle):
    oid = setup_opp(engine)
    with pytest.raises(ValidationError) as exc:
        new(engine, oid, **kwargs)
    assert exc.value.field == field and needle in str(exc.value)
    assert db_counts(engine) == (0, 0)


def test_proposal_for_a_lost_opportunity_is_refused(engine):
    with session_scope(engine) as s:
        o = records.create_record(OPP, session=s, data={"name": "gone"}, actor="alice")
        from crm_tui.services.sales import pipeline

        pipeline.move_opportunity(session=s, opportunity_id=o["id"], stage="Lost", reason="price", actor="alice")
    with pytest.raises(ValidationError) as exc:
        new(engine, o["id"])
    assert exc.value.field == "opportunity" and "lost" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        new(engine, 9999)
    assert "9999" in str(exc.value)
    assert db_counts(engine) == (0, 0)


# ---------------------------------------------------------------- editing


def test_lines_bad_input_refused_and_nothing_written(engine):
    oid = setup_opp(engine)
    add_product(engine, "EURO", "10.00", currency="EUR")
    pid = new(engine, oid).id
    save(engine, pid, [{"description": "Good", "quantity": "1", "unit_price": "10"}])
    cases = [
        ({"description": "Bad", "quantity": "-2", "unit_price": "5"}, "line 2 quantity", "'-2'"),
        ({"description": "Bad", "quantity": "1", "unit_price": "5", "discount": "150"}, "line 2 discount", "'150'"),
        ({"product": "NOPE-1"}, "line 2 product", "'NOPE-1'"),
        ({"product": "EURO"}, "line 2 product", "EUR"),
        ({"description": "Bad", "quantity": "1", "unit_price": "-5"}, "line 2 unit_price", "'-5'"),
    ]
    for bad, field, needle in cases:
        with pytest.raises(ValidationError) as exc:
            save(engine, pid, [{"description": "Good", "quantity": "1", "unit_price": "10"}, bad])
        assert exc.value.field == field, str(exc.value)
        assert needle in str(exc.value)
    with session_scope(engine) as s:
        view = P.get_proposal(session=s, proposal_id=pid)
    assert [ln.description for ln in view.pricing.lines] == ["Good"] and view.version == 2


def test_two_editors_on_one_draft_the_later_save_is_refused(engine):
    oid = setup_opp(engine)
    pid = new(engine, oid).id
    with session_scope(engine) as s:
        seen = P.get_proposal(session=s, proposal_id=pid).version
    save(engine, pid, [{"description": "Alice's line", "quantity": "1", "unit_price": "100"}], version=seen)
    with pytest.raises(Conflict) as exc:
        save(engine, pid, [{"description": "Bob's line", "quantity": "2", "unit_price": "50"}], version=seen)
    assert "changed by someone else" in str(exc.value)
    with session_scope(engine) as s:
        view = P.get_proposal(session=s, proposal_id=pid)
    assert [ln.description for ln in view.pricing.lines] == ["Alice's line"]


def test_add_update_remove_line_by_position(engine):
    oid = setup_opp(engine)
    add_product(engine, "SEAT", "49.90")
    pid = new(engine, oid).id
    with session_scope(engine) as s:
        P.add_line(session=s, proposal_id=pid, actor="alice", data={"product": "seat", "quantity": "3"})
        P.add_line(session=s, proposal_id=pid, actor="alice",
                   data={"description": "Setup", "unit_price": "250", "discount": "100"})
        P.update_line(session=s, proposal_id=pid, actor="alice", position=1, data={"unit_price": "45.00"})
        view = P.add_line(session=s, proposal_id=pid, actor="alice",
                          data={"description": "Training", "unit_price": "99.99", "quantity": "0.5"}).view
    assert [(ln.description, ln.total_minor) for ln in view.pricing.lines] == [
        ("Product SEAT", 13500), ("Setup", 0), ("Training", 5000)]  # 49.995 -> 50.00
    with session_scope(engine) as s:
        view = P.remove_line(session=s, proposal_id=pid, actor="alice", position=2).view
        with pytest.raises(ValidationError) as exc:
            P.remove_line(session=s, proposal_id=pid, actor="alice", position=7)
    assert "'7'" in str(exc.value) or "7" in str(exc.value)
    assert [ln.position for ln in view.pricing.lines] == [1, 2]
    assert view.pricing.total_minor == 18500


# ---------------------------------------------------------------- statuses and revisions


def test_send_then_edit_makes_revision_two_and_keeps_revision_one(engine):
    oid = setup_opp(engine)
    pid = new(engine, oid).id
    save(engine, pid, [{"description": "Licence", "quantity": "10", "unit_price": "100"},
                       {"description": "Support", "quantity": "1", "unit_price": "500"}], header={"tax_rate": "10"})
    with session_scope(engine) as s:
        sent = P.send_proposal(session=s, proposal_id=pid, actor="alice")
    assert sent.status == "sent" and sent.sent_at is not None
    saved = save(engine, pid, [{"description": "Licence", "quantity": "10", "unit_price": "90"},
                               {"description": "Training", "quantity": "2", "unit_price": "300"}])
    assert saved.new_revision and saved.view.revision == 2 and saved.view.status == "draft"
    assert saved.view.sent_at is None
    with session_scope(engine) as s:
        old = P.get_proposal(session=s, proposal_id=pid, revision=1)
        assert old.status == "sent" and old.pricing.total_minor == 165000  # 1500 + 10%
        assert [ln.description for ln in old.pricing.lines] == ["Licence", "Support"]
        assert s.execute(select(func.count()).select_from(ProposalRevision)).scalar() == 1
        diff = P.diff_revisions(session=s, proposal_id=pid, from_revision=1, to_revision=2)
    kinds = {(r["kind"], r["item"]) for r in diff.rows()}
    assert ("line changed", "Licence") in kinds
    assert ("line added", "Training") in kinds and ("line removed", "Support") in kinds
    # 10 × 90 + 2 × 300 = 10 × 100 + 500: the totals did not change, so no total rows
    assert [r for r in diff.rows() if r["kind"] == "total"] == []
    changed = next(r for r in diff.rows() if r["item"] == "Licence")
    assert changed["changed"] == "unit_price" and "100.00" in changed["from"] and "90.00" in changed["to"]


def test_diff_reports_total_changes(engine):
    oid = setup_opp(engine)
    pid = new(engine, oid).id
    save(engine, pid, [{"description": "A", "quantity": "1", "unit_price": "100"}])
    with session_scope(engine) as s:
        P.send_proposal(session=s, proposal_id=pid, actor="alice")
    save(engine, pid, [{"description": "A", "quantity": "1", "unit_price": "80"}])
    with session_scope(engine) as s:
        rows = P.diff_revisions(session=s, proposal_id=pid, from_revision=1, to_revision=2).rows()
    totals = {r["item"]: (r["from"], r["to"]) for r in rows if r["kind"] == "total"}
    assert totals == {"subtotal": ("100.00", "80.00"), "total": ("100.00", "80.00")}


def test_send_needs_lines_and_a_future_valid_until(engine):
    oid = setup_opp(engine)
    pid = new(engine, oid).id
    with session_scope(engine) as s, pytest.raises(ValidationError) as exc:
        P.send_proposal(session=s, proposal_id=pid, actor="alice")
    assert exc.value.field == "lines"
    save(engine, pid, [{"description": "A", "quantity": "1", "unit_price": "1"}],
         header={"valid_until": (dt.date.today() - dt.timedelta(days=1)).isoformat()})
    with session_scope(engine) as s:
        assert P.get_proposal(session=s, proposal_id=pid).status == "expired"
        with pytest.raises(ValidationError) as exc:
            P.send_proposal(session=s, proposal_id=pid, actor="alice")
    assert exc.value.field == "valid_until"


def test_expired_shows_in_list_and_filter(engine):
    oid = setup_opp(engine)
    a = new(engine, oid).id
    new(engine, oid)
    save(engine, a, [{"description": "A", "quantity": "1", "unit_price": "1"}],
         header={"valid_until": "2020-01-01"})
    with session_scope(engine) as s:
        rows = P.list_proposals(session=s, status="expired")
        assert [r["id"] for r in rows] == [a]
        assert {r["status"] for r in P.list_proposals(session=s)} == {"expired", "draft"}


def test_accept_moves_opportunity_to_won_with_the_total(engine):
    oid = setup_opp(engine, amount="10.00")
    pid = new(engine, oid).id
    save(engine, pid, [{"description": "A", "quantity": "3", "unit_price": "333.33"}], header={"tax_rate": "20"})
    with session_scope(engine) as s:
        P.send_proposal(session=s, proposal_id=pid, actor="alice")
        result = P.accept_proposal(session=s, proposal_id=pid, actor="alice", move_to_won=True)
    assert result.moved_to_won and result.stage == "Won" and result.view.status == "accepted"
    with session_scope(engine) as s:
        opp = s.get(Opportunity, oid)
        assert opp.amount_minor == 119999  # 999.99 + 20% = 1199.988 -> 1199.99
        assert s.get(Stage, opp.stage_id).is_won
        with pytest.raises(Conflict):
            P.save_proposal(session=s, proposal_id=pid, actor="alice", expected_version=None,
                            lines=[{"description": "late", "unit_price": "1"}])


def test_reject_records_response_and_only_sent_can_respond(engine):
    oid = setup_opp(engine)
    pid = new(engine, oid).id
    with session_scope(engine) as s, pytest.raises(Conflict):
        P.reject_proposal(session=s, proposal_id=pid, actor="alice")
    save(engine, pid, [{"description": "A", "quantity": "1", "unit_price": "1"}])
    with session_scope(engine) as s:
        P.send_proposal(session=s, proposal_id=pid, actor="alice")
        view = P.reject_proposal(session=s, proposal_id=pid, actor="alice")
    assert view.status == "rejected" and view.responded_at is not None


def test_sent_without_response_for_three_days_creates_one_followup_task_for_the_owner(engine):
    oid = setup_opp(engine)
    pid = new(engine, oid).id
    save(engine, pid, [{"description": "A", "quantity": "1", "unit_price": "1"}])
    sent_at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
    with session_scope(engine) as s:
        P.send_proposal(session=s, proposal_id=pid, actor="alice", now=sent_at, today=dt.date(2026, 3, 2))
    with session_scope(engine) as s:
        assert P.create_due_followups(session=s, now=sent_at + dt.timedelta(days=2, hours=23)) == []
        made = P.create_due_followups(session=s, now=sent_at + dt.timedelta(days=3, minutes=1))
        assert len(made) == 1
        again = P.create_due_followups(session=s, now=sent_at + dt.timedelta(days=5))
        assert again == []
        overdue = P.list_proposals(session=s, overdue_followup=True, now=sent_at + dt.timedelta(days=4),
                                   today=dt.date(2026, 3, 6))
        assert [r["id"] for r in overdue] == [pid]
    with session_scope(engine) as s:
        task = s.get(Activity, made[0]["activity_id"])
        opp = s.get(Opportunity, oid)
        assert task.type == "task" and task.opportunity_id == oid and task.completed_at is None
        assert task.owner_id == opp.owner_id and "PRO-" in task.subject


def test_reading_proposals_writes_nothing_even_when_a_followup_is_due(engine):
    oid = setup_opp(engine)
    pid = new(engine, oid).id
    save(engine, pid, [{"description": "A", "quantity": "1", "unit_price": "1"}])
    sent_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=4)
    with session_scope(engine) as s:
        P.send_proposal(session=s, proposal_id=pid, actor="alice", now=sent_at)

    def written():
        with session_scope(engine) as s:
            return (s.execute(select(func.count()).select_from(Activity)).scalar(),
                    s.execute(select(func.count()).select_from(Change)).scalar(),
                    s.execute(select(Proposal.version, Proposal.followup_activity_id)).all())

    before = written()
    with session_scope(engine) as s:
        assert [r["id"] for r in P.list_proposals(session=s, overdue_followup=True)] == [pid]
        assert [r["id"] for r in P.awaiting_response(session=s, actor=resolve_actor(session=s, username="alice"))] == [pid]
        assert P.get_proposal(session=s, proposal_id=pid).status == "sent"
    assert written() == before


def test_product_catalog_crud_and_validation(engine):
    pid = add_product(engine, "YEN-1", "1500", currency="JPY")
    with session_scope(engine) as s:
        row = records.get_record(PRODUCT, session=s, record_id=pid)
        assert (row["unit_price_minor"], row["unit_price"], row["currency"]) == (1500, "1500", "JPY")
        with pytest.raises(ValidationError) as exc:
            records.create_record(PRODUCT, session=s, data={"sku": "X", "name": "x", "unit_price": "-1"}, actor="a")
        assert exc.value.field == "unit_price"
        with pytest.raises(Conflict):
            records.create_record(PRODUCT, session=s, data={"sku": "YEN-1", "name": "dup"}, actor="a")
