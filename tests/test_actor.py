"""The acting user: resolved once per command from CRM_USER (or the config, or the login name) and
the users table; "me" means it, in filters, owner options and bulk selections, and nowhere else."""

from __future__ import annotations

import pytest

from crm_tui.actor import DEFAULT_ROLE, Actor
from crm_tui.services import records
from crm_tui.services import users as users_service
from crm_tui.services.data import bulk
from crm_tui.services.registry import ENTITIES
from crm_tui.services.where import compile_for
from crm_tui.store.db import session_scope
from crm_tui.store.filter import FilterError

OPP = ENTITIES["opportunity"]


def _deals(engine) -> None:
    with session_scope(engine) as s:
        for username, role in (("alice", "manager"), ("bob", "sales")):
            users_service.create_user(session=s, data={"username": username, "role": role})
        for name, owner in (("Alice's deal", "alice"), ("Bob's deal", "bob")):
            records.create_record(OPP, session=s, data={"name": name, "owner": owner, "amount": "100"}, actor=owner)


@pytest.fixture
def deals(engine):
    _deals(engine)
    return engine


def test_resolve_actor_reads_the_users_table(deals):
    with session_scope(deals) as s:
        alice = users_service.resolve_actor(session=s, username="Alice")  # user names compare case-insensitively
        assert alice.username == "alice" and alice.role == "manager" and alice.team is None
        assert alice.user_id == users_service.actor_user_id(s, alice) is not None
        assert users_service.resolve_actor(session=s, username="bob").role == "sales"


def test_a_username_the_users_table_does_not_know_is_still_an_actor(deals):
    with session_scope(deals) as s:
        who = users_service.resolve_actor(session=s, username="newcomer")
    assert who == Actor(user_id=None, username="newcomer", role=DEFAULT_ROLE, team=None)


def test_me_in_a_filter_is_the_actor(deals):
    alice, bob = Actor.unknown("alice"), Actor.unknown("BOB")
    with session_scope(deals) as s:
        def names(where, actor):
            return [r["name"] for r in records.list_records(OPP, session=s, where=where, actor=actor)]

        assert names("owner=me", alice) == ["Alice's deal"]
        assert names("owner=me", bob) == ["Bob's deal"]
        assert names("owner!=me", alice) == ["Bob's deal"]
        assert names("owner in (me, nobody)", bob) == ["Bob's deal"]
        assert records.count_records(OPP, session=s, filters={"owner": "me"}, actor=alice) == 1
        assert bulk.update_where(OPP, session=s, data={"source": "Web"}, actor=bob, where="owner=me",
                                 dry_run=True).matched == 1


def test_me_without_an_actor_is_an_error_not_someone_else(deals):
    with pytest.raises(FilterError, match="acting user"):
        compile_for(OPP, "owner=me")
    # a plain username needs no actor
    compile_for(OPP, "owner=alice")


def test_bulk_reassign_to_me_is_the_actor(deals):
    with session_scope(deals) as s:
        result = bulk.update_where(OPP, session=s, data={"owner": "me"}, actor=Actor.unknown("alice"),
                                   where="owner=bob")
        assert result.affected == 1
        rows = records.list_records(OPP, session=s, where="owner=alice", actor=Actor.unknown("alice"))
    assert sorted(r["name"] for r in rows) == ["Alice's deal", "Bob's deal"]


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def cli_deals(cli, engine):
    _deals(engine)
    return cli


def _names(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return sorted(line.split(",", 1)[0] for line in result.stdout.splitlines()[1:])


def test_cli_me_is_crm_user(cli_deals):
    cli = cli_deals
    as_alice = {"CRM_USER": "alice"}
    assert _names(cli("opp", "list", "--where", "owner=me", "--columns", "name", "--format", "csv",
                      env=as_alice)) == ["Alice's deal"]
    assert _names(cli("opp", "list", "--owner", "me", "--columns", "name", "--format", "csv",
                      env={"CRM_USER": "bob"})) == ["Bob's deal"]
    exported = cli("export", "opportunities", "--where", "owner=me", "--columns", "name", env=as_alice)
    assert _names(exported) == ["Alice's deal"]
    tagged = cli("tag", "add", "mine", "--entity", "opp", "--where", "owner=me", env=as_alice)
    assert tagged.exit_code == 0, tagged.stderr
    assert _names(cli("opp", "list", "--where", "tag=mine", "--columns", "name", "--format", "csv")) == ["Alice's deal"]


def test_cli_resolves_the_actor_once_per_command(cli_deals, monkeypatch):
    calls = []
    real = users_service.resolve_actor

    def counting(**kw):
        calls.append(kw["username"])
        return real(**kw)

    monkeypatch.setattr(users_service, "resolve_actor", counting)
    for args in (("opp", "list", "--where", "owner=me", "--limit", "1"),  # a count and a list: two reads
                 ("tag", "add", "x", "--entity", "opp", "--where", "owner=me"),
                 ("summary",),
                 ("forecast", "--owner", "me"),
                 ("account", "add", "Initech")):  # a write opens its own session
        calls.clear()
        result = cli_deals(*args, env={"CRM_USER": "alice"})
        assert result.exit_code == 0, (args, result.stderr)
        assert calls == ["alice"], args


def test_cli_with_a_crm_user_not_in_the_users_table_works_as_before(cli_deals):
    cli = cli_deals
    newcomer = {"CRM_USER": "newcomer"}
    empty = cli("opp", "list", "--where", "owner=me", env=newcomer)
    assert empty.exit_code == 0, empty.stderr
    assert "no opportunities" in empty.stderr
    added = cli("account", "add", "Newco", env=newcomer)  # the first write adds the user, as before
    assert added.exit_code == 0, added.stderr
    rows = cli("account", "list", "--where", "owner=me", "--format", "csv", "--columns", "name,owner", env=newcomer)
    assert rows.exit_code == 0, rows.stderr
    assert rows.stdout.splitlines()[1:] == ["Newco,newcomer"]
