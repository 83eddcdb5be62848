"""The onboarding checklist is computed from the data, for the acting user only; a user edits their
own name and e-mail."""

from __future__ import annotations

import pytest

from crm_tui.errors import ValidationError
from crm_tui.services import onboarding, records
from crm_tui.services import users as U
from crm_tui.services.registry import ENTITIES
from crm_tui.services.sales import leads, pipeline
from crm_tui.store.db import session_scope


def _actor(engine, username: str):
    with session_scope(engine) as s:
        return U.resolve_actor(session=s, username=username)


def _done(engine, username: str) -> dict[str, bool]:
    with session_scope(engine) as s:
        result = onboarding.checklist(session=s, actor=U.resolve_actor(session=s, username=username))
    return {step.key: step.done for step in result.steps}


@pytest.fixture
def team(engine):
    with session_scope(engine) as s:
        U.create_user(session=s, data={"username": "boss", "role": "admin", "email": "boss@example.com"})
        U.create_user(session=s, data={"username": "jessica", "role": "sales"})
        U.create_user(session=s, data={"username": "bob", "role": "sales"})


def test_a_new_rep_has_every_step_to_do_and_each_is_done_by_her_own_work(engine, team):
    assert _done(engine, "jessica") == dict.fromkeys(("email", "activity", "lead", "deal", "stage"), False)
    jessica = _actor(engine, "jessica")
    # bob's work never ticks jessica's steps
    with session_scope(engine) as s:
        lead = records.create_record(ENTITIES["lead"], session=s, actor="bob",
                                     data={"first_name": "Ann", "last_name": "Lee", "owner": "bob"})
        leads.set_status(session=s, lead_id=lead["id"], status="qualified", actor="bob")
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor="bob",
                                     data={"name": "Bob's deal", "amount": "10", "owner": "bob"})
        pipeline.move_opportunity(session=s, opportunity_id=deal["id"], stage="Qualified", actor="bob")
        records.create_record(ENTITIES["activity"], session=s, actor="bob",
                              data={"subject": "Call", "type": "call", "owner": "bob"})
    assert not any(_done(engine, "jessica").values())
    assert _done(engine, "bob") == {"email": False, "activity": True, "lead": True, "deal": True, "stage": True}

    with session_scope(engine) as s:
        onboarding.update_my_profile(session=s, actor=jessica, email="jessica@example.com")
    assert _done(engine, "jessica")["email"] is True
    with session_scope(engine) as s:
        records.create_record(ENTITIES["activity"], session=s, actor=jessica,
                              data={"subject": "Intro call", "type": "call", "owner": "jessica"})
        lead = records.create_record(ENTITIES["lead"], session=s, actor=jessica,
                                     data={"first_name": "Cy", "last_name": "Doe", "owner": "jessica"})
    assert _done(engine, "jessica") == {"email": True, "activity": True, "lead": False, "deal": False,
                                        "stage": False}
    with session_scope(engine) as s:
        leads.set_status(session=s, lead_id=lead["id"], status="qualified", actor="jessica")
        deal = records.create_record(ENTITIES["opportunity"], session=s, actor=jessica,
                                     data={"name": "First deal", "amount": "100", "owner": "jessica"})
    assert _done(engine, "jessica")["lead"] is True and _done(engine, "jessica")["deal"] is True
    with session_scope(engine) as s:
        assert not onboarding.checklist(session=s, actor=jessica).complete
        pipeline.move_opportunity(session=s, opportunity_id=deal["id"], stage="Qualified", actor="jessica")
    with session_scope(engine) as s:
        result = onboarding.checklist(session=s, actor=jessica)
    assert result.complete and result.done_count == 5


def test_a_system_activity_is_not_a_logged_one(engine, team):
    with session_scope(engine) as s:
        records.create_record(ENTITIES["activity"], session=s, actor="jessica",
                              data={"subject": "Stage changed", "type": "system", "owner": "jessica"})
    assert _done(engine, "jessica")["activity"] is False


def test_a_user_edits_their_own_profile_and_a_bad_email_is_refused(engine, team):
    jessica = _actor(engine, "jessica")
    with session_scope(engine) as s:
        assert onboarding.my_profile(session=s, actor=jessica)["email"] == ""
        onboarding.update_my_profile(session=s, actor=jessica, name="Jessica Lee", email="Jessica@Example.com")
    with session_scope(engine) as s:
        profile = onboarding.my_profile(session=s, actor=jessica)
        assert profile["name"] == "Jessica Lee" and profile["email"].lower() == "jessica@example.com"
        with pytest.raises(ValidationError, match="email"):
            onboarding.update_my_profile(session=s, actor=jessica, email="not an address")
    with session_scope(engine) as s:
        assert U.get_user(session=s, username="jessica").role == "sales"  # nothing else changed
        assert onboarding.my_profile(session=s, actor=jessica)["email"].lower() == "jessica@example.com"
