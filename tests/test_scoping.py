"""Every read path goes through the scoping hook (crm_tui.store.scope), with the acting user.

A restricting rule is installed that hides one record of each entity (the "Secret" ones, all owned
by the acting user, so they would show in "my" lists too) and records every (entity, actor) it is
called with. Each read path, through the services and through the CLI, must then (1) not show the
hidden records, (2) have called the hook for the entities it reads, with the acting user, and
(3) show them again with the rule removed (so the path can reach them and the test proves
something). The roles issue replaces the rule with visibility rules; this list is the read paths
those rules must cover.

To add a read path: append a ``ReadPath`` to SERVICE_PATHS or CLI_PATHS. ``shows`` answers "does
the hidden data reach the caller?" (True without the rule, False with it).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import or_, select
from sqlmodel import Session

from crm_tui.actor import Actor
from crm_tui.errors import Conflict, NotFound, ValidationError
from crm_tui.services import pick, records
from crm_tui.services import search as search_service
from crm_tui.services.data import bulk, lint
from crm_tui.services.data import io as io_service
from crm_tui.services.engagement import activities, changes, my_day, summary, timeline
from crm_tui.services.quotes import proposals
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import contacts, dashboard, duplicates, forecast, leads, pipeline
from crm_tui.services.users import resolve_actor
from crm_tui.store import scope
from crm_tui.store.db import session_scope
from crm_tui.store.models import Tag, Tagging, User

ME = "tester"  # CRM_USER in every test (conftest)
SECRET_AMOUNT = 900_000  # the hidden deal's amount; the seen deal's is 1,000
RECORD_ENTITIES = ("account", "contact", "lead", "opportunity", "activity", "product")


@dataclass
class World:
    engine: Any
    actor: Actor  # the acting user, resolved as the CLI and the app resolve it
    seen: dict[str, int]  # entity -> id of a record every rule shows
    hidden: dict[str, int]  # entity -> id of the Secret record the test rule hides
    secret: dict[str, set[int]]  # entity -> every record the rule hides: the Secret one, and the
    # activities logged on Secret records (their rows name them)
    totals: dict[str, int]  # entity -> how many records there are
    proposals: dict[str, int]  # "seen" / "hidden" -> proposal id
    snapshot_id: int
    batch_id: str  # a bulk update of both deals, to undo
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def rule(self, stmt, *, entity: str, table, actor):
        """Hide the Secret record of ``entity``: a WHERE on the table's own id, no join."""
        self.calls.append((entity, actor))
        hidden = self.secret.get(entity)
        if not hidden:
            return stmt
        # (forecast snapshot rows name their opportunity by opportunity_id)
        column = table.c.id if "id" in table.c else table.c.opportunity_id
        return stmt.where(column.not_in(sorted(hidden)))


