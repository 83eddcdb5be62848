"""Fixtures for driving the TUI with Pilot.

Each test gets a fresh SQLite file in ``tmp_path`` (migrated by ``open_engine``),
seeded through the same service functions the app uses. Tests wait on workers
and on conditions, never on fixed sleeps.
"""

from __future__ import annotations

import pytest

from crm_tui.services import records
from crm_tui.services.registry import ENTITIES
from crm_tui.store.db import open_engine, session_scope

ACCOUNT = ENTITIES["account"]
USER = "tester"


@pytest.fixture
def engine(tmp_path):
    """A fresh, migrated SQLite database (overrides the backend-parametrised one)."""
    eng = open_engine(f"sqlite:///{tmp_path / 'ui.db'}")
    yield eng
    eng.dispose()


SEED_ACCOUNTS = [
    {"name": "Acme Corporation", "industry": "Technology", "website": "acme.com", "email": "info@acme.com",
     "phone": "+1 415 555 0100", "street": "1 Market Street", "city": "San Francisco", "state": "CA",
     "postal_code": "94105", "country": "United States", "status": "active", "source": "Referral",
     "employees": "250"},
    {"name": "Globex Inc", "industry": "Manufacturing", "city": "Springfield", "state": "IL",
     "status": "prospect"},
    {"name": "Initech", "industry": "Software", "city": "Austin", "state": "TX", "status": "churned",
     "email": "hello@initech.com"},
]


@pytest.fixture
def seeded(engine) -> dict[str, int]:
    """Three accounts (ids by name); Acme has a contact, an opportunity and an activity."""
    ids: dict[str, int] = {}
    with session_scope(engine) as s:
        for data in SEED_ACCOUNTS:
            ids[data["name"]] = records.create_record(ACCOUNT, session=s, data=data, actor=USER)["id"]
        acme = ids["Acme Corporation"]
        records.create_record(ENTITIES["contact"], session=s, actor=USER,
                              data={"first_name": "Wile", "last_name": "Coyote", "account": acme,
                                    "email": "wile@acme.com", "title": "Head of Procurement",
                                    "is_primary": "yes"})
        records.create_record(ENTITIES["opportunity"], session=s, actor=USER,
                              data={"name": "Rocket skates", "account": acme, "amount": "12500.50"})
        records.create_record(ENTITIES["activity"], session=s, actor=USER,
                              data={"subject": "Discovery call", "type": "call", "account": acme})
    return ids
