"""owner, stage, account and account.* compare through the foreign key (owner_id IN (ids of users named so)):
the same records as comparing the joined column, and no join in the query, so the key's index can serve it."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from crm_tui.actor import Actor
from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import opportunities as opp_service
from crm_tui.services.where import compile_for

OPP, CONTACT = ENTITIES["opportunity"], ENTITIES["contact"]


def _seed(session):
    for user in ("bob", "carol"):
        records.ensure_user(session, user)
    a1 = records.create_record(ENTITIES["account"], session=session, actor="alice",
                               data={"name": "Acme", "state": "CA", "industry": "Technology"})
    a2 = records.create_record(ENTITIES["account"], session=session, actor="alice", data={"name": "Globex"})
    rows = [("A1", a1["id"], "alice", "Proposal"), ("A2", a1["id"], "Bob", "Lead"), ("A3", a2["id"], "bob", "Proposal"),
            ("A4", None, "carol", "Qualified"), ("A5", a2["id"], "alice", "Lead")]
    for name, account, owner, stage in rows:
        data = {"name": name, "owner": owner, "stage": stage, "amount": "100"}
        if account:
            data["account"] = account
        records.create_record(OPP, session=session, actor="alice", data=data)
    records.create_record(CONTACT, session=session, actor="alice", data={"last_name": "NoAccount"})
    records.create_record(CONTACT, session=session, actor="alice", data={"last_name": "AtAcme", "account": a1["id"]})
    session.commit()


def _names(session, entity, where, me="alice"):
    col = "name" if entity is OPP else "last_name"
    return sorted(r[col] for r in records.list_records(entity, session=session, where=where, actor=Actor.unknown(me), limit=100))


def _joined(session, entity, col, op, text):
    """The same comparison on the joined column, as the filter compiled it before."""
    T = entity.table
    cond = {"=": func.lower(col) == text.lower(),
            "!=": or_(col.is_(None), func.lower(col) != text.lower()),
            "~": func.lower(col).like(f"%{text.lower()}%"),
            "!~": or_(col.is_(None), ~func.lower(col).like(f"%{text.lower()}%"))}[op]
    name = T.c.name if entity is OPP else T.c.last_name
    return sorted(session.execute(select(name).select_from(entity.joins(T)).where(cond)).scalars())


def test_key_comparisons_match_the_joined_column(session):
    _seed(session)
    cases = [(OPP, "owner", opp_service._owner.c.username, "bob"), (OPP, "owner", opp_service._owner.c.username, "me"),
             (OPP, "stage", opp_service._stage.c.name, "proposal"), (OPP, "account", opp_service._account.c.name, "acme"),
             (OPP, "account.state", opp_service._account.c.state, "ca")]
    for entity, field, col, text in cases:
        for op in ("=", "!=", "~", "!~"):
            if text == "me" and op in ("~", "!~"):
                continue  # me is a user only for = and !=; ~me looks for the letters
            expected = _joined(session, entity, col, op, "alice" if text == "me" else text)
            assert _names(session, entity, f"{field}{op}{text}") == expected, (field, op, text)
    for field, col, part in (("stage", opp_service._stage.c.name, "PROP"), ("account", opp_service._account.c.name, "cm"),
                             ("owner", opp_service._owner.c.username, "o"), ("account.state", opp_service._account.c.state, "c")):
        for op in ("~", "!~"):
            expected = _joined(session, OPP, col, op, part)
            assert _names(session, OPP, f"{field}{op}{part}") == expected, (field, op, part)
    assert _names(session, OPP, "stage~prop") == ["A1", "A3"]
    assert _names(session, OPP, "account!~glob") == ["A1", "A2", "A4"]  # A4 has no account: kept
    assert _names(session, OPP, "owner=BOB") == ["A2", "A3"]  # usernames match in any case
    assert _names(session, OPP, "owner!=bob") == ["A1", "A4", "A5"]
    assert _names(session, OPP, "account!=acme") == ["A3", "A4", "A5"]  # A4 has no account: kept, as before
    assert _names(session, OPP, "stage in (lead, qualified)") == ["A2", "A4", "A5"]
    assert _names(session, OPP, "account.industry=technology and owner=me") == ["A1"]
    # null still asks about the related value, not the key: Globex has no state, A4 has no account
    assert _names(session, OPP, "account.state=null") == ["A3", "A4", "A5"]
    assert _names(session, CONTACT, "account=acme") == ["AtAcme"]
    assert _names(session, CONTACT, "account!=acme") == ["NoAccount"]


def test_key_filters_need_no_join(session):
    for where in ("owner=me", "stage=proposal and owner!=bob", "account.industry=Technology", "tag=hot",
                  "stage~prop", "account!~acme and account.state~c"):
        assert records.from_clause(OPP, compile_for(OPP, where, actor=Actor.unknown("alice"))) is OPP.table, where
    # a comparison the key cannot answer still joins
    assert records.from_clause(OPP, compile_for(OPP, "stage>m", actor=Actor.unknown("alice"))) is not OPP.table
    assert records.from_clause(OPP, compile_for(OPP, "account.state=null", actor=Actor.unknown("alice"))) is not OPP.table
