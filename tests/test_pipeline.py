"""The pipeline service: board totals, column pages, moves, stage admin. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from crm_tui import money
from crm_tui.actor import Actor
from crm_tui.errors import Conflict, ValidationError
from crm_tui.services import records
from crm_tui.services.sales import pipeline
from crm_tui.services.sales.accounts import ENTITY as ACCOUNT
from crm_tui.services.sales.opportunities import ENTITY as OPP
from crm_tui.settings import Settings
from crm_tui.store.db import session_scope
from crm_tui.store.models import Activity, Change, Opportunity, Stage


def add_opp(engine, name, *, amount="1000.00", stage=None, owner=None, account=None, close=None, **extra):
    data = {"name": name, "amount": amount, **extra}
    if stage:
        data["stage"] = stage
    if owner:
        data["owner"] = owner
    if account:
        data["account"] = account
    if close:
        data["expected_close"] = close
    with session_scope(engine) as s:
        return records.create_record(OPP, session=s, data=data, actor="alice")["id"]


def opp(engine, oid):
    with session_scope(engine) as s:
        return s.get(Opportunity, oid)


def stage_name(engine, stage_id):
    with session_scope(engine) as s:
        return s.get(Stage, stage_id).name


def counts(engine, oid):
    with session_scope(engine) as s:
        changes = s.execute(select(func.count()).select_from(Change).where(
            Change.entity == "opportunity", Change.record_id == oid)).scalar()
        acts = s.execute(select(func.count()).select_from(Activity).where(
            Activity.opportunity_id == oid, Activity.type == "system")).scalar()
    return changes, acts


def summary(engine, flt=None):
    with session_scope(engine) as s:
        return {c.name: c for c in pipeline.board_summary(session=s, flt=flt)}


def test_board_summary_counts_totals_and_weighted_half_even(engine):
    add_opp(engine, "a", amount="1000.00", stage="Lead")  # 10%
    add_opp(engine, "b", amount="0.05", stage="Lead")  # 0.5 cents weighted
    add_opp(engine, "c", amount="2500.00", stage="Proposal")
    cols = summary(engine)
    assert [c.name for c in cols.values()] == ["Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    lead = cols["Lead"]
    assert lead.count == 2
    assert lead.totals["USD"].amount_minor == 100_005
    # 100000*10 + 5*10 = 1000050 -> 10000.5 -> half-even 10000
    assert lead.totals["USD"].weighted_minor == 10_000
    assert cols["Proposal"].totals["USD"].weighted_minor == money.weighted(250_000, 50)
    assert cols["Qualified"].count == 0 and cols["Qualified"].totals == {}


def test_move_writes_change_rows_and_system_activity_in_one_go(engine):
    oid = add_opp(engine, "Deal", stage="Lead")
    with session_scope(engine) as s:
        move = pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Proposal", actor="bob")
    o = opp(engine, oid)
    assert stage_name(engine, o.stage_id) == "Proposal"
    assert o.probability == 50
    assert o.version == 2
    assert move.from_stage_id != move.to_stage_id and move.new_probability == 50
    with session_scope(engine) as s:
        hist = pipeline.readable_history(session=s, opportunity_id=oid)
        acts = s.execute(select(Activity).where(Activity.opportunity_id == oid)).scalars().all()
    stage_rows = [h for h in hist if h["field"] == "stage"]
    assert stage_rows[0]["old_value"] == "Lead" and stage_rows[0]["new_value"] == "Proposal"
    assert stage_rows[0]["actor"] == "bob"
    assert any(h["field"] == "probability" and h["new_value"] == "50" for h in hist)
    assert [a.type for a in acts] == ["system"]
    assert acts[0].subject == "Stage: Lead → Proposal"


def test_won_sets_actual_close_and_lost_needs_a_reason(engine):
    won = add_opp(engine, "W", stage="Negotiation")
    lost = add_opp(engine, "L", stage="Qualified")
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=won, stage="won", actor="bob")
    assert opp(engine, won).actual_close == dt.date.today()
    assert opp(engine, won).probability == 100
    before = counts(engine, lost)
    with pytest.raises(ValidationError, match="reason.*required"):
        with session_scope(engine) as s:
            pipeline.move_opportunity(session=s, opportunity_id=lost, stage="Lost", actor="bob")
    with pytest.raises(ValidationError, match="'too expensive' is not a lost reason"):
        with session_scope(engine) as s:
            pipeline.move_opportunity(session=s, opportunity_id=lost, stage="Lost", reason="too expensive",
                                      actor="bob")
    assert counts(engine, lost) == before
    assert stage_name(engine, opp(engine, lost).stage_id) == "Qualified"
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=lost, stage="Lost", reason="Missing Features",
                                  actor="bob")
    o = opp(engine, lost)
    assert o.lost_reason == "missing features" and o.actual_close == dt.date.today() and o.probability == 0


def test_reopening_a_lost_deal_clears_reason_and_close(engine):
    oid = add_opp(engine, "R", stage="Qualified")
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Lost", reason="price", actor="bob")
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Qualified", actor="bob")
    o = opp(engine, oid)
    assert o.lost_reason is None and o.actual_close is None and o.probability == 25


def test_bad_moves_write_nothing(engine):
    oid = add_opp(engine, "X", stage="Lead")
    before = counts(engine, oid)
    for stage, reason, pattern in [("Nowhere", None, "'Nowhere' is not a stage; stages are: Lead"),
                                   ("Lead", None, "already the stage"),
                                   ("Qualified", "price", "applies only when moving to a lost stage")]:
        with pytest.raises(ValidationError, match=pattern):
            with session_scope(engine) as s:
                pipeline.move_opportunity(session=s, opportunity_id=oid, stage=stage, reason=reason, actor="b")
    assert counts(engine, oid) == before
    assert opp(engine, oid).version == 1


def test_manual_probability_is_kept_on_move(engine):
    oid = add_opp(engine, "M", stage="Lead", probability="33")
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Proposal", actor="bob")
    assert opp(engine, oid).probability == 33


def test_two_writers_stale_version_is_refused_not_lost(engine):
    oid = add_opp(engine, "Race", stage="Lead")
    seen_version = opp(engine, oid).version  # the TUI loaded the card
    with session_scope(engine) as s:  # a CLI job moves it meanwhile (no expected version: applies on top)
        pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Qualified", actor="cli")
    with pytest.raises(Conflict, match="changed since"):
        with session_scope(engine) as s:
            pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Proposal", actor="tui",
                                      expected_version=seen_version)
    o = opp(engine, oid)
    assert stage_name(engine, o.stage_id) == "Qualified" and o.version == 2
    # with the fresh version it goes through, on top of the CLI's change
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Proposal", actor="tui",
                                  expected_version=2)
    assert stage_name(engine, opp(engine, oid).stage_id) == "Proposal"


def test_apply_move_matches_a_fresh_summary(engine):
    ids = [add_opp(engine, f"d{i}", amount=f"{i * 333}.33", stage="Lead") for i in range(1, 6)]
    with session_scope(engine) as s:
        cols = pipeline.board_summary(session=s)
    for oid, target in zip(ids, ["Qualified", "Proposal", "Won", "Qualified"]):
        with session_scope(engine) as s:
            mv = pipeline.move_opportunity(session=s, opportunity_id=oid, stage=target, actor="bob")
        pipeline.apply_move(cols, mv)
    fresh = summary(engine)
    for col in cols:
        f = fresh[col.name]
        assert (col.count, {k: (t.amount_minor, t.weighted_raw) for k, t in col.totals.items() if t.count}) == (
            f.count, {k: (t.amount_minor, t.weighted_raw) for k, t in f.totals.items()})


def test_column_page_orders_by_close_and_pages(engine):
    today = dt.date.today()
    for i in range(7):
        add_opp(engine, f"p{i}", stage="Qualified", close=(today + dt.timedelta(days=10 - i)).isoformat())
    with session_scope(engine) as s:
        col = next(c for c in pipeline.board_summary(session=s) if c.name == "Qualified")
        first = pipeline.column_page(session=s, stage_id=col.stage_id, limit=3)
        second = pipeline.column_page(session=s, stage_id=col.stage_id, offset=3, limit=3)
        rest = pipeline.column_page(session=s, stage_id=col.stage_id, offset=6, limit=3)
    names = [c.name for c in first + second + rest]
    assert names == [f"p{i}" for i in range(6, -1, -1)]


def test_filters(engine):
    with session_scope(engine) as s:
        acme = records.create_record(ACCOUNT, session=s, data={"name": "Acme Corp"}, actor="alice")["id"]
        records.ensure_user(s, "bob")
    today = dt.date.today()
    add_opp(engine, "Acme renewal", account=str(acme), owner="bob", amount="5000", close=today.isoformat())
    add_opp(engine, "Other deal", amount="100", close=(today + dt.timedelta(days=60)).isoformat())
    add_opp(engine, "Big one", amount="90000", next_step="call the chatbot team")

    def names(**raw):
        flt = pipeline.parse_filter(raw, actor=Actor.unknown("bob"))
        with session_scope(engine) as s:
            lead = next(c for c in pipeline.board_summary(session=s, flt=flt) if c.name == "Lead")
            cards = pipeline.column_page(session=s, stage_id=lead.stage_id, flt=flt)
            assert lead.count == len(cards) == pipeline.count_matching(session=s, flt=flt)
        return sorted(c.name for c in cards)

    assert names(owner="me") == ["Acme renewal"]
    assert names(account="acme") == ["Acme renewal"]
    assert names(account=str(acme)) == ["Acme renewal"]
    assert names(amount_min="1000") == ["Acme renewal", "Big one"]
    assert names(amount_min="1000", amount_max="10,000") == ["Acme renewal"]
    assert names(close_from="today+30d") == ["Other deal"]
    assert names(close_to="today") == ["Acme renewal"]
    assert names(text="chatbot") == ["Big one"]
    assert names(text="acme") == ["Acme renewal"]
    assert names() == ["Acme renewal", "Big one", "Other deal"]


def test_tag_filter(engine):
    from crm_tui.store.models import Tag, Tagging

    a = add_opp(engine, "tagged")
    add_opp(engine, "plain")
    with session_scope(engine) as s:
        tag = Tag(name="q1_priority")
        s.add(tag)
        s.flush()
        s.add(Tagging(tag_id=tag.id, entity="opportunity", record_id=a))
    with session_scope(engine) as s:
        cards = pipeline.list_page(session=s, flt=pipeline.parse_filter({"tag": "Q1_PRIORITY"}))
    assert [c.name for c in cards] == ["tagged"]


@pytest.mark.parametrize("raw, field", [
    ({"close_from": "next tuesday"}, "close_from"),
    ({"amount_min": "lots"}, "amount_min"),
    ({"amount_min": "10", "amount_max": "5"}, "amount_max"),
    ({"close_from": "2026-02-01", "close_to": "2026-01-01"}, "close_to"),
    ({"colour": "red"}, "colour"),
])
def test_bad_filters_name_the_field(raw, field):
    with pytest.raises(ValidationError) as err:
        pipeline.parse_filter(raw)
    assert err.value.field == field


def test_unknown_owner_filter_is_refused(engine):
    with pytest.raises(ValidationError, match="'nobody' is not a user"):
        summary(engine, pipeline.parse_filter({"owner": "nobody"}))


def test_stalled_and_overdue(engine):
    from sqlalchemy import update

    today = dt.date.today()
    stale = add_opp(engine, "stale", close=(today - dt.timedelta(days=1)).isoformat())
    touched = add_opp(engine, "touched")
    add_opp(engine, "fresh")  # recent: not stalled
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=20)
    with session_scope(engine) as s:
        s.execute(update(Opportunity.__table__).where(Opportunity.__table__.c.id.in_([stale, touched]))
                  .values(stage_changed_at=old))
        s.add(Activity(type="call", subject="chat", opportunity_id=touched,
                       occurred_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)))
        s.add(Activity(type="system", subject="not a touch", opportunity_id=stale))
    with session_scope(engine) as s:
        cards = {c.name: c for c in pipeline.list_page(session=s, stall=14)}
    assert cards["stale"].stalled and cards["stale"].overdue and cards["stale"].days_in_stage == 20
    assert not cards["touched"].stalled
    assert not cards["fresh"].stalled and not cards["fresh"].overdue
    assert cards["fresh"].days_in_stage == 0


def test_list_page_sorts_by_amount_and_close(engine):
    today = dt.date.today()
    add_opp(engine, "small", amount="10", close=(today + dt.timedelta(days=3)).isoformat())
    add_opp(engine, "big", amount="1000", close=(today + dt.timedelta(days=9)).isoformat())
    add_opp(engine, "mid", amount="100", close=(today + dt.timedelta(days=1)).isoformat())
    with session_scope(engine) as s:
        assert [c.name for c in pipeline.list_page(session=s, sort="-amount")] == ["big", "mid", "small"]
        assert [c.name for c in pipeline.list_page(session=s, sort="expected_close")] == ["mid", "small", "big"]
        with pytest.raises(ValidationError, match="'colour' is not a sort"):
            pipeline.list_page(session=s, sort="colour")


def test_stage_probability_propagates_to_following_deals_with_change_rows(engine, restore_stages):  # noqa: F811 - the imported fixture
    a = add_opp(engine, "follows", stage="Proposal")
    b = add_opp(engine, "manual", stage="Proposal", probability="66")
    c = add_opp(engine, "elsewhere", stage="Lead")
    with session_scope(engine) as s:
        res = pipeline.update_stage(session=s, stage="proposal", probability="60", actor="admin")
    assert res.opportunities_updated == 1
    assert opp(engine, a).probability == 60 and opp(engine, a).version == 2
    assert opp(engine, b).probability == 66 and opp(engine, c).probability == 10
    with session_scope(engine) as s:
        rows = s.execute(select(Change).where(Change.batch_id == res.batch_id)).scalars().all()
        st = pipeline.resolve_stage(session=s, value="Proposal")
    assert [(r.record_id, r.field, r.old_value, r.new_value, r.actor) for r in rows] == [
        (a, "probability", "50", "60", "admin")]
    assert st.probability == 60
    # new deals and moves follow the new probability
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=c, stage="Proposal", actor="bob")
    assert opp(engine, c).probability == 60


@pytest.mark.parametrize("prob", ["101", "-1", "half"])
def test_stage_probability_out_of_range_is_refused(engine, prob, restore_stages):  # noqa: F811 - the imported fixture
    with pytest.raises(ValidationError) as err:
        with session_scope(engine) as s:
            pipeline.update_stage(session=s, stage="Lead", probability=prob, actor="admin")
    assert err.value.field == "probability"
    with session_scope(engine) as s:
        assert pipeline.resolve_stage(session=s, value="Lead").probability == 10


def test_add_stage_goes_before_won_and_reorder(engine, restore_stages):  # noqa: F811 - the imported fixture
    with session_scope(engine) as s:
        pipeline.add_stage(session=s, name="Demo", probability=40)
    with session_scope(engine) as s:
        names = [st.name for st in pipeline.list_stages(session=s)]
    assert names == ["Lead", "Qualified", "Proposal", "Negotiation", "Demo", "Won", "Lost"]
    with session_scope(engine) as s:
        pipeline.reorder_stages(session=s, names=["lead", "qualified", "demo", "proposal", "negotiation",
                                                  "won", "lost"])
    with session_scope(engine) as s:
        stages = pipeline.list_stages(session=s)
    assert [st.name for st in stages] == ["Lead", "Qualified", "Demo", "Proposal", "Negotiation", "Won", "Lost"]
    assert [st.position for st in stages] == [1, 2, 3, 4, 5, 6, 7]
    with pytest.raises(ValidationError, match="missing: Lost"):
        with session_scope(engine) as s:
            pipeline.reorder_stages(session=s, names=["Lead", "Qualified", "Demo", "Proposal", "Negotiation", "Won"])
    with pytest.raises(ValidationError, match="already a stage"):
        with session_scope(engine) as s:
            pipeline.add_stage(session=s, name="demo", probability=40)
    with pytest.raises(ValidationError, match="outside 0-100"):
        with session_scope(engine) as s:
            pipeline.add_stage(session=s, name="Pilot", probability=140)


def test_lost_reasons_and_stalled_days_from_settings():
    assert pipeline.lost_reasons(Settings()) == pipeline.DEFAULT_LOST_REASONS
    assert pipeline.lost_reasons(Settings(lost_reasons=["cost", "vendor"])) == ("cost", "vendor")
    assert pipeline.stalled_days(Settings(stalled_days=30)) == 30
    assert pipeline.stalled_days(Settings()) == 14


def test_a_lost_reason_is_checked_against_the_reasons_passed_in(engine):
    oid = add_opp(engine, "Vendor deal")
    with pytest.raises(ValidationError, match="reasons are: cost, vendor"):
        with session_scope(engine) as s:
            pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Lost", reason="price", actor="bob",
                                      reasons=("cost", "vendor"))
    with session_scope(engine) as s:
        pipeline.move_opportunity(session=s, opportunity_id=oid, stage="Lost", reason="Vendor", actor="bob",
                                  reasons=Settings(lost_reasons=["cost", "vendor"]).lost_reasons)
        assert pipeline.opportunity_detail(session=s, opportunity_id=oid, reasons=("cost", "vendor")).record[
            "lost_reason"] == "vendor"


def test_services_do_not_import_textual_or_typer():
    import subprocess
    import sys

    code = ("import sys, crm_tui.services.sales.pipeline; "
            "print('textual' in sys.modules or 'typer' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_filter_bar_text():
    f = pipeline.parse_filter_text("me tag:q1 close:2026-01-01..2026-03-31 amount:1000.. chat bot", actor=Actor.unknown("bob"))
    assert f.owner == "bob" and f.tag == "q1" and f.text == "chat bot"
    assert (f.close_from, f.close_to) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert (f.amount_min, f.amount_max) == (100_000, None)
    assert pipeline.parse_filter_text("") == pipeline.BoardFilter()
    with pytest.raises(ValidationError) as err:
        pipeline.parse_filter_text("close:someday")
    assert err.value.field == "close_from"
    with pytest.raises(ValidationError) as err:
        pipeline.parse_filter_text("colour:red")
    assert err.value.field == "colour"
