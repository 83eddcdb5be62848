"""Shared fixtures: one database per test, on SQLite and (when configured) PostgreSQL.

- ``db_url`` / ``engine`` are parametrised over the backends. The ``sqlite`` case
  is a fresh file in ``tmp_path`` migrated by ``crm_tui.store.db.open_engine``.
  The ``postgres`` case runs when ``CRM_TEST_POSTGRES_URL`` is set: the database
  is wiped and migrated once per session, and every table except ``stages`` and
  ``alembic_version`` is truncated before each test.
- Every test runs with ``CRM_USER=tester`` and with ``CRM_DATA_DIR``,
  ``CRM_CONFIG`` and the XDG directories pointing into its own tmp dir, so no
  test ever reads or writes the real user's files.
"""

from __future__ import annotations

import os

import pytest
from support import CLI, sqlite_url, truncate_postgres  # noqa: F401 - shared with the test modules

# No test's `crm` process starts a warm server (crm_tui.warm) that outlives it: tests/test_warm.py
# turns it on where it is the subject, each test with its own runtime folder.
os.environ["CRM_WARM"] = "0"

POSTGRES_ENV = "CRM_TEST_POSTGRES_URL"
POSTGRES_URL = os.environ.get(POSTGRES_ENV)
TEST_USER = "tester"

# Tables that survive the per-test wipe on PostgreSQL: the migrated pipeline
# stages are data every test relies on, and alembic_version marks the schema.
KEEP_TABLES = {"stages", "alembic_version"}

BACKENDS = [
    pytest.param("sqlite", id="sqlite", marks=pytest.mark.sqlite),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason=f"set {POSTGRES_ENV} to run PostgreSQL tests"),
        ],
    ),
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite: runs against a fresh SQLite file")
    config.addinivalue_line("markers", f"postgres: runs against PostgreSQL at ${POSTGRES_ENV}")


# ---------------------------------------------------------------- environment


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point every user directory at a tmp dir and fix who "me" is."""
    home = tmp_path_factory.mktemp("home")
    data = home / "data"
    config = home / "config"
    data.mkdir()
    config.mkdir()
    monkeypatch.setenv("CRM_USER", TEST_USER)
    monkeypatch.setenv("CRM_DATA_DIR", str(data))
    monkeypatch.setenv("CRM_CONFIG", str(config / "config.json"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    return home


# ---------------------------------------------------------------- PostgreSQL


def _wipe_postgres(url: str) -> None:
    """Drop every table in the test database, so the session starts from empty."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for name in inspect(conn).get_table_names():
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_tables() -> list[str]:
    """Wipe and migrate the PostgreSQL test database once; the tables to truncate per test."""
    if not POSTGRES_URL:
        pytest.skip(f"set {POSTGRES_ENV} to run PostgreSQL tests")
    from sqlalchemy import inspect

    from crm_tui.store.db import open_engine

    _wipe_postgres(POSTGRES_URL)
    engine = open_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            return sorted(set(inspect(conn).get_table_names()) - KEEP_TABLES)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- databases


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """"sqlite" or "postgres"."""
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path, request: pytest.FixtureRequest) -> str:
    """A migrated, empty database (stages only) for this test."""
    if backend == "sqlite":
        from crm_tui.store.db import open_engine

        url = sqlite_url(tmp_path / "crm.db")
        open_engine(url).dispose()
        return url
    tables = request.getfixturevalue("postgres_tables")
    truncate_postgres(POSTGRES_URL, tables)
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def blank_url(request, tmp_path):
    """A database with nothing in it at all (not migrated): a new SQLite file, or a
    scratch PostgreSQL database created next to the test database and dropped after."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "blank.db")
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_URL)
    scratch = f"{base.database}_scratch"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # The same encoding and locale as the test database, whatever the cluster's defaults.
            encoding, collate, ctype = conn.execute(text(
                "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = :d"
            ), {"d": base.database}).one()
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            conn.exec_driver_sql(
                f"CREATE DATABASE \"{scratch}\" TEMPLATE template0 ENCODING '{encoding}' "
                f"LC_COLLATE '{collate}' LC_CTYPE '{ctype}'"
            )
    except Exception as exc:  # no CREATEDB right: say so rather than pass silently
        admin.dispose()
        pytest.skip(f"cannot create a scratch PostgreSQL database: {exc}")
    yield base.set(database=scratch).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def engine(db_url: str):
    from crm_tui.store.db import open_engine

    eng = open_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    """A session for arranging and checking data; commit explicitly to make writes visible."""
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def restore_stages(engine):
    """Stage tests change stages; on PostgreSQL the stages table outlives the test, so put it back."""
    yield
    from sqlalchemy import text

    from crm_tui.store.models import DEFAULT_STAGES

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM activities WHERE opportunity_id IN "
                          "(SELECT id FROM opportunities WHERE stage_id > 6)"))
        conn.execute(text("DELETE FROM opportunities WHERE stage_id > 6"))
        conn.execute(text("DELETE FROM stages WHERE id > 6"))
        for i, (name, prob, pos, _won, _lost, cat) in enumerate(DEFAULT_STAGES, start=1):
            conn.execute(text("UPDATE stages SET name=:n, probability=:p, position=:pos, forecast_category=:c "
                              "WHERE id=:i"), {"i": i, "n": name, "p": prob, "pos": pos, "c": cat})


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli(db_url: str) -> CLI:
    return CLI(db_url)


@pytest.fixture
def bare_cli() -> CLI:
    """`crm` without --db: the test chooses the database (or none)."""
    return CLI(None)


# ---------------------------------------------------------------- demo data


DEMO_DEALS = 20


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory):
    """A SQLite file written once by `crm demo --size 20`: 20 deals with their accounts, contacts,
    leads, activities, products and proposals. Tests get a copy (``demo_url``), never this file."""
    home = tmp_path_factory.mktemp("demo")
    path = home / "demo.db"
    env = {"CRM_USER": TEST_USER, "CRM_DATA_DIR": str(home), "CRM_CONFIG": str(home / "config.json")}
    result = CLI(sqlite_url(path))("demo", "--size", str(DEMO_DEALS), "--seed", "7", env=env)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def demo_url(demo_template, tmp_path) -> str:
    """A copy of the small demo database (SQLite) for this test to read and change."""
    import shutil

    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    return sqlite_url(path)


@pytest.fixture
def demo_cli(demo_url: str) -> CLI:
    """`crm` against this test's copy of the demo database."""
    return CLI(demo_url)