def _build(engine) -> World:
    today = dt.date.today()
    seen: dict[str, int] = {}
    hidden: dict[str, int] = {}

    def add(entity: str, key: str, data: dict) -> int:
        with session_scope(engine) as s:
            rid = records.create_record(ENTITIES[entity], session=s, data=data, actor=ME)["id"]
        (seen if key == "seen" else hidden)[entity] = rid
        return rid

    with session_scope(engine) as s:
        s.add(User(username=ME, name="Tess Tester", email="tester@example.com", role="sales"))
    for key, word in (("seen", "Seen"), ("hidden", "Secret")):
        acc = add("account", key, {"name": f"Zephyr {word} Ltd", "owner": ME})
        add("contact", key, {"first_name": "Zoe", "last_name": word, "account": seen["account"],
                             "notes": "met at Zephyr", "owner": ME})
        add("lead", key, {"first_name": "Lena", "last_name": word, "company": f"Zephyr {word}",
                          "next_follow_up": today.isoformat(), "source": f"{word} fair", "owner": ME})
        add("opportunity", key, {"name": f"Zephyr {word} deal", "account": acc, "stage": "Qualified",
                                 "amount": "1000" if key == "seen" else str(SECRET_AMOUNT),
                                 "expected_close": today.isoformat(), "owner": ME})
        add("product", key, {"sku": f"SKU-{word.upper()}", "name": f"{word} product", "unit_price": "10"})
    for key, word in (("seen", "Seen"), ("hidden", "Secret")):
        with session_scope(engine) as s:  # both tasks on the seen deal: its timeline shows both
            row = activities.log_activity(session=s, actor=ME, type="task", subject=f"Zephyr {word} task",
                                          due=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
                                          links={"opp": seen["opportunity"]})
        (seen if key == "seen" else hidden)["activity"] = row["id"]
    props = {}
    for key in ("seen", "hidden"):
        with session_scope(engine) as s:
            opp = seen["opportunity"] if key == "seen" else hidden["opportunity"]
            view = proposals.new_proposal(session=s, opportunity_id=opp, actor=ME)
            proposals.add_line(session=s, proposal_id=view.id, actor=ME,
                               data={"description": "Seats", "quantity": "1", "unit_price": "100"})
            proposals.send_proposal(session=s, proposal_id=view.id, actor=ME)
            props[key] = view.id
    hidden["proposal"] = props["hidden"]
    with session_scope(engine) as s:
        snapshot_id = forecast.take_snapshot(session=s, actor=ME, name="before")["id"]
        batch_id = bulk.update_where(ENTITIES["opportunity"], session=s, data={"source": "Referral"}, actor=ME,
                                     where="name~zephyr").batch_id
        actor = resolve_actor(session=s, username=ME)
        A = ENTITIES["activity"].table
        secret = {entity: {rid} for entity, rid in hidden.items()}
        secret["activity"] |= set(s.execute(select(A.c.id).where(or_(
            A.c.subject.like("%Secret%"), A.c.opportunity_id == hidden["opportunity"],
            A.c.account_id == hidden["account"], A.c.contact_id == hidden["contact"],
            A.c.lead_id == hidden["lead"]))).scalars())
        totals = {e: records.count_records(ENTITIES[e], session=s) for e in RECORD_ENTITIES}
    assert actor.user_id is not None
    return World(engine, actor, seen, hidden, secret, totals, props, snapshot_id, batch_id)


@pytest.fixture
def world(engine) -> World:
    return _build(engine)


# ---------------------------------------------------------------- the read paths


@dataclass(frozen=True)
class ReadPath:
    name: str
    entities: tuple[str, ...]  # the hook must be called for each of these
    shows: Callable[[World, Any], bool]  # (world, session or cli) -> does hidden data reach the caller?
    writes: bool = False  # a write: its read-back of the row it wrote is made on behalf of nobody (actor None)

    def __str__(self) -> str:
        return self.name


def _text(value) -> str:
    return repr(value)


def _raises(fn, *errors) -> bool:
    """True when ``fn`` runs, False when it raises one of ``errors`` (the record is out of sight)."""
    try:
        fn()
    except errors:
        return False
    return True


def _list(entity):
    return lambda w, s: "Secret" in _text(records.list_records(ENTITIES[entity], session=s, actor=w.actor))


def _iter(entity):
    return lambda w, s: "Secret" in _text(list(records.iter_records(ENTITIES[entity], session=s, actor=w.actor)))


def _count(entity):
    return lambda w, s: records.count_records(ENTITIES[entity], session=s, actor=w.actor) == w.totals[entity]


def _get(entity):
    return lambda w, s: _raises(lambda: records.get_record(ENTITIES[entity], session=s, record_id=w.hidden[entity],
                                                           actor=w.actor), NotFound)


def _export(entity, fmt):
    def shows(w, s):
        out = io.StringIO()
        io_service.export(ENTITIES[entity], session=s, out=out, fmt=fmt, actor=w.actor)
        return "Secret" in out.getvalue()
    return shows


def _open_total(result) -> int:
    return sum(m.open_minor for m in result.totals.values())


def _tag_counts(w, s) -> bool:
    """Tag the seen and the hidden deal (as setup, unscoped), then count: 2 when the hidden one counts."""
    T, G = Tagging.__table__, Tag.__table__
    tag_id = s.execute(select(G.c.id).where(G.c.name == "counted")).scalar()
    if tag_id is None:
        tag_id = s.execute(G.insert().values(name="counted").returning(G.c.id)).scalar_one()
        s.execute(T.insert(), [{"entity": "opportunity", "record_id": w.seen["opportunity"], "tag_id": tag_id,
                                "created_at": dt.datetime.now(dt.timezone.utc)},
                               {"entity": "opportunity", "record_id": w.hidden["opportunity"], "tag_id": tag_id,
                                "created_at": dt.datetime.now(dt.timezone.utc)}])
    counts = {c.tag: c.count for c in bulk.tag_counts(session=s, actor=w.actor, entity=ENTITIES["opportunity"])}
    return counts["counted"] == 2


