"""Shared fixtures: a migrated database per test, SQLite always and PostgreSQL when
CRM_TEST_POSTGRES_URL is set (its tables are emptied between tests)."""

from __future__ import annotations

import os
import shutil

import pytest

from crm_tui.store.db import open_engine

PG_URL = os.environ.get("CRM_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = open_engine(f"sqlite:///{path}")
    engine.dispose()
    return path


def _empty_pg(engine) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text(
            "TRUNCATE changes, taggings, tags, activities, opportunity_contacts, leads, opportunities, "
            "contacts, accounts, saved_views, users RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM stages"))
        from crm_tui.store.models import DEFAULT_STAGES

        for i, (name, prob, pos, won, lost, cat) in enumerate(DEFAULT_STAGES, start=1):
            conn.execute(text("INSERT INTO stages (id, name, probability, position, is_won, is_lost, "
                              "forecast_category, active) VALUES (:i, :n, :p, :pos, :w, :l, :c, true)"),
                         {"i": i, "n": name, "p": prob, "pos": pos, "w": won, "l": lost, "c": cat})
        conn.execute(text("SELECT setval(pg_get_serial_sequence('stages', 'id'), 6)"))


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path, _sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "crm.db"
        shutil.copy(_sqlite_template, path)
        eng = open_engine(f"sqlite:///{path}")
    else:
        eng = open_engine(PG_URL)
        _empty_pg(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path, _sqlite_template):
    path = tmp_path / "crm.db"
    shutil.copy(_sqlite_template, path)
    eng = open_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()
