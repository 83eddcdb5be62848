"""An activity goes only on a record its writer can read.

A rep logs calls and notes on her own records and on an account shared with her; with psql she could
insert an activity of her own linked to another rep's lead or deal she cannot read, and it showed up
in that record's timeline for its owner (and an insert that worked or failed on the foreign key told
her which ids exist). The app refuses to log one on a record the user cannot read ("not found"); on
PostgreSQL the activities' policies refuse it too, and moving an activity of hers onto such a record.

The team (tests/test_row_security.py): bob and jessica are sales reps; bob's account "Shared Co" is
shared with jessica.
"""

from __future__ import annotations

import psycopg
import pytest
from test_row_security import add_team, bobs_and_jessicas, needs_postgres, pg, raw  # noqa: F401  (fixtures)

from crm_tui.errors import CRMError
from crm_tui.services import records
from crm_tui.services.engagement.activities import log_activity
from crm_tui.services.registry import ENTITIES
from crm_tui.services.users import resolve_actor
from crm_tui.store.db import open_engine, session_scope

INSERT = ("INSERT INTO activities (type, subject, owner_id, {column}, occurred_at, version, created_at, updated_at) "
          "VALUES ('note', 'probe', %s, %s, now(), 1, now(), now())")


def test_the_app_logs_no_activity_on_a_record_the_user_cannot_read(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    try:
        add_team(engine, logins=False)
        with session_scope(engine) as s:
            lead = records.create_record(ENTITIES["lead"], session=s, actor="bob",
                                         data={"last_name": "Lee", "company": "Zebra", "owner": "bob"})["id"]
            deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                         data={"name": "Bob deal", "owner": "bob"})["id"]
        for links in ({"lead": lead}, {"opp": deal}):
            with session_scope(engine) as s, pytest.raises(CRMError, match="not found"):
                log_activity(session=s, actor=resolve_actor(session=s, username="jessica"), type="note",
                             subject="probe", links=links)
    finally:
        engine.dispose()


@needs_postgres
def test_a_rep_with_psql_adds_no_activity_to_a_record_she_cannot_read(bobs_and_jessicas):  # noqa: F811
    ids = bobs_and_jessicas
    me = ids["user_jessica"]
    with raw("jessica") as conn:
        for column, record in (("lead_id", ids["bob_lead"]), ("opportunity_id", ids["bob_deal"])):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(INSERT.format(column=column), (me, record))
        # On her own deal and on the shared account's deal (she reads it in full) she may.
        for column, record in (("opportunity_id", ids["jess_deal"]), ("opportunity_id", ids["shared_deal"]),
                               ("account_id", ids["shared"])):
            assert conn.execute(INSERT.format(column=column) + " RETURNING id", (me, record)).fetchone()
        own = conn.execute(INSERT.format(column="opportunity_id") + " RETURNING id",
                           (me, ids["jess_deal"])).fetchone()[0]
        # Nor may she move one of hers onto bob's deal.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE activities SET opportunity_id = %s WHERE id = %s", (ids["bob_deal"], own))
    with raw("bob") as conn:  # bob's records carry no note of hers
        assert conn.execute("SELECT count(*) FROM activities WHERE subject = 'probe' AND (lead_id = %s "
                            "OR opportunity_id = %s)", (ids["bob_lead"], ids["bob_deal"])).fetchone()[0] == 0