def _bulk_tag(w, s):
    result = bulk.tag(ENTITIES["opportunity"], session=s, tag="vip", add=True, actor=w.actor, where="name~zephyr")
    T = Tagging.__table__
    tagged = set(s.execute(select(T.c.record_id).where(T.c.entity == "opportunity")).scalars())
    assert result.matched == len(tagged)
    return w.hidden["opportunity"] in tagged


SERVICE_PATHS: list[ReadPath] = [
    *[ReadPath(f"list {e}", (e,), _list(e)) for e in RECORD_ENTITIES],
    *[ReadPath(f"iter {e}", (e,), _iter(e)) for e in RECORD_ENTITIES],
    *[ReadPath(f"count {e}", (e,), _count(e)) for e in RECORD_ENTITIES],
    *[ReadPath(f"get {e}", (e,), _get(e)) for e in RECORD_ENTITIES],
    *[ReadPath(f"export {e} {fmt}", (e,), _export(e, fmt)) for e in RECORD_ENTITIES
      for fmt in ("csv", "json", "csv-rows")],
    ReadPath("search", ("account", "contact", "lead", "opportunity", "activity"),
             lambda w, s: "Secret" in _text(search_service.search(session=s, query="zephyr", actor=w.actor))),
    ReadPath("forecast", ("opportunity",), lambda w, s: _open_total(forecast.forecast(
        session=s, by=("month",), actor=w.actor)) >= SECRET_AMOUNT * 100),
    ReadPath("forecast by owner me", ("opportunity",), lambda w, s: _open_total(forecast.forecast(
        session=s, by=("owner",), owners=["me"], actor=w.actor)) >= SECRET_AMOUNT * 100),
    ReadPath("forecast weekly changes", ("opportunity",), lambda w, s: sum(
        wk.amounts["created"] for wk in forecast.weekly_changes(
            session=s, start=dt.date.today() - dt.timedelta(days=7), end=dt.date.today(), actor=w.actor))
        >= SECRET_AMOUNT * 100),
    ReadPath("forecast compare snapshot", ("opportunity",), lambda w, s: forecast.compare_snapshot(
        session=s, snapshot_id=w.snapshot_id, actor=w.actor).counts["unchanged"] == 2),
    ReadPath("dashboard targets", ("opportunity",),
             lambda w, s: dashboard.targets(session=s, actor=w.actor)[0].pipeline_minor >= SECRET_AMOUNT * 100),
    ReadPath("dashboard lists", ("opportunity", "lead", "activity", "proposal"),
             lambda w, s: "Secret" in _text(dashboard.lists(session=s, actor=w.actor))),
    ReadPath("due tasks", ("activity",), lambda w, s: "Secret" in _text(activities.due_tasks(session=s, actor=w.actor))),
    ReadPath("everyone's due tasks", ("activity",),
             lambda w, s: "Secret" in _text(activities.due_tasks(session=s, actor=w.actor, mine=False))),
    ReadPath("my day", ("activity",), lambda w, s: "Secret" in _text(my_day.my_day(session=s, actor=w.actor))),
    ReadPath("activity targets", ("account", "contact", "lead", "opportunity"),
             lambda w, s: "Secret" in _text(activities.add_targets(session=s, actor=w.actor, rows=[
                 {"account_id": w.hidden["account"]}, {"lead_id": w.hidden["lead"]},
                 {"contact_id": w.hidden["contact"]}, {"opportunity_id": w.hidden["opportunity"]}]))),
    ReadPath("due follow-ups", ("lead",), lambda w, s: "Secret" in _text(leads.due_follow_ups(session=s, actor=w.actor))),
    ReadPath("everyone's due follow-ups", ("lead",),
             lambda w, s: "Secret" in _text(leads.due_follow_ups(session=s, actor=w.actor, mine=False))),
    ReadPath("daily summary", ("opportunity", "activity", "proposal", "account", "contact"),
             lambda w, s: "Secret" in summary.render_text(summary.build(
                 session=s, user=summary.users_for(session=s, actor=w.actor)[0]))),
    ReadPath("timeline of a record", ("opportunity", "activity"), lambda w, s: "Secret" in _text(timeline.timeline(
        session=s, entity="opportunity", record_id=w.seen["opportunity"], actor=w.actor))),
    ReadPath("timeline of a hidden record", ("opportunity",), lambda w, s: _raises(lambda: timeline.timeline(
        session=s, entity="opportunity", record_id=w.hidden["opportunity"], actor=w.actor), NotFound)),
    ReadPath("lint", ("opportunity", "account", "contact"),
             lambda w, s: "Secret" in _text(lint.lint(session=s, actor=w.actor))),
    ReadPath("proposal list", ("proposal",),
             lambda w, s: "Secret" in _text(proposals.list_proposals(session=s, owner="me", actor=w.actor))),
    ReadPath("proposal show", ("proposal",), lambda w, s: _raises(lambda: proposals.get_proposal(
        session=s, proposal_id=w.proposals["hidden"], actor=w.actor), NotFound)),
    ReadPath("pipeline board totals", ("opportunity",), lambda w, s: sum(
        c.count for c in pipeline.board_summary(session=s, actor=w.actor)) == 2),
    ReadPath("pipeline board column", ("opportunity",), lambda w, s: "Secret" in _text([
        pipeline.column_page(session=s, stage_id=c.stage_id, actor=w.actor)
        for c in pipeline.board_columns(session=s)])),
    ReadPath("pipeline list", ("opportunity",),
             lambda w, s: "Secret" in _text(pipeline.list_page(session=s, actor=w.actor))),
    ReadPath("pipeline count with a filter", ("opportunity",), lambda w, s: pipeline.count_matching(
        session=s, flt=pipeline.parse_filter_text("owner=me", actor=w.actor), actor=w.actor) == 2),
    ReadPath("pipeline card", ("opportunity",), lambda w, s: _raises(lambda: pipeline.get_card(
        session=s, opportunity_id=w.hidden["opportunity"], actor=w.actor), NotFound)),
    ReadPath("opportunity detail", ("opportunity",), lambda w, s: _raises(lambda: pipeline.opportunity_detail(
        session=s, opportunity_id=w.hidden["opportunity"], actor=w.actor), NotFound)),
    ReadPath("account's contacts", ("contact",), lambda w, s: "Secret" in _text(contacts.reports_tree(
        session=s, account_id=w.seen["account"], actor=w.actor))),
    ReadPath("bulk tag --where", ("opportunity",), _bulk_tag),
    ReadPath("tag counts", ("opportunity",), _tag_counts),
    ReadPath("bulk update --ids", ("opportunity",), lambda w, s: _raises(lambda: bulk.update_where(
        ENTITIES["opportunity"], session=s, data={"source": "Web"}, actor=w.actor, ids=[w.hidden["opportunity"]]),
        ValidationError)),
    ReadPath("bulk delete --where (dry run)", ("lead",), lambda w, s: bulk.delete_where(
        ENTITIES["lead"], session=s, actor=w.actor, where="owner=me", dry_run=True).matched == 2),
    ReadPath("undo", ("opportunity",), lambda w, s: _raises(lambda: bulk.undo(
        session=s, batch_id=w.batch_id, actor=w.actor, dry_run=True), Conflict)),
    ReadPath("lead sources", ("lead",), lambda w, s: "Secret fair" in leads.lead_sources(session=s, actor=w.actor)),
    ReadPath("lead duplicates", ("lead", "account"), lambda w, s: "Secret" in _text(leads.find_duplicates(
        session=s, company="Zephyr Secret", actor=w.actor))),
    ReadPath("lead conversion plan", ("lead",), lambda w, s: _raises(lambda: leads.plan_conversion(
        session=s, lead_id=w.hidden["lead"], actor=w.actor), NotFound)),
    ReadPath("lead conversion's account match", ("account",), lambda w, s: leads.find_matching_account(
        session=s, company="Zephyr Secret Ltd", website=None, actor=w.actor) is not None),
    ReadPath("an account with the same name (duplicate warning)", ("account",),
             lambda w, s: duplicates.existing_same(session=s, entity="account", values={"name": "zephyr secret ltd"},
                                                   actor=w.actor) is not None),
    ReadPath("picker search", ("account", "contact"), lambda w, s: "Secret" in _text(
        [pick.search_choices(session=s, kind=k, text="zephyr", actor=w.actor) for k in ("account", "contact")])),
    ReadPath("picker label of a record", ("account",), lambda w, s: pick.choice_for(
        session=s, kind="account", key=w.hidden["account"], actor=w.actor) is not None),
    ReadPath("change sentences' names", ("account", "opportunity"), lambda w, s: "Secret" in _text(
        [changes.names_of(session=s, kind=k, ids=[w.hidden[k]], actor=w.actor) for k in ("account", "opportunity")])),
    ReadPath("proposal revision diff", ("proposal",), lambda w, s: _raises(lambda: proposals.diff_revisions(
        session=s, proposal_id=w.proposals["hidden"], from_revision=1, to_revision=1, actor=w.actor), NotFound)),
]


