"""Every entity answers to every one of its nouns (singular, plural, alias) in every command that
names an entity: `crm NOUN list|show`, `crm export|import|update NOUN`, `crm tag add --entity NOUN`,
`crm search --entity NOUN`; on a small demo database, through the CLI.

The nouns come from the entity registry, so a new entity or alias is walked here without a change;
the minimum each entity must answer to is pinned below as well.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import create_engine, text

from crm_tui.errors import ValidationError
from crm_tui.services import registry

# What a user types at least; the registry may know more (checked: it must know these).
MUST_ANSWER_TO = {
    "account": {"account", "accounts"},
    "contact": {"contact", "contacts"},
    "lead": {"lead", "leads"},
    "opportunity": {"opp", "opps", "opportunity", "opportunities"},
    "activity": {"activity", "activities"},
    "product": {"product", "products"},
}

# Per entity: one CSV record to import (its label carries a word found nowhere else), and a field
# `crm update --set` changes.
UNIQUE = "Zyxwvu"
IMPORTS = {
    "account": ("name,city\n" f"{UNIQUE} Labs,Lisbon\n", "name", f"{UNIQUE} Labs"),
    "contact": ("first_name,last_name,email\n" f"Ana,{UNIQUE},ana@zyxwvu.example\n", "last_name", UNIQUE),
    "lead": ("first_name,last_name,company\n" f"Rui,Costa,{UNIQUE} Corp\n", "company", f"{UNIQUE} Corp"),
    "opportunity": ("name,amount,currency\n" f"{UNIQUE} renewal,1200.00,EUR\n", "name", f"{UNIQUE} renewal"),
    "activity": ("subject,type\n" f"{UNIQUE} call,call\n", "subject", f"{UNIQUE} call"),
    "product": ("sku,name,unit_price\n" f"ZYX-1,{UNIQUE} seat,49.90\n", "name", f"{UNIQUE} seat"),
}
UPDATES = {"account": ("city", "Porto"), "contact": ("title", "Buyer"), "lead": ("city", "Braga"),
           "opportunity": ("next_step", "Send terms"), "activity": ("body", "Spoke at length"),
           "product": ("description", "Per seat, per month")}


def noun_cases():
    cases = []
    for entry in registry.ENTRIES:
        for noun in entry.nouns:
            cases.append(pytest.param(entry.name, noun, id=f"{entry.name}-{noun}"))
    return cases


NOUN_CASES = noun_cases()


def table_of(name: str) -> str:
    return registry.ENTITIES[name].table.name


def db_ids(url: str, name: str) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text(f"SELECT id FROM {table_of(name)} ORDER BY id"))]
    finally:
        engine.dispose()


def db_rows(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def ok(result):
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, f"exit {result.exit_code}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def csv_rows(result) -> list[dict]:
    return list(csv.DictReader(io.StringIO(ok(result).stdout)))


# ---------------------------------------------------------------- the registry


def test_the_registry_knows_every_noun_a_user_types():
    for name, nouns in MUST_ANSWER_TO.items():
        entry = registry.entry_for(name)
        assert nouns <= set(entry.nouns), (name, entry.nouns)
        for noun in entry.nouns:
            assert registry.entry_for(noun) is entry
            assert registry.entry_for(f"  {noun.upper()} ") is entry
            assert registry.entity_for(noun) is registry.ENTITIES[name]
    assert {e.name for e in registry.ENTRIES} == set(MUST_ANSWER_TO)


def test_no_two_entities_share_a_noun():
    seen: dict[str, str] = {}
    for entry in registry.ENTRIES:
        for noun in entry.nouns:
            assert noun not in seen, f"{noun!r} names both {seen[noun]} and {entry.name}"
            seen[noun] = entry.name


def test_an_unknown_noun_is_refused_with_the_nouns_there_are():
    with pytest.raises(ValidationError) as info:
        registry.entity_for("planets")
    message = str(info.value)
    assert message.startswith("entity: 'planets' is not one of:")
    for entry in registry.ENTRIES:
        assert entry.noun in message


def test_each_entry_describes_its_entity_completely():
    """Columns, search fields and sort named on an entry exist on its entity; the detail screen is a
    dotted path (the services never import the UI) that names a real screen class."""
    import importlib

    for entry in registry.ENTRIES:
        entity = registry.ENTITIES[entry.name]
        columns = set(entity.columns())
        assert entity.name == entry.name and entity.plural == entry.plural
        assert entity.specs is entry.specs
        assert set(entry.search_fields) <= columns, entry.name
        assert entry.default_sort.lstrip("-") in columns, entry.name
        derived = {"amount", "weighted_amount", "lifetime_value", "unit_price"}
        assert set(entry.summary_columns) <= columns | derived, entry.name
        assert set(entry.export_columns) <= columns | derived, entry.name
        if entry.detail_screen:
            module, _, cls = entry.detail_screen.partition(":")
            assert hasattr(importlib.import_module(module), cls), entry.detail_screen


# ---------------------------------------------------------------- every verb, every noun


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_list(demo_url, demo_cli, name, noun):
    result = ok(demo_cli(noun, "list", "--format", "ids"))
    listed = sorted(int(line) for line in result.stdout.split())
    assert listed == db_ids(demo_url, name) and listed


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_show(demo_url, demo_cli, name, noun):
    record_id = db_ids(demo_url, name)[-1]
    shown = json.loads(ok(demo_cli(noun, "show", record_id, "--format", "json")).stdout)
    assert shown["id"] == record_id


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_export(demo_url, demo_cli, name, noun):
    rows = csv_rows(demo_cli("export", noun, "--format", "csv"))
    assert [int(r["id"]) for r in rows] == db_ids(demo_url, name)
    assert tuple(rows[0]) == registry.entry_for(name).export_columns


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_import(demo_url, demo_cli, tmp_path, name, noun):
    content, field, value = IMPORTS[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(content, encoding="utf-8")
    before = db_ids(demo_url, name)
    ok(demo_cli("import", noun, path))
    after = db_ids(demo_url, name)
    (new_id,) = set(after) - set(before)
    assert db_rows(demo_url, f"SELECT {field} FROM {table_of(name)} WHERE id = :i", i=new_id) == [(value,)]


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_tag(demo_url, demo_cli, name, noun):
    chosen = db_ids(demo_url, name)[:2]
    ok(demo_cli("tag", "add", "nouns_walked", "--entity", noun, "--ids", "-",
                input="".join(f"{i}\n" for i in chosen)))
    tagged = db_rows(demo_url, "SELECT g.entity, g.record_id FROM taggings g JOIN tags t ON t.id = g.tag_id "
                               "WHERE t.name = 'nouns_walked' ORDER BY g.record_id")
    assert tagged == [(name, i) for i in chosen]


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_update(demo_url, demo_cli, name, noun):
    field, value = UPDATES[name]
    chosen = db_ids(demo_url, name)[:3]
    ok(demo_cli("update", noun, "--set", f"{field}={value}", "--ids", "-",
                input="".join(f"{i}\n" for i in chosen)))
    assert db_rows(demo_url, f"SELECT id FROM {table_of(name)} WHERE {field} = :v ORDER BY id", v=value) == [
        (i,) for i in chosen]


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_search(demo_url, demo_cli, tmp_path, name, noun):
    content, field, value = IMPORTS[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(content, encoding="utf-8")
    ok(demo_cli("import", name, path))
    (new_id,) = [r[0] for r in db_rows(demo_url, f"SELECT id FROM {table_of(name)} WHERE {field} = :v", v=value)]
    hits = json.loads(ok(demo_cli("search", UNIQUE.lower(), "--entity", noun, "--format", "json")).stdout)
    assert [(h["entity"], h["id"]) for h in hits] == [(name, new_id)]
    assert UNIQUE in hits[0]["label"]


@pytest.mark.parametrize("name,noun", NOUN_CASES)
def test_saved_view(demo_url, demo_cli, name, noun):
    ok(demo_cli("view", "save", f"all_{name}", "--entity", noun, "--sort", "-id"))
    listed = ok(demo_cli(noun, "list", "--view", f"all_{name}", "--format", "ids")).stdout.split()
    assert [int(i) for i in listed] == sorted(db_ids(demo_url, name), reverse=True)
