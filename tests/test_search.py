"""Full-text search: the query language, the same hits on SQLite (FTS5) and PostgreSQL (tsvector),
indexes kept in step with the tables, demo data indexed, and `crm search`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from sqlmodel import Session
from support import one_line_error

from crm_tui.errors import ValidationError
from crm_tui.services import records, search
from crm_tui.services.registry import ENTITIES
from crm_tui.store import search as fts
from crm_tui.store.models import Lead

ACC, CON, OPP, ACT = (ENTITIES[n] for n in ("account", "contact", "opportunity", "activity"))


@pytest.fixture
def data(engine):
    """A small CRM; returns name -> (entity, id)."""
    ids = {}
    with Session(engine) as s:
        def add(key, entity, **fields):
            ids[key] = (entity.name, records.create_record(entity, session=s, actor="tester", data=fields)["id"])

        add("acme", ACC, name="Acme Chatbots Inc", website="acme.example.com",
            description="E-commerce chatbot platform for retailers in Zürich")
        add("globex", ACC, name="Globex Corporation", description="Open source data platform; no bots")
        add("muller", ACC, name="Müller Logistik GmbH", description="Freight, e commerce returns")
        add("ann", CON, first_name="Ann", last_name="Chatterjee", account=ids["acme"][1],
            email="ann.chatterjee@acme.example.com", notes="Prefers WhatsApp")
        add("deal1", OPP, name="Chatbot rollout", account=ids["acme"][1], description="Phase one: web shop chatbot",
            next_step="Send proposal")
        add("deal2", OPP, name="Data platform", account=ids["globex"][1], description="Open source stack",
            next_step="Demo for the data team")
        add("call", ACT, subject="Discovery call", body="Talked about chatbots and the e-commerce roadmap",
            account=ids["acme"][1])
        lead_id = s.execute(insert(Lead.__table__).values(
            first_name="Chad", last_name="Open", company="Chatterbox Ltd", notes="Met at the open source summit",
            status="new", score=0, version=1, created_at=records.utcnow(), updated_at=records.utcnow(),
        ).returning(Lead.__table__.c.id)).scalar_one()
        ids["chad"] = ("lead", lead_id)
        s.commit()
    return ids


def hits(engine, query, **kw):
    with Session(engine) as s:
        return [(h.entity, h.id) for h in search.search(session=s, query=query, **kw)]


def keys(data, *names):
    return [data[n] for n in names]


@pytest.mark.parametrize("query, expected", [
    ("chatbot", ["acme", "deal1"]),
    ("chatbots", ["acme", "call"]),
    ("chat*", ["acme", "ann", "chad", "deal1", "call"]),
    ("Chatbot OR chatbots", ["acme", "deal1", "call"]),
    ("e-commerce", ["acme", "muller", "call"]),
    ('"e commerce"', ["acme", "muller", "call"]),
    ('"data platform"', ["globex", "deal2"]),
    ('"platform data"', []),
    ("open source", ["globex", "chad", "deal2"]),
    ("open AND source NOT summit", ["globex", "deal2"]),
    ("(chatbot OR data) AND platform", ["acme", "globex", "deal2"]),
    ("chatbot NOT (rollout OR zürich)", []),
    ("zürich", ["acme"]),
    ("ZÜRICH", ["acme"]),
    ("müller", ["muller"]),
    ("whatsapp", ["ann"]),
    ("acme.example.com", ["acme", "ann"]),
    ("proposal", ["deal1"]),
    ("NOT NOT chatbot", ["acme", "deal1"]),
    ("nothing_like_this", []),
])
def test_query_language_same_hits_on_both_backends(engine, data, query, expected):
    # Accounts, contacts, leads, opportunities, activities; newest first within each.
    order = list(fts.SOURCES)
    want = sorted(keys(data, *expected), key=lambda k: (order.index(k[0]), -k[1]))
    assert hits(engine, query) == want


def test_entity_filter_and_limit(engine, data):
    assert hits(engine, "chat*", entity="opp") == [data["deal1"]]
    assert hits(engine, "chat*", entity="leads") == [data["chad"]]
    assert hits(engine, "chat*", limit=2) == [data["acme"], data["ann"]]
    with pytest.raises(ValidationError, match="entity"):
        hits(engine, "chat*", entity="invoice")
    with pytest.raises(ValidationError, match="limit"):
        hits(engine, "chat*", limit=-1)
    assert hits(engine, "chat*", limit=0) == hits(engine, "chat*", limit=10_000)  # 0: all, as on lists


@pytest.mark.parametrize("query, message", [
    ('"unbalanced phrase', "unbalanced quote"),
    ("OR chatbot", "OR at position 1 without a search term"),
    ("chatbot AND", "ends after AND"),
    ("chatbot OR", "ends after OR"),
    ("NOT chatbot", "NOT without a term"),
    ("chatbot OR NOT demo", "NOT without a term"),
    ("(chatbot", "unclosed parenthesis"),
    ("chatbot)", "without a matching ("),
    ("()", "without a matching ("),
    ("---", "nothing to search for"),
    ('""', "empty phrase"),
    ("   ", "is empty"),
    ("AND", "without a search term"),
])
def test_bad_queries_are_refused_with_a_clear_message(engine, data, query, message):
    with pytest.raises(ValidationError) as exc:
        hits(engine, query)
    assert message in str(exc.value)
    assert str(exc.value).startswith("query:")


def test_index_follows_inserts_updates_and_deletes(engine, data):
    with Session(engine) as s:
        records.update_record(ACC, session=s, record_id=data["globex"][1], actor="tester",
                              data={"name": "Initech", "description": "Printers"})
        s.commit()
    assert hits(engine, "globex") == []
    assert hits(engine, "initech") == [data["globex"]]
    assert hits(engine, "printers") == [data["globex"]]
    with Session(engine) as s:
        records.delete_record(OPP, session=s, record_id=data["deal2"][1], actor="tester")
        s.commit()
    assert hits(engine, '"data platform"') == []
    # a bulk update goes through the same triggers / index
    from crm_tui.services.data import bulk

    with Session(engine) as s:
        bulk.update_where(OPP, session=s, data={"next_step": "Negotiate zeppelin contract"}, actor="tester",
                          where="name~Chatbot")
        s.commit()
    assert hits(engine, "zeppelin") == [data["deal1"]]
    assert hits(engine, "proposal") == []


def test_demo_data_is_indexed(engine):
    from crm_tui.services.data import demo

    demo.generate(engine, opportunities=300, seed=7)
    with engine.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM opportunities WHERE lower(name) LIKE '%chatbot%'")).scalar()
        accounts = conn.execute(text("SELECT count(*) FROM accounts")).scalar()
    assert expected > 0
    assert len(hits(engine, "chatbot", entity="opp", limit=10_000)) == expected
    assert len(hits(engine, "www", entity="account", limit=10_000)) == accounts  # every web site is www.<name>.com
    # and triggers are back after the load: a new record is found
    with Session(engine) as s:
        records.create_record(ACC, session=s, actor="tester", data={"name": "Quetzalcoatl Widgets"})
        s.commit()
    assert len(hits(engine, "quetzalcoatl")) == 1


def test_cli_search(cli, data):
    result = cli("search", "chatbot OR data", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "entity,id,label,snippet,account_id"  # an account's account is itself
    assert lines[1] == (f"account,{data['globex'][1]},Globex Corporation,Open source [data] platform; no bots,"
                        f"{data['globex'][1]}")
    assert lines[2] == (f"account,{data['acme'][1]},Acme Chatbots Inc,E-commerce [chatbot] platform for retailers "
                        f"in Zürich,{data['acme'][1]}")
    assert any(line.startswith(f"opportunity,{data['deal2'][1]},Data platform,[Data] platform") for line in lines)
    ids = cli("search", "chat*", "--entity", "opp", "--format", "ids")
    assert ids.stdout.split() == [str(data["deal1"][1])]
    table = cli("search", "zürich")
    assert "Acme Chatbots Inc" in table.stdout and "[Zürich]" in table.stdout
    none = cli("search", "nothing_like_this")
    assert none.exit_code == 0 and none.stdout == "" and "no matches" in none.stderr
    assert "unbalanced quote" in one_line_error(cli("search", '"chat'))
    assert "entity" in one_line_error(cli("search", "chat", "--entity", "invoice"))


_ALPHABET = st.sampled_from(list('abcz019 "()*-+:\'^~\\.,_&|!') + ["AND", "OR", "NOT", "NEAR", "é", "\u00a0", "\t"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=14).map("".join))
def test_junk_queries_parse_or_fail_cleanly_and_compile_for_fts5(junk):
    """Whatever the text, the parser returns a tree or raises ValidationError, and FTS5 accepts the tree."""
    import sqlite3

    try:
        tree = fts.parse_query(junk)
    except ValidationError:
        return
    fts.to_tsquery(tree)
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, content='', tokenize='{fts.TOKENIZER}')")
    conn.execute("INSERT INTO t(rowid, body) VALUES (1, 'abc z019 é')")
    conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts.to_fts5(tree),)).fetchall()


def test_products_are_searched_by_the_same_rules_without_an_index(engine):
    """The catalog has no full-text index: `--entity product` reads its SKU, name and description and
    matches whole words, phrases, prefixes, OR and NOT as the indexes do; newest first."""
    product = ENTITIES["product"]
    with Session(engine) as s:
        ids = {}
        for sku, name, description in (("CRM-SEAT", "CRM seat", "Per user, per month"),
                                       ("CRM-ONBOARD", "Onboarding", "Two days on site; seat setup"),
                                       ("SUP-GOLD", "Gold support", "Seats unlimited")):
            ids[sku] = records.create_record(product, session=s, actor="tester",
                                             data={"sku": sku, "name": name, "description": description})["id"]
        s.commit()

    def found(query):
        return [i for _, i in hits(engine, query, entity="products")]

    assert found("seat") == [ids["CRM-ONBOARD"], ids["CRM-SEAT"]]  # whole words: not "Seats"
    assert found("seat*") == [ids["SUP-GOLD"], ids["CRM-ONBOARD"], ids["CRM-SEAT"]]
    assert found('"per month"') == [ids["CRM-SEAT"]]
    assert found('"month per"') == []
    assert found("seat NOT crm") == []  # CRM-ONBOARD's SKU holds "crm" too
    assert found("gold OR onboarding") == [ids["SUP-GOLD"], ids["CRM-ONBOARD"]]
    assert hits(engine, "seat*", entity="product", limit=1) == [("product", ids["SUP-GOLD"])]
    assert hits(engine, "seat") == []  # not in the default search: accounts, contacts, leads, deals, activities