def _cli(*args: str, code: int = 0, check: Callable[[World, Any], bool] | None = None, input: str | None = None):
    """Run ``crm args`` (``{name}`` fields filled from the world); it shows the hidden data when
    it exits with ``code`` and ``check(result)`` holds (default: "Secret" in what it printed)."""
    def shows(w, cli) -> bool:
        def fill(text: str) -> str:
            return text.format(hidden_opp=w.hidden["opportunity"], seen_opp=w.seen["opportunity"],
                               hidden_account=w.hidden["account"], hidden_proposal=w.proposals["hidden"],
                               batch=w.batch_id, snapshot=w.snapshot_id)
        result = cli(*[fill(a) for a in args], input=fill(input) if input else None)
        if result.exit_code != code:
            return False
        return check(w, result) if check else "Secret" in result.stdout + result.stderr
    return shows


def _hidden_tagged(w, _result) -> bool:
    with Session(w.engine) as s:
        T, G = Tagging.__table__, Tag.__table__
        return w.hidden["opportunity"] in set(s.execute(
            select(T.c.record_id).join(G, G.c.id == T.c.tag_id).where(G.c.name == "vip")).scalars())


CLI_PATHS: list[ReadPath] = [
    *[ReadPath(f"crm {noun} list", (e,), _cli(noun, "list", "--format", "csv"))
      for noun, e in (("account", "account"), ("contact", "contact"), ("lead", "lead"), ("opp", "opportunity"),
                      ("activity", "activity"), ("product", "product"))],
    ReadPath("crm opp list (count)", ("opportunity",), _cli("opp", "list", "--limit", "1",
                                                            check=lambda w, r: "of 2 opportunities" in r.stderr)),
    ReadPath("crm opp list --where owner=me", ("opportunity",), _cli("opp", "list", "--where", "owner=me",
                                                                     "--format", "csv")),
    ReadPath("crm opp show", ("opportunity",), _cli("opp", "show", "{hidden_opp}", check=lambda w, r: True)),
    ReadPath("crm account history", ("account",), _cli("account", "history", "{hidden_account}",
                                                       check=lambda w, r: True)),
    *[ReadPath(f"crm export {plural}", (e,), _cli("export", plural, "--format", fmt))
      for plural, e in (("accounts", "account"), ("contacts", "contact"), ("opportunities", "opportunity"),
                        ("activities", "activity"))
      for fmt in ("csv", "json")],
    *[ReadPath(f"crm export opportunities --ids ({fmt})", ("opportunity",),
               _cli("export", "opportunities", "--ids", "-", "--format", fmt, input="{seen_opp}\n{hidden_opp}\n"))
      for fmt in ("csv", "json")],
    ReadPath("crm search", ("account", "contact", "lead", "opportunity", "activity"),
             _cli("search", "zephyr", "--format", "csv")),
    ReadPath("crm forecast", ("opportunity",), _cli("forecast", "--by", "owner", "--owner", "me", "--format", "json",
                                                    check=lambda w, r: "901" in r.stdout)),
    ReadPath("crm forecast changes", ("opportunity",), _cli("forecast", "changes", "--format", "csv",
                                                            check=lambda w, r: "901" in r.stdout)),
    ReadPath("crm forecast compare", ("opportunity",), _cli("forecast", "compare", "{snapshot}", "--format", "csv",
                                                            check=lambda w, r: "unchanged 2" in r.stderr)),
    ReadPath("crm summary", ("opportunity", "activity", "proposal"), _cli("summary")),
    ReadPath("crm lint", ("opportunity", "account", "contact"), _cli("lint", "--format", "csv", code=1)),
    ReadPath("crm opp timeline", ("opportunity", "activity"), _cli("opp", "timeline", "{seen_opp}")),
    ReadPath("crm activity today", ("activity",), _cli("activity", "today", "--format", "csv")),
    ReadPath("crm proposal list", ("proposal",), _cli("proposal", "list", "--owner", "me", "--format", "csv")),
    ReadPath("crm proposal show", ("proposal",), _cli("proposal", "show", "{hidden_proposal}",
                                                      check=lambda w, r: True)),
    ReadPath("crm tag add --where", ("opportunity",), _cli("tag", "add", "vip", "--entity", "opp",
                                                           "--where", "name~zephyr", check=_hidden_tagged)),
    ReadPath("crm update --ids", ("opportunity",), _cli("update", "opp", "--set", "source=Web", "--ids", "-",
                                                        "--dry-run", input="{hidden_opp}\n")),
    ReadPath("crm delete --where", ("lead",), _cli("delete", "lead", "--where", "owner=me", "--dry-run",
                                                          check=lambda w, r: "of 2 selected" in r.stderr)),
    ReadPath("crm undo", ("opportunity",), _cli("undo", "{batch}", "--dry-run", check=lambda w, r: True)),
    ReadPath("crm proposal diff", ("proposal",), _cli("proposal", "diff", "{hidden_proposal}", "--from", "1",
                                                      "--to", "1", check=lambda w, r: True)),
    ReadPath("crm lead add (its duplicates)", ("lead", "account"), _cli(
        "lead", "add", "--first-name", "Lee", "--last-name", "Dup", "--company", "Zephyr Secret",
        check=lambda w, r: "Secret" in r.stderr), writes=True),
]


def _check(world: World, path: ReadPath, run: Callable[[], bool]) -> None:
    # Restricted first: a path that writes (bulk tag) must leave the hidden record alone.
    world.calls.clear()
    with scope.restricting(world.rule):
        assert run() is False, f"{path}: the hidden record reached the caller"
    called = {entity for entity, _actor in world.calls}
    assert set(path.entities) <= called, f"{path}: the hook was not called for {set(path.entities) - called}"
    actors = {a for _e, a in world.calls}
    allowed = {world.actor, None} if path.writes else {world.actor}
    assert world.actor in actors and actors <= allowed, f"{path}: the hook got another actor: {world.calls}"
    # Without the rule the same path shows it: it can reach the record, so the check above means something.
    assert run() is True, f"{path}: the path does not reach the hidden record even without a rule"


@pytest.mark.parametrize("path", SERVICE_PATHS, ids=str)
def test_every_service_read_path_goes_through_the_scoping_hook(world, path):
    with Session(world.engine) as s:
        _check(world, path, lambda: path.shows(world, s))
        s.rollback()


@pytest.mark.parametrize("path", CLI_PATHS, ids=str)
def test_every_cli_read_path_goes_through_the_scoping_hook(world, cli, path):
    _check(world, path, lambda: path.shows(world, cli))


def test_the_hook_is_the_identity_where_the_role_reads_everything(world):
    """The sales rep reads every account (the same statement back), not every deal (a condition added);
    reads on behalf of nobody (actor None) are not restricted."""
    stmt = select(ENTITIES["account"].table.c.id)
    assert scope.scope(stmt, entity="account", table=ENTITIES["account"].table, actor=world.actor) is stmt
    deals = select(ENTITIES["opportunity"].table.c.id)
    assert scope.scope(deals, entity="opportunity", table=ENTITIES["opportunity"].table, actor=world.actor) \
        is not deals
    assert scope.scope(deals, entity="opportunity", table=ENTITIES["opportunity"].table, actor=None) is deals
    assert not scope.restricts()
    with scope.restricting(world.rule):
        assert scope.restricts()
    assert not scope.restricts()
